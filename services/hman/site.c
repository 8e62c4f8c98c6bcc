/* The in-memory snapshot of one site's site control data and
 * DistributionPoints rows, read once per change inside the transaction. The
 * arrays grow by doubling; every string is a private copy so the snapshot
 * outlives the query results it was built from.
 *
 * Lookups go through hash indexes (index.h) built on the first lookup after
 * the array last grew, so joining 5,000 DPs with their roles and SysResList
 * entries costs a few thousand hash probes instead of 25 million string
 * comparisons. Adding an element drops its array's index (the elements may
 * have moved). */
#include "hman.h"
#include "index.h"

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
    hman_index_destroy(s->ix_roles);
    hman_index_destroy(s->ix_role_ids);
    hman_index_destroy(s->ix_dps);
    hman_index_destroy(s->ix_sysres);
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
    hman_index_destroy(s->ix_roles);
    hman_index_destroy(s->ix_role_ids);
    s->ix_roles = s->ix_role_ids = NULL;
    s->last_by_id = NULL;
    return el;
}

hman_dp_row *hman_site_add_dp(hman_site *s)
{
    void *el = NULL;
    void *a = grow(s->dps, &s->ndps, &s->cap_dps, sizeof *s->dps, &el);
    if (a == NULL)
        return NULL;
    s->dps = a;
    hman_index_destroy(s->ix_dps);
    s->ix_dps = NULL;
    return el;
}

hman_sysres *hman_site_add_sysres(hman_site *s)
{
    void *el = NULL;
    void *a = grow(s->sysres, &s->nsysres, &s->cap_sysres, sizeof *s->sysres, &el);
    if (a == NULL)
        return NULL;
    s->sysres = a;
    hman_index_destroy(s->ix_sysres);
    s->ix_sysres = NULL;
    return el;
}

char *hman_strdup(const char *text)
{
    return strdup(text != NULL ? text : "");
}

/* Builds an index over the n elements of size sz at arr, each added by put;
 * NULL when out of memory (the caller then scans). */
typedef dpf_status (*put_fn)(hman_index *ix, void *el);

static hman_index *build(void *arr, int n, size_t sz, put_fn put)
{
    hman_index *ix = NULL;
    if (hman_index_create((size_t)n, &ix) != DPF_OK)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (put(ix, (char *)arr + (size_t)i * sz) != DPF_OK) {
            hman_index_destroy(ix);
            return NULL;
        }
    }
    return ix;
}

static dpf_status put_role(hman_index *ix, void *el)
{
    hman_role *r = el;
    return hman_index_put(ix, r->role_name, r->nal_path, r);
}

static dpf_status put_role_id(hman_index *ix, void *el)
{
    hman_role *r = el;
    return hman_index_put_id(ix, r->role_id, r);
}

static dpf_status put_dp(hman_index *ix, void *el)
{
    hman_dp_row *d = el;
    return hman_index_put(ix, NULL, d->nal_path, d);
}

static dpf_status put_sysres(hman_index *ix, void *el)
{
    hman_sysres *e = el;
    return hman_index_put(ix, e->role_name, e->nal_path, e);
}

hman_role *hman_site_role(hman_site *s, const char *role_name, const char *nal)
{
    if (s->ix_roles == NULL)
        s->ix_roles = build(s->roles, s->nroles, sizeof *s->roles, put_role);
    if (s->ix_roles != NULL)
        return hman_index_get(s->ix_roles, role_name, nal);
    for (int i = 0; i < s->nroles; i++) {
        if (strcmp(s->roles[i].role_name, role_name) == 0 &&
            strcmp(s->roles[i].nal_path, nal) == 0)
            return &s->roles[i];
    }
    return NULL;
}

hman_role *hman_site_role_by_id(hman_site *s, long long role_id)
{
    if (s->last_by_id != NULL && s->last_by_id->role_id == role_id)
        return s->last_by_id;
    if (s->ix_role_ids == NULL)
        s->ix_role_ids = build(s->roles, s->nroles, sizeof *s->roles, put_role_id);
    if (s->ix_role_ids != NULL)
        return s->last_by_id = hman_index_get_id(s->ix_role_ids, role_id);
    for (int i = 0; i < s->nroles; i++) {
        if (s->roles[i].role_id == role_id)
            return &s->roles[i];
    }
    return NULL;
}

hman_dp_row *hman_site_dp(hman_site *s, const char *nal)
{
    if (s->ix_dps == NULL)
        s->ix_dps = build(s->dps, s->ndps, sizeof *s->dps, put_dp);
    if (s->ix_dps != NULL)
        return hman_index_get(s->ix_dps, NULL, nal);
    for (int i = 0; i < s->ndps; i++) {
        if (strcmp(s->dps[i].nal_path, nal) == 0)
            return &s->dps[i];
    }
    return NULL;
}

hman_sysres *hman_site_sysres(hman_site *s, const char *role_name, const char *nal)
{
    if (s->ix_sysres == NULL)
        s->ix_sysres = build(s->sysres, s->nsysres, sizeof *s->sysres, put_sysres);
    if (s->ix_sysres != NULL)
        return hman_index_get(s->ix_sysres, role_name, nal);
    for (int i = 0; i < s->nsysres; i++) {
        if (strcmp(s->sysres[i].role_name, role_name) == 0 &&
            strcmp(s->sysres[i].nal_path, nal) == 0)
            return &s->sysres[i];
    }
    return NULL;
}
