/*
 * LGSP on nginx: guaranteed delivery's rules, without nginx: what a
 * provider's answer means, when the next attempt is due, and when a
 * delivery ends as a dead letter.
 */

#ifndef LGSP_DELIVER_H
#define LGSP_DELIVER_H

#include <stddef.h>
#include <stdint.h>


/* the backoff doubles up to this */
#define LGSP_DELIVER_BACKOFF_MAX_MS  600000


typedef enum {
    LGSP_DELIVER_QUEUED = 0,     /* waits for its next attempt */
    LGSP_DELIVER_DELIVERED,      /* the provider's answer ends it */
    LGSP_DELIVER_FAILED,         /* attempts ran out: a dead letter */
    LGSP_DELIVER_EXPIRED         /* expire ran out: a dead letter */
} lgsp_deliver_state_e;


typedef struct {
    uint64_t     attempts;       /* the most attempts */
    uint64_t     expire_ms;      /* from queueing to the last attempt */
    uint64_t     backoff_ms;     /* before the second attempt */
} lgsp_deliver_policy_t;


/*
 * Whether an answer ends delivery: a 2xx, a 4xx other than 408 and 429,
 * a 501 (and 1xx/3xx, which a provider means as final) do; 408, 429, the
 * other 5xx and no answer at all (status 0: connection error or timeout)
 * are tried again.
 */
int lgsp_deliver_final(unsigned status);

/*
 * The wait before attempt number attempts + 1, after attempts failed
 * ones: backoff_ms doubled per failed attempt, capped at 10 minutes, then
 * less up to a quarter of it by jitter (random is any 32-bit number), so
 * that entries queued together do not come back together.
 */
uint64_t lgsp_deliver_backoff(uint64_t backoff_ms, uint64_t attempts,
    uint32_t random);

/*
 * What follows attempt number attempts of an entry queued at created_ms,
 * ended now_ms with status (0: no answer); retry_after_ms is the
 * provider's Retry-After, or -1.  Sets *next_ms to the time of the next
 * attempt when the answer is LGSP_DELIVER_QUEUED.
 */
lgsp_deliver_state_e lgsp_deliver_after(const lgsp_deliver_policy_t *policy,
    uint64_t attempts, uint64_t created_ms, uint64_t now_ms, unsigned status,
    int64_t retry_after_ms, uint32_t random, uint64_t *next_ms);

/* the state's name: queued, delivered, failed, expired */
const char *lgsp_deliver_state_name(lgsp_deliver_state_e state);

/*
 * Retry-After as delay-seconds (RFC 9110): the milliseconds, or -1 when
 * value is not that (an HTTP-date is left to the caller).
 */
int64_t lgsp_deliver_retry_after(const char *value, size_t len);

#endif /* LGSP_DELIVER_H */
