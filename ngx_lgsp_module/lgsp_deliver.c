/*
 * LGSP on nginx: guaranteed delivery's rules (lgsp_deliver.h).
 */

#include "lgsp_deliver.h"


/* a day: longer waits are not honoured as such, the expiry ends them */
#define LGSP_DELIVER_RETRY_AFTER_MAX  86400


int
lgsp_deliver_final(unsigned status)
{
    if (status == 0 || status == 408 || status == 429) {
        return 0;
    }

    return status < 500 || status == 501;
}


uint64_t
lgsp_deliver_backoff(uint64_t backoff_ms, uint64_t attempts, uint32_t random)
{
    uint64_t  delay;

    delay = backoff_ms;

    while (attempts-- > 1 && delay < LGSP_DELIVER_BACKOFF_MAX_MS) {
        delay *= 2;
    }

    if (delay > LGSP_DELIVER_BACKOFF_MAX_MS) {
        delay = LGSP_DELIVER_BACKOFF_MAX_MS;
    }

    return delay - (delay / 4) * random / UINT32_MAX;
}


lgsp_deliver_state_e
lgsp_deliver_after(const lgsp_deliver_policy_t *policy, uint64_t attempts,
    uint64_t created_ms, uint64_t now_ms, unsigned status,
    int64_t retry_after_ms, uint32_t random, uint64_t *next_ms)
{
    uint64_t  delay;

    if (lgsp_deliver_final(status)) {
        return LGSP_DELIVER_DELIVERED;
    }

    if (attempts >= policy->attempts) {
        return LGSP_DELIVER_FAILED;
    }

    delay = (retry_after_ms > 0)
            ? (uint64_t) retry_after_ms
            : lgsp_deliver_backoff(policy->backoff_ms, attempts, random);

    /* an attempt due after the expiry would never be made */
    if (now_ms + delay >= created_ms + policy->expire_ms) {
        return LGSP_DELIVER_EXPIRED;
    }

    *next_ms = now_ms + delay;

    return LGSP_DELIVER_QUEUED;
}


const char *
lgsp_deliver_state_name(lgsp_deliver_state_e state)
{
    static const char  *names[] = {
        "queued", "delivered", "failed", "expired"
    };

    return names[state];
}


int64_t
lgsp_deliver_retry_after(const char *value, size_t len)
{
    size_t   i;
    int64_t  seconds;

    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t')) {
        len--;
    }

    if (len == 0 || len > 12) {
        return -1;
    }

    seconds = 0;

    for (i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9') {
            return -1;
        }

        seconds = seconds * 10 + (value[i] - '0');
    }

    if (seconds > LGSP_DELIVER_RETRY_AFTER_MAX) {
        seconds = LGSP_DELIVER_RETRY_AFTER_MAX;
    }

    return seconds * 1000;
}
