/* Loads the DP component files at startup. The agent verifies the signed
 * manifest; distmgr checks the hashes too so a broken build or a half-copied
 * directory is reported once, at startup, with the file's name, instead of as
 * an install_files failure on every DP. */
#include "components.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <dpf/util.h>

#define MANIFEST_NAME "MANIFEST"
#define SIGNATURE_NAME "MANIFEST.sig"
#define NAME_MAX_LEN 128
#define MAX_FILES 256

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

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A plain file name: no path separators, not "." or "..", printable. */
static int safe_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > NAME_MAX_LEN || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
        return 0;
    for (const char *p = n; *p; p++) {
        if (*p == '/' || *p == '\\' || !isgraph((unsigned char)*p))
            return 0;
    }
    return 1;
}

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

static int sha256_matches(const char *data, size_t len, const unsigned char want[32])
{
    unsigned char got[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data, len, got, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return 0;
    return memcmp(got, want, 32) == 0;
}

/* One manifest line: 64 hex digits, one or two spaces (or " *"), a name.
 * line is modified (the name is cut out of it in place). */
static dpf_status parse_line(char *line, unsigned char hash[32], char **name)
{
    size_t len = strlen(line);
    if (len < 66)
        return DPF_ERR_INVALID;
    for (int i = 0; i < 32; i++) {
        int hi = hexval((unsigned char)line[2 * i]);
        int lo = hexval((unsigned char)line[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return DPF_ERR_INVALID;
        hash[i] = (unsigned char)(hi << 4 | lo);
    }
    char *p = line + 64;
    if (*p != ' ')
        return DPF_ERR_INVALID;
    p++;
    if (*p == ' ' || *p == '*')
        p++;
    if (!safe_name(p))
        return DPF_ERR_INVALID;
    *name = p;
    return DPF_OK;
}

static dpf_status load_files(dm_components *c, char *err, size_t errlen)
{
    char *save = NULL;
    size_t lineno = 0;
    /* strtok_r needs a writable copy; the manifest itself is sent as is */
    char *text = strdup(c->manifest);
    if (text == NULL)
        return DPF_ERR_NOMEM;
    dpf_status st = DPF_OK;
    c->files = calloc(MAX_FILES, sizeof *c->files);
    if (c->files == NULL) {
        st = DPF_ERR_NOMEM;
        goto cleanup;
    }
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t l = strlen(line);
        if (l > 0 && line[l - 1] == '\r')
            line[--l] = '\0';
        if (l == 0)
            continue;
        unsigned char hash[32];
        char *name = NULL;
        if (parse_line(line, hash, &name) != DPF_OK) {
            dpf_fmt(err, errlen, "%s/%s line %zu is not \"<sha256 hex>  <file name>\"",
                    c->dir, MANIFEST_NAME, lineno);
            st = DPF_ERR_INVALID;
            goto cleanup;
        }
        for (size_t i = 0; i < c->count; i++) {
            if (strcmp(c->files[i].name, name) == 0) {
                dpf_fmt(err, errlen, "%s/%s lists %s twice", c->dir, MANIFEST_NAME, name);
                st = DPF_ERR_INVALID;
                goto cleanup;
            }
        }
        if (c->count == MAX_FILES) {
            dpf_fmt(err, errlen, "%s/%s lists more than %d files", c->dir, MANIFEST_NAME,
                    MAX_FILES);
            st = DPF_ERR_INVALID;
            goto cleanup;
        }
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
        if (!sha256_matches(f->data, f->len, hash)) {
            dpf_fmt(err, errlen, "%s/%s does not match the SHA-256 in %s", c->dir, name,
                    MANIFEST_NAME);
            st = DPF_ERR_VERIFY;
            goto cleanup;
        }
    }
    if (c->count == 0) {
        dpf_fmt(err, errlen, "%s/%s lists no files", c->dir, MANIFEST_NAME);
        st = DPF_ERR_INVALID;
    }
cleanup:
    free(text);
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
    st = read_in(dir, MANIFEST_NAME, &c->manifest, &c->manifest_len, err, errlen);
    if (st != DPF_OK)
        goto fail;
    if (strlen(c->manifest) != c->manifest_len) {
        dpf_fmt(err, errlen, "%s/%s contains a NUL byte", dir, MANIFEST_NAME);
        st = DPF_ERR_INVALID;
        goto fail;
    }
    st = read_in(dir, SIGNATURE_NAME, &c->signature, &c->signature_len, err, errlen);
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
