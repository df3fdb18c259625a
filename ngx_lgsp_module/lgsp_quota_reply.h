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
 * The most elements a reply may announce: the quota script answers a few,
 * and hiredis 0.14 would otherwise allocate whatever count "*N" claims
 * (it has no maxelements of its own).
 */
#define LGSP_QUOTA_REPLY_MAX_ELEMENTS  1024


/* makes a reader refuse, as out of memory, arrays past the limit above */
void lgsp_quota_reply_limit(redisReader *reader);


/*
 * The script answers one array for a batch of requests: per request,
 * 1 + 3 * n non-negative integers, the 1-based index of the refusing
 * limit (0: none), then each limit's allowed, used and reset_ms.  Reads
 * the request whose part starts at element offset: fills
 * states[0 .. n - 1] and returns that index, or -1 when the reply is
 * anything else there (states then untouched).
 */
long lgsp_quota_reply(const redisReply *reply, size_t offset,
    lgsp_quota_state_t *states, size_t n);

#endif /* LGSP_QUOTA_REPLY_H */
