/* dpctl dp maintenance on|off SERVER [--force]: the console's "Enable /
 * Disable maintenance mode". A refusal because the DP is the last one
 * serving a boundary group or package names them; --force goes ahead (and
 * the site raises 2396). */
#include <stdio.h>
#include <string.h>

#include "dpctl.h"

static void print_list(const char *label, json_t *items)
{
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v) {
        if (json_is_string(v))
            printf("  %s %s\n", label, json_string_value(v));
        else
            printf("  %s %s (boundary group %s)\n", label,
                   json_string_value(json_object_get(v, "packageId")),
                   json_string_value(json_object_get(v, "boundaryGroup")));
    }
}

static void print(const dpctl_resp *r)
{
    const char *server = json_string_value(json_object_get(r->json, "serverName"));
    int on = json_is_true(json_object_get(r->json, "maintenanceMode"));
    if (!json_is_true(json_object_get(r->json, "changed")))
        printf("Distribution point %s is %s maintenance mode already; nothing changed.\n", server,
               on ? "in" : "not in");
    else
        printf("Distribution point %s %s maintenance mode.\n  correlation id: %s\n", server,
               on ? "is now in" : "left", r->corr);
    json_t *left = json_object_get(r->json, "leftWithoutSource");
    if (json_is_object(left)) {
        printf("Forced: left without a source:\n");
        print_list("boundary group", json_object_get(left, "boundaryGroups"));
        print_list("package", json_object_get(left, "packages"));
    }
}

int dpctl_cmd_dp_maintenance(dpctl_ctx *ctx, int argc, char **argv)
{
    const char *words[2] = {NULL, NULL};
    int n = 0, force = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else if (argv[i][0] == '-' || n == 2) {
            fprintf(stderr, "dpctl: unexpected '%s'\n", argv[i]);
            return DPCTL_USAGE;
        } else {
            words[n++] = argv[i];
        }
    }
    if (n != 2 || (strcmp(words[0], "on") != 0 && strcmp(words[0], "off") != 0)) {
        fprintf(stderr, "dpctl: dp maintenance takes on or off, then the SERVER\n");
        return DPCTL_USAGE;
    }
    char path[960];
    if (!dpctl_dp_path(words[1], path, sizeof path - 16))
        return DPCTL_USAGE;
    strcat(path, "/maintenance");
    json_t *body = json_pack("{s:b}", "enabled", strcmp(words[0], "on") == 0);
    if (force)
        json_object_set_new(body, "force", json_true());
    dpctl_resp r;
    int rc = dpctl_http(ctx, "POST", path, body, &r);
    json_decref(body);
    if (rc != DPCTL_OK)
        return rc;
    if (r.status >= 400 || !json_is_object(r.json)) {
        rc = dpctl_refused(&r);
        if (r.status == 409 && !ctx->json) {
            print_list("boundary group", json_object_get(r.json, "boundaryGroups"));
            print_list("package", json_object_get(r.json, "packages"));
        }
    } else if (ctx->json) {
        dpctl_print_raw(&r);
    } else {
        print(&r);
    }
    dpctl_resp_free(&r);
    return rc;
}
