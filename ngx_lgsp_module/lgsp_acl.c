/*
 * Agency access lists: see lgsp_acl.h.
 */

#include <ctype.h>
#include <string.h>

#include "lgsp_acl.h"


/* the characters of an agency code, as the JWT module accepts them */
static int
lgsp_acl_code_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':';
}


int
lgsp_acl_entry_valid(const char *entry, size_t len)
{
    size_t  i, code_len;

    if (len == 0 || len > 129) {
        return 0;
    }

    code_len = (entry[len - 1] == '*') ? len - 1 : len;

    for (i = 0; i < code_len; i++) {
        if (!lgsp_acl_code_char((unsigned char) entry[i])) {
            return 0;
        }
    }

    return 1;
}


int
lgsp_acl_entry_match(const char *entry, size_t len, const char *agency,
    size_t agency_len)
{
    if (len == 1 && entry[0] == '*') {
        return 1;
    }

    if (entry[len - 1] == '*') {
        return agency_len >= len - 1 && memcmp(entry, agency, len - 1) == 0;
    }

    return agency_len == len && memcmp(entry, agency, len) == 0;
}
