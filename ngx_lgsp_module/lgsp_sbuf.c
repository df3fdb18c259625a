/*
 * A growing string for the nginx-free cores.
 */

#include <stdlib.h>
#include <string.h>

#include "lgsp_sbuf.h"


void
lgsp_sbuf_put(lgsp_sbuf_t *b, const char *s, size_t n)
{
    char    *p;
    size_t   cap;

    if (b->nomem) {
        return;
    }

    if (b->len + n + 1 > b->cap) {
        cap = (b->len + n + 1) * 2;
        p = realloc(b->data, cap);
        if (p == NULL) {
            b->nomem = 1;
            return;
        }

        b->data = p;
        b->cap = cap;
    }

    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}


void
lgsp_sbuf_puts(lgsp_sbuf_t *b, const char *s)
{
    lgsp_sbuf_put(b, s, strlen(s));
}
