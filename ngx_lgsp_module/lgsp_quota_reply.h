/*
 * LGSP on nginx: what the Redis quota script answered, read without nginx
 * so that it can be unit-tested and fuzzed with any reply the connection's
 * reader (lgsp_redis.h) passes.
 */

#ifndef LGSP_QUOTA_REPLY_H
#define LGSP_QUOTA_REPLY_H

#include <stddef.h>
#include <hiredis/hiredis.h>

#include "lgsp_quota.h"


/*
 * The most elements of a batch's reply: bounds a batch, well within what
 * the connection's reader takes (lgsp_redis.h).
 */
#define LGSP_QUOTA_REPLY_MAX_ELEMENTS  1024


/*
 * The script answers one array for a batch of requests: per request,
 * 1 + 3 * n integers, the 1-based index of the refusing limit (0: none),
 * then each limit's allowed, used and reset_ms.  Reads the request whose
 * part starts at element offset, for its limits[0 .. n - 1]: fills
 * states[0 .. n - 1] and returns that index, or -1 when the reply is
 * anything else there (states then untouched).  Redis is not trusted with
 * the numbers: each is clamped to what its limit makes possible (allowed
 * and used to 0 .. quota + burst, reset_ms to 0 .. the window), so a
 * broken or hostile server can refuse or let pass, but never announce a
 * Retry-After of centuries or a negative count.
 */
long lgsp_quota_reply(const redisReply *reply, size_t offset,
    const lgsp_quota_limit_t *limits, lgsp_quota_state_t *states, size_t n);

#endif /* LGSP_QUOTA_REPLY_H */
