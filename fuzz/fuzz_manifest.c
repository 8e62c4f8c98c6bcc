/* libFuzzer target: the component MANIFEST parser (lib/src/manifest.c),
 * which distmgr and dpagent both run on the signed file list. Asserted on
 * every accepted text: 1..DPF_MANIFEST_MAX_FILES lines, each name passes
 * dpf_manifest_name_ok, names strictly increasing, each hash 64 lower-case
 * hex digits, dpf_manifest_find finds every name at its index, and the
 * text is exactly the lines written back ("<hash>  <name>\n"). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/manifest.h>

#include "fuzz_util.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init_once("SMS_DISTRIBUTION_MANAGER");
    dpf_manifest *m = (dpf_manifest *)1;
    char err[256];
    dpf_status st = dpf_manifest_parse(data, size, &m, err, sizeof err);
    if (st != DPF_OK) {
        CHECK(m == NULL && memchr(err, 0, sizeof err) != NULL && err[0] != '\0');
        return 0;
    }
    size_t n = dpf_manifest_count(m);
    CHECK(n >= 1 && n <= DPF_MANIFEST_MAX_FILES && size <= DPF_MANIFEST_MAX_BYTES);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = dpf_manifest_name(m, i), *sha = dpf_manifest_sha256(m, i);
        CHECK(name != NULL && sha != NULL && strlen(sha) == 64);
        CHECK(strspn(sha, "0123456789abcdef") == 64);
        CHECK(dpf_manifest_name_ok(name, NULL, 0));
        if (i > 0)
            CHECK(strcmp(dpf_manifest_name(m, i - 1), name) < 0);
        size_t at = (size_t)-1;
        CHECK(dpf_manifest_find(m, name, &at) && at == i);
        size_t nl = strlen(name);
        CHECK(off + 66 + nl + 1 <= size);
        CHECK(memcmp((const char *)data + off, sha, 64) == 0);
        CHECK(memcmp((const char *)data + off + 64, "  ", 2) == 0);
        CHECK(memcmp((const char *)data + off + 66, name, nl) == 0);
        CHECK(data[off + 66 + nl] == '\n');
        off += 66 + nl + 1;
    }
    CHECK(off == size);
    CHECK(dpf_manifest_name(m, n) == NULL && dpf_manifest_sha256(m, n) == NULL);
    CHECK(!dpf_manifest_matches(m, n, "", 0));
    dpf_manifest_destroy(m);
    return 0;
}
