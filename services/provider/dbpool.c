/* Connection pool: a fixed array of slots under one mutex. A borrower takes
 * a free slot, connects outside the lock if the slot is empty, and on
 * failure leaves the slot empty so the next borrower tries again. */
#include "dbpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dpf/log.h>
#include <dpf/util.h>

struct prov_dbpool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    char *url;
    int size;
    dpf_db **conns; /* NULL = not connected */
    int *busy;
    int64_t down_since_ms; /* first failed connect of an outage, 0 when up; under lock */
};

dpf_status prov_dbpool_create(const char *url, int size, prov_dbpool **out)
{
    if (url == NULL || size < 1 || out == NULL)
        return DPF_ERR_INVALID;
    *out = NULL;
    prov_dbpool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return DPF_ERR_NOMEM;
    p->url = strdup(url);
    p->conns = calloc((size_t)size, sizeof *p->conns);
    p->busy = calloc((size_t)size, sizeof *p->busy);
    if (p->url == NULL || p->conns == NULL || p->busy == NULL) {
        free(p->url);
        free(p->conns);
        free(p->busy);
        free(p);
        return DPF_ERR_NOMEM;
    }
    p->size = size;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    *out = p;
    return DPF_OK;
}

void prov_dbpool_destroy(prov_dbpool *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->size; i++)
        dpf_db_destroy(p->conns[i]);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p->conns);
    free(p->busy);
    free(p->url);
    free(p);
}

static int take_slot(prov_dbpool *p, int wait_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->lock);
    for (;;) {
        /* prefer a slot that is already connected */
        int pick = -1;
        for (int i = 0; i < p->size; i++) {
            if (!p->busy[i] && (pick < 0 || (p->conns[pick] == NULL && p->conns[i] != NULL)))
                pick = i;
        }
        if (pick >= 0) {
            p->busy[pick] = 1;
            pthread_mutex_unlock(&p->lock);
            return pick;
        }
        if (pthread_cond_timedwait(&p->freed, &p->lock, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->lock);
            return -1;
        }
    }
}

static void give_slot(prov_dbpool *p, int i)
{
    pthread_mutex_lock(&p->lock);
    p->busy[i] = 0;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

dpf_status prov_dbpool_acquire(prov_dbpool *p, int wait_ms, dpf_db **db)
{
    *db = NULL;
    int i = take_slot(p, wait_ms);
    if (i < 0)
        return DPF_ERR_BUSY;
    /* the slot is ours alone now: only we write conns[i], and we do it under
     * the lock because release() scans every slot */
    dpf_db *c = p->conns[i];
    if (c != NULL && dpf_db_ensure(c) != DPF_OK) {
        pthread_mutex_lock(&p->lock);
        p->conns[i] = NULL;
        pthread_mutex_unlock(&p->lock);
        dpf_db_destroy(c);
        c = NULL;
    }
    if (c == NULL) {
        if (dpf_db_connect(p->url, &c) != DPF_OK) {
            pthread_mutex_lock(&p->lock);
            int first = p->down_since_ms == 0;
            if (first)
                p->down_since_ms = dpf_now_ms();
            pthread_mutex_unlock(&p->lock);
            if (first)
                DPF_WARN("Outage: PostgreSQL is not reachable; requests get 503 until it is "
                         "back");
            give_slot(p, i);
            return DPF_ERR_DB;
        }
        pthread_mutex_lock(&p->lock);
        p->conns[i] = c;
        int64_t since = p->down_since_ms;
        p->down_since_ms = 0;
        pthread_mutex_unlock(&p->lock);
        if (since != 0)
            DPF_INFO("Recovery: PostgreSQL is back after %.1f s", (dpf_now_ms() - since) / 1000.0);
    }
    *db = c;
    return DPF_OK;
}

static void give_back(prov_dbpool *p, dpf_db *db)
{
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->size; i++) {
        if (p->conns[i] == db) {
            p->busy[i] = 0;
            pthread_cond_signal(&p->freed);
            pthread_mutex_unlock(&p->lock);
            return;
        }
    }
    pthread_mutex_unlock(&p->lock);
    DPF_ERROR("connection %p returned to a pool it does not belong to", (void *)db);
}

void prov_dbpool_release(prov_dbpool *p, dpf_db *db)
{
    if (p == NULL || db == NULL)
        return;
    /* handlers end their own transactions; this is the safety net that keeps
     * a forgotten one from leaking into the next request */
    dpf_db_rollback(db);
    give_back(p, db);
}

void prov_dbpool_release_read(prov_dbpool *p, dpf_db *db)
{
    if (p == NULL || db == NULL)
        return;
    give_back(p, db);
}
