/*
 * Unit tests of guaranteed delivery's rules (lgsp_deliver.c): which
 * answers end delivery, the backoff and its jitter, Retry-After, and when
 * an entry becomes a dead letter.
 */

#include <stdint.h>

#include "unit.h"
#include "lgsp_deliver.h"


static void
test_final(void)
{
    UNIT_OK(lgsp_deliver_final(200), "200 ends delivery");
    UNIT_OK(lgsp_deliver_final(201), "201 ends delivery");
    UNIT_OK(lgsp_deliver_final(204), "204 ends delivery");
    UNIT_OK(lgsp_deliver_final(400), "400 ends delivery");
    UNIT_OK(lgsp_deliver_final(404), "404 ends delivery");
    UNIT_OK(lgsp_deliver_final(409), "409 ends delivery");
    UNIT_OK(lgsp_deliver_final(501), "501 ends delivery");
    UNIT_OK(!lgsp_deliver_final(0), "no answer is tried again");
    UNIT_OK(!lgsp_deliver_final(408), "408 is tried again");
    UNIT_OK(!lgsp_deliver_final(429), "429 is tried again");
    UNIT_OK(!lgsp_deliver_final(500), "500 is tried again");
    UNIT_OK(!lgsp_deliver_final(502), "502 is tried again");
    UNIT_OK(!lgsp_deliver_final(503), "503 is tried again");
    UNIT_OK(!lgsp_deliver_final(504), "504 is tried again");
}


static void
test_backoff(void)
{
    UNIT_EQ_INT(lgsp_deliver_backoff(5000, 1, 0), 5000,
                "after the first attempt: backoff itself");
    UNIT_EQ_INT(lgsp_deliver_backoff(5000, 2, 0), 10000, "then doubled");
    UNIT_EQ_INT(lgsp_deliver_backoff(5000, 3, 0), 20000, "and doubled");
    UNIT_EQ_INT(lgsp_deliver_backoff(5000, 8, 0), 600000,
                "capped at 10 minutes");
    UNIT_EQ_INT(lgsp_deliver_backoff(5000, 1000000, 0), 600000,
                "capped however many attempts");
    UNIT_EQ_INT(lgsp_deliver_backoff(4000, 1, UINT32_MAX), 3000,
                "jitter takes at most a quarter");
    UNIT_OK(lgsp_deliver_backoff(4000, 1, UINT32_MAX / 2) > 3000
            && lgsp_deliver_backoff(4000, 1, UINT32_MAX / 2) < 4000,
            "jitter in between");
}


static void
test_after(void)
{
    uint64_t               next;
    lgsp_deliver_policy_t  p = { 3, 60000, 1000 };

    next = 0;
    UNIT_EQ_INT(lgsp_deliver_after(&p, 1, 0, 100, 200, -1, 0, &next),
                LGSP_DELIVER_DELIVERED, "a 200 delivers");
    UNIT_EQ_INT(lgsp_deliver_after(&p, 1, 0, 100, 422, -1, 0, &next),
                LGSP_DELIVER_DELIVERED, "a 422 ends it too");

    UNIT_EQ_INT(lgsp_deliver_after(&p, 1, 0, 100, 503, -1, 0, &next),
                LGSP_DELIVER_QUEUED, "a 503 waits");
    UNIT_EQ_INT(next, 1100, "for the backoff");

    UNIT_EQ_INT(lgsp_deliver_after(&p, 2, 0, 5000, 0, -1, 0, &next),
                LGSP_DELIVER_QUEUED, "no answer waits");
    UNIT_EQ_INT(next, 7000, "for twice the backoff");

    UNIT_EQ_INT(lgsp_deliver_after(&p, 2, 0, 5000, 429, 30000, 0, &next),
                LGSP_DELIVER_QUEUED, "a 429 waits");
    UNIT_EQ_INT(next, 35000, "as long as Retry-After says");

    UNIT_EQ_INT(lgsp_deliver_after(&p, 3, 0, 5000, 503, -1, 0, &next),
                LGSP_DELIVER_FAILED, "the last attempt failed: failed");

    UNIT_EQ_INT(lgsp_deliver_after(&p, 1, 0, 59500, 503, -1, 0, &next),
                LGSP_DELIVER_EXPIRED, "next attempt past the expiry");
    UNIT_EQ_INT(lgsp_deliver_after(&p, 1, 0, 1000, 429, 3600000, 0, &next),
                LGSP_DELIVER_EXPIRED, "Retry-After past the expiry");
}


static void
test_retry_after(void)
{
    UNIT_EQ_INT(lgsp_deliver_retry_after("120", 3), 120000, "seconds");
    UNIT_EQ_INT(lgsp_deliver_retry_after("0", 1), 0, "zero");
    UNIT_EQ_INT(lgsp_deliver_retry_after("5  ", 3), 5000, "trailing blanks");
    UNIT_EQ_INT(lgsp_deliver_retry_after("", 0), -1, "empty");
    UNIT_EQ_INT(lgsp_deliver_retry_after("-5", 2), -1, "negative");
    UNIT_EQ_INT(lgsp_deliver_retry_after("1.5", 3), -1, "fraction");
    UNIT_EQ_INT(lgsp_deliver_retry_after("99999999", 8), 86400000,
                "capped at a day");
    UNIT_EQ_INT(lgsp_deliver_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
                                         29), -1, "a date is not seconds");
}


int
main(void)
{
    test_final();
    test_backoff();
    test_after();
    test_retry_after();

    return UNIT_DONE("deliver");
}
