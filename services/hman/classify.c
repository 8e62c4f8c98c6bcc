/* HMAN's pure decisions: what a DP role's properties are, their CRC, the
 * canonical text of its pull sources and boundary groups, and whether a DP
 * is new, changed, unchanged or removed. No I/O, so the unit tests can pin
 * every case down.
 *
 * Canonical strings matter because they are part of the CRC: the same set
 * of sources or groups must give the same text whatever order the database
 * returns them in, or every site control change would "update" every DP.
 * Sorting is done here, bytewise, not by the database's collation. */
#include "hman.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/dp_props.h>

hman_verdict hman_classify(const hman_role *role, const hman_dp_row *row, const char *new_crc)
{
    if (role == NULL)
        return (row != NULL && row->action == 0) ? HMAN_DP_REMOVED : HMAN_DP_GONE;
    if (row == NULL)
        return HMAN_DP_NEW;
    if (row->action != 0)
        return HMAN_DP_REMOVING;
    /* DPCRC is hex text; compare the numbers so "0ABC" and "ABC" agree */
    unsigned long a = strtoul(row->dp_crc ? row->dp_crc : "", NULL, 16);
    unsigned long b = strtoul(new_crc ? new_crc : "", NULL, 16);
    if (row->dp_crc == NULL || row->dp_crc[0] == '\0' || a != b)
        return HMAN_DP_CHANGED;
    return HMAN_DP_UNCHANGED;
}

const char *hman_verdict_name(hman_verdict v)
{
    switch (v) {
    case HMAN_DP_NEW: return "new";
    case HMAN_DP_CHANGED: return "changed";
    case HMAN_DP_UNCHANGED: return "unchanged";
    case HMAN_DP_REMOVING: return "removing";
    case HMAN_DP_REMOVED: return "removed";
    case HMAN_DP_GONE: return "gone";
    }
    return "?";
}

void hman_role_props(const hman_role *role, const char *site_code, dpf_dp_props *p)
{
    memset(p, 0, sizeof *p);
    p->server_name = role->server_name ? role->server_name : "";
    p->site_code = site_code;
    p->description = role->description ? role->description : "";
    p->dp_drive = role->dp_drive ? role->dp_drive : "";
    p->pull_sources = role->pull_sources ? role->pull_sources : "";
    p->boundary_groups = role->boundary_groups ? role->boundary_groups : "";
    p->is_pxe = role->is_pxe;
    p->is_pull_dp = role->is_pull_dp;
    p->priority = role->priority;
    p->min_free_space_mb = role->min_free_space_mb;
    p->transfer_rate = role->transfer_rate;
    p->ssl_state = role->ssl_state;
    p->content_validation_hours = role->content_validation_hours;
}

void hman_role_crc(const hman_role *role, const char *site_code, char out[9])
{
    dpf_dp_props p;
    hman_role_props(role, site_code, &p);
    dpf_crc_hex(dpf_dp_crc(&p), out);
}

/* Where a property lives in a role: *num for BOOL and INT, *text for TEXT. */
static void role_field(hman_role *role, dpf_dp_prop_id id, int **num, char ***text)
{
    *num = NULL;
    *text = NULL;
    switch (id) {
    case DPF_DP_PROP_DESCRIPTION: *text = &role->description; break;
    case DPF_DP_PROP_DRIVE: *text = &role->dp_drive; break;
    case DPF_DP_PROP_IS_PXE: *num = &role->is_pxe; break;
    case DPF_DP_PROP_IS_PULL_DP: *num = &role->is_pull_dp; break;
    case DPF_DP_PROP_PRIORITY: *num = &role->priority; break;
    case DPF_DP_PROP_MIN_FREE_SPACE: *num = &role->min_free_space_mb; break;
    case DPF_DP_PROP_TRANSFER_RATE: *num = &role->transfer_rate; break;
    case DPF_DP_PROP_SSL_STATE: *num = &role->ssl_state; break;
    case DPF_DP_PROP_CONTENT_VALIDATION: *num = &role->content_validation_hours; break;
    case DPF_DP_PROP_COUNT: break;
    }
}

void hman_role_set_defaults(hman_role *role)
{
    /* the numbers only: the strings are allocated by the loader (store_site.c) */
    for (int i = 0; i < DPF_DP_PROP_COUNT; i++) {
        const dpf_dp_prop *prop = dpf_dp_prop_get((dpf_dp_prop_id)i);
        int *num;
        char **text;
        role_field(role, prop->id, &num, &text);
        if (num != NULL)
            *num = prop->int_default;
    }
}

static dpf_status set_text(char **field, const char *value)
{
    char *copy = hman_strdup(value);
    if (copy == NULL)
        return DPF_ERR_NOMEM;
    free(*field);
    *field = copy;
    return DPF_OK;
}

dpf_status hman_role_set_prop(hman_role *role, const char *name, const char *value1,
                              long long value3)
{
    const dpf_dp_prop *prop = dpf_dp_prop_find(name);
    /* other names are properties HMAN does not compare; ignoring them keeps
     * a newer provider from breaking an older hman */
    if (prop == NULL)
        return DPF_OK;
    int *num;
    char **text;
    role_field(role, prop->id, &num, &text);
    if (text != NULL)
        return set_text(text, value1);
    if (num != NULL)
        *num = dpf_dp_prop_clamp(prop, value3);
    return DPF_OK;
}

typedef struct source {
    char *server; /* upper-cased copy */
    int prio;
} source;

static int cmp_source(const void *a, const void *b)
{
    const source *x = a, *y = b;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return strcmp(x->server, y->server);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

dpf_status hman_canon_sources(const char *const *servers, const int *prios, int n, char **out)
{
    *out = NULL;
    source *v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    if (v == NULL)
        return DPF_ERR_NOMEM;
    dpf_status st = DPF_OK;
    size_t total = 1;
    for (int i = 0; i < n && st == DPF_OK; i++) {
        v[i].server = hman_strdup(servers[i]);
        v[i].prio = prios[i];
        if (v[i].server == NULL) {
            st = DPF_ERR_NOMEM;
            break;
        }
        for (char *c = v[i].server; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        total += strlen(v[i].server) + 14; /* ':' + int + ',' */
    }
    if (st == DPF_OK) {
        qsort(v, (size_t)n, sizeof *v, cmp_source);
        char *buf = malloc(total);
        if (buf == NULL) {
            st = DPF_ERR_NOMEM;
        } else {
            size_t used = 0;
            buf[0] = '\0';
            for (int i = 0; i < n; i++)
                used += (size_t)snprintf(buf + used, total - used, "%s%s:%d", i ? "," : "",
                                         v[i].server, v[i].prio);
            *out = buf;
        }
    }
    for (int i = 0; i < n; i++)
        free(v[i].server);
    free(v);
    return st;
}

dpf_status hman_canon_groups(const char *const *names, int n, char **out)
{
    *out = NULL;
    const char **v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    if (v == NULL)
        return DPF_ERR_NOMEM;
    size_t total = 1;
    for (int i = 0; i < n; i++) {
        v[i] = names[i] ? names[i] : "";
        total += strlen(v[i]) + 1;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    char *buf = malloc(total);
    if (buf == NULL) {
        free(v);
        return DPF_ERR_NOMEM;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (v[i][0] == '\0' || (i > 0 && strcmp(v[i], v[i - 1]) == 0))
            continue;
        used += (size_t)snprintf(buf + used, total - used, "%s%s", used ? "," : "", v[i]);
    }
    free(v);
    *out = buf;
    return DPF_OK;
}
