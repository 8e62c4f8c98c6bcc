/* The component MANIFEST parser. distmgr and dpagent used to parse it each
 * with its own rules (one took upper-case hex, " *name" and CRLF, the other
 * did not), so distmgr could start with a set every agent then refused.
 * There is one format now, the one the build writes, and anything else is
 * refused with the line number. Parsing copies what it keeps: the text is
 * only borrowed for the call. */
#include "dpf/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

typedef struct manifest_line {
    char sha256[65];
    char *name;
} manifest_line;

struct dpf_manifest {
    manifest_line *lines;
    size_t count;
};

static void set_why(char *why, size_t whylen, const char *text)
{
    if (why != NULL && whylen > 0)
        snprintf(why, whylen, "%s", text);
}

int dpf_manifest_name_ok(const char *name, char *why, size_t whylen)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0) {
        set_why(why, whylen, "empty file name");
        return 0;
    }
    if (len > DPF_MANIFEST_NAME_MAX) {
        set_why(why, whylen, "file name longer than 255 bytes");
        return 0;
    }
    if (name[0] == '.') {
        set_why(why, whylen, "file name starts with '.'");
        return 0;
    }
    if (strstr(name, "..") != NULL) {
        set_why(why, whylen, "file name contains '..'");
        return 0;
    }
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+')) {
            set_why(why, whylen, c == '/' || c == '\\'
                                     ? "file name contains a path separator"
                                     : "file name has a character other than A-Z a-z 0-9 . _ - +");
            return 0;
        }
    }
    return 1;
}

static int is_lower_hex64(const char *p)
{
    for (int i = 0; i < 64; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    }
    return 1;
}

/* One line without its '\n'; appended to m on success. */
static dpf_status parse_line(dpf_manifest *m, const char *p, size_t ll, size_t lineno, char *err,
                             size_t errlen)
{
    if (ll < 67 || !is_lower_hex64(p) || p[64] != ' ' || p[65] != ' ' ||
        ll - 66 > DPF_MANIFEST_NAME_MAX) {
        snprintf(err, errlen, "MANIFEST line %zu is not '<sha256 lower hex>  <name>'", lineno);
        return DPF_ERR_INVALID;
    }
    size_t nlen = ll - 66;
    char name[DPF_MANIFEST_NAME_MAX + 1];
    memcpy(name, p + 66, nlen);
    name[nlen] = '\0';
    char why[96];
    if (!dpf_manifest_name_ok(name, why, sizeof why)) {
        snprintf(err, errlen, "MANIFEST line %zu: unsafe file name '%.64s' (%s)", lineno, name,
                 why);
        return DPF_ERR_INVALID;
    }
    if (m->count > 0) {
        int c = strcmp(m->lines[m->count - 1].name, name);
        if (c == 0) {
            snprintf(err, errlen, "MANIFEST lists '%s' twice", name);
            return DPF_ERR_INVALID;
        }
        if (c > 0) {
            snprintf(err, errlen, "MANIFEST line %zu: '%s' is out of order (names must be sorted)",
                     lineno, name);
            return DPF_ERR_INVALID;
        }
    }
    if (m->count == DPF_MANIFEST_MAX_FILES) {
        snprintf(err, errlen, "MANIFEST lists more than %d files", DPF_MANIFEST_MAX_FILES);
        return DPF_ERR_INVALID;
    }
    manifest_line *l = &m->lines[m->count];
    l->name = strdup(name);
    if (l->name == NULL)
        return DPF_ERR_NOMEM;
    memcpy(l->sha256, p, 64);
    l->sha256[64] = '\0';
    m->count++;
    return DPF_OK;
}

static dpf_status parse_text(dpf_manifest *m, const char *text, size_t len, char *err,
                             size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "MANIFEST is empty");
        return DPF_ERR_INVALID;
    }
    if (len > DPF_MANIFEST_MAX_BYTES) {
        snprintf(err, errlen, "MANIFEST is larger than %d bytes", DPF_MANIFEST_MAX_BYTES);
        return DPF_ERR_INVALID;
    }
    if (memchr(text, '\0', len) != NULL) {
        snprintf(err, errlen, "MANIFEST contains a NUL byte");
        return DPF_ERR_INVALID;
    }
    if (text[len - 1] != '\n') {
        snprintf(err, errlen, "MANIFEST does not end with a newline (truncated?)");
        return DPF_ERR_INVALID;
    }
    size_t lineno = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)); /* never NULL: text ends in '\n' */
        lineno++;
        dpf_status st = parse_line(m, p, (size_t)(nl - p), lineno, err, errlen);
        if (st != DPF_OK)
            return st;
        p = nl + 1;
    }
    return DPF_OK;
}

dpf_status dpf_manifest_parse(const void *text, size_t len, dpf_manifest **out, char *err,
                              size_t errlen)
{
    if (out == NULL)
        return DPF_ERR_INVALID;
    *out = NULL;
    if (text == NULL && len > 0)
        return DPF_ERR_INVALID;
    dpf_manifest *m = calloc(1, sizeof *m);
    if (m == NULL)
        return DPF_ERR_NOMEM;
    m->lines = calloc(DPF_MANIFEST_MAX_FILES, sizeof *m->lines);
    if (m->lines == NULL) {
        free(m);
        return DPF_ERR_NOMEM;
    }
    dpf_status st = parse_text(m, text, len, err, errlen);
    if (st != DPF_OK) {
        dpf_manifest_destroy(m);
        return st;
    }
    *out = m;
    return DPF_OK;
}

void dpf_manifest_destroy(dpf_manifest *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->count; i++)
        free(m->lines[i].name);
    free(m->lines);
    free(m);
}

size_t dpf_manifest_count(const dpf_manifest *m)
{
    return m ? m->count : 0;
}

const char *dpf_manifest_name(const dpf_manifest *m, size_t i)
{
    return m && i < m->count ? m->lines[i].name : NULL;
}

const char *dpf_manifest_sha256(const dpf_manifest *m, size_t i)
{
    return m && i < m->count ? m->lines[i].sha256 : NULL;
}

int dpf_manifest_find(const dpf_manifest *m, const char *name, size_t *index)
{
    if (m == NULL || name == NULL)
        return 0;
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->lines[mid].name, name);
        if (c == 0) {
            if (index != NULL)
                *index = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void dpf_manifest_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";
    out[0] = '\0';
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return;
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    out[64] = '\0';
}

int dpf_manifest_matches(const dpf_manifest *m, size_t i, const void *data, size_t len)
{
    const char *want = dpf_manifest_sha256(m, i);
    if (want == NULL)
        return 0;
    char got[65];
    dpf_manifest_sha256_hex(data, len, got);
    return strcmp(got, want) == 0;
}
