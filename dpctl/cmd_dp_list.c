/* dpctl dp list: one line per DP, the columns an administrator scans first.
 * The API answers a page at a time (X-Next-After names where the next one
 * starts); dpctl follows the pages to the end, so the table and --json show
 * every DP that matches, as one JSON array, whatever the site's size. The
 * filters (--site, --state, --group, --maintenance) are the API's own. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "dpctl.h"

static const char *text_or_dash(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : "-";
}

static void print_table(const dpctl_resp *r)
{
    json_t *list = r->json;
    printf("%-6s %-40s %-4s %-12s %-9s %-3s %-4s %s\n", "DPID", "SERVER", "SITE", "STATE", "CRC",
           "PXE", "PULL", "MAINTENANCE MODE");
    size_t i;
    json_t *dp;
    json_array_foreach(list, i, dp) {
        json_t *id = json_object_get(dp, "dpid");
        char dpid[24] = "-";
        if (json_is_integer(id))
            snprintf(dpid, sizeof dpid, "%lld", (long long)json_integer_value(id));
        printf("%-6s %-40s %-4s %-12s %-9s %-3s %-4s %s\n", dpid, text_or_dash(dp, "serverName"),
               text_or_dash(dp, "siteCode"), text_or_dash(dp, "installState"),
               text_or_dash(dp, "crc"),
               json_is_true(json_object_get(dp, "enablePXE")) ? "yes" : "no",
               json_is_object(json_object_get(dp, "pullDP")) ? "yes" : "no",
               json_is_true(json_object_get(dp, "maintenanceMode")) ? "yes" : "no");
    }
    if (json_array_size(list) == 0)
        printf("(no distribution points)\n");
}

/* Appends "&name=<value, percent-encoded>" to the query q (len bytes). */
static int add_arg(char *q, size_t len, const char *name, const char *value)
{
    char esc[768];
    if (value == NULL)
        return 1;
    if (!dpctl_escape(value, esc, sizeof esc)) {
        fprintf(stderr, "dpctl: the value of %s is too long\n", name);
        return 0;
    }
    size_t n = strlen(q);
    if (snprintf(q + n, len - n, "&%s=%s", name, esc) >= (int)(len - n)) {
        fprintf(stderr, "dpctl: the request is too long\n");
        return 0;
    }
    return 1;
}

/* --maintenance on|off (as "dp maintenance"), or the API's true|false. */
static const char *maintenance_arg(const char *v)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0)
        return "true";
    if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0)
        return "false";
    return NULL;
}

int dpctl_cmd_dp_list(dpctl_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"site", required_argument, NULL, 's'},
        {"state", required_argument, NULL, 't'},
        {"group", required_argument, NULL, 'g'},
        {"maintenance", required_argument, NULL, 'm'},
        {"page-size", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *site = NULL, *state = NULL, *group = NULL, *maint = NULL, *page = "500";
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': site = optarg; break;
        case 't': state = optarg; break;
        case 'g': group = optarg; break;
        case 'p': page = optarg; break;
        case 'm':
            maint = maintenance_arg(optarg);
            if (maint == NULL) {
                fprintf(stderr, "dpctl: --maintenance takes on or off, not '%s'\n", optarg);
                return DPCTL_USAGE;
            }
            break;
        default: return DPCTL_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "dpctl: dp list takes no arguments\n");
        return DPCTL_USAGE;
    }
    /* the API checks every value and names the one it refuses */
    char query[1536] = "";
    if (!add_arg(query, sizeof query, "limit", page) || !add_arg(query, sizeof query, "site", site) ||
        !add_arg(query, sizeof query, "state", state) ||
        !add_arg(query, sizeof query, "boundaryGroup", group) ||
        !add_arg(query, sizeof query, "maintenanceMode", maint))
        return DPCTL_USAGE;
    char path[1600];
    snprintf(path, sizeof path, "/v1/distributionpoints?%s", query + 1); /* + 1: past the first '&' */
    return dpctl_call_pages(ctx, path, print_table);
}
