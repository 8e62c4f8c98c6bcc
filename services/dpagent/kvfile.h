/* The agent's configuration files under <host root>/etc are "key=value"
 * lines (the source keeps the same facts in the registry and in IIS). This
 * module builds, parses and writes them. */
#ifndef DPA_KVFILE_H
#define DPA_KVFILE_H

#include <stddef.h>
#include <dpf/status.h>

typedef struct dpa_kv dpa_kv;

/* An empty list; *out owned by the caller (dpa_kv_destroy). */
dpf_status dpa_kv_create(dpa_kv **out) DPF_MUSTCHECK;
void dpa_kv_destroy(dpa_kv *kv); /* NULL is a no-op */

/* 1 if key is [A-Za-z0-9_.$-]{1,128} and value (<= 4096 bytes) has no
 * control characters; otherwise 0 with the reason in err. */
int dpa_kv_valid(const char *key, const char *value, char *err, size_t errlen);

/* Sets key to value (replacing an earlier value of the same key). Both
 * copied. DPF_ERR_INVALID if dpa_kv_valid says no. */
dpf_status dpa_kv_set(dpa_kv *kv, const char *key, const char *value) DPF_MUSTCHECK;

/* Borrowed value of key, or NULL. */
const char *dpa_kv_get(const dpa_kv *kv, const char *key);
size_t dpa_kv_count(const dpa_kv *kv);
const char *dpa_kv_key(const dpa_kv *kv, size_t i);   /* borrowed */
const char *dpa_kv_value(const dpa_kv *kv, size_t i); /* borrowed */

/* Sorts by key (byte order). */
void dpa_kv_sort(dpa_kv *kv);

/* Parses "key=value" lines ('#' comments and blank lines skipped). */
dpf_status dpa_kv_parse(const char *text, size_t len, dpa_kv **out) DPF_MUSTCHECK;

/* Reads path; DPF_ERR_NOT_FOUND if it does not exist. */
dpf_status dpa_kv_load(const char *path, dpa_kv **out) DPF_MUSTCHECK;

/* "key=value\n" per entry, in list order; *text malloc'd, owned by the caller. */
dpf_status dpa_kv_format(const dpa_kv *kv, char **text, size_t *len) DPF_MUSTCHECK;

/* Formats and writes atomically (mode 0644) when the content differs. */
dpf_status dpa_kv_save(const dpa_kv *kv, const char *path, int *changed) DPF_MUSTCHECK;

#endif
