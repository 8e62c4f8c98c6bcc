/* The in-memory snapshot of one site's site control data and
 * DistributionPoints rows, read once per change inside the transaction. The
 * arrays grow by doubling; every string is a private copy so the snapshot
 * outlives the query results it was built from. */
#include "hman.h"

#include <stdlib.h>
#include <string.h>

#include <dpf/util.h>

dpf_status hman_site_create(const char *site_code, hman_site **out)
{
    *out = NULL;
    if (site_code == NULL || !dpf_site_code_valid(site_code))
        return DPF_ERR_INVALID;
    hman_site *s = calloc(1, sizeof *s);
    if (s == NULL)
        return DPF_ERR_NOMEM;
    dpf_fmt(s->site_code, sizeof s->site_code, "%s", site_code);
    *out = s;
    return DPF_OK;
}

static void free_role(hman_role *r)
{
    free(r->role_name);
    free(r->nal_path);
    free(r->server_name);
    free(r->description);
    free(r->dp_drive);
    free(r->pull_sources);
    free(r->boundary_groups);
}

void hman_site_destroy(hman_site *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->nroles; i++)
        free_role(&s->roles[i]);
    for (int i = 0; i < s->ndps; i++) {
        free(s->dps[i].nal_path);
        free(s->dps[i].server_name);
        free(s->dps[i].identity_guid);
        free(s->dps[i].dp_crc);
    }
    for (int i = 0; i < s->nsysres; i++) {
        free(s->sysres[i].role_name);
        free(s->sysres[i].nal_path);
        free(s->sysres[i].server_name);
    }
    free(s->roles);
    free(s->dps);
    free(s->sysres);
    free(s);
}

/* Makes room for one more element in arr (n used, *cap allocated, elements
 * of size sz). Returns the (possibly moved) array, or NULL when out of memory
 * (arr is then untouched); *el is the new, zeroed element. */
static void *grow(void *arr, int *n, int *cap, size_t sz, void **el)
{
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 8;
        void *na = realloc(arr, (size_t)ncap * sz);
        if (na == NULL)
            return NULL;
        arr = na;
        *cap = ncap;
    }
    *el = (char *)arr + (size_t)*n * sz;
    memset(*el, 0, sz);
    (*n)++;
    return arr;
}

hman_role *hman_site_add_role(hman_site *s)
{
    void *el = NULL;
    void *a = grow(s->roles, &s->nroles, &s->cap_roles, sizeof *s->roles, &el);
    if (a == NULL)
        return NULL;
    s->roles = a;
    return el;
}

hman_dp_row *hman_site_add_dp(hman_site *s)
{
    void *el = NULL;
    void *a = grow(s->dps, &s->ndps, &s->cap_dps, sizeof *s->dps, &el);
    if (a == NULL)
        return NULL;
    s->dps = a;
    return el;
}

hman_sysres *hman_site_add_sysres(hman_site *s)
{
    void *el = NULL;
    void *a = grow(s->sysres, &s->nsysres, &s->cap_sysres, sizeof *s->sysres, &el);
    if (a == NULL)
        return NULL;
    s->sysres = a;
    return el;
}

char *hman_strdup(const char *text)
{
    return strdup(text != NULL ? text : "");
}

hman_role *hman_site_role(const hman_site *s, const char *role_name, const char *nal)
{
    for (int i = 0; i < s->nroles; i++) {
        if (strcmp(s->roles[i].role_name, role_name) == 0 &&
            strcmp(s->roles[i].nal_path, nal) == 0)
            return &s->roles[i];
    }
    return NULL;
}

hman_dp_row *hman_site_dp(const hman_site *s, const char *nal)
{
    for (int i = 0; i < s->ndps; i++) {
        if (strcmp(s->dps[i].nal_path, nal) == 0)
            return &s->dps[i];
    }
    return NULL;
}

hman_sysres *hman_site_sysres(const hman_site *s, const char *role_name, const char *nal)
{
    for (int i = 0; i < s->nsysres; i++) {
        if (strcmp(s->sysres[i].role_name, role_name) == 0 &&
            strcmp(s->sysres[i].nal_path, nal) == 0)
            return &s->sysres[i];
    }
    return NULL;
}
