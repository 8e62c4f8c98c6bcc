/* dpctl boundarygroup list: one line per group: name, site, whether it is
 * the site default, its member DPs, boundaries and neighbors. */
#include <stdio.h>
#include <string.h>

#include "cmd_bg.h"

/* The array's strings (or objects' "name") joined by ", " into buf. */
static void joined(json_t *arr, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        const char *s = json_is_object(v) ? json_string_value(json_object_get(v, "name"))
                                          : json_string_value(v);
        size_t used = strlen(buf);
        if (snprintf(buf + used, len - used, "%s%s", i ? ", " : "", s ? s : "?") >=
            (int)(len - used))
            break;
    }
    if (buf[0] == '\0')
        snprintf(buf, len, "-");
}

static void print(const dpctl_resp *r)
{
    printf("%-36s %-4s %-7s %-7s %-40s %s\n", "NAME", "SITE", "DEFAULT", "MEMBERS", "BOUNDARIES",
           "NEIGHBORS");
    size_t i;
    json_t *g;
    json_array_foreach(r->json, i, g) {
        char bounds[400], neighbors[400];
        joined(json_object_get(g, "boundaries"), bounds, sizeof bounds);
        joined(json_object_get(g, "neighbors"), neighbors, sizeof neighbors);
        const char *site = json_string_value(json_object_get(g, "siteCode"));
        printf("%-36s %-4s %-7s %-7lld %-40s %s\n",
               json_string_value(json_object_get(g, "name")), site ? site : "-",
               json_is_true(json_object_get(g, "siteDefault")) ? "yes" : "no",
               (long long)json_integer_value(json_object_get(g, "memberCount")), bounds,
               neighbors);
    }
    if (json_array_size(r->json) == 0)
        printf("(no boundary groups)\n");
}

int dpctl_cmd_bg_list(dpctl_ctx *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "dpctl: boundarygroup list takes no arguments\n");
        return DPCTL_USAGE;
    }
    return dpctl_call(ctx, "GET", "/v1/boundarygroups", NULL, JSON_ARRAY, print);
}
