/* Loads the DP component files at startup. The agent verifies the signed
 * manifest; distmgr parses it with the same parser (dpf/manifest.h) and
 * checks the hashes too, so a broken build, a hand-edited MANIFEST or a
 * half-copied directory is reported once, at startup, with the file's name,
 * instead of as an install_files failure on every DP. */
#include "components.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/manifest.h>
#include <dpf/util.h>

typedef struct comp_file {
    char *name;
    char *data;
    size_t len;
} comp_file;

struct dm_components {
    char *dir;
    comp_file *files;
    size_t count;
    char *manifest;
    size_t manifest_len;
    char *signature;
    size_t signature_len;
};

static dpf_status read_in(const char *dir, const char *name, char **data, size_t *len,
                          char *err, size_t errlen)
{
    char path[4096];
    if (!dpf_fmt(path, sizeof path, "%s/%s", dir, name)) {
        dpf_fmt(err, errlen, "path %s/%s is too long", dir, name);
        return DPF_ERR_INVALID;
    }
    dpf_status st = dpf_read_file(path, data, len);
    if (st != DPF_OK)
        dpf_fmt(err, errlen, "cannot read %s: %s", path, dpf_status_text(st));
    return st;
}

/* Every file the manifest lists, read and checked against its line. */
static dpf_status load_files(dm_components *c, char *err, size_t errlen)
{
    dpf_manifest *m = NULL;
    char why[256] = "";
    dpf_status st = dpf_manifest_parse(c->manifest, c->manifest_len, &m, why, sizeof why);
    if (st != DPF_OK) {
        dpf_fmt(err, errlen, "%s/%s: %s", c->dir, DPF_MANIFEST_FILE,
                st == DPF_ERR_NOMEM ? dpf_status_text(st) : why);
        return st;
    }
    size_t n = dpf_manifest_count(m);
    c->files = calloc(n, sizeof *c->files);
    if (c->files == NULL) {
        st = DPF_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = dpf_manifest_name(m, i);
        comp_file *f = &c->files[c->count];
        f->name = strdup(name);
        if (f->name == NULL) {
            st = DPF_ERR_NOMEM;
            goto cleanup;
        }
        c->count++;
        st = read_in(c->dir, name, &f->data, &f->len, err, errlen);
        if (st != DPF_OK)
            goto cleanup;
        if (!dpf_manifest_matches(m, i, f->data, f->len)) {
            dpf_fmt(err, errlen, "%s/%s does not match the SHA-256 in %s", c->dir, name,
                    DPF_MANIFEST_FILE);
            st = DPF_ERR_VERIFY;
            goto cleanup;
        }
    }
cleanup:
    dpf_manifest_destroy(m);
    return st;
}

dpf_status dm_components_load(const char *dir, dm_components **out, char *err, size_t errlen)
{
    if (dir == NULL || *dir == '\0' || out == NULL) {
        dpf_fmt(err, errlen, "no components directory given");
        return DPF_ERR_INVALID;
    }
    dm_components *c = calloc(1, sizeof *c);
    if (c == NULL)
        return DPF_ERR_NOMEM;
    dpf_status st = DPF_ERR_NOMEM;
    c->dir = strdup(dir);
    if (c->dir == NULL)
        goto fail;
    st = read_in(dir, DPF_MANIFEST_FILE, &c->manifest, &c->manifest_len, err, errlen);
    if (st != DPF_OK)
        goto fail;
    st = read_in(dir, DPF_MANIFEST_SIG_FILE, &c->signature, &c->signature_len, err, errlen);
    if (st != DPF_OK)
        goto fail;
    st = load_files(c, err, errlen);
    if (st != DPF_OK)
        goto fail;
    *out = c;
    return DPF_OK;
fail:
    dm_components_destroy(c);
    return st;
}

void dm_components_destroy(dm_components *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->count; i++) {
        free(c->files[i].name);
        free(c->files[i].data);
    }
    free(c->files);
    free(c->manifest);
    free(c->signature);
    free(c->dir);
    free(c);
}

const char *dm_components_dir(const dm_components *c)
{
    return c->dir;
}

size_t dm_components_count(const dm_components *c)
{
    return c->count;
}

const char *dm_components_name(const dm_components *c, size_t i)
{
    return i < c->count ? c->files[i].name : NULL;
}

const unsigned char *dm_components_data(const dm_components *c, size_t i, size_t *len)
{
    if (i >= c->count) {
        *len = 0;
        return NULL;
    }
    *len = c->files[i].len;
    return (const unsigned char *)c->files[i].data;
}

const unsigned char *dm_components_manifest(const dm_components *c, size_t *len)
{
    *len = c->manifest_len;
    return (const unsigned char *)c->manifest;
}

const unsigned char *dm_components_signature(const dm_components *c, size_t *len)
{
    *len = c->signature_len;
    return (const unsigned char *)c->signature;
}

size_t dm_components_total_bytes(const dm_components *c)
{
    size_t n = c->manifest_len + c->signature_len;
    for (size_t i = 0; i < c->count; i++)
        n += c->files[i].len;
    return n;
}
