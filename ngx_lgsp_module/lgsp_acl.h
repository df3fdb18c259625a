/*
 * Agency access lists (lgsp_allow_agency): which calling agencies may use
 * a service.  An entry is an agency code ("000.00.00.H29"), a prefix
 * ending in "*" ("000.00.00.*"), or "*" alone for every agency.
 * nginx-free: plain C.
 */

#ifndef LGSP_ACL_H
#define LGSP_ACL_H

#include <stddef.h>


/* an entry is valid when it is "*" or a code, optionally ending in "*" */
int lgsp_acl_entry_valid(const char *entry, size_t len);

/*
 * 1 when the agency is the entry's code or starts with its prefix; "*"
 * alone matches every caller, an anonymous one (agency_len 0) too.
 */
int lgsp_acl_entry_match(const char *entry, size_t len, const char *agency,
    size_t agency_len);

#endif /* LGSP_ACL_H */
