/*
 * LGSP on nginx: the HTML page of the lgsp_status handler.
 */

#ifndef LGSP_STATUS_PAGE_H
#define LGSP_STATUS_PAGE_H

#include <stddef.h>


extern const char    lgsp_status_page[];
extern const size_t  lgsp_status_page_len;


#endif /* LGSP_STATUS_PAGE_H */
