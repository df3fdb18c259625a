/*
 * LGSP on nginx: quota arithmetic, free of nginx.  A quota allows a number
 * of requests per fixed window (a second, minute, hour or day, aligned to
 * the Unix epoch, so every node and Redis agree on where a window starts).
 * burst=N lets a window take up to N more requests out of what the window
 * before it left unused.  The same arithmetic runs in the Redis script
 * (ngx_http_lgsp_quota_module.c) and over the local shared-memory counters.
 */

#ifndef LGSP_QUOTA_H
#define LGSP_QUOTA_H

#include <stddef.h>
#include <stdint.h>


/* lgsp_quota_parse_rate() results */
#define LGSP_QUOTA_OK          0
#define LGSP_QUOTA_NO_LIMIT    1    /* "" or "r/m": the limit does not apply */
#define LGSP_QUOTA_BAD_RATE   -1    /* not NUMBERr/WINDOW */
#define LGSP_QUOTA_BAD_WINDOW -2    /* a window other than s, m, h, d */

/* a quota larger than this is surely a typo */
#define LGSP_QUOTA_MAX         1000000000000ULL


typedef struct {
    uint64_t  quota;        /* requests per window; 0 refuses them all */
    uint64_t  period;       /* the window, in seconds */
    uint64_t  burst;        /* unused requests a window may borrow */
} lgsp_quota_limit_t;


/* what is counted for one key: survives from window to window */
typedef struct {
    int64_t   window;       /* index of the counted window: now / period */
    uint64_t  count;        /* requests taken in it */
    uint64_t  prev;         /* requests taken in the window before */
} lgsp_quota_counter_t;


/* how a limit stands after a request, for the answer's header fields */
typedef struct {
    uint64_t  allowed;      /* requests the current window allows */
    uint64_t  used;         /* taken, this request included if it passed */
    uint64_t  reset_ms;     /* until the window ends */
} lgsp_quota_state_t;


/* "100r/m" into a limit (burst left alone) */
int lgsp_quota_parse_rate(const char *text, size_t len,
    lgsp_quota_limit_t *limit);

/* the window's name: "second", "minute", "hour", "day" */
const char *lgsp_quota_window_name(uint64_t period);

/* the state of one limit at now_ms; rolls the counter over when due */
void lgsp_quota_check(const lgsp_quota_limit_t *limit,
    lgsp_quota_counter_t *counter, uint64_t now_ms,
    lgsp_quota_state_t *state);

/*
 * Takes one request under every limit, or under none: returns 0 when all
 * allow it (every counter charged) or the 1-based index of the limit that
 * refuses it, the one whose window ends last when several do.
 */
size_t lgsp_quota_take(const lgsp_quota_limit_t *limits,
    lgsp_quota_counter_t **counters, lgsp_quota_state_t *states, size_t n,
    uint64_t now_ms);

/* requests left in the window */
uint64_t lgsp_quota_remaining(const lgsp_quota_state_t *state);

/* milliseconds as whole seconds, rounded up, at least 1 (Retry-After) */
uint64_t lgsp_quota_seconds(uint64_t ms);

/*
 * RateLimit-Policy and RateLimit list members (IETF httpapi RateLimit
 * header fields draft): "name";q=100;w=60 and "name";r=42;t=17.  The name
 * must be a plain token.  Return the length written, at most size - 1,
 * always NUL-terminated; LGSP_QUOTA_ITEM_LEN is enough for any.
 */
#define LGSP_QUOTA_ITEM_LEN  (64 + 2 * 20 + 16)

size_t lgsp_quota_policy_item(char *buf, size_t size, const char *name,
    size_t name_len, const lgsp_quota_limit_t *limit);
size_t lgsp_quota_status_item(char *buf, size_t size, const char *name,
    size_t name_len, const lgsp_quota_state_t *state);

#endif /* LGSP_QUOTA_H */
