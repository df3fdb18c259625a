/*
 * LGSP on nginx: documents fetched by subrequest and shared by all
 * workers; see ngx_http_lgsp_fetch.h.  The values live in one shared zone,
 * a slot per fetch; a lease in the slot keeps one fetch in flight across
 * workers, and requests that need the value meanwhile poll the slot on a
 * timer, so no worker ever blocks.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_lgsp_fetch.h"


#define NGX_HTTP_LGSP_FETCH_ZONE_SIZE  (1024 * 1024)
#define NGX_HTTP_LGSP_FETCH_SLOTS      32
#define NGX_HTTP_LGSP_FETCH_KEY_MAX    256

/* a fetch that ends neither way in this time is taken over */
#define NGX_HTTP_LGSP_FETCH_LEASE      120

/* how often a waiting request looks at the slot, in milliseconds */
#define NGX_HTTP_LGSP_FETCH_POLL       10


typedef struct {
    u_char                         key[NGX_HTTP_LGSP_FETCH_KEY_MAX];
    size_t                         key_len;
    ngx_uint_t                     used;        /* by the new configuration */
    ngx_uint_t                     version;     /* of the value */
    ngx_uint_t                     failures;    /* fetches that failed */
    ngx_uint_t                     incident;    /* a failure was logged */
    ngx_msec_t                     fetched;     /* last fetch ended, ms */
    time_t                         expires;     /* no value from then on */
    time_t                         refresh;     /* fetch anew from then on */
    time_t                         lease;       /* a fetch is out until */
    time_t                         retry;       /* no fetch until */
    u_char                        *data;
    size_t                         len;
} ngx_http_lgsp_fetch_slot_t;


typedef struct {
    ngx_uint_t                     versions;    /* never repeat a version */
    ngx_http_lgsp_fetch_slot_t     slots[NGX_HTTP_LGSP_FETCH_SLOTS];
} ngx_http_lgsp_fetch_sh_t;


typedef struct {
    ngx_array_t                    fetches;     /* of ngx_http_lgsp_fetch_t *
                                                 */
    ngx_shm_zone_t                *zone;
    ngx_slab_pool_t               *shpool;
    ngx_http_lgsp_fetch_sh_t      *sh;
} ngx_http_lgsp_fetch_main_conf_t;


static ngx_int_t ngx_http_lgsp_fetch_start(ngx_http_request_t *r,
    ngx_http_lgsp_fetch_state_t *st);
static ngx_int_t ngx_http_lgsp_fetch_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
static void ngx_http_lgsp_fetch_store(ngx_http_request_t *sr,
    ngx_http_lgsp_fetch_t *fetch, ngx_str_t *value, time_t ttl,
    u_char *err);
static ngx_msec_t ngx_http_lgsp_fetch_now_ms(void);
static void ngx_http_lgsp_fetch_wait(ngx_http_request_t *r,
    ngx_http_lgsp_fetch_state_t *st, ngx_uint_t failures);
static void ngx_http_lgsp_fetch_wake(ngx_event_t *ev);
static void ngx_http_lgsp_fetch_cleanup(void *data);
static ngx_http_lgsp_fetch_slot_t *ngx_http_lgsp_fetch_slot(
    ngx_http_lgsp_fetch_main_conf_t *fmcf, ngx_http_lgsp_fetch_t *fetch);
static ngx_int_t ngx_http_lgsp_fetch_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void *ngx_http_lgsp_fetch_create_main_conf(ngx_conf_t *cf);


static ngx_http_module_t  ngx_http_lgsp_fetch_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_lgsp_fetch_create_main_conf,  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_lgsp_fetch_module = {
    NGX_MODULE_V1,
    &ngx_http_lgsp_fetch_module_ctx,       /* module context */
    NULL,                                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


ngx_http_lgsp_fetch_t *
ngx_http_lgsp_fetch_add(ngx_conf_t *cf, ngx_str_t *what, ngx_str_t *uri)
{
    u_char                           *p;
    ngx_str_t                         name;
    ngx_uint_t                        i;
    ngx_http_lgsp_fetch_t            *fetch, **fp;
    ngx_http_lgsp_fetch_main_conf_t  *fmcf;

    fmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_lgsp_fetch_module);

    if (uri->len == 0 || uri->data[0] != '/'
        || what->len + 1 + uri->len > NGX_HTTP_LGSP_FETCH_KEY_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid location \"%V\": an internal location"
                           " of at most %d characters",
                           uri, NGX_HTTP_LGSP_FETCH_KEY_MAX - 32);
        return NULL;
    }

    fp = fmcf->fetches.elts;

    for (i = 0; i < fmcf->fetches.nelts; i++) {
        if (fp[i]->uri.len == uri->len
            && ngx_strncmp(fp[i]->uri.data, uri->data, uri->len) == 0
            && fp[i]->what.data == what->data)
        {
            return fp[i];
        }
    }

    if (fmcf->fetches.nelts == NGX_HTTP_LGSP_FETCH_SLOTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d fetched documents",
                           NGX_HTTP_LGSP_FETCH_SLOTS);
        return NULL;
    }

    fetch = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_fetch_t));
    if (fetch == NULL) {
        return NULL;
    }

    fetch->uri = *uri;
    fetch->what = *what;
    fetch->key.len = what->len + 1 + uri->len;
    fetch->key.data = ngx_pnalloc(cf->pool, fetch->key.len);
    if (fetch->key.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(fetch->key.data, what->data, what->len);
    *p++ = ' ';
    ngx_memcpy(p, uri->data, uri->len);

    fp = ngx_array_push(&fmcf->fetches);
    if (fp == NULL) {
        return NULL;
    }

    *fp = fetch;

    if (fmcf->zone == NULL) {
        ngx_str_set(&name, "lgsp_fetch");

        fmcf->zone = ngx_shared_memory_add(cf, &name,
                                           NGX_HTTP_LGSP_FETCH_ZONE_SIZE,
                                           &ngx_http_lgsp_fetch_module);
        if (fmcf->zone == NULL) {
            return NULL;
        }

        fmcf->zone->init = ngx_http_lgsp_fetch_init_zone;
        fmcf->zone->data = fmcf;
    }

    return fetch;
}


ngx_int_t
ngx_http_lgsp_fetch_get(ngx_http_request_t *r,
    ngx_http_lgsp_fetch_state_t *st, ngx_http_lgsp_fetch_t *fetch,
    ngx_msec_int_t min_age, ngx_str_t *value, ngx_uint_t *version)
{
    time_t                            now;
    ngx_int_t                         rc;
    ngx_msec_t                        now_ms;
    ngx_pool_cleanup_t               *cln;
    ngx_http_lgsp_fetch_slot_t       *s;
    ngx_http_lgsp_fetch_main_conf_t  *fmcf;

    if (!st->cleanup) {
        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_ERROR;
        }

        cln->handler = ngx_http_lgsp_fetch_cleanup;
        cln->data = st;
        st->cleanup = 1;
        st->fetch = fetch;
        st->request = r;
    }

    if (st->fetching) {
        /* woken before our subrequest ended: keep waiting for it */
        return NGX_AGAIN;
    }

    fmcf = ngx_http_get_module_main_conf(r, ngx_http_lgsp_fetch_module);
    now = ngx_time();
    now_ms = ngx_http_lgsp_fetch_now_ms();

    ngx_shmtx_lock(&fmcf->shpool->mutex);

    s = ngx_http_lgsp_fetch_slot(fmcf, fetch);

    if (s == NULL) {
        /* an old worker's slot, given to another fetch by a reload */
        rc = NGX_DECLINED;

    } else if (s->data && now < s->expires) {

        if ((now < s->refresh
             && (min_age < 0
                 || now_ms < s->fetched + (ngx_msec_t) min_age))
            || now < s->lease || now < s->retry)
        {
            rc = NGX_OK;

            if (*version != s->version) {
                *version = s->version;
                value->len = s->len;
                value->data = ngx_pnalloc(r->pool, s->len);

                if (value->data == NULL) {
                    rc = NGX_ERROR;

                } else {
                    ngx_memcpy(value->data, s->data, s->len);
                }
            }

        } else {
            s->lease = now + NGX_HTTP_LGSP_FETCH_LEASE;
            rc = NGX_AGAIN;
        }

    } else if ((st->done && st->failed)
               || (st->waiting && s->failures != st->failures)
               || now < s->retry)
    {
        /* our fetch or the one we waited for failed, or one did lately */
        rc = NGX_DECLINED;

    } else if (now < s->lease) {
        ngx_http_lgsp_fetch_wait(r, st, s->failures);
        rc = NGX_BUSY;

    } else {
        s->lease = now + NGX_HTTP_LGSP_FETCH_LEASE;
        rc = NGX_AGAIN;
    }

    ngx_shmtx_unlock(&fmcf->shpool->mutex);

    if (rc == NGX_AGAIN) {
        return ngx_http_lgsp_fetch_start(r, st);
    }

    if (rc == NGX_BUSY) {
        return NGX_AGAIN;
    }

    st->waiting = 0;
    st->done = 0;

    return rc;
}


void
ngx_http_lgsp_fetch_drop(ngx_http_lgsp_fetch_t *fetch, ngx_uint_t version)
{
    ngx_http_lgsp_fetch_slot_t       *s;
    ngx_http_lgsp_fetch_main_conf_t  *fmcf;

    fmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_lgsp_fetch_module);

    ngx_shmtx_lock(&fmcf->shpool->mutex);

    s = ngx_http_lgsp_fetch_slot(fmcf, fetch);

    if (s && s->version == version) {
        s->expires = 0;
        s->refresh = 0;
    }

    ngx_shmtx_unlock(&fmcf->shpool->mutex);
}


/* we hold the lease: fetch by subrequest, as auth_request does */
static ngx_int_t
ngx_http_lgsp_fetch_start(ngx_http_request_t *r,
    ngx_http_lgsp_fetch_state_t *st)
{
    ngx_http_request_t          *sr;
    ngx_http_post_subrequest_t  *ps;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        goto failed;
    }

    ps->handler = ngx_http_lgsp_fetch_done;
    ps->data = st;

    if (ngx_http_subrequest(r, &st->fetch->uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        goto failed;
    }

    /*
     * A subrequest shares its parent's headers and body, which proxy_pass
     * would send on: the caller's Authorization and Cookie to the SSO or
     * to NDXP, and a Content-Length without its body.  The fetch is the
     * LGSP's own request: none of the caller's.
     */
    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));
    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        goto failed;
    }

    sr->request_body = NULL;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "lgsp fetch: %V", &st->fetch->key);

    st->fetching = 1;
    st->waiting = 0;

    return NGX_AGAIN;

failed:

    ngx_http_lgsp_fetch_store(r, st->fetch, NULL, 0,
                              (u_char *) "no subrequest");
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_lgsp_fetch_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_lgsp_fetch_state_t *st = data;

    time_t      ttl;
    u_char      err[128];
    ngx_str_t   body, value;

    if (!st->fetching) {
        return rc;
    }

    st->fetching = 0;
    st->done = 1;
    st->failed = 1;
    ttl = 0;

    if (rc == NGX_ERROR || sr->headers_out.status != NGX_HTTP_OK) {
        ngx_snprintf(err, sizeof(err), "the location answered %ui%Z",
                     sr->headers_out.status ? sr->headers_out.status
                     : (rc > NGX_OK ? (ngx_uint_t) rc
                                    : (ngx_uint_t) NGX_HTTP_BAD_GATEWAY));

    } else {
        body.data = NULL;
        body.len = 0;

        if (sr->out) {
            body.data = sr->out->buf->pos;
            body.len = sr->out->buf->last - sr->out->buf->pos;
        }

        if (st->fetch->check(sr, &body, &value, &ttl, err, sizeof(err))
            == NGX_OK)
        {
            st->failed = 0;
        }
    }

    ngx_http_lgsp_fetch_store(sr, st->fetch, st->failed ? NULL : &value, ttl,
                              err);

    return rc;
}


/* a value or, when value is NULL, a failure; ends the lease */
static void
ngx_http_lgsp_fetch_store(ngx_http_request_t *sr,
    ngx_http_lgsp_fetch_t *fetch, ngx_str_t *value, time_t ttl,
    u_char *err)
{
    u_char                           *data;
    time_t                            now, expires;
    ngx_uint_t                        log;
    ngx_http_lgsp_fetch_slot_t       *s;
    ngx_http_lgsp_fetch_main_conf_t  *fmcf;

    fmcf = ngx_http_get_module_main_conf(sr, ngx_http_lgsp_fetch_module);
    now = ngx_time();
    log = 0;
    expires = 0;

    ngx_shmtx_lock(&fmcf->shpool->mutex);

    s = ngx_http_lgsp_fetch_slot(fmcf, fetch);

    if (s == NULL) {
        goto done;
    }

    s->lease = 0;
    s->fetched = ngx_http_lgsp_fetch_now_ms();

    data = value ? ngx_slab_alloc_locked(fmcf->shpool, value->len + 1)
                 : NULL;

    if (data == NULL) {
        if (value) {
            err = (u_char *) "no room in the shared zone";
        }

        s->failures++;
        s->retry = now + fetch->retry;

        if (!s->incident) {
            s->incident = 1;
            log = 1;
        }

        goto done;
    }

    if (s->data) {
        ngx_slab_free_locked(fmcf->shpool, s->data);
    }

    ngx_memcpy(data, value->data, value->len);
    s->data = data;
    s->len = value->len;
    s->version = ++fmcf->sh->versions;
    s->expires = ttl ? now + ttl : NGX_MAX_TIME_T_VALUE;
    s->refresh = now + (ttl ? ttl * (time_t) fetch->refresh_pct / 100
                            : fetch->refresh);
    s->retry = 0;
    expires = s->expires;

    if (s->incident) {
        s->incident = 0;
        log = 2;
    }

done:

    ngx_shmtx_unlock(&fmcf->shpool->mutex);

    if (fetch->ended) {
        fetch->ended(expires != 0, expires);
    }

    /* incidents, not requests: one line when it breaks, one when mended */
    if (log == 1) {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "lgsp: fetching the %V from \"%V\" failed: %s;"
                      " no new fetch for %T s",
                      &fetch->what, &fetch->uri, err, fetch->retry);

    } else if (log == 2) {
        ngx_log_error(NGX_LOG_NOTICE, sr->connection->log, 0,
                      "lgsp: fetching the %V from \"%V\" works again",
                      &fetch->what, &fetch->uri);
    }
}


/* wall-clock milliseconds: the slots are shared by every worker */
static ngx_msec_t
ngx_http_lgsp_fetch_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (ngx_msec_t) tp->sec * 1000 + tp->msec;
}


static void
ngx_http_lgsp_fetch_wait(ngx_http_request_t *r,
    ngx_http_lgsp_fetch_state_t *st, ngx_uint_t failures)
{
    if (!st->waiting) {
        st->waiting = 1;
        st->failures = failures;
    }

    st->wait.handler = ngx_http_lgsp_fetch_wake;
    st->wait.data = st;
    st->wait.log = r->connection->log;

    ngx_add_timer(&st->wait, NGX_HTTP_LGSP_FETCH_POLL);
}


static void
ngx_http_lgsp_fetch_wake(ngx_event_t *ev)
{
    ngx_http_lgsp_fetch_state_t *st = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = st->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_lgsp_fetch_cleanup(void *data)
{
    ngx_http_lgsp_fetch_state_t *st = data;

    ngx_http_lgsp_fetch_slot_t       *s;
    ngx_http_lgsp_fetch_main_conf_t  *fmcf;

    if (st->wait.timer_set) {
        ngx_del_timer(&st->wait);
    }

    if (!st->fetching) {
        return;
    }

    /* the request ended before its fetch: let the next one fetch */
    fmcf = ngx_http_get_module_main_conf(st->request,
                                         ngx_http_lgsp_fetch_module);

    ngx_shmtx_lock(&fmcf->shpool->mutex);

    s = ngx_http_lgsp_fetch_slot(fmcf, st->fetch);

    if (s) {
        s->lease = 0;
    }

    ngx_shmtx_unlock(&fmcf->shpool->mutex);
}


static ngx_http_lgsp_fetch_slot_t *
ngx_http_lgsp_fetch_slot(ngx_http_lgsp_fetch_main_conf_t *fmcf,
    ngx_http_lgsp_fetch_t *fetch)
{
    ngx_http_lgsp_fetch_slot_t  *s;

    s = &fmcf->sh->slots[fetch->slot];

    if (s->key_len != fetch->key.len
        || ngx_memcmp(s->key, fetch->key.data, fetch->key.len) != 0)
    {
        return NULL;
    }

    return s;
}


/*
 * Gives each fetch of the configuration its slot: the slot of the same
 * key when the zone lives on across a reload, so values survive it;
 * slots no fetch names any more are freed first.
 */
static ngx_int_t
ngx_http_lgsp_fetch_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_lgsp_fetch_main_conf_t *ofmcf = data;

    size_t                            len;
    ngx_uint_t                        i, j;
    ngx_http_lgsp_fetch_t           **fp;
    ngx_http_lgsp_fetch_sh_t         *sh;
    ngx_http_lgsp_fetch_slot_t       *s;
    ngx_http_lgsp_fetch_main_conf_t  *fmcf;

    fmcf = shm_zone->data;
    fmcf->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (ofmcf) {
        fmcf->sh = ofmcf->sh;

    } else if (shm_zone->shm.exists) {
        fmcf->sh = fmcf->shpool->data;

    } else {
        fmcf->sh = ngx_slab_calloc(fmcf->shpool,
                                   sizeof(ngx_http_lgsp_fetch_sh_t));
        if (fmcf->sh == NULL) {
            return NGX_ERROR;
        }

        fmcf->shpool->data = fmcf->sh;

        len = sizeof(" in lgsp_fetch zone \"\"") + shm_zone->shm.name.len;

        fmcf->shpool->log_ctx = ngx_slab_alloc(fmcf->shpool, len);
        if (fmcf->shpool->log_ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(fmcf->shpool->log_ctx, " in lgsp_fetch zone \"%V\"%Z",
                    &shm_zone->shm.name);
    }

    sh = fmcf->sh;
    fp = fmcf->fetches.elts;

    ngx_shmtx_lock(&fmcf->shpool->mutex);

    for (j = 0; j < NGX_HTTP_LGSP_FETCH_SLOTS; j++) {
        sh->slots[j].used = 0;
    }

    for (i = 0; i < fmcf->fetches.nelts; i++) {
        fp[i]->slot = NGX_HTTP_LGSP_FETCH_SLOTS;

        for (j = 0; j < NGX_HTTP_LGSP_FETCH_SLOTS; j++) {
            s = &sh->slots[j];

            if (s->key_len == fp[i]->key.len
                && ngx_memcmp(s->key, fp[i]->key.data, s->key_len) == 0)
            {
                s->used = 1;
                fp[i]->slot = j;
                break;
            }
        }
    }

    for (j = 0; j < NGX_HTTP_LGSP_FETCH_SLOTS; j++) {
        s = &sh->slots[j];

        if (!s->used && s->key_len) {
            if (s->data) {
                ngx_slab_free_locked(fmcf->shpool, s->data);
            }

            ngx_memzero(s, sizeof(ngx_http_lgsp_fetch_slot_t));
        }
    }

    for (i = 0; i < fmcf->fetches.nelts; i++) {
        if (fp[i]->slot != NGX_HTTP_LGSP_FETCH_SLOTS) {
            continue;
        }

        for (j = 0; sh->slots[j].key_len; j++) { /* void */ }

        s = &sh->slots[j];
        s->used = 1;
        s->key_len = fp[i]->key.len;
        ngx_memcpy(s->key, fp[i]->key.data, s->key_len);
        fp[i]->slot = j;
    }

    ngx_shmtx_unlock(&fmcf->shpool->mutex);

    return NGX_OK;
}


static void *
ngx_http_lgsp_fetch_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_lgsp_fetch_main_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_lgsp_fetch_main_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&conf->fetches, cf->pool, 4,
                       sizeof(ngx_http_lgsp_fetch_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return conf;
}
