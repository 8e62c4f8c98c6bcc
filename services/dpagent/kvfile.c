/* key=value files: the agent's stand-in for the registry keys and IIS
 * settings the source writes on a DP. Kept deliberately plain so an
 * administrator can read and grep them, and validated on the way in so a
 * request can never smuggle a second line (or a second key) into a file. */
#include "kvfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dpf/util.h>
#include "fsutil.h"

#define KV_KEY_MAX 128
#define KV_VALUE_MAX 4096

struct dpa_kv {
    char **keys;
    char **values;
    size_t n, cap;
};

dpf_status dpa_kv_create(dpa_kv **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? DPF_OK : DPF_ERR_NOMEM;
}

void dpa_kv_destroy(dpa_kv *kv)
{
    if (kv == NULL)
        return;
    for (size_t i = 0; i < kv->n; i++) {
        free(kv->keys[i]);
        free(kv->values[i]);
    }
    free(kv->keys);
    free(kv->values);
    free(kv);
}

int dpa_kv_valid(const char *key, const char *value, char *err, size_t errlen)
{
    size_t klen = key ? strlen(key) : 0;
    if (klen == 0 || klen > KV_KEY_MAX) {
        snprintf(err, errlen, "setting name must be 1-%d characters", KV_KEY_MAX);
        return 0;
    }
    for (size_t i = 0; i < klen; i++) {
        char c = key[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '$' || c == '-')) {
            snprintf(err, errlen, "setting name '%.*s' may only hold letters, digits and _ . $ -",
                     (int)(klen < 64 ? klen : 64), key);
            return 0;
        }
    }
    if (value == NULL || strlen(value) > KV_VALUE_MAX) {
        snprintf(err, errlen, "value of '%s' is missing or longer than %d bytes", key,
                 KV_VALUE_MAX);
        return 0;
    }
    for (const char *p = value; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "value of '%s' contains a control character", key);
            return 0;
        }
    }
    return 1;
}

dpf_status dpa_kv_set(dpa_kv *kv, const char *key, const char *value)
{
    char err[256];
    if (!dpa_kv_valid(key, value, err, sizeof err))
        return DPF_ERR_INVALID;
    char *v = strdup(value);
    if (v == NULL)
        return DPF_ERR_NOMEM;
    for (size_t i = 0; i < kv->n; i++) {
        if (strcmp(kv->keys[i], key) == 0) {
            free(kv->values[i]);
            kv->values[i] = v;
            return DPF_OK;
        }
    }
    if (kv->n == kv->cap) {
        size_t cap = kv->cap ? kv->cap * 2 : 8;
        char **k = realloc(kv->keys, cap * sizeof *k);
        if (k != NULL)
            kv->keys = k;
        char **vs = realloc(kv->values, cap * sizeof *vs);
        if (vs != NULL)
            kv->values = vs;
        if (k == NULL || vs == NULL) {
            free(v);
            return DPF_ERR_NOMEM;
        }
        kv->cap = cap;
    }
    char *k = strdup(key);
    if (k == NULL) {
        free(v);
        return DPF_ERR_NOMEM;
    }
    kv->keys[kv->n] = k;
    kv->values[kv->n] = v;
    kv->n++;
    return DPF_OK;
}

const char *dpa_kv_get(const dpa_kv *kv, const char *key)
{
    for (size_t i = 0; kv != NULL && i < kv->n; i++) {
        if (strcmp(kv->keys[i], key) == 0)
            return kv->values[i];
    }
    return NULL;
}

size_t dpa_kv_count(const dpa_kv *kv) { return kv ? kv->n : 0; }
const char *dpa_kv_key(const dpa_kv *kv, size_t i) { return kv->keys[i]; }
const char *dpa_kv_value(const dpa_kv *kv, size_t i) { return kv->values[i]; }

void dpa_kv_sort(dpa_kv *kv)
{
    /* insertion sort: these lists hold a few dozen entries at most */
    for (size_t i = 1; i < kv->n; i++) {
        char *k = kv->keys[i], *v = kv->values[i];
        size_t j = i;
        while (j > 0 && strcmp(kv->keys[j - 1], k) > 0) {
            kv->keys[j] = kv->keys[j - 1];
            kv->values[j] = kv->values[j - 1];
            j--;
        }
        kv->keys[j] = k;
        kv->values[j] = v;
    }
}

dpf_status dpa_kv_parse(const char *text, size_t len, dpa_kv **out)
{
    dpf_status rc = dpa_kv_create(out);
    if (rc != DPF_OK)
        return rc;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(eol - p));
        if (eol > p && *p != '#' && eq != NULL && eq > p && (size_t)(eq - p) <= KV_KEY_MAX &&
            (size_t)(eol - eq - 1) <= KV_VALUE_MAX) {
            char key[KV_KEY_MAX + 1], value[KV_VALUE_MAX + 1];
            memcpy(key, p, (size_t)(eq - p));
            key[eq - p] = '\0';
            memcpy(value, eq + 1, (size_t)(eol - eq - 1));
            value[eol - eq - 1] = '\0';
            rc = dpa_kv_set(*out, key, value);
            if (rc == DPF_ERR_NOMEM) {
                dpa_kv_destroy(*out);
                *out = NULL;
                return rc;
            }
            /* an invalid line in a hand-edited file is skipped, not fatal */
        }
        p = eol + 1;
    }
    return DPF_OK;
}

dpf_status dpa_kv_load(const char *path, dpa_kv **out)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    dpf_status rc = dpf_read_file(path, &text, &len);
    if (rc != DPF_OK)
        return rc;
    rc = dpa_kv_parse(text, len, out);
    free(text);
    return rc;
}

dpf_status dpa_kv_format(const dpa_kv *kv, char **text, size_t *len)
{
    size_t need = 1;
    for (size_t i = 0; i < kv->n; i++)
        need += strlen(kv->keys[i]) + strlen(kv->values[i]) + 2;
    char *buf = malloc(need);
    if (buf == NULL)
        return DPF_ERR_NOMEM;
    size_t off = 0;
    for (size_t i = 0; i < kv->n; i++)
        off += (size_t)snprintf(buf + off, need - off, "%s=%s\n", kv->keys[i], kv->values[i]);
    buf[off] = '\0';
    *text = buf;
    *len = off;
    return DPF_OK;
}

dpf_status dpa_kv_save(const dpa_kv *kv, const char *path, int *changed)
{
    char *text = NULL;
    size_t len = 0;
    dpf_status rc = dpa_kv_format(kv, &text, &len);
    if (rc != DPF_OK)
        return rc;
    rc = dpa_fs_write_atomic(path, text, len, 0644, changed);
    free(text);
    return rc;
}
