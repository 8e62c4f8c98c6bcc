/* One run of hman over a site (process.c drives it, dps.c does the DPs):
 * what the run needs besides the snapshot. Private to those two files. */
#ifndef HMAN_RUN_H
#define HMAN_RUN_H

#include <dpf/trace.h>

#include "hman.h"
#include "txlog.h"

typedef struct hman_run {
    dpf_db *db;
    hman_site *site;
    hman_result *res;
    const hman_opts *opts;   /* never NULL */
    const char *path;        /* the change as 3306/3307/3308 name it */
    const char *corr;        /* the change's correlation id (its timeline rows) */
    dpf_trace_batch *trace;  /* the pass's timeline rows, written with one statement before
                                the commit; NULL: none are kept */
    dpf_db_result *packages; /* loaded on the first new DP */
    hman_txlog log;          /* lines of the transaction, written when it ends */
} hman_run;

/* Lines about writes of the transaction (the run is r): written only once
 * it commits, so a crash or rollback never leaves "Inserted DP" for a DP
 * that was not inserted, nor a second one when the change is redelivered. */
#define TX_INFO(...) hman_txlog_add(&r->log, DPF_LOG_INFO, __VA_ARGS__)
#define TX_WARN(...) hman_txlog_add(&r->log, DPF_LOG_WARN, __VA_ARGS__)
#define TX_DEBUG(...) hman_txlog_add(&r->log, DPF_LOG_DEBUG, __VA_ARGS__)

/* Records in r->res which DP (nal, may be NULL) failed doing what, with the
 * database's reason; returns st. */
dpf_status hman_run_fail(hman_run *r, dpf_status st, const char *nal, const char *what);

/* dps.c: classifies every DP of the snapshot and writes what changed; logs
 * the unchanged ones in one line. */
dpf_status hman_run_dps(hman_run *r) DPF_MUSTCHECK;

#endif
