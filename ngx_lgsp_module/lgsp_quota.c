/*
 * LGSP on nginx: quota arithmetic (see lgsp_quota.h).  The Lua script in
 * ngx_http_lgsp_quota_module.c does the same steps on Redis; a change
 * here is a change there.
 */

#include <stdio.h>

#include "lgsp_quota.h"


int
lgsp_quota_parse_rate(const char *text, size_t len, lgsp_quota_limit_t *limit)
{
    size_t    i;
    uint64_t  n;

    if (len == 0) {
        return LGSP_QUOTA_NO_LIMIT;
    }

    n = 0;

    for (i = 0; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
        n = n * 10 + (text[i] - '0');

        if (n > LGSP_QUOTA_MAX) {
            return LGSP_QUOTA_BAD_RATE;
        }
    }

    if (len - i != 3 || text[i] != 'r' || text[i + 1] != '/') {
        return LGSP_QUOTA_BAD_RATE;
    }

    switch (text[i + 2]) {
    case 's':
        limit->period = 1;
        break;
    case 'm':
        limit->period = 60;
        break;
    case 'h':
        limit->period = 3600;
        break;
    case 'd':
        limit->period = 86400;
        break;
    default:
        return LGSP_QUOTA_BAD_WINDOW;
    }

    /* "r/m" with no number: what a map's empty value leaves */
    if (i == 0) {
        return LGSP_QUOTA_NO_LIMIT;
    }

    limit->quota = n;

    return LGSP_QUOTA_OK;
}


const char *
lgsp_quota_window_name(uint64_t period)
{
    switch (period) {
    case 1:
        return "second";
    case 60:
        return "minute";
    case 3600:
        return "hour";
    default:
        return "day";
    }
}


void
lgsp_quota_check(const lgsp_quota_limit_t *limit,
    lgsp_quota_counter_t *counter, uint64_t now_ms, lgsp_quota_state_t *state)
{
    int64_t   window;
    uint64_t  period_ms, unused;

    period_ms = limit->period * 1000;
    window = (int64_t) (now_ms / period_ms);

    if (counter->window != window) {
        counter->prev = (counter->window == window - 1) ? counter->count : 0;
        counter->count = 0;
        counter->window = window;
    }

    unused = (limit->quota > counter->prev) ? limit->quota - counter->prev
                                             : 0;

    state->allowed = limit->quota
                     + (unused < limit->burst ? unused : limit->burst);
    state->used = counter->count;
    state->reset_ms = (uint64_t) (window + 1) * period_ms - now_ms;
}


size_t
lgsp_quota_take(const lgsp_quota_limit_t *limits,
    lgsp_quota_counter_t **counters, lgsp_quota_state_t *states, size_t n,
    uint64_t now_ms)
{
    size_t  i, refused;

    refused = 0;

    for (i = 0; i < n; i++) {
        lgsp_quota_check(&limits[i], counters[i], now_ms, &states[i]);

        if (states[i].used >= states[i].allowed
            && (refused == 0
                || states[i].reset_ms > states[refused - 1].reset_ms))
        {
            refused = i + 1;
        }
    }

    if (refused) {
        return refused;
    }

    for (i = 0; i < n; i++) {
        counters[i]->count++;
        states[i].used++;
    }

    return 0;
}


uint64_t
lgsp_quota_remaining(const lgsp_quota_state_t *state)
{
    return (state->allowed > state->used) ? state->allowed - state->used : 0;
}


uint64_t
lgsp_quota_seconds(uint64_t ms)
{
    return (ms < 1000) ? 1 : (ms + 999) / 1000;
}


size_t
lgsp_quota_policy_item(char *buf, size_t size, const char *name,
    size_t name_len, const lgsp_quota_limit_t *limit)
{
    int  n;

    n = snprintf(buf, size, "\"%.*s\";q=%llu;w=%llu", (int) name_len, name,
                 (unsigned long long) limit->quota,
                 (unsigned long long) limit->period);

    return (n < 0) ? 0 : ((size_t) n < size ? (size_t) n : size - 1);
}


size_t
lgsp_quota_status_item(char *buf, size_t size, const char *name,
    size_t name_len, const lgsp_quota_state_t *state)
{
    int  n;

    n = snprintf(buf, size, "\"%.*s\";r=%llu;t=%llu", (int) name_len, name,
                 (unsigned long long) lgsp_quota_remaining(state),
                 (unsigned long long) lgsp_quota_seconds(state->reset_ms));

    return (n < 0) ? 0 : ((size_t) n < size ? (size_t) n : size - 1);
}
