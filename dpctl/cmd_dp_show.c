/* dpctl dp show SERVER: every field of one DP, one per line. */
#include <stdio.h>
#include <string.h>

#include "dpctl.h"

static void line(const char *label, const char *value)
{
    printf("%-18s %s\n", label, value && *value ? value : "-");
}

static void num_line(const char *label, json_t *v)
{
    char buf[32] = "-";
    if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    line(label, buf);
}

static void show(json_t *dp)
{
    line("Server name:", json_string_value(json_object_get(dp, "serverName")));
    line("Site:", json_string_value(json_object_get(dp, "siteCode")));
    line("NAL path:", json_string_value(json_object_get(dp, "nalPath")));
    num_line("DPID:", json_object_get(dp, "dpid"));
    line("Description:", json_string_value(json_object_get(dp, "description")));
    num_line("Priority:", json_object_get(dp, "priority"));
    line("PXE:", json_is_true(json_object_get(dp, "enablePXE")) ? "yes" : "no");
    json_t *pull = json_object_get(dp, "pullDP");
    if (json_is_object(pull)) {
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(pull, "sources"), i, s) {
            char buf[320];
            snprintf(buf, sizeof buf, "%s (priority %lld)",
                     json_string_value(json_object_get(s, "serverName")),
                     (long long)json_integer_value(json_object_get(s, "priority")));
            line(i == 0 ? "Pull DP sources:" : "", buf);
        }
    } else {
        line("Pull DP:", "no");
    }
    num_line("Min free space MB:", json_object_get(dp, "minFreeSpaceMB"));
    line("Drive:", json_string_value(json_object_get(dp, "drive")));
    json_t *groups = json_object_get(dp, "boundaryGroups");
    if (json_array_size(groups) == 0)
        line("Boundary groups:", "-");
    for (size_t i = 0; i < json_array_size(groups); i++)
        line(i == 0 ? "Boundary groups:" : "", json_string_value(json_array_get(groups, i)));
    line("Identity GUID:", json_string_value(json_object_get(dp, "identityGuid")));
    line("CRC:", json_string_value(json_object_get(dp, "crc")));
    line("Install state:", json_string_value(json_object_get(dp, "installState")));
    line("Last step:", json_string_value(json_object_get(dp, "lastStep")));
    line("Last error:", json_string_value(json_object_get(dp, "lastError")));
    line("Installed version:", json_string_value(json_object_get(dp, "installedVersion")));
    num_line("Action:", json_object_get(dp, "action"));
    line("Maintenance mode:", json_is_true(json_object_get(dp, "maintenanceMode")) ? "yes" : "no");
    json_t *by = json_object_get(dp, "maintenanceChangedBy");
    if (json_is_string(by)) {
        char buf[400];
        snprintf(buf, sizeof buf, "%s by %s",
                 json_string_value(json_object_get(dp, "maintenanceChangedAt")),
                 json_string_value(by));
        line("  changed:", buf);
    }
    json_t *hours = json_object_get(dp, "contentValidationIntervalHours");
    char every[48] = "off";
    if (json_integer_value(hours) > 0)
        snprintf(every, sizeof every, "every %lld hours", (long long)json_integer_value(hours));
    line("Validation:", every);
    line("Last validation:", json_string_value(json_object_get(dp, "lastValidationAt")));
    line("  result:", json_string_value(json_object_get(dp, "lastValidationResult")));
    line("  requested:", json_string_value(json_object_get(dp, "validationRequestedAt")));
}

static void print(const dpctl_resp *r)
{
    show(r->json);
}

int dpctl_cmd_dp_show(dpctl_ctx *ctx, int argc, char **argv)
{
    char path[900];
    if (!dpctl_one_arg(argc, argv, "dp show", "SERVER") ||
        !dpctl_dp_path(argv[1], path, sizeof path))
        return DPCTL_USAGE;
    return dpctl_call(ctx, "GET", path, NULL, JSON_OBJECT, print);
}
