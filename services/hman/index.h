/* hman_index: a hash map from a key to a borrowed pointer, for joining a
 * site's roles, DistributionPoints rows and SysResList entries in time
 * linear in their number (looking each one up in the others' arrays was
 * quadratic: 1 s per change at 5,000 DPs).
 *
 * A key is either a pair of strings (role name and NAL path; pass NULL as
 * the first for a NAL path alone) or a 64-bit integer (a role id); one index
 * holds one kind. Keys and values are borrowed: they must outlive the index
 * (they live in the site snapshot). Open addressing, never more than half
 * full, so a lookup is a few comparisons. */
#ifndef HMAN_INDEX_H
#define HMAN_INDEX_H

#include <stddef.h>

#include <dpf/status.h>

typedef struct hman_index hman_index;

/* An index sized for `expected` keys (it grows past that). *out owned by
 * the caller. */
dpf_status hman_index_create(size_t expected, hman_index **out) DPF_MUSTCHECK;
void hman_index_destroy(hman_index *ix); /* NULL is a no-op */

/* Adds (a, b) -> val; a key already there keeps its first value (the
 * arrays hold each key once, so this only matters for bad data). a may be
 * NULL (""), b not. DPF_ERR_NOMEM when growing fails. */
dpf_status hman_index_put(hman_index *ix, const char *a, const char *b, void *val) DPF_MUSTCHECK;
/* The value of (a, b), NULL if absent. */
void *hman_index_get(const hman_index *ix, const char *a, const char *b);

/* The same for integer keys. */
dpf_status hman_index_put_id(hman_index *ix, long long id, void *val) DPF_MUSTCHECK;
void *hman_index_get_id(const hman_index *ix, long long id);

/* Keys held. */
size_t hman_index_count(const hman_index *ix);

#endif
