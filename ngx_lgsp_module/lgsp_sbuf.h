/*
 * A growing string for the nginx-free cores: regex translation, error
 * paths and messages.  An allocation failure is remembered, so callers
 * check once, at the end.
 */

#ifndef LGSP_SBUF_H
#define LGSP_SBUF_H

#include <stddef.h>


typedef struct {
    char     *data;          /* NUL-terminated once anything was put */
    size_t    len;
    size_t    cap;
    int       nomem;
} lgsp_sbuf_t;


void lgsp_sbuf_put(lgsp_sbuf_t *b, const char *s, size_t n);
void lgsp_sbuf_puts(lgsp_sbuf_t *b, const char *s);

#endif /* LGSP_SBUF_H */
