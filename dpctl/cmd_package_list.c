/* dpctl package list: one line per package, the columns an administrator
 * scans first, every page of the API's list. */
#include <stdio.h>

#include "cmd_package.h"

static void print(const dpctl_resp *r)
{
    printf("%-9s %-32s %-4s %-7s %-13s %6s %10s\n", "ID", "NAME", "SITE", "VERSION", "STATE",
           "FILES", "SIZE");
    size_t i;
    json_t *p;
    json_array_foreach(r->json, i, p) {
        char size[32];
        dpctl_pkg_size((long long)json_integer_value(json_object_get(p, "size")), size,
                       sizeof size);
        const char *site = json_string_value(json_object_get(p, "siteCode"));
        printf("%-9s %-32.32s %-4s %-7lld %-13s %6lld %10s\n",
               json_string_value(json_object_get(p, "packageId")),
               json_string_value(json_object_get(p, "name")), site && *site ? site : "-",
               (long long)json_integer_value(json_object_get(p, "version")),
               json_string_value(json_object_get(p, "state")),
               (long long)json_integer_value(json_object_get(p, "fileCount")), size);
    }
    if (json_array_size(r->json) == 0)
        printf("(no packages)\n");
}

int dpctl_cmd_package_list(dpctl_ctx *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "dpctl: package list takes no arguments\n");
        return DPCTL_USAGE;
    }
    return dpctl_call_pages(ctx, "/v1/packages", print);
}
