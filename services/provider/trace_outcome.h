/* What became of one DP in one admin action (GET /v1/trace's summary and
 * GET /v1/distributionpoints/{serverName}/history): pure functions over the
 * DP's trace rows and status messages, so the rules are tested without a
 * database. The rules, in order:
 *   - the rows of the DP are grouped into attempts by job_id (a 'waiting'
 *     row without one is an attempt of its own); the attempt that started
 *     last decides, so a failed attempt followed by a good retry is
 *     Installed;
 *   - in that attempt: a 'waiting' last row -> "Waiting: <message>"; else a
 *     'failed' row -> "Failed at <step>: <message>"; else a 'running' row ->
 *     "Still running: <step> since <time>"; else, when a completing status
 *     message came after the attempt started (2399 install/upgrade, 2391
 *     removal, 2330 distribution, 2384 validation) -> "Installed",
 *     "Removed", "Distributed", "Validated"; else "Still running: <job>
 *     since <start>" (between two steps);
 *   - no attempt at all: the newest deciding status message (2399, 2391,
 *     2398/2392 failed at ISTR2: ISTR3, 2390 removal running, 2330, 2332/
 *     2333, 3307/3308 hman rolled back, 2394/2395 maintenance mode). */
#ifndef PROV_TRACE_OUTCOME_H
#define PROV_TRACE_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

/* One row about one DP. Strings borrowed for the call. */
typedef struct prov_trace_row {
    int is_statmsg;      /* 0: a trace_events row; 1: a status message */
    long long id;        /* the row's id, the tie-break of equal times */
    int64_t at_ms;       /* start (raised_at for a status message) */
    int64_t ended_ms;    /* end, -1 while running */
    /* trace_events */
    const char *job;     /* install, upgrade, remove, distribute, validate, change */
    const char *job_id;  /* one attempt ("" none) */
    const char *step;
    const char *result;  /* running, ok, failed, info, waiting */
    const char *message;
    /* status message */
    int msg_id;
    const char *istr[5]; /* ISTR0..4 ("" when missing) */
} prov_trace_row;

typedef enum prov_trace_state {
    PROV_TRACE_NONE,      /* nothing decides (only information rows) */
    PROV_TRACE_DONE,      /* Installed, Removed, Distributed, Validated, maintenance */
    PROV_TRACE_FAILED,    /* Failed at <step>: <reason> */
    PROV_TRACE_RUNNING,   /* Still running: <step> since <time> */
    PROV_TRACE_WAITING,   /* Waiting: <why> */
} prov_trace_state;

typedef struct prov_trace_outcome {
    prov_trace_state state;
    char text[1200];     /* "Failed at create_shares: cannot create ..." */
    char word[24];       /* Installed, Removed, Failed, Running, Waiting, ... */
    char job[32];        /* of the deciding attempt ("" from status messages alone) */
    char step[96];       /* failed / running step, "" otherwise */
    char reason[1024];   /* failure reason or why it waits, "" otherwise */
    int64_t since_ms;    /* running or waiting since, failure time; -1 if none */
    int attempts;        /* distinct job_ids seen */
} prov_trace_outcome;

/* rows: n rows of ONE job of one DP, any order (borrowed). Fills *out. A
 * content job (distribute, remove content, validate: one step per attempt,
 * ended in the transaction of its result) is done when its attempt's row
 * ended 'ok'; the others need their completing status message. */
void prov_trace_outcome_of(const prov_trace_row *rows, size_t n, prov_trace_outcome *out);

/* One job of a DP within an action: the DP's own job (install, upgrade,
 * remove: "dp") or one package's content job ("distribute: package
 * PS100001 version 1"). */
typedef struct prov_trace_item {
    char name[160];
    prov_trace_outcome o;
} prov_trace_item;

/* rows: every row of ONE DP in one action (borrowed). The DP's outcome is
 * its own job's when it has one (install, upgrade, removal: what the
 * administrator asked about; its default client packages follow it in the
 * same action); otherwise its content jobs' together (any failed, else any
 * running, else any waiting, else done). Fills *out and up to max items
 * (items may be NULL); returns the number of items found. */
size_t prov_trace_dp_outcome(const prov_trace_row *rows, size_t n, prov_trace_outcome *out,
                             prov_trace_item *items, size_t max);

/* "2026-12-02T16:01:02.123Z" of ms since the epoch into buf (>= 25 bytes). */
void prov_trace_iso(int64_t ms, char *buf, size_t len);

#endif
