/*
 * LGSP on nginx: the Redis quota script's reply (lgsp_quota_reply.h).
 */

#include "lgsp_quota_reply.h"


static uint64_t lgsp_quota_reply_clamp(long long value, uint64_t max);


long
lgsp_quota_reply(const redisReply *reply, size_t offset,
    const lgsp_quota_limit_t *limits, lgsp_quota_state_t *states, size_t n)
{
    size_t        i;
    uint64_t      most;
    redisReply  **e;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || offset > reply->elements
        || reply->elements - offset < 1 + 3 * n)
    {
        return -1;
    }

    e = reply->element + offset;

    for (i = 0; i < 1 + 3 * n; i++) {
        if (e[i] == NULL || e[i]->type != REDIS_REPLY_INTEGER) {
            return -1;
        }
    }

    if (e[0]->integer < 0 || (unsigned long long) e[0]->integer > n) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        /* the script allows quota + min(burst, unused), at most */
        most = limits[i].quota
               + (limits[i].burst < limits[i].quota ? limits[i].burst
                                                     : limits[i].quota);

        states[i].allowed = lgsp_quota_reply_clamp(e[1 + 3 * i]->integer,
                                                   most);
        states[i].used = lgsp_quota_reply_clamp(e[2 + 3 * i]->integer, most);
        states[i].reset_ms = lgsp_quota_reply_clamp(e[3 + 3 * i]->integer,
                                                    limits[i].period * 1000);
    }

    return (long) e[0]->integer;
}


static uint64_t
lgsp_quota_reply_clamp(long long value, uint64_t max)
{
    if (value < 0) {
        return 0;
    }

    return ((unsigned long long) value > max) ? max : (uint64_t) value;
}
