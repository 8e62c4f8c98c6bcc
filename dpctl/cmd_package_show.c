/* dpctl package show ID: the package's fields, one per line, then one line
 * per DP it was distributed to with its state there. */
#include <stdio.h>

#include "cmd_package.h"

static void line(const char *label, const char *value)
{
    printf("%-16s %s\n", label, value && *value ? value : "-");
}

static const char *text(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static long long num(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void print(const dpctl_resp *r)
{
    json_t *p = r->json;
    char buf[64];
    line("Package ID:", text(p, "packageId"));
    line("Name:", text(p, "name"));
    line("Description:", text(p, "description"));
    line("Site:", text(p, "siteCode"));
    line("Source path:", text(p, "sourcePath"));
    line("State:", text(p, "state"));
    snprintf(buf, sizeof buf, "%lld (source version %lld)", num(p, "version"),
             num(p, "sourceVersion"));
    line("Version:", buf);
    snprintf(buf, sizeof buf, "%lld", num(p, "fileCount"));
    line("Files:", buf);
    dpctl_pkg_size(num(p, "size"), buf, sizeof buf);
    line("Size:", buf);
    line("Last error:", text(p, "lastError"));
    json_t *groups = json_object_get(p, "boundaryGroups");
    if (json_array_size(groups) == 0)
        line("Boundary groups:", "-");
    for (size_t i = 0; i < json_array_size(groups); i++)
        line(i == 0 ? "Boundary groups:" : "", json_string_value(json_array_get(groups, i)));
    json_t *dps = json_object_get(p, "distributionPoints");
    printf("\n%-40s %-10s %-7s %-6s %-20s %10s %s\n", "DISTRIBUTION POINT", "STATE", "VERSION",
           "TARGET", "RETRY AT", "SENT", "LAST ERROR / CONTENT URL");
    size_t i;
    json_t *d;
    json_array_foreach(dps, i, d) {
        const char *retry = text(d, "retryAt"), *err = text(d, "lastError");
        const char *url = text(d, "contentUrl");
        dpctl_pkg_size(num(d, "bytesSent"), buf, sizeof buf);
        printf("%-40s %-10s %-7lld %-6lld %-20s %10s %s\n", text(d, "serverName"),
               text(d, "state"), num(d, "version"), num(d, "targetVersion"),
               retry ? retry : "-", buf, err && *err ? err : url ? url : "-");
    }
    if (json_array_size(dps) == 0)
        printf("(not distributed to any distribution point)\n");
}

int dpctl_cmd_package_show(dpctl_ctx *ctx, int argc, char **argv)
{
    char path[300];
    if (!dpctl_one_arg(argc, argv, "package show", "package id") ||
        !dpctl_pkg_path(argv[1], "", path, sizeof path))
        return DPCTL_USAGE;
    return dpctl_call(ctx, "GET", path, NULL, JSON_OBJECT, print);
}
