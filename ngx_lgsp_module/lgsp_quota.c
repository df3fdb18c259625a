/*
 * LGSP on nginx: quota arithmetic (see lgsp_quota.h).  The Lua script in
 * ngx_http_lgsp_quota_module.c does the same steps on Redis; a change
 * here is a change there.
 */

#include <string.h>

#include "lgsp_quota.h"
#include "lgsp_uint.h"


static size_t lgsp_quota_item(char *buf, size_t size, const char *name,
    size_t name_len, const char *a, uint64_t x, const char *b, uint64_t y);


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
    return lgsp_quota_item(buf, size, name, name_len, "\";q=",
                           limit->quota, ";w=", limit->period);
}


size_t
lgsp_quota_status_item(char *buf, size_t size, const char *name,
    size_t name_len, const lgsp_quota_state_t *state)
{
    return lgsp_quota_item(buf, size, name, name_len, "\";r=",
                           lgsp_quota_remaining(state), ";t=",
                           lgsp_quota_seconds(state->reset_ms));
}


/*
 * "NAME"A=X;B=Y cut to size - 1 bytes and NUL-terminated; written on
 * every answer, so without a format string to parse
 */
static size_t
lgsp_quota_item(char *buf, size_t size, const char *name, size_t name_len,
    const char *a, uint64_t x, const char *b, uint64_t y)
{
    char         nx[LGSP_UINT_LEN], ny[LGSP_UINT_LEN];
    size_t       i, n, len[6];
    const char  *part[6];

    if (size == 0) {
        return 0;
    }

    part[0] = "\"";
    len[0] = 1;
    part[1] = name;
    len[1] = name_len;
    part[2] = a;
    len[2] = strlen(a);
    part[3] = nx;
    len[3] = lgsp_uint(nx, x) - nx;
    part[4] = b;
    len[4] = strlen(b);
    part[5] = ny;
    len[5] = lgsp_uint(ny, y) - ny;

    n = 0;

    for (i = 0; i < 6 && n < size - 1; i++) {
        len[i] = (len[i] < size - 1 - n) ? len[i] : size - 1 - n;
        memcpy(buf + n, part[i], len[i]);
        n += len[i];
    }

    buf[n] = '\0';

    return n;
}
