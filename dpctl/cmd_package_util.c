/* What the package commands share: the API path of a package, the
 * --dp/--group options of distribute and redistribute, sizes for people,
 * and the list of DPs a distribution answer names. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd_package.h"

int dpctl_pkg_path(const char *id, const char *suffix, char *path, size_t len)
{
    char esc[200];
    if (!dpctl_escape(id, esc, sizeof esc) ||
        snprintf(path, len, "/v1/packages/%s%s", esc, suffix) >= (int)len) {
        fprintf(stderr, "dpctl: the package id is too long\n");
        return 0;
    }
    return 1;
}

int dpctl_pkg_targets(int argc, char **argv, const char *cmd, int with_groups, int need_dp,
                      json_t *body, const char **id)
{
    static const struct option opts[] = {{"dp", required_argument, NULL, 'd'},
                                         {"group", required_argument, NULL, 'g'},
                                         {NULL, 0, NULL, 0}};
    json_t *dps = json_array(), *groups = json_array();
    int c, ok = 1;
    optind = 0;
    while (ok && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            json_array_append_new(dps, json_string(optarg));
        else if (c == 'g' && with_groups)
            json_array_append_new(groups, json_string(optarg));
        else if (c == 'g')
            ok = 0 * fprintf(stderr, "dpctl: %s takes --dp only\n", cmd);
        else
            ok = 0;
    }
    if (ok && optind != argc - 1) {
        fprintf(stderr, "dpctl: %s takes exactly one package id\n", cmd);
        ok = 0;
    }
    if (ok && need_dp && json_array_size(dps) == 0) {
        fprintf(stderr, "dpctl: %s needs at least one --dp SERVER\n", cmd);
        ok = 0;
    }
    if (ok && json_array_size(dps) == 0 && json_array_size(groups) == 0) {
        fprintf(stderr, "dpctl: %s needs at least one --dp SERVER or --group NAME\n", cmd);
        ok = 0;
    }
    if (ok) {
        *id = argv[optind];
        if (json_array_size(dps) > 0)
            json_object_set(body, "distributionPoints", dps);
        if (json_array_size(groups) > 0)
            json_object_set(body, "boundaryGroups", groups);
    }
    json_decref(dps);
    json_decref(groups);
    return ok;
}

void dpctl_pkg_size(long long bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%lld B", bytes);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
}

void dpctl_pkg_print_targets(const dpctl_resp *r, const char *what)
{
    const char *id = json_string_value(json_object_get(r->json, "packageId"));
    json_t *dps = json_object_get(r->json, "distributionPoints");
    printf("%s package %s: %zu distribution point%s.\n", what, id ? id : "?",
           json_array_size(dps), json_array_size(dps) == 1 ? "" : "s");
    size_t i;
    json_t *d;
    json_array_foreach(dps, i, d) {
        json_t *queued = json_object_get(d, "queued");
        printf("  %-40s %-10s%s\n", json_string_value(json_object_get(d, "serverName")),
               json_string_value(json_object_get(d, "state")),
               json_is_false(queued) ? " (already there)" : "");
    }
    printf("  correlation id: %s\n", r->corr);
}
