/* Checking the query arguments of the paged lists. Every refusal names the
 * argument and says what would have been accepted, so a script's author can
 * fix the call from the message alone. */
#include "list_args.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <dpf/dp.h>
#include <dpf/status.h>
#include <dpf/util.h>

#include "validate_bg.h"

const char *const PROV_DP_STATES[] = {
    "Pending", "Installing", "Installed", "Failed", "Removing", "RemoveFailed", NULL,
};

static int refuse(prov_arg_error *err, const char *field, const char *fmt, ...) DPF_PRINTF(3, 4);

static int refuse(prov_arg_error *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->field = field;
    return 0;
}

int prov_page_limit_parse(const char *text, int *limit, prov_arg_error *err)
{
    long long v = PROV_PAGE_DEFAULT;
    if (text != NULL && (strlen(text) > 20 || !isdigit((unsigned char)text[0]) ||
                         !dpf_parse_int(text, 1, PROV_PAGE_MAX, &v)))
        return refuse(err, "limit", "limit must be a number from 1 to %d (default %d)",
                      PROV_PAGE_MAX, PROV_PAGE_DEFAULT);
    *limit = (int)v;
    return 1;
}

static const char *state_canonical(const char *text)
{
    for (int i = 0; PROV_DP_STATES[i] != NULL; i++) {
        if (strcasecmp(text, PROV_DP_STATES[i]) == 0)
            return PROV_DP_STATES[i];
    }
    return NULL;
}

int prov_dp_filter_parse(prov_arg_fn get, void *ctx, prov_dp_filter *f, prov_arg_error *err)
{
    memset(f, 0, sizeof *f);
    f->maintenance = -1;
    if (!prov_page_limit_parse(get(ctx, "limit"), &f->limit, err))
        return 0;
    char why[128];
    f->after = get(ctx, "after");
    if (f->after != NULL && !dpf_fqdn_valid(f->after, why, sizeof why))
        return refuse(err, "after", "after must be the serverName of the last DP of the previous "
                      "page (%s)", why);
    const char *site = get(ctx, "site");
    if (site != NULL) {
        size_t i = 0;
        for (; site[i] != '\0' && i < sizeof f->site_buf - 1; i++)
            f->site_buf[i] = (char)toupper((unsigned char)site[i]);
        f->site_buf[i] = '\0';
        if (site[i] != '\0' || !dpf_site_code_valid(f->site_buf))
            return refuse(err, "site", "site must be a site code of 3 letters or digits (e.g. PS1)");
        f->site = f->site_buf;
    }
    const char *state = get(ctx, "state");
    if (state != NULL && (f->state = state_canonical(state)) == NULL) {
        char list[128] = "";
        for (int i = 0; PROV_DP_STATES[i] != NULL; i++) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", PROV_DP_STATES[i]);
        }
        return refuse(err, "state", "state must be an install state: %s", list);
    }
    f->group = get(ctx, "boundaryGroup");
    if (f->group != NULL && !prov_bg_name_ok(f->group))
        return refuse(err, "boundaryGroup", "boundaryGroup must be a boundary group name (1 to %d "
                      "bytes, no control characters)", PROV_GROUP_NAME_MAX);
    const char *maint = get(ctx, "maintenanceMode");
    if (maint != NULL) {
        if (strcmp(maint, "true") == 0)
            f->maintenance = 1;
        else if (strcmp(maint, "false") == 0)
            f->maintenance = 0;
        else
            return refuse(err, "maintenanceMode", "maintenanceMode must be true or false");
    }
    return 1;
}
