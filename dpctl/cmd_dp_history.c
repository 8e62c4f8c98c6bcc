/* dpctl dp history SERVER [--limit N]: the DP's recent jobs, newest first,
 * one line each with the correlation id to pass to `dpctl trace`. */
#include <stdio.h>
#include <string.h>

#include "cmd_trace.h"

static void print(const dpctl_resp *r)
{
    if (json_array_size(r->json) == 0) {
        printf("No job recorded for this distribution point (or older than the trace "
               "retention).\n");
        return;
    }
    printf("%-23s  %-23s  %-10s %-36s  %s\n", "Started (UTC)", "Ended", "Job",
           "Correlation id", "Outcome");
    size_t i;
    json_t *j;
    json_array_foreach(r->json, i, j) {
        char started[40], ended[40];
        dpctl_trace_time(json_object_get(j, "startedAt"), started, sizeof started);
        dpctl_trace_time(json_object_get(j, "endedAt"), ended, sizeof ended);
        const char *job = json_string_value(json_object_get(j, "job"));
        const char *corr = json_string_value(json_object_get(j, "correlationId"));
        const char *outcome = json_string_value(json_object_get(j, "outcome"));
        long long n = json_integer_value(json_object_get(j, "attempts"));
        printf("%-23s  %-23s  %-10s %-36s  %s", started, ended, job ? job : "-",
               corr ? corr : "-", outcome ? outcome : "-");
        if (n > 1)
            printf(" (%lld attempts)", n);
        printf("\n");
    }
    printf("\nThe whole story of one: dpctl trace CORRELATION-ID\n");
}

int dpctl_cmd_dp_history(dpctl_ctx *ctx, int argc, char **argv)
{
    char path[1024];
    const char *server = NULL;
    int limit_at = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            limit_at = ++i;
        } else if (strncmp(argv[i], "--limit=", 8) == 0) {
            limit_at = -i;
        } else if (argv[i][0] == '-' || server != NULL) {
            fprintf(stderr, "dpctl: dp history takes one SERVER and [--limit N]\n");
            return DPCTL_USAGE;
        } else {
            server = argv[i];
        }
    }
    if (server == NULL) {
        fprintf(stderr, "dpctl: dp history takes one SERVER and [--limit N]\n");
        return DPCTL_USAGE;
    }
    const char *limit = limit_at > 0 ? argv[limit_at] : limit_at < 0 ? argv[-limit_at] + 8 : NULL;
    char base[900], lim[64] = "";
    if (!dpctl_dp_path(server, base, sizeof base))
        return DPCTL_USAGE;
    if (limit != NULL && !dpctl_escape(limit, lim, sizeof lim)) {
        fprintf(stderr, "dpctl: --limit is too long\n");
        return DPCTL_USAGE;
    }
    snprintf(path, sizeof path, "%s/history%s%s", base, limit ? "?limit=" : "", lim);
    return dpctl_call(ctx, "GET", path, NULL, JSON_ARRAY, print);
}
