/* GET /v1/contentlocation?packageId=P&clientAddress=A[&waitedMinutes=M]:
 * the management point's answer to "where can a client at A download P".
 * In order: DPs of the client's current boundary groups (their boundaries
 * contain A); then, group by group in order of fallback time, DPs of the
 * neighbors of those groups whose fallback time is at most M; then DPs of
 * the site default group once M reaches its fallback time. A DP qualifies
 * when it holds P Installed (not ValidationFailed, not on its way), is not
 * in maintenance mode, is not being removed, is Installed itself and has
 * told us where it serves content. No DP appears twice.
 *
 * An empty answer carries the reason, and each answer is one log line, so
 * an administrator asked "why does this client download from the other
 * side of the country" can grep "Content location for PS100001 from
 * 10.1.2.3" and see the groups, the DPs and the fallback that applied. */
#include <stdio.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/util.h>

#include "provider.h"
#include "store_location.h"
#include "validate_bg.h"
#include "validate_pkg.h"

static const char *const SOURCE[] = {"current", "neighbor", "siteDefault"};

/* Appends ", "-separated text to buf (len bytes), "..." once full. */
static void add(char *buf, size_t len, const char *text)
{
    size_t used = strlen(buf);
    if (used + strlen(text) + 8 >= len) {
        if (used + 5 < len && (used < 3 || strcmp(buf + used - 3, "...") != 0))
            snprintf(buf + used, len - used, "%s...", used ? ", " : "");
        return;
    }
    snprintf(buf + used, len - used, "%s%s", used ? ", " : "", text);
}

static int listed(json_t *arr, const char *s)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        if (strcmp(json_string_value(json_array_get(arr, i)), s) == 0)
            return 1;
    }
    return 0;
}

/* What the rows said beyond the locations, for the reason. */
typedef struct loc_scan {
    json_t *current;   /* current group names */
    json_t *located;   /* server names given */
    json_t *maint;     /* qualifying but in maintenance mode, eligible tiers */
    int have_default;  /* the site has a default group */
    char default_name[PROV_GROUP_NAME_MAX + 1];
    long long default_minutes;
    long long next_minutes; /* the next fallback that would give a DP, -1 none */
    char next_group[PROV_GROUP_NAME_MAX + 1];
} loc_scan;

static int qualifies(const dpf_db_result *r, int i)
{
    return strcmp(dpf_db_result_get(r, i, PROV_LOC_STATE), "Installed") == 0 &&
           dpf_db_result_int(r, i, PROV_LOC_ACTION) == 0 &&
           strcmp(dpf_db_result_get(r, i, PROV_LOC_INSTALL), "Installed") == 0 &&
           dpf_db_result_get(r, i, PROV_LOC_BASE)[0] != '\0';
}

static json_t *scan(const dpf_db_result *r, const char *pkg, long long waited, loc_scan *s)
{
    json_t *locations = json_array();
    for (int i = 0; i < dpf_db_result_rows(r); i++) {
        int tier = (int)dpf_db_result_int(r, i, PROV_LOC_TIER);
        long long minutes = dpf_db_result_int(r, i, PROV_LOC_MINUTES);
        const char *group = dpf_db_result_get(r, i, PROV_LOC_GROUP);
        const char *server = dpf_db_result_get(r, i, PROV_LOC_SERVER);
        if (tier == 0 && !listed(s->current, group))
            json_array_append_new(s->current, json_string(group));
        if (tier == 2 && !s->have_default) {
            s->have_default = 1;
            snprintf(s->default_name, sizeof s->default_name, "%s", group);
            s->default_minutes = minutes;
        }
        if (dpf_db_result_isnull(r, i, PROV_LOC_SERVER) || !qualifies(r, i) ||
            listed(s->located, server))
            continue;
        int maint = dpf_db_result_get(r, i, PROV_LOC_MAINT)[0] == 't';
        if (tier > 0 && minutes > waited) {
            if (!maint && (s->next_minutes < 0 || minutes < s->next_minutes)) {
                s->next_minutes = minutes;
                snprintf(s->next_group, sizeof s->next_group, "%s", group);
            }
            continue;
        }
        if (maint) {
            if (!listed(s->maint, server))
                json_array_append_new(s->maint, json_string(server));
            continue;
        }
        char url[1024];
        snprintf(url, sizeof url, "%s/SMS_DP_SMSPKG$/%s", dpf_db_result_get(r, i, PROV_LOC_BASE),
                 pkg);
        json_array_append_new(s->located, json_string(server));
        json_array_append_new(locations, json_pack("{s:s, s:s, s:s, s:s}", "serverName", server,
                                                   "url", url, "boundaryGroup", group, "source",
                                                   SOURCE[tier < 0 || tier > 2 ? 0 : tier]));
    }
    return locations;
}

static void reason(const loc_scan *s, const char *pkg, const char *addr, long long waited,
                   char *buf, size_t len)
{
    char names[400] = "";
    if (json_array_size(s->maint) > 0) {
        for (size_t i = 0; i < json_array_size(s->maint); i++)
            add(names, sizeof names, json_string_value(json_array_get(s->maint, i)));
        snprintf(buf, len, "every DP that holds %s for this client is in maintenance mode (%s)",
                 pkg, names);
    } else if (json_array_size(s->current) == 0) {
        if (!s->have_default)
            snprintf(buf, len, "no boundary group contains %s, and the package's site has no "
                     "site default boundary group", addr);
        else if (waited >= s->default_minutes)
            snprintf(buf, len, "no boundary group contains %s, and no DP of the site default "
                     "boundary group %s holds %s", addr, s->default_name, pkg);
        else
            snprintf(buf, len, "no boundary group contains %s", addr);
    } else {
        for (size_t i = 0; i < json_array_size(s->current); i++)
            add(names, sizeof names, json_string_value(json_array_get(s->current, i)));
        snprintf(buf, len, "no DP holds %s for this client (current boundary groups: %s; waited "
                 "%lld minutes)", pkg, names, waited);
    }
    size_t used = strlen(buf);
    if (s->next_minutes >= 0 && used < len)
        snprintf(buf + used, len - used, "; fallback after %lld minutes to boundary group %s",
                 s->next_minutes, s->next_group);
}

static void log_answer(const char *pkg, const char *addr, long long waited, const loc_scan *s,
                       json_t *locations, const char *why)
{
    char cur[400] = "", dps[600] = "";
    for (size_t i = 0; i < json_array_size(s->current); i++)
        add(cur, sizeof cur, json_string_value(json_array_get(s->current, i)));
    for (size_t i = 0; i < json_array_size(locations); i++) {
        json_t *l = json_array_get(locations, i);
        char one[400];
        snprintf(one, sizeof one, "%s (%s %s)", json_string_value(json_object_get(l, "serverName")),
                 json_string_value(json_object_get(l, "source")),
                 json_string_value(json_object_get(l, "boundaryGroup")));
        add(dps, sizeof dps, one);
    }
    DPF_INFO("Content location for %s from %s: %zu DP%s (current: %s); waited %lld minutes; %s",
             pkg, addr, json_array_size(locations), json_array_size(locations) == 1 ? "" : "s",
             cur[0] ? cur : "none", waited, why ? why : dps);
}

static int parse_query(prov_request *req, prov_reply *reply, char *pkg, char *addr,
                       size_t addr_len, long long *waited)
{
    const char *p = prov_request_query(req, "packageId");
    const char *a = prov_request_query(req, "clientAddress");
    const char *w = prov_request_query(req, "waitedMinutes");
    if (p == NULL || !prov_pkg_id_parse(p, pkg)) {
        prov_reply_error(reply, 400, "packageId", "packageId must be a package id (a site code "
                         "and 5 hex digits, e.g. PS100001)");
        return 0;
    }
    if (a == NULL || !prov_bg_address_parse(a, addr, addr_len)) {
        prov_reply_error(reply, 400, "clientAddress", "clientAddress must be an IPv4 or IPv6 "
                         "address, not '%.64s'", a ? a : "");
        return 0;
    }
    *waited = 0;
    if (w != NULL && (strlen(w) > 10 || !dpf_parse_int(w, 0, 2147483647LL, waited))) {
        prov_reply_error(reply, 400, "waitedMinutes", "waitedMinutes must be a whole number of "
                         "minutes >= 0, not '%.32s'", w);
        return 0;
    }
    return 1;
}

void prov_handle_content_location(prov_request *req, prov_reply *reply)
{
    char pkg[PROV_PKG_ID_LEN + 1], addr[64];
    long long waited = 0;
    if (!parse_query(req, reply, pkg, addr, sizeof addr, &waited))
        return;
    dpf_db *db = prov_request_db(req, reply);
    if (db == NULL)
        return;
    dpf_db_result *r = NULL;
    dpf_status st = prov_store_loc_package(db, pkg);
    if (st == DPF_OK)
        st = prov_store_loc_candidates(db, addr, pkg, &r);
    if (st == DPF_ERR_NOT_FOUND) {
        prov_reply_error(reply, 404, "packageId", "no package with id %s", pkg);
    } else if (st != DPF_OK) {
        DPF_ERROR("content location for %s from %s failed: %s", pkg, addr, dpf_db_error(db));
        prov_reply_error(reply, 500, NULL, "database error while locating the content");
    } else {
        loc_scan s = {.current = json_array(), .located = json_array(), .maint = json_array(),
                      .next_minutes = -1};
        json_t *locations = scan(r, pkg, waited, &s);
        json_t *o = json_pack("{s:s, s:s, s:I, s:O, s:o}", "packageId", pkg, "clientAddress",
                              addr, "waitedMinutes", (json_int_t)waited, "boundaryGroups",
                              s.current, "locations", locations);
        char why[1024] = "";
        if (json_array_size(locations) == 0) {
            reason(&s, pkg, addr, waited, why, sizeof why);
            json_object_set_new(o, "reason", json_string(why));
        }
        log_answer(pkg, addr, waited, &s, locations, why[0] ? why : NULL);
        prov_reply_json(reply, 200, o);
        json_decref(s.current);
        json_decref(s.located);
        json_decref(s.maint);
    }
    dpf_db_result_free(r);
    prov_dbpool_release(req->server->pool, db);
}
