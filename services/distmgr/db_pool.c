/* The replica's bounded set of PostgreSQL connections (db_pool.h). Idle
 * connections sit on a stack; a borrower takes the top one, or opens a new
 * one while fewer than size are open, or waits. Connecting and resetting
 * happen outside the lock, so a slow PostgreSQL holds up only the borrower
 * that met it. */
#include "db_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <dpf/log.h>
#include <dpf/util.h>

/* at most one "cannot reach PostgreSQL" warning this often */
#define WARN_EVERY_US (10LL * 1000000)

struct dm_dbpool {
    const char *url;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* short borrowers wait here for a connection */
    pthread_cond_t cv_long; /* long ones for a connection and a long slot */
    int wait_short;         /* how many wait on each */
    int wait_long;
    dpf_db **idle; /* stack of size slots */
    int nidle;
    int size;
    int open;
    int out;
    int peak_out;
    int long_out;  /* borrowed by long holders (or reserved for one) */
    int long_max;
    long long waits;
    int64_t last_warn_us;
};

dpf_status dm_dbpool_create(const char *url, int size, dm_dbpool **out)
{
    if (url == NULL || size < 1 || size > 1000 || out == NULL)
        return DPF_ERR_INVALID;
    dm_dbpool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return DPF_ERR_NOMEM;
    p->idle = calloc((size_t)size, sizeof *p->idle);
    if (p->idle == NULL) {
        free(p);
        return DPF_ERR_NOMEM;
    }
    p->url = url;
    p->size = size;
    p->long_max = size - size / 3;
    if (p->long_max >= size && size > 1)
        p->long_max = size - 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->cv_long, NULL);
    *out = p;
    return DPF_OK;
}

void dm_dbpool_destroy(dm_dbpool *p)
{
    if (p == NULL)
        return;
    if (p->out > 0)
        DPF_WARN("Database pool destroyed with %d connections still borrowed", p->out);
    for (int i = 0; i < p->nidle; i++)
        dpf_db_destroy(p->idle[i]);
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->cv_long);
    pthread_mutex_destroy(&p->mu);
    free(p->idle);
    free(p);
}

/* Under the lock, after a connection or a slot came free: wakes ONE
 * borrower that can take it. Waking them all (it was a broadcast) made 40
 * step threads fight for the lock on every return of a connection: half of
 * distmgr's CPU in a 5,000-DP reset went to that. A long borrower that may
 * take it goes first: long holders are capped at long_max, so short ones
 * always keep a third of the pool. */
static void wake_one(dm_dbpool *p)
{
    if (p->nidle == 0 && p->open >= p->size)
        return;
    if (p->wait_long > 0 && p->long_out < p->long_max)
        pthread_cond_signal(&p->cv_long);
    else if (p->wait_short > 0)
        pthread_cond_signal(&p->cv);
}

/* A slot is taken (out counted); gives it back without a connection. */
static void drop_slot(dm_dbpool *p, dpf_db *db, int is_long)
{
    dpf_db_destroy(db);
    pthread_mutex_lock(&p->mu);
    p->open--;
    p->out--;
    if (is_long)
        p->long_out--;
    wake_one(p);
    pthread_mutex_unlock(&p->mu);
}

static void put(dm_dbpool *p, dpf_db *db, int is_long)
{
    if (p == NULL || db == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->idle[p->nidle++] = db;
    p->out--;
    if (is_long)
        p->long_out--;
    wake_one(p);
    pthread_mutex_unlock(&p->mu);
}

static void warn_unreachable(dm_dbpool *p, const char *why)
{
    pthread_mutex_lock(&p->mu);
    int64_t now = dpf_mono_us();
    int say = p->last_warn_us == 0 || now - p->last_warn_us >= WARN_EVERY_US;
    if (say)
        p->last_warn_us = now;
    pthread_mutex_unlock(&p->mu);
    if (say)
        DPF_WARN("Database pool: %s; jobs that need the database wait and retry", why);
}

static dpf_db *get(dm_dbpool *p, int wait_ms, int is_long)
{
    if (p == NULL)
        return NULL;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    int waited = 0, timed_out = 0;
    while ((p->nidle == 0 && p->open >= p->size) || (is_long && p->long_out >= p->long_max)) {
        if (timed_out) {
            pthread_mutex_unlock(&p->mu);
            warn_unreachable(p, "all connections stayed borrowed");
            return NULL;
        }
        waited = 1;
        /* a wake-up that comes with the timeout is not lost: the loop
         * looks once more before giving up */
        if (is_long)
            p->wait_long++;
        else
            p->wait_short++;
        timed_out = pthread_cond_timedwait(is_long ? &p->cv_long : &p->cv, &p->mu, &until) ==
                    ETIMEDOUT;
        if (is_long)
            p->wait_long--;
        else
            p->wait_short--;
    }
    if (waited)
        p->waits++;
    if (is_long)
        p->long_out++;
    dpf_db *db = NULL;
    if (p->nidle > 0)
        db = p->idle[--p->nidle];
    else
        p->open++; /* reserved: connect outside the lock */
    p->out++;
    if (p->out > p->peak_out)
        p->peak_out = p->out;
    pthread_mutex_unlock(&p->mu);

    if (db == NULL) {
        if (dpf_db_connect(p->url, &db) != DPF_OK) {
            drop_slot(p, NULL, is_long);
            warn_unreachable(p, "cannot connect to PostgreSQL");
            return NULL;
        }
        return db;
    }
    if (dpf_db_ensure(db) != DPF_OK) {
        /* keep the handle: the next borrower's ensure tries again */
        put(p, db, is_long);
        warn_unreachable(p, "the connection to PostgreSQL is lost");
        return NULL;
    }
    return db;
}

dpf_db *dm_dbpool_get(dm_dbpool *p, int wait_ms)
{
    return get(p, wait_ms, 0);
}

dpf_db *dm_dbpool_get_long(dm_dbpool *p, int wait_ms)
{
    return get(p, wait_ms, 1);
}

void dm_dbpool_put(dm_dbpool *p, dpf_db *db)
{
    put(p, db, 0);
}

void dm_dbpool_put_long(dm_dbpool *p, dpf_db *db)
{
    put(p, db, 1);
}

void dm_dbpool_get_stats(dm_dbpool *p, dm_dbpool_stats *out)
{
    pthread_mutex_lock(&p->mu);
    out->size = p->size;
    out->open = p->open;
    out->out = p->out;
    out->peak_out = p->peak_out;
    out->waits = p->waits;
    pthread_mutex_unlock(&p->mu);
}
