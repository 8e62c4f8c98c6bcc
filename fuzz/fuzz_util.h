/* What every libFuzzer target of fuzz/ shares: a NUL-terminated copy of
 * the input, a cursor that splits it into the pieces a target needs, and
 * the one-time set-up (logging at debug level, so every log format string
 * the code reaches is exercised too; scripts/fuzz closes the target's
 * stderr with -close_fd_mask, libFuzzer's own reports still show). */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <ftw.h>
#include <sys/stat.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dpf/log.h>

/* A malloc'd copy of data with a NUL after it; the caller frees it. */
static inline char *fuzz_strndup(const uint8_t *data, size_t len)
{
    char *s = malloc(len + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

/* Reads the input front to back: a selector byte, then pieces separated by
 * a NUL byte (the last piece is the rest). */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline unsigned fuzz_byte(fuzz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

/* The next piece up to (not including) a NUL, as a malloc'd string; *len
 * is its length. The caller frees it. */
static inline char *fuzz_piece(fuzz_in *in, size_t *len)
{
    const uint8_t *z = memchr(in->p, 0, in->n);
    size_t k = z ? (size_t)(z - in->p) : in->n;
    char *s = fuzz_strndup(in->p, k);
    if (len != NULL)
        *len = k;
    in->p += k + (z ? 1 : 0);
    in->n -= k + (z ? 1 : 0);
    return s;
}

static inline void fuzz_init_once(const char *component)
{
    static int done;
    if (!done) {
        dpf_log_init(component);
        dpf_log_set_level(DPF_LOG_DEBUG);
        done = 1;
    }
}

static int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path); /* best effort: go on with the rest */
    return 0;
}

static char fuzz_tmpdir[64];

static void fuzz_rm_tmpdir(void)
{
    if (fuzz_tmpdir[0] != '\0')
        nftw(fuzz_tmpdir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new directory /tmp/<prefix>.XXXXXX, removed with all it holds when
 * the process exits (libFuzzer's end of -max_total_time or -runs calls
 * exit). Static storage; one per process. */
static inline const char *fuzz_make_tmpdir(const char *prefix)
{
    snprintf(fuzz_tmpdir, sizeof fuzz_tmpdir, "/tmp/%s.XXXXXX", prefix);
    if (mkdtemp(fuzz_tmpdir) == NULL)
        abort();
    atexit(fuzz_rm_tmpdir);
    return fuzz_tmpdir;
}

#endif
