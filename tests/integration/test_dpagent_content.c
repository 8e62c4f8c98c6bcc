/* Content distribution on the DP host, end to end on one machine: a real
 * nats-server (NATS_URL) and the real dpagent binary, sent the content steps
 * the way distmgr sends them. A package with nested directories, an empty
 * file and two identical files is put in chunks and installed, every file
 * is downloaded over HTTP and compared, FileLib holds the duplicate once; a
 * second host pulls the package from the first (its first source being
 * unreachable); removing a package leaves another package's shared file in
 * place; content validation reports a file corrupted and one deleted on the
 * host's disk by path, the content server stops serving them, content_have
 * reports them not held and putting them again makes the package verify; a
 * 300 MiB file put in 512 KiB chunks, with the agent killed half way and
 * resumed, keeps the agent's peak RSS (VmHWM) under 50 MB, also while it is
 * validated and downloaded at the same time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dpf/agent.h>
#include <dpf/util.h>
#include "dpf_test.h"
#include "fsutil.h"
#include "test_dpagent_util.h"

#define HOST_A "PS1DP1.CONTOSO.COM" /* pushed to */
#define HOST_B "PS1DP2.CONTOSO.COM" /* pull DP */
#define HOST_C "PS1DP3.CONTOSO.COM" /* the big file, in its own agent process */
#define DEAD_SOURCE "PS1DP9.CONTOSO.COM=http://127.0.0.1:1"
#define CORR "corr-test-dpagent-content-01"

/* One file of a test package: bytes held in memory (small ones only). */
typedef struct tfile {
    const char *path;
    char *data;
    size_t len;
    char sha[65];
} tfile;

static struct {
    char tmp[256], root[512];
    const char *nats_url;
    dpf_bus *bus;
    pid_t agent, agent_c;
    tfile pkg1[6];
    size_t n1;
} g;

/* ---- helpers ---- */

static void sha_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void tfile_set(tfile *f, const char *path, const char *data, size_t len)
{
    f->path = path;
    f->data = malloc(len ? len : 1);
    memcpy(f->data, data, len);
    f->len = len;
    sha_hex(data, len, f->sha);
}

static void host_path(const char *fqdn, const char *rel, char *out, size_t len)
{
    snprintf(out, len, "%s/%s/%s", g.root, fqdn, rel);
}

/* Files in FileLib/<4 hex>/ of fqdn (partials not counted). */
static size_t filelib_count(const char *fqdn)
{
    char dir[2048], sub[4096];
    host_path(fqdn, "SCCMContentLib$/FileLib", dir, sizeof dir);
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        n += dpa_fs_count_files(sub);
    }
    if (d != NULL)
        closedir(d);
    return n;
}

static int filelib_has(const char *fqdn, const char *sha)
{
    char rel[256], p[2048];
    snprintf(rel, sizeof rel, "SCCMContentLib$/FileLib/%.4s/%s", sha, sha);
    host_path(fqdn, rel, p, sizeof p);
    return dpa_fs_is_file(p);
}

/* A content request: params, files, chunk. Strings borrowed. */
typedef struct creq {
    tda_req r;
    Dpf__ContentFile cf[16];
    Dpf__ContentFile *pcf[16];
} creq;

static void creq_init(creq *c, const char *step, const char *fqdn)
{
    memset(c, 0, sizeof *c);
    tda_req_init(&c->r, step, fqdn);
    c->r.req.content = c->pcf;
}

static void creq_file(creq *c, const char *path, const char *sha, int64_t size)
{
    size_t i = c->r.req.n_content++;
    dpf__content_file__init(&c->cf[i]);
    c->cf[i].path = (char *)(path ? path : "");
    c->cf[i].sha256 = (char *)sha;
    c->cf[i].size = size;
    c->pcf[i] = &c->cf[i];
}

static Dpf__AgentReply *send_req(creq *c, int want_ok)
{
    Dpf__AgentReply *rep = tda_call(g.bus, &c->r, CORR, 120000, NULL);
    assert_non_null(rep);
    if (want_ok && !rep->ok)
        fail_msg("%s on %s failed: %s", c->r.req.step, c->r.req.fqdn, rep->error);
    if (!want_ok && rep->ok)
        fail_msg("%s on %s succeeded; expected a refusal", c->r.req.step, c->r.req.fqdn);
    return rep;
}

static void step_ok(const char *fqdn, const char *step)
{
    creq c;
    creq_init(&c, step, fqdn);
    dpf__agent_reply__free_unpacked(send_req(&c, 1), NULL);
}

/* content_put of one chunk; returns the reply. */
static Dpf__AgentReply *put_chunk(const char *fqdn, const char *sha, int64_t size,
                                  int64_t offset, const void *data, size_t len, int want_ok)
{
    creq c;
    char size_text[32];
    snprintf(size_text, sizeof size_text, "%lld", (long long)size);
    creq_init(&c, DPF_STEP_CONTENT_PUT, fqdn);
    tda_req_param(&c.r, "sha256", sha);
    tda_req_param(&c.r, "size", size_text);
    c.r.req.offset = offset;
    c.r.req.chunk.data = (uint8_t *)data;
    c.r.req.chunk.len = len;
    return send_req(&c, want_ok);
}

/* Sends a whole in-memory file in DPF_CONTENT_CHUNK_MAX chunks. */
static void put_file(const char *fqdn, const tfile *f)
{
    size_t off = 0;
    do {
        size_t n = f->len - off < DPF_CONTENT_CHUNK_MAX ? f->len - off : DPF_CONTENT_CHUNK_MAX;
        Dpf__AgentReply *rep = put_chunk(fqdn, f->sha, (int64_t)f->len, (int64_t)off,
                                         f->data + off, n, 1);
        off += n;
        assert_int_equal(rep->n_content, 1);
        assert_int_equal(rep->content[0]->size, (int64_t)off);
        if (off == f->len) {
            char want[160];
            snprintf(want, sizeof want, "Stored file %s (%zu bytes) in the content library",
                     f->sha, f->len);
            assert_true(tda_has_line(rep, want));
        }
        dpf__agent_reply__free_unpacked(rep, NULL);
    } while (off < f->len);
}

static Dpf__AgentReply *install(const char *fqdn, const char *pkg, const char *ver,
                                const tfile *files, size_t n, int want_ok)
{
    creq c;
    creq_init(&c, DPF_STEP_CONTENT_INSTALL, fqdn);
    tda_req_param(&c.r, "package_id", pkg);
    tda_req_param(&c.r, "version", ver);
    for (size_t i = 0; i < n; i++)
        creq_file(&c, files[i].path, files[i].sha, (int64_t)files[i].len);
    return send_req(&c, want_ok);
}

/* HTTP GET with libcurl, hashing the body as it streams (any size). */
typedef struct fetch {
    EVP_MD_CTX *md;
    int64_t bytes;
} fetch;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    fetch *f = arg;
    EVP_DigestUpdate(f->md, p, size * n);
    f->bytes += (int64_t)(size * n);
    return size * n;
}

static long http_fetch(const char *url, char sha[65], int64_t *bytes)
{
    fetch f = {EVP_MD_CTX_new(), 0};
    unsigned char md[32];
    unsigned int mdlen = 0;
    long code = -1;
    EVP_DigestInit_ex(f.md, EVP_sha256(), NULL);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    EVP_DigestFinal_ex(f.md, md, &mdlen);
    EVP_MD_CTX_free(f.md);
    for (int i = 0; i < 32; i++)
        snprintf(sha + 2 * i, 3, "%02x", md[i]);
    *bytes = f.bytes;
    return code;
}

/* "/"-separated path with ' ' escaped (the test's paths need nothing else). */
static void file_url(const char *base, const char *pkg, const char *path, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "%s/" DPF_CONTENT_VDIR "/%s/", base, pkg);
    for (; *path && n + 4 < len; path++)
        n += (size_t)(*path == ' ' ? snprintf(out + n, len - n, "%%20")
                                   : snprintf(out + n, len - n, "%c", *path));
}

/* Every file of files downloads from base with its own bytes. */
static void downloads_match(const char *base, const char *pkg, const tfile *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char url[1024], sha[65];
        int64_t bytes = -1;
        file_url(base, pkg, files[i].path, url, sizeof url);
        long code = http_fetch(url, sha, &bytes);
        if (code != 200)
            fail_msg("GET %s: %ld", url, code);
        assert_int_equal(bytes, (int64_t)files[i].len);
        assert_string_equal(sha, files[i].sha);
    }
}

static long http_code(const char *base, const char *pkg, const char *path)
{
    char url[1024], sha[65];
    int64_t bytes;
    file_url(base, pkg, path, url, sizeof url);
    return http_fetch(url, sha, &bytes);
}

/* content_url of fqdn, from a content_have of nothing held. */
static void content_url_of(const char *fqdn, char *out, size_t len)
{
    creq c;
    creq_init(&c, DPF_STEP_CONTENT_HAVE, fqdn);
    creq_file(&c, NULL, "2222222222222222222222222222222222222222222222222222222222222222", 1);
    Dpf__AgentReply *rep = send_req(&c, 1);
    assert_true(strncmp(rep->content_url, "http://127.0.0.1:", 17) == 0);
    snprintf(out, len, "%s", rep->content_url);
    dpf__agent_reply__free_unpacked(rep, NULL);
}

static long vm_hwm_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        sscanf(line, "VmHWM: %ld kB", &kb);
    if (f != NULL)
        fclose(f);
    return kb;
}

/* ---- setup ---- */

static void make_package(void)
{
    static char big[1500 * 1024], same[700 * 1024];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)((i * 2654435761u) >> 13);
    for (size_t i = 0; i < sizeof same; i++)
        same[i] = (char)(i % 251);
    tfile_set(&g.pkg1[0], "top.txt", "top level file\n", 15);
    tfile_set(&g.pkg1[1], "dir/sub/deep/data.bin", big, sizeof big);
    tfile_set(&g.pkg1[2], "dir/empty.txt", "", 0);
    tfile_set(&g.pkg1[3], "copy1/same.bin", same, sizeof same);
    tfile_set(&g.pkg1[4], "copy2/nested/same.bin", same, sizeof same);
    tfile_set(&g.pkg1[5], "name with space.txt", "spaced\n", 7);
    g.n1 = 6;
}

static int group_setup(void **state)
{
    (void)state;
    g.nats_url = dpf_test_env("NATS_URL");
    if (g.nats_url == NULL)
        return -1;
    snprintf(g.tmp, sizeof g.tmp, "/tmp/test_dpagent_content.XXXXXX");
    if (mkdtemp(g.tmp) == NULL)
        return -1;
    snprintf(g.root, sizeof g.root, "%s/agents", g.tmp);
    if (dpf_bus_connect(g.nats_url, "test_dpagent_content", &g.bus) != DPF_OK)
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    make_package();
    g.agent = tda_agent_start(g.nats_url, g.root, HOST_A "," HOST_B, NULL);
    if (tda_wait_ready(g.bus, HOST_A, 15000) != 0 || tda_wait_ready(g.bus, HOST_B, 5000) != 0) {
        fprintf(stderr, "dpagent did not answer; see %s.log\n", g.root);
        (void)tda_agent_stop(g.agent);
        g.agent = 0;
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = g.agent > 0 ? tda_agent_stop(g.agent) : 0;
    if (g.agent_c > 0)
        (void)tda_agent_stop(g.agent_c);
    dpf_bus_destroy(g.bus);
    for (size_t i = 0; i < g.n1; i++)
        free(g.pkg1[i].data);
    curl_global_cleanup();
    if (rc != 0) {
        fprintf(stderr, "dpagent exited with %d on SIGTERM; see %s.log\n", rc, g.root);
        return -1;
    }
    if (getenv("DPF_TEST_KEEP") == NULL && dpa_fs_rmtree(g.tmp, NULL) != DPF_OK)
        return -1;
    return 0;
}

/* ---- tests ---- */

static void hosts_get_a_content_library(void **state)
{
    (void)state;
    /* before create_shares there is no library: refused, nothing created */
    creq c;
    creq_init(&c, DPF_STEP_CONTENT_HAVE, HOST_A);
    creq_file(&c, NULL, g.pkg1[0].sha, 15);
    Dpf__AgentReply *rep = send_req(&c, 0);
    assert_non_null(strstr(rep->error, "content library"));
    assert_string_equal(rep->content_url, ""); /* no content server yet */
    dpf__agent_reply__free_unpacked(rep, NULL);
    const char *hosts[] = {HOST_A, HOST_B};
    for (int i = 0; i < 2; i++) {
        step_ok(hosts[i], DPF_STEP_CREATE_SHARES);
        step_ok(hosts[i], DPF_STEP_ENABLE_HTTP);
        step_ok(hosts[i], DPF_STEP_CONFIGURE_VDIRS);
    }
    /* every reply now names the content server, whatever the step */
    creq_init(&c, DPF_STEP_ENABLE_HTTP, HOST_A);
    rep = send_req(&c, 1);
    assert_true(strncmp(rep->content_url, "http://127.0.0.1:", 17) == 0);
    dpf__agent_reply__free_unpacked(rep, NULL);
}

static void push_install_and_download(void **state)
{
    (void)state;
    char base[128];
    content_url_of(HOST_A, base, sizeof base);

    creq c;
    creq_init(&c, DPF_STEP_CONTENT_HAVE, HOST_A);
    for (size_t i = 0; i < g.n1; i++)
        creq_file(&c, g.pkg1[i].path, g.pkg1[i].sha, (int64_t)g.pkg1[i].len);
    Dpf__AgentReply *rep = send_req(&c, 1);
    assert_int_equal(rep->n_content, g.n1);
    for (size_t i = 0; i < g.n1; i++) {
        assert_string_equal(rep->content[i]->sha256, g.pkg1[i].sha);
        assert_int_equal(rep->content[i]->size, 0); /* nothing held (the empty file: all) */
    }
    dpf__agent_reply__free_unpacked(rep, NULL);

    /* distmgr sends each hash once: copy2/.../same.bin is copy1's bytes */
    for (size_t i = 0; i < g.n1; i++) {
        if (i != 4 && g.pkg1[i].len > 0)
            put_file(HOST_A, &g.pkg1[i]);
    }
    rep = put_chunk(HOST_A, g.pkg1[4].sha, (int64_t)g.pkg1[4].len, 0, g.pkg1[4].data, 1000, 1);
    assert_false(rep->changed);
    assert_int_equal(rep->content[0]->size, (int64_t)g.pkg1[4].len);
    assert_true(tda_has_line(rep, "is already in the content library"));
    dpf__agent_reply__free_unpacked(rep, NULL);

    /* stored, but not installed: nothing to download yet */
    assert_int_equal(http_code(base, "PS100001", "top.txt"), 404);

    rep = install(HOST_A, "PS100001", "1", g.pkg1, g.n1, 1);
    assert_true(rep->changed);
    char want[128];
    snprintf(want, sizeof want, "Package PS100001 version 1 is installed: 6 files, %zu bytes",
             (size_t)(15 + 1500 * 1024 + 0 + 2 * 700 * 1024 + 7));
    assert_true(tda_has_line(rep, want));
    assert_string_equal(rep->content_url, base);
    dpf__agent_reply__free_unpacked(rep, NULL);
    rep = install(HOST_A, "PS100001", "1", g.pkg1, g.n1, 1);
    assert_false(rep->changed);
    dpf__agent_reply__free_unpacked(rep, NULL);

    downloads_match(base, "PS100001", g.pkg1, g.n1);
    assert_int_equal(http_code(base, "PS100001", "not/there.bin"), 404);
    assert_int_equal(http_code(base, "PS100002", "top.txt"), 404);
    /* six paths, five distinct contents: the duplicate is held once */
    assert_int_equal(filelib_count(HOST_A), 5);
    assert_true(filelib_has(HOST_A, g.pkg1[3].sha));
    char log[2048];
    host_path(HOST_A, "SMS_DP$/sms/logs/smsdpprov.log", log, sizeof log);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(dpf_read_file(log, &text, &len), DPF_OK);
    assert_non_null(strstr(text, "Package PS100001 version 1 is installed"));
    free(text);
}

static void pull_dp_fetches_from_first_dp(void **state)
{
    (void)state;
    char base_a[128], base_b[128], sources[512];
    content_url_of(HOST_A, base_a, sizeof base_a);
    content_url_of(HOST_B, base_b, sizeof base_b);
    snprintf(sources, sizeof sources, DEAD_SOURCE "," HOST_A "=%s", base_a);
    for (size_t i = 0; i < g.n1; i++) {
        creq c;
        creq_init(&c, DPF_STEP_CONTENT_PULL, HOST_B);
        tda_req_param(&c.r, "package_id", "PS100001");
        tda_req_param(&c.r, "sources", sources);
        creq_file(&c, g.pkg1[i].path, g.pkg1[i].sha, (int64_t)g.pkg1[i].len);
        Dpf__AgentReply *rep = send_req(&c, 1);
        assert_int_equal(rep->n_content, 1);
        assert_int_equal(rep->content[0]->size, (int64_t)g.pkg1[i].len);
        if (i == 4 || g.pkg1[i].len == 0) { /* same bytes as copy1; the empty file */
            assert_false(rep->changed);
            assert_true(tda_has_line(rep, "already in the content library; not downloaded"));
        } else {
            assert_true(rep->changed);
            assert_true(tda_has_line(rep, "PullDP: failed to download PS100001"));
            assert_true(tda_has_line(rep, "from PS1DP9.CONTOSO.COM"));
            assert_true(tda_has_line(rep, "Connection refused"));
            assert_true(tda_has_line(rep, "PullDP: downloaded PS100001"));
            assert_true(tda_has_line(rep, "from " HOST_A));
        }
        dpf__agent_reply__free_unpacked(rep, NULL);
    }
    Dpf__AgentReply *rep = install(HOST_B, "PS100001", "1", g.pkg1, g.n1, 1);
    dpf__agent_reply__free_unpacked(rep, NULL);
    downloads_match(base_b, "PS100001", g.pkg1, g.n1);
    assert_int_equal(filelib_count(HOST_B), 5);

    /* nobody holds it: every source named, with its reason */
    creq c;
    creq_init(&c, DPF_STEP_CONTENT_PULL, HOST_B);
    tda_req_param(&c.r, "package_id", "PS100009");
    tda_req_param(&c.r, "sources", sources);
    char sha[65];
    sha_hex("nowhere\n", 8, sha);
    creq_file(&c, "a/b.bin", sha, 8);
    rep = send_req(&c, 0);
    char want[512];
    snprintf(want, sizeof want, "no source DP holds PS100009 file a/b.bin (sha %.16s...): "
             "PS1DP9.CONTOSO.COM: cannot connect: Connection refused; " HOST_A ": HTTP 404", sha);
    assert_string_equal(rep->error, want);
    dpf__agent_reply__free_unpacked(rep, NULL);

    /* a source sending other bytes than the hash says: refused, not stored */
    sha_hex("TOP LEVEL FILE\n", 15, sha);
    creq_init(&c, DPF_STEP_CONTENT_PULL, HOST_B);
    tda_req_param(&c.r, "package_id", "PS100001");
    snprintf(sources, sizeof sources, HOST_A "=%s", base_a);
    tda_req_param(&c.r, "sources", sources);
    creq_file(&c, "top.txt", sha, 15);
    rep = send_req(&c, 0);
    assert_non_null(strstr(rep->error, HOST_A ": SHA-256 mismatch"));
    dpf__agent_reply__free_unpacked(rep, NULL);
    assert_false(filelib_has(HOST_B, sha));
    char partial[2048], rel[256];
    snprintf(rel, sizeof rel, "SCCMContentLib$/FileLib/.partial/%s", sha);
    host_path(HOST_B, rel, partial, sizeof partial);
    assert_false(dpa_fs_is_file(partial));
}

static void remove_keeps_shared_file(void **state)
{
    (void)state;
    char base[128];
    content_url_of(HOST_A, base, sizeof base);
    tfile p2[2];
    tfile_set(&p2[0], "shared/same.bin", g.pkg1[3].data, g.pkg1[3].len);
    tfile_set(&p2[1], "own.txt", "PS100002 only\n", 14);

    /* the shared file is already held: only own.txt has to travel */
    creq c;
    creq_init(&c, DPF_STEP_CONTENT_HAVE, HOST_A);
    creq_file(&c, p2[0].path, p2[0].sha, (int64_t)p2[0].len);
    creq_file(&c, p2[1].path, p2[1].sha, (int64_t)p2[1].len);
    Dpf__AgentReply *rep = send_req(&c, 1);
    assert_int_equal(rep->content[0]->size, (int64_t)p2[0].len);
    assert_int_equal(rep->content[1]->size, 0);
    dpf__agent_reply__free_unpacked(rep, NULL);
    put_file(HOST_A, &p2[1]);
    rep = install(HOST_A, "PS100002", "1", p2, 2, 1);
    dpf__agent_reply__free_unpacked(rep, NULL);
    assert_int_equal(filelib_count(HOST_A), 6);

    creq_init(&c, DPF_STEP_CONTENT_REMOVE, HOST_A);
    tda_req_param(&c.r, "package_id", "PS100001");
    rep = send_req(&c, 1);
    assert_true(rep->changed);
    /* top, data, empty, spaced go; same.bin stays for PS100002 */
    assert_true(tda_has_line(rep, "Removed package PS100001; removed 4 files no other package "
                                  "uses"));
    dpf__agent_reply__free_unpacked(rep, NULL);
    assert_int_equal(filelib_count(HOST_A), 2);
    assert_true(filelib_has(HOST_A, p2[0].sha));
    assert_int_equal(http_code(base, "PS100001", "top.txt"), 404);
    assert_int_equal(http_code(base, "PS100001", "copy1/same.bin"), 404);
    downloads_match(base, "PS100002", p2, 2);
    rep = send_req(&c, 1); /* again: nothing to do */
    assert_false(rep->changed);
    dpf__agent_reply__free_unpacked(rep, NULL);

    /* bad input: a clear error, nothing changed */
    tfile bad = p2[1];
    bad.path = "../../etc/passwd";
    rep = install(HOST_A, "PS100003", "1", &bad, 1, 0);
    assert_non_null(strstr(rep->error, "'..'"));
    dpf__agent_reply__free_unpacked(rep, NULL);
    rep = install(HOST_A, "ps1/0003", "1", p2, 2, 0);
    assert_non_null(strstr(rep->error, "bad package id"));
    dpf__agent_reply__free_unpacked(rep, NULL);
    char pkgini[2048];
    host_path(HOST_A, "SCCMContentLib$/PkgLib/PS100003.INI", pkgini, sizeof pkgini);
    assert_false(dpa_fs_is_file(pkgini));
    rep = put_chunk(HOST_A, "../../../../tmp/x", 3, 0, "abc", 3, 0);
    assert_non_null(strstr(rep->error, "SHA-256"));
    dpf__agent_reply__free_unpacked(rep, NULL);
    downloads_match(base, "PS100002", p2, 2);
    for (int i = 0; i < 2; i++)
        free(p2[i].data);
}

/* ---- content validation ---- */

static Dpf__AgentReply *validate(const char *fqdn, const char *pkg, int want_ok)
{
    creq c;
    creq_init(&c, DPF_STEP_CONTENT_VALIDATE, fqdn);
    tda_req_param(&c.r, "package_id", pkg);
    return send_req(&c, want_ok);
}

/* Overwrites the FileLib copy of sha on fqdn with data (same length). */
static void corrupt_in_filelib(const char *fqdn, const char *sha, const char *data, size_t len)
{
    char rel[256], p[2048];
    snprintf(rel, sizeof rel, "SCCMContentLib$/FileLib/%.4s/%s", sha, sha);
    host_path(fqdn, rel, p, sizeof p);
    FILE *f = fopen(p, "r+");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void validate_finds_and_redistribution_repairs(void **state)
{
    (void)state;
    char base[128], want[512], rel[256], p[2048];
    content_url_of(HOST_B, base, sizeof base);
    int64_t total = 0;
    for (size_t i = 0; i < g.n1; i++)
        total += (int64_t)g.pkg1[i].len;

    Dpf__AgentReply *rep = validate(HOST_B, "PS100001", 1);
    assert_int_equal(rep->n_content, 0);
    assert_false(rep->changed);
    snprintf(want, sizeof want, "Verified package PS100001: 6 files, %lld bytes in ",
             (long long)total);
    assert_true(tda_has_line(rep, want));
    dpf__agent_reply__free_unpacked(rep, NULL);

    /* the disk corrupts top.txt (same length) and loses data.bin */
    const tfile *top = &g.pkg1[0], *data = &g.pkg1[1];
    corrupt_in_filelib(HOST_B, top->sha, "TOP LEVEL FILE\n", 15);
    snprintf(rel, sizeof rel, "SCCMContentLib$/FileLib/%.4s/%s", data->sha, data->sha);
    host_path(HOST_B, rel, p, sizeof p);
    assert_int_equal(unlink(p), 0);
    /* same size: before validation the host still counts it as held */
    creq c;
    creq_init(&c, DPF_STEP_CONTENT_HAVE, HOST_B);
    creq_file(&c, top->path, top->sha, (int64_t)top->len);
    rep = send_req(&c, 1);
    assert_int_equal(rep->content[0]->size, (int64_t)top->len);
    dpf__agent_reply__free_unpacked(rep, NULL);

    rep = validate(HOST_B, "PS100001", 1);
    assert_true(rep->changed);
    assert_int_equal(rep->n_content, 2);
    assert_string_equal(rep->content[0]->path, "top.txt");
    assert_string_equal(rep->content[0]->sha256, top->sha);
    assert_int_equal(rep->content[0]->size, 15);
    assert_string_equal(rep->content[1]->path, "dir/sub/deep/data.bin");
    assert_string_equal(rep->content[1]->sha256, data->sha);
    assert_int_equal(rep->content[1]->size, -1);
    char got[65];
    sha_hex("TOP LEVEL FILE\n", 15, got);
    snprintf(want, sizeof want, "Package PS100001: file top.txt is corrupt: SHA-256 %.16s... "
             "instead of %.16s...", got, top->sha);
    assert_true(tda_has_line(rep, want));
    assert_true(tda_has_line(rep, "Package PS100001: file dir/sub/deep/data.bin is missing "
                                  "from the content library"));
    assert_true(tda_has_line(rep, "Package PS100001 version 1 failed validation: 2 of 6 files"));
    dpf__agent_reply__free_unpacked(rep, NULL);

    /* a corrupt file is never served as if fine, and is no longer held */
    assert_int_equal(http_code(base, "PS100001", "top.txt"), 404);
    assert_int_equal(http_code(base, "PS100001", "dir/sub/deep/data.bin"), 404);
    assert_int_equal(http_code(base, "PS100001", "copy1/same.bin"), 200);
    creq_init(&c, DPF_STEP_CONTENT_HAVE, HOST_B);
    creq_file(&c, top->path, top->sha, (int64_t)top->len);
    creq_file(&c, data->path, data->sha, (int64_t)data->len);
    rep = send_req(&c, 1);
    assert_int_equal(rep->content[0]->size, 0);
    assert_int_equal(rep->content[1]->size, 0);
    dpf__agent_reply__free_unpacked(rep, NULL);

    /* the redistribution: both sent again, validation passes */
    put_file(HOST_B, top);
    put_file(HOST_B, data);
    rep = validate(HOST_B, "PS100001", 1);
    assert_int_equal(rep->n_content, 0);
    snprintf(want, sizeof want, "Verified package PS100001: 6 files, %lld bytes in ",
             (long long)total);
    assert_true(tda_has_line(rep, want));
    dpf__agent_reply__free_unpacked(rep, NULL);
    downloads_match(base, "PS100001", g.pkg1, g.n1);

    /* not held, bad id, no id: clear refusals */
    rep = validate(HOST_B, "PS100009", 0);
    assert_string_equal(rep->error, "package PS100009 is not on this DP (" HOST_B ")");
    dpf__agent_reply__free_unpacked(rep, NULL);
    rep = validate(HOST_B, "ps1/0001", 0);
    assert_non_null(strstr(rep->error, "bad package id"));
    dpf__agent_reply__free_unpacked(rep, NULL);
    creq_init(&c, DPF_STEP_CONTENT_VALIDATE, HOST_B);
    rep = send_req(&c, 0);
    assert_non_null(strstr(rep->error, "needs the parameter package_id"));
    dpf__agent_reply__free_unpacked(rep, NULL);
}

/* ---- the big file ---- */

#define BIG_SIZE (300LL * 1024 * 1024)

/* Deterministic bytes of the 300 MiB file at [off, off + len). */
static void big_chunk(int64_t off, unsigned char *buf, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t x = (uint64_t)(off + (int64_t)i) * 0x9E3779B97F4A7C15ull;
        x ^= x >> 29;
        memcpy(buf + i, &x, len - i < 8 ? len - i : 8);
    }
}

static void start_agent_c(void)
{
    g.agent_c = tda_agent_start(g.nats_url, g.root, HOST_C, NULL);
    assert_int_equal(tda_wait_ready(g.bus, HOST_C, 15000), 0);
}

/* Thread: content_validate of the big package (no cmocka asserts here). */
static void *validate_big(void *arg)
{
    creq c;
    creq_init(&c, DPF_STEP_CONTENT_VALIDATE, HOST_C);
    tda_req_param(&c.r, "package_id", "PS10000A");
    *(Dpf__AgentReply **)arg = tda_call(g.bus, &c.r, CORR, 300000, NULL);
    return NULL;
}

static void big_file_keeps_memory_bounded(void **state)
{
    (void)state;
    unsigned char *buf = malloc(DPF_CONTENT_CHUNK_MAX);
    char sha[65];
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (int64_t off = 0; off < BIG_SIZE; off += DPF_CONTENT_CHUNK_MAX) {
        big_chunk(off, buf, DPF_CONTENT_CHUNK_MAX);
        EVP_DigestUpdate(ctx, buf, DPF_CONTENT_CHUNK_MAX);
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++)
        snprintf(sha + 2 * i, 3, "%02x", md[i]);

    start_agent_c();
    step_ok(HOST_C, DPF_STEP_CREATE_SHARES);
    step_ok(HOST_C, DPF_STEP_ENABLE_HTTP);
    step_ok(HOST_C, DPF_STEP_CONFIGURE_VDIRS);

    const int64_t half = 100LL * 1024 * 1024;
    int64_t off = 0;
    for (; off < half; off += DPF_CONTENT_CHUNK_MAX) {
        big_chunk(off, buf, DPF_CONTENT_CHUNK_MAX);
        dpf__agent_reply__free_unpacked(put_chunk(HOST_C, sha, BIG_SIZE, off, buf,
                                                  DPF_CONTENT_CHUNK_MAX, 1), NULL);
    }
    long hwm_first = vm_hwm_kb(g.agent_c);
    /* the agent dies half way; a new one resumes where the partial ends */
    kill(g.agent_c, SIGKILL);
    waitpid(g.agent_c, NULL, 0);
    start_agent_c();
    creq c;
    creq_init(&c, DPF_STEP_CONTENT_HAVE, HOST_C);
    creq_file(&c, "big/image.wim", sha, BIG_SIZE);
    Dpf__AgentReply *rep = send_req(&c, 1);
    assert_int_equal(rep->content[0]->size, half);
    dpf__agent_reply__free_unpacked(rep, NULL);
    rep = put_chunk(HOST_C, sha, BIG_SIZE, half + DPF_CONTENT_CHUNK_MAX, buf, 16, 0);
    char want[128];
    snprintf(want, sizeof want, "holds %lld bytes", (long long)half);
    assert_non_null(strstr(rep->error, want));
    dpf__agent_reply__free_unpacked(rep, NULL);

    for (; off < BIG_SIZE; off += DPF_CONTENT_CHUNK_MAX) {
        big_chunk(off, buf, DPF_CONTENT_CHUNK_MAX);
        rep = put_chunk(HOST_C, sha, BIG_SIZE, off, buf, DPF_CONTENT_CHUNK_MAX, 1);
        assert_int_equal(rep->content[0]->size, off + DPF_CONTENT_CHUNK_MAX);
        if (off + DPF_CONTENT_CHUNK_MAX == BIG_SIZE)
            assert_true(tda_has_line(rep, "Stored file"));
        dpf__agent_reply__free_unpacked(rep, NULL);
    }
    free(buf);
    tfile big = {"big/image.wim", NULL, (size_t)BIG_SIZE, ""};
    memcpy(big.sha, sha, sizeof sha);
    rep = install(HOST_C, "PS10000A", "1", &big, 1, 1);
    char base[128];
    snprintf(base, sizeof base, "%s", rep->content_url);
    dpf__agent_reply__free_unpacked(rep, NULL);
    /* validation and a download at once: the content server keeps serving */
    pthread_t th;
    Dpf__AgentReply *val = NULL;
    int64_t t0 = dpf_mono_us();
    assert_int_equal(pthread_create(&th, NULL, validate_big, &val), 0);
    downloads_match(base, "PS10000A", &big, 1);
    int64_t t_get = dpf_mono_us() - t0;
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_non_null(val);
    if (!val->ok)
        fail_msg("content_validate of PS10000A: %s", val->error);
    fprintf(stderr, "content_validate of 300 MiB: %lld ms; the download beside it: %lld ms\n",
            (long long)val->duration_us / 1000, (long long)t_get / 1000);
    assert_int_equal(val->n_content, 0);
    assert_true(tda_has_line(val, "Verified package PS10000A: 1 files, 314572800 bytes in "));
    dpf__agent_reply__free_unpacked(val, NULL);

    long hwm = vm_hwm_kb(g.agent_c);
    fprintf(stderr, "dpagent VmHWM: %ld kB before the kill, %ld kB after resuming\n", hwm_first,
            hwm);
    assert_true(hwm_first > 0 && hwm > 0);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    assert_true(hwm_first < 50 * 1024);
    assert_true(hwm < 50 * 1024);
#else
    /* ASan keeps freed 512 KiB messages in its quarantine (256 MB): no bound */
    fprintf(stderr, "AddressSanitizer build: the 50 MB bound is not checked\n");
#endif
    assert_int_equal(tda_agent_stop(g.agent_c), 0);
    g.agent_c = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hosts_get_a_content_library),
        cmocka_unit_test(push_install_and_download),
        cmocka_unit_test(pull_dp_fetches_from_first_dp),
        cmocka_unit_test(remove_keeps_shared_file),
        cmocka_unit_test(validate_finds_and_redistribution_repairs),
        cmocka_unit_test(big_file_keeps_memory_bounded),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
