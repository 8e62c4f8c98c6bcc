/* The outcome rules of a trace (see trace_outcome.h). Kept apart from the
 * SQL and the HTTP handler because they are the part an administrator
 * relies on at 3 a.m.: "Installed" must mean the last attempt finished, not
 * that some attempt once did. */
#include "trace_outcome.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *s0(const char *s)
{
    return s != NULL ? s : "";
}

void prov_trace_iso(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char base[32] = "1970-01-01T00:00:00";
    if (gmtime_r(&t, &tm) != NULL)
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
}

static int later(const prov_trace_row *a, const prov_trace_row *b)
{
    return a->at_ms > b->at_ms || (a->at_ms == b->at_ms && a->id > b->id);
}

static void set(prov_trace_outcome *o, prov_trace_state st, const char *word, const char *step,
                const char *reason, int64_t since)
{
    o->state = st;
    snprintf(o->word, sizeof o->word, "%s", word);
    snprintf(o->step, sizeof o->step, "%s", s0(step));
    snprintf(o->reason, sizeof o->reason, "%s", s0(reason));
    o->since_ms = since;
    char when[40];
    prov_trace_iso(since, when, sizeof when);
    switch (st) {
    case PROV_TRACE_FAILED:
        snprintf(o->text, sizeof o->text, "Failed at %s: %s", o->step,
                 o->reason[0] ? o->reason : "(no reason given)");
        break;
    case PROV_TRACE_RUNNING:
        snprintf(o->text, sizeof o->text, "Still running: %s since %s", o->step, when);
        break;
    case PROV_TRACE_WAITING:
        snprintf(o->text, sizeof o->text, "Waiting: %s",
                 o->reason[0] ? o->reason : "(no reason given)");
        break;
    default:
        snprintf(o->text, sizeof o->text, "%s", word);
        break;
    }
}

/* distribute, remove content, validate: one step per attempt. */
static int is_content_job(const char *job)
{
    return strcmp(job, "distribute") == 0 || strcmp(job, "remove content") == 0 ||
           strcmp(job, "validate") == 0;
}

static const char *content_done_word(const char *job)
{
    if (strcmp(job, "validate") == 0)
        return "Validated";
    if (strcmp(job, "remove content") == 0)
        return "Content removed";
    return "Distributed";
}

/* The status message that completes a job of this kind. */
static int completing_msg(const char *job)
{
    if (strcmp(job, "remove") == 0)
        return 2391;
    if (strcmp(job, "distribute") == 0)
        return 2330;
    if (strcmp(job, "validate") == 0)
        return 2384;
    return 2399; /* install, upgrade, change */
}

static const char *done_word(int msg_id)
{
    switch (msg_id) {
    case 2391: return "Removed";
    case 2330: return "Distributed";
    case 2384: return "Validated";
    default: return "Installed";
    }
}

/* No trace rows decide: the newest deciding status message. */
static void from_statmsgs(const prov_trace_row *rows, size_t n, prov_trace_outcome *o)
{
    const prov_trace_row *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const prov_trace_row *r = &rows[i];
        if (!r->is_statmsg)
            continue;
        switch (r->msg_id) {
        case 2399: case 2391: case 2398: case 2392: case 2390: case 2330: case 2332:
        case 2333: case 2334: case 2384: case 2383: case 3307: case 3308: case 2394: case 2395:
            if (best == NULL || later(r, best))
                best = r;
            break;
        default:
            break;
        }
    }
    if (best == NULL)
        return;
    char reason[1024];
    switch (best->msg_id) {
    case 2398:
    case 2392:
        set(o, PROV_TRACE_FAILED, "Failed", best->istr[2], best->istr[3], best->at_ms);
        break;
    case 2332:
    case 2333:
        snprintf(reason, sizeof reason, "package %s, file %s: %s", s0(best->istr[0]),
                 s0(best->istr[2]), s0(best->istr[3]));
        set(o, PROV_TRACE_FAILED, "Failed", "content transfer", reason, best->at_ms);
        break;
    case 2383:
        snprintf(reason, sizeof reason, "package %s: %s", s0(best->istr[0]), s0(best->istr[2]));
        set(o, PROV_TRACE_FAILED, "Failed", "content validation", reason, best->at_ms);
        break;
    case 3307:
    case 3308:
        set(o, PROV_TRACE_FAILED, "Failed", "hman processing", best->istr[3], best->at_ms);
        break;
    case 2390:
        set(o, PROV_TRACE_RUNNING, "Running", "removal", NULL, best->at_ms);
        break;
    case 2394:
        set(o, PROV_TRACE_DONE, "In maintenance mode", NULL, NULL, best->at_ms);
        break;
    case 2395:
        set(o, PROV_TRACE_DONE, "Out of maintenance mode", NULL, NULL, best->at_ms);
        break;
    case 2334:
        set(o, PROV_TRACE_DONE, "Content removed", NULL, NULL, best->at_ms);
        break;
    default:
        set(o, PROV_TRACE_DONE, done_word(best->msg_id), NULL, NULL, best->at_ms);
        break;
    }
}

static int is_attempt_row(const prov_trace_row *r)
{
    return !r->is_statmsg && (s0(r->job_id)[0] != '\0' || strcmp(s0(r->result), "waiting") == 0);
}

static int same_attempt(const prov_trace_row *a, const prov_trace_row *b)
{
    if (s0(a->job_id)[0] == '\0' || s0(b->job_id)[0] == '\0')
        return a == b; /* a waiting row without a job id stands alone */
    return strcmp(a->job_id, b->job_id) == 0;
}

void prov_trace_outcome_of(const prov_trace_row *rows, size_t n, prov_trace_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->state = PROV_TRACE_NONE;
    out->since_ms = -1;
    /* the attempts: the start of each is its earliest row; count job ids */
    const prov_trace_row *latest_start = NULL; /* first row of the latest attempt */
    for (size_t i = 0; i < n; i++) {
        const prov_trace_row *r = &rows[i];
        if (!is_attempt_row(r))
            continue;
        const prov_trace_row *first = r;
        int seen_before = 0;
        for (size_t j = 0; j < n; j++) {
            const prov_trace_row *q = &rows[j];
            if (q == r || !is_attempt_row(q) || !same_attempt(q, r))
                continue;
            if (later(first, q))
                first = q;
            if (j < i)
                seen_before = 1;
        }
        if (!seen_before && s0(r->job_id)[0] != '\0')
            out->attempts++;
        if (latest_start == NULL || later(first, latest_start))
            latest_start = first;
    }
    if (latest_start == NULL) {
        from_statmsgs(rows, n, out);
        return;
    }
    snprintf(out->job, sizeof out->job, "%s", s0(latest_start->job));
    const prov_trace_row *last = NULL, *failed = NULL, *running = NULL;
    for (size_t i = 0; i < n; i++) {
        const prov_trace_row *r = &rows[i];
        if (!is_attempt_row(r) || !same_attempt(r, latest_start))
            continue;
        if (last == NULL || later(r, last))
            last = r;
        if (strcmp(s0(r->result), "failed") == 0 && (failed == NULL || later(failed, r)))
            failed = r;
        if (strcmp(s0(r->result), "running") == 0 && (running == NULL || later(r, running)))
            running = r;
    }
    if (strcmp(s0(last->result), "waiting") == 0) {
        set(out, PROV_TRACE_WAITING, "Waiting", last->step, last->message, last->at_ms);
        return;
    }
    if (failed != NULL) {
        set(out, PROV_TRACE_FAILED, "Failed", failed->step, failed->message,
            failed->ended_ms >= 0 ? failed->ended_ms : failed->at_ms);
        return;
    }
    if (running != NULL) {
        set(out, PROV_TRACE_RUNNING, "Running", running->step, NULL, running->at_ms);
        return;
    }
    if (is_content_job(s0(latest_start->job))) {
        set(out, PROV_TRACE_DONE, content_done_word(latest_start->job), NULL, NULL,
            last->ended_ms >= 0 ? last->ended_ms : last->at_ms);
        return;
    }
    int want = completing_msg(s0(latest_start->job));
    for (size_t i = 0; i < n; i++) {
        const prov_trace_row *r = &rows[i];
        /* raised in the transaction of the last step's end, so after the
         * attempt's first row; 2 s of slack for the clocks of two hosts
         * (the status message's time is the raiser's, the row's the
         * database's) */
        if (r->is_statmsg && r->msg_id == want && r->at_ms >= latest_start->at_ms - 2000) {
            set(out, PROV_TRACE_DONE, done_word(want), NULL, NULL, r->at_ms);
            return;
        }
    }
    set(out, PROV_TRACE_RUNNING, "Running", latest_start->job, NULL, latest_start->at_ms);
}

/* The DP's own job's status messages (not content's). */
static int lifecycle_msg(int id)
{
    switch (id) {
    case 2399: case 2398: case 2390: case 2391: case 2392: case 3307: case 3308: case 2394:
    case 2395:
        return 1;
    default:
        return 0;
    }
}

static int rank(prov_trace_state st)
{
    switch (st) {
    case PROV_TRACE_FAILED: return 4;
    case PROV_TRACE_RUNNING: return 3;
    case PROV_TRACE_WAITING: return 2;
    case PROV_TRACE_DONE: return 1;
    default: return 0;
    }
}

size_t prov_trace_dp_outcome(const prov_trace_row *rows, size_t n, prov_trace_outcome *out,
                             prov_trace_item *items, size_t max)
{
    memset(out, 0, sizeof *out);
    out->state = PROV_TRACE_NONE;
    out->since_ms = -1;
    prov_trace_row *sub = n ? calloc(n, sizeof *sub) : NULL;
    if (n && sub == NULL)
        return 0; /* out of memory: no outcome rather than a wrong one */
    /* content jobs: one item per job and step (the package and version) */
    size_t nitems = 0, ncontent = 0;
    int own_rows = 0;
    for (size_t i = 0; i < n; i++) {
        const prov_trace_row *r = &rows[i];
        if (r->is_statmsg || !is_attempt_row(r))
            continue;
        if (!is_content_job(s0(r->job))) {
            own_rows = 1;
            continue;
        }
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !rows[j].is_statmsg && is_attempt_row(&rows[j]) &&
                   strcmp(s0(rows[j].job), s0(r->job)) == 0 &&
                   strcmp(s0(rows[j].step), s0(r->step)) == 0;
        if (seen)
            continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!rows[j].is_statmsg && strcmp(s0(rows[j].job), s0(r->job)) == 0 &&
                strcmp(s0(rows[j].step), s0(r->step)) == 0)
                sub[m++] = rows[j];
        prov_trace_outcome o;
        prov_trace_outcome_of(sub, m, &o);
        ncontent++;
        if (rank(o.state) > rank(out->state) ||
            (rank(o.state) == rank(out->state) && o.since_ms > out->since_ms))
            *out = o;
        if (items != NULL && nitems < max) {
            snprintf(items[nitems].name, sizeof items[nitems].name, "%s: %s", s0(r->job),
                     s0(r->step));
            items[nitems].o = o;
        }
        nitems++;
    }
    /* the DP's own job: its rows and status messages (all of them when
     * there is no content job, so an old trace still has an outcome) */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const prov_trace_row *r = &rows[i];
        if (r->is_statmsg ? (ncontent == 0 || lifecycle_msg(r->msg_id))
                          : !is_content_job(s0(r->job)))
            sub[m++] = *r;
    }
    prov_trace_outcome own;
    prov_trace_outcome_of(sub, m, &own);
    free(sub);
    if (own.state != PROV_TRACE_NONE) {
        if (items != NULL && max > 0) {
            /* first in the list */
            size_t k = nitems < max ? nitems : max - 1;
            memmove(&items[1], &items[0], k * sizeof *items);
            snprintf(items[0].name, sizeof items[0].name, "%s", own.job[0] ? own.job : "dp");
            items[0].o = own;
        }
        nitems++;
        /* known from status messages alone (maintenance mode), it gives way
         * to a content job that failed, runs or waits */
        if (own_rows || ncontent == 0 || rank(out->state) <= rank(own.state))
            *out = own;
    }
    return nitems;
}
