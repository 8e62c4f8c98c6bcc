/* The hash map behind hman's joins (see index.h). FNV-1a over the key's
 * strings (with a separator, so ("ab","c") and ("a","bc") differ) or a mixed
 * integer; linear probing in a power-of-two table kept at most half full. */
#include "index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    const char *a, *b; /* string keys (b NULL: empty slot, or an id key) */
    long long id;
    void *val;
    uint64_t hash;
    int used;
} slot;

struct hman_index {
    slot *slots;
    size_t cap, n; /* cap a power of two */
};

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t hash_str(const char *a, const char *b)
{
    uint64_t h = fnv(14695981039346656037ULL, a ? a : "");
    h ^= 0x1f;
    h *= 1099511628211ULL;
    return fnv(h, b);
}

static uint64_t hash_id(long long id)
{
    uint64_t x = (uint64_t)id;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

dpf_status hman_index_create(size_t expected, hman_index **out)
{
    *out = NULL;
    hman_index *ix = calloc(1, sizeof *ix);
    if (ix == NULL)
        return DPF_ERR_NOMEM;
    ix->cap = 16;
    while (ix->cap < expected * 2)
        ix->cap *= 2;
    ix->slots = calloc(ix->cap, sizeof *ix->slots);
    if (ix->slots == NULL) {
        free(ix);
        return DPF_ERR_NOMEM;
    }
    *out = ix;
    return DPF_OK;
}

void hman_index_destroy(hman_index *ix)
{
    if (ix == NULL)
        return;
    free(ix->slots);
    free(ix);
}

static int same(const slot *s, uint64_t h, const char *a, const char *b, long long id)
{
    if (s->hash != h)
        return 0;
    if (b == NULL)
        return s->b == NULL && s->id == id;
    return s->b != NULL && strcmp(s->b, b) == 0 && strcmp(s->a ? s->a : "", a ? a : "") == 0;
}

/* The slot holding the key, or the empty slot where it would go. */
static slot *find(const hman_index *ix, uint64_t h, const char *a, const char *b, long long id)
{
    size_t mask = ix->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        slot *s = &ix->slots[i];
        if (!s->used || same(s, h, a, b, id))
            return s;
    }
}

static dpf_status grow(hman_index *ix)
{
    size_t old_cap = ix->cap;
    slot *old = ix->slots;
    slot *fresh = calloc(old_cap * 2, sizeof *fresh);
    if (fresh == NULL)
        return DPF_ERR_NOMEM;
    ix->slots = fresh;
    ix->cap = old_cap * 2;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].used)
            *find(ix, old[i].hash, old[i].a, old[i].b, old[i].id) = old[i];
    }
    free(old);
    return DPF_OK;
}

static dpf_status put(hman_index *ix, uint64_t h, const char *a, const char *b, long long id,
                      void *val)
{
    if ((ix->n + 1) * 2 > ix->cap) {
        dpf_status st = grow(ix);
        if (st != DPF_OK)
            return st;
    }
    slot *s = find(ix, h, a, b, id);
    if (s->used)
        return DPF_OK;
    *s = (slot){.a = a, .b = b, .id = id, .val = val, .hash = h, .used = 1};
    ix->n++;
    return DPF_OK;
}

dpf_status hman_index_put(hman_index *ix, const char *a, const char *b, void *val)
{
    if (b == NULL)
        return DPF_ERR_INVALID;
    return put(ix, hash_str(a, b), a, b, 0, val);
}

void *hman_index_get(const hman_index *ix, const char *a, const char *b)
{
    if (ix == NULL || b == NULL)
        return NULL;
    slot *s = find(ix, hash_str(a, b), a, b, 0);
    return s->used ? s->val : NULL;
}

dpf_status hman_index_put_id(hman_index *ix, long long id, void *val)
{
    return put(ix, hash_id(id), NULL, NULL, id, val);
}

void *hman_index_get_id(const hman_index *ix, long long id)
{
    if (ix == NULL)
        return NULL;
    slot *s = find(ix, hash_id(id), NULL, NULL, id);
    return s->used ? s->val : NULL;
}

size_t hman_index_count(const hman_index *ix)
{
    return ix ? ix->n : 0;
}
