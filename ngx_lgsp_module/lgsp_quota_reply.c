/*
 * LGSP on nginx: the Redis quota script's reply (lgsp_quota_reply.h).
 */

#include "lgsp_quota_reply.h"


static void *lgsp_quota_reply_create_array(const redisReadTask *task,
    int elements);


/* hiredis's own reply functions, but for arrays, which are bounded */
static redisReplyObjectFunctions         lgsp_quota_reply_functions;
static const redisReplyObjectFunctions  *lgsp_quota_reply_defaults;


void
lgsp_quota_reply_limit(redisReader *reader)
{
    if (lgsp_quota_reply_defaults == NULL) {
        lgsp_quota_reply_defaults = reader->fn;
        lgsp_quota_reply_functions = *reader->fn;
        lgsp_quota_reply_functions.createArray =
                                          lgsp_quota_reply_create_array;
    }

    reader->fn = &lgsp_quota_reply_functions;
}


static void *
lgsp_quota_reply_create_array(const redisReadTask *task, int elements)
{
    if (elements > LGSP_QUOTA_REPLY_MAX_ELEMENTS) {
        return NULL;
    }

    return lgsp_quota_reply_defaults->createArray(task, elements);
}


long
lgsp_quota_reply(const redisReply *reply, size_t offset,
    lgsp_quota_state_t *states, size_t n)
{
    size_t        i;
    redisReply  **e;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || offset > reply->elements
        || reply->elements - offset < 1 + 3 * n)
    {
        return -1;
    }

    e = reply->element + offset;

    for (i = 0; i < 1 + 3 * n; i++) {
        if (e[i] == NULL || e[i]->type != REDIS_REPLY_INTEGER
            || e[i]->integer < 0)
        {
            return -1;
        }
    }

    if ((unsigned long long) e[0]->integer > n) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        states[i].allowed = e[1 + 3 * i]->integer;
        states[i].used = e[2 + 3 * i]->integer;
        states[i].reset_ms = e[3 + 3 * i]->integer;
    }

    return (long) e[0]->integer;
}
