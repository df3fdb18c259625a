/*
 * LGSP on nginx: what the Redis quota script answered, read without nginx
 * so that it can be unit-tested and fuzzed with any reply hiredis parses.
 */

#ifndef LGSP_QUOTA_REPLY_H
#define LGSP_QUOTA_REPLY_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "lgsp_quota.h"


/*
 * The script answers an array of 1 + 3 * n non-negative integers: the
 * 1-based index of the refusing limit (0: none), then each limit's
 * allowed, used and reset_ms.  Fills states[0 .. n - 1] and returns that
 * index, or -1 when the reply is anything else (states then untouched).
 */
long lgsp_quota_reply(const redisReply *reply, lgsp_quota_state_t *states,
    size_t n);

#endif /* LGSP_QUOTA_REPLY_H */
