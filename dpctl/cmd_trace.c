/* dpctl trace ID: one admin action's whole story (GET /v1/trace/{id}),
 * printed the way the source's logs read, one line per entry with the
 * component and its thread id ("DistMgr 4788 (0x12b4)"), so what used to
 * take SMSProv.log, smsdbmon.log, hman.log, DistMgr.log filtered by a
 * worker's thread id and SMSDPProv.log on the host is one command. After
 * the timeline: the outcome of each DP, then each failed step again, set
 * apart, with its reason and the agent's lines (what SMSDPProv.log said). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_trace.h"

/* Failed lines in bold red on a terminal (not with NO_COLOR or TERM=dumb,
 * never into a pipe or file, where ">>>" and "FAILED" mark them). */
static const char *on = "", *off = "";

static void colors(void)
{
    const char *term = getenv("TERM");
    if (isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL && term != NULL &&
        strcmp(term, "dumb") != 0) {
        on = "\033[1;31m";
        off = "\033[0m";
    }
}

void dpctl_print_follow(const char *corr)
{
    if (corr != NULL && corr[0] != '\0')
        printf("  Follow it with: dpctl trace %s\n", corr);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

void dpctl_trace_time(json_t *v, char *buf, size_t len)
{
    const char *s = json_string_value(v);
    if (s == NULL || s[0] == '\0') {
        snprintf(buf, len, "-");
        return;
    }
    snprintf(buf, len, "%s", s);
    char *t = strchr(buf, 'T'), *z = strchr(buf, 'Z');
    if (t != NULL)
        *t = ' ';
    if (z != NULL)
        *z = '\0';
}

static void duration(json_t *e, char *buf, size_t len)
{
    json_t *d = json_object_get(e, "durationMs");
    if (!json_is_integer(d)) {
        snprintf(buf, len, "%s", strcmp(str(e, "result"), "running") == 0 ? "running" : "-");
        return;
    }
    long long ms = json_integer_value(d);
    if (ms < 1000)
        snprintf(buf, len, "%lld ms", ms);
    else
        snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
}

static void thread(json_t *e, char *buf, size_t len)
{
    long long tid = json_integer_value(json_object_get(e, "tid"));
    if (tid > 0)
        snprintf(buf, len, "%lld (0x%llx)", tid, tid);
    else
        snprintf(buf, len, "-");
}

static void result_word(json_t *e, char *buf, size_t len)
{
    const char *r = str(e, "result");
    if (strcmp(r, "failed") == 0)
        snprintf(buf, len, "FAILED");
    else
        snprintf(buf, len, "%s", r);
}

static void entry_line(json_t *e)
{
    char when[40], tid[48], dur[32], res[16];
    dpctl_trace_time(json_object_get(e, "time"), when, sizeof when);
    thread(e, tid, sizeof tid);
    duration(e, dur, sizeof dur);
    result_word(e, res, sizeof res);
    const char *dp = str(e, "serverName");
    const char *msg = str(e, "message");
    size_t nlines = json_array_size(json_object_get(e, "agentLines"));
    int failed = strcmp(res, "FAILED") == 0;
    printf("%s%s  %-12s %-16s %-28s %-22s %-7s %-8s %s", failed ? on : "", when,
           str(e, "component"), tid, dp[0] ? dp : "-", str(e, "step"), res, dur, msg);
    if (nlines > 0)
        printf("%s(%zu agent line%s)", msg[0] ? " " : "", nlines, nlines == 1 ? "" : "s");
    printf("%s\n", failed ? off : "");
}

/* The latest failed step of each DP, with what the agent said. */
static void failed_steps(json_t *entries, json_t *summary)
{
    size_t i, k;
    json_t *e, *s;
    json_array_foreach(summary, k, s) {
        const char *dp = str(s, "serverName");
        json_t *last = NULL;
        json_array_foreach(entries, i, e) {
            if (strcmp(str(e, "result"), "failed") == 0 && strcmp(str(e, "source"), "trace") == 0 &&
                strcmp(str(e, "serverName"), dp) == 0)
                last = e;
        }
        if (last == NULL)
            continue;
        char when[40], tid[48];
        dpctl_trace_time(json_object_get(last, "time"), when, sizeof when);
        thread(last, tid, sizeof tid);
        int still = strcmp(str(s, "state"), "Failed") == 0;
        printf("\n%s>>> FAILED STEP %s on %s%s%s\n", on, str(last, "step"), dp,
               still ? "" : " (a later attempt took over; see the outcome above)", off);
        printf("    at %s, %s thread %s, replica %s, job %s, attempt %s\n", when,
               str(last, "component"), tid, str(last, "replica")[0] ? str(last, "replica") : "-",
               str(last, "job")[0] ? str(last, "job") : "-",
               str(last, "jobId")[0] ? str(last, "jobId") : "-");
        printf("    Reason: %s\n", str(last, "message")[0] ? str(last, "message") : "(none given)");
        json_t *lines = json_object_get(last, "agentLines");
        if (json_array_size(lines) == 0) {
            printf("    The agent sent no lines for this step.\n");
            continue;
        }
        printf("    The agent's lines (SMSDPProv.log on %s):\n", dp);
        json_t *l;
        json_array_foreach(lines, i, l)
            printf("      %s\n", json_string_value(l) ? json_string_value(l) : "");
    }
}

static void print_trace(const dpctl_resp *r)
{
    colors();
    json_t *entries = json_object_get(r->json, "entries");
    json_t *summary = json_object_get(r->json, "summary");
    char from[40], to[40];
    dpctl_trace_time(json_object_get(r->json, "startedAt"), from, sizeof from);
    dpctl_trace_time(json_object_get(r->json, "lastAt"), to, sizeof to);
    const char *user = str(r->json, "user");
    printf("Trace %s: %zu entries from %s to %s%s%s\n\n", str(r->json, "correlationId"),
           json_array_size(entries), from, to, user[0] ? ", action by " : "", user);
    printf("%-23s  %-12s %-16s %-28s %-22s %-7s %-8s %s\n", "Time (UTC)", "Component", "Thread",
           "Distribution point", "Step", "Result", "Took", "Message");
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
        entry_line(e);
    if (json_is_true(json_object_get(r->json, "truncated")))
        printf("... cut at %zu entries (--limit N shows more); the outcome below counts every "
               "entry\n", json_array_size(entries));
    printf("\nOutcome per distribution point:\n");
    if (json_array_size(summary) == 0)
        printf("  (no distribution point job in this action)\n");
    json_array_foreach(summary, i, e) {
        long long n = json_integer_value(json_object_get(e, "attempts"));
        printf("  %-28s %s", str(e, "serverName"), str(e, "outcome"));
        if (n > 1)
            printf(" (%lld attempts)", n);
        printf("\n");
        json_t *jobs = json_object_get(e, "jobs");
        size_t k;
        json_t *j;
        if (json_array_size(jobs) > 1) {
            json_array_foreach(jobs, k, j)
                printf("      %-40s %s\n", str(j, "job"), str(j, "outcome"));
        }
    }
    failed_steps(entries, summary);
}

/* [--limit N] and one operand; the path with the limit into path. */
static int parse(int argc, char **argv, const char *cmd, const char *what, const char *base,
                 char *path, size_t len)
{
    static const struct option opts[] = {{"limit", required_argument, NULL, 'l'},
                                         {NULL, 0, NULL, 0}};
    const char *limit = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'l')
            return 0;
        limit = optarg;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dpctl: %s takes exactly one %s\n", cmd, what);
        return 0;
    }
    char esc[800], lim[64] = "";
    if (limit != NULL && !dpctl_escape(limit, lim, sizeof lim)) {
        fprintf(stderr, "dpctl: --limit is too long\n");
        return 0;
    }
    if (!dpctl_escape(argv[optind], esc, sizeof esc) ||
        snprintf(path, len, "%s/%s%s%s", base, esc, limit ? "?limit=" : "", lim) >= (int)len) {
        fprintf(stderr, "dpctl: the %s is too long\n", what);
        return 0;
    }
    return 1;
}

int dpctl_cmd_trace(dpctl_ctx *ctx, int argc, char **argv)
{
    char path[1024];
    if (!parse(argc, argv, "trace", "correlation id", "/v1/trace", path, sizeof path))
        return DPCTL_USAGE;
    return dpctl_call(ctx, "GET", path, NULL, JSON_OBJECT, print_trace);
}
