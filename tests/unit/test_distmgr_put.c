/* distmgr's content_put request (content_agent.c, dm_cagent_pack_put): the
 * chunk is read straight into the request buffer after the other fields,
 * and what the agent unpacks is the request it would get from a plain
 * pack: step, DP, offset, parameters and exactly the chunk's bytes; the
 * buffer is reused for the next chunk, and a chunk that cannot be read
 * stops the step with the reader's reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dpf/agent.h>

#include "content_agent.h"

typedef struct pattern {
    unsigned seed;
    int calls;
} pattern;

static uint8_t byte_at(unsigned seed, size_t i) { return (uint8_t)((i * 131u + seed) & 0xff); }

static dpf_status fill_pattern(void *arg, uint8_t *dst, size_t n, char *reason, size_t len)
{
    (void)reason;
    (void)len;
    pattern *p = arg;
    p->calls++;
    for (size_t i = 0; i < n; i++)
        dst[i] = byte_at(p->seed, i);
    return DPF_OK;
}

static dpf_status fill_fails(void *arg, uint8_t *dst, size_t n, char *reason, size_t len)
{
    (void)arg;
    (void)dst;
    (void)n;
    snprintf(reason, len, "cannot read abc at 42: short file");
    return DPF_ERR_IO;
}

static void request(Dpf__AgentRequest *req, Dpf__KeyValue *kv, Dpf__KeyValue **kvp,
                    long long offset)
{
    dpf__agent_request__init(req);
    dpf__key_value__init(&kv[0]);
    dpf__key_value__init(&kv[1]);
    kv[0].key = "sha256";
    kv[0].value = "ab12";
    kv[1].key = "size";
    kv[1].value = "1048576";
    kvp[0] = &kv[0];
    kvp[1] = &kv[1];
    req->step = DPF_STEP_CONTENT_PUT;
    req->fqdn = "PS1DP2.CONTOSO.COM";
    req->dpid = 32;
    req->nal_path = "[\"Display=\\\\PS1DP2\"]";
    req->site_code = "PS1";
    req->n_params = 2;
    req->params = kvp;
    req->offset = offset;
}

/* Unpacks buf and checks it is req with the chunk of pattern seed, n bytes. */
static void expect_request(const uint8_t *buf, size_t len, long long offset, unsigned seed,
                           size_t n)
{
    Dpf__AgentRequest *got = dpf__agent_request__unpack(NULL, len, buf);
    assert_non_null(got);
    assert_string_equal(got->step, DPF_STEP_CONTENT_PUT);
    assert_string_equal(got->fqdn, "PS1DP2.CONTOSO.COM");
    assert_int_equal(got->dpid, 32);
    assert_string_equal(got->site_code, "PS1");
    assert_int_equal(got->offset, offset);
    assert_int_equal(got->n_params, 2);
    assert_string_equal(got->params[1]->key, "size");
    assert_string_equal(got->params[1]->value, "1048576");
    assert_int_equal(got->chunk.len, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += got->chunk.data[i] != byte_at(seed, i);
    assert_int_equal(bad, 0);
    dpf__agent_request__free_unpacked(got, NULL);
}

static void test_chunk_in_place(void **state)
{
    (void)state;
    Dpf__AgentRequest req;
    Dpf__KeyValue kv[2];
    Dpf__KeyValue *kvp[2];
    dm_cagent_buf b = {0};
    char reason[128] = "";
    size_t len = 0;

    request(&req, kv, kvp, 524288);
    pattern p = {7, 0};
    assert_int_equal(dm_cagent_pack_put(&req, DPF_CONTENT_CHUNK_MAX, fill_pattern, &p, &b, &len,
                                        reason, sizeof reason), DPF_OK);
    assert_int_equal(p.calls, 1);
    /* the same size as a plain pack of the whole request */
    Dpf__AgentRequest whole = req;
    uint8_t *plain = malloc(DPF_CONTENT_CHUNK_MAX);
    assert_non_null(plain);
    for (size_t i = 0; i < DPF_CONTENT_CHUNK_MAX; i++)
        plain[i] = byte_at(7, i);
    whole.chunk.data = plain;
    whole.chunk.len = DPF_CONTENT_CHUNK_MAX;
    assert_int_equal(len, dpf__agent_request__get_packed_size(&whole));
    free(plain);
    expect_request(b.data, len, 524288, 7, DPF_CONTENT_CHUNK_MAX);

    /* the next, shorter chunk (the end of the file) reuses the buffer */
    uint8_t *first = b.data;
    size_t cap = b.cap;
    request(&req, kv, kvp, 1048576 - 1000);
    p.seed = 99;
    assert_int_equal(dm_cagent_pack_put(&req, 1000, fill_pattern, &p, &b, &len, reason,
                                        sizeof reason), DPF_OK);
    assert_ptr_equal(b.data, first);
    assert_int_equal(b.cap, cap);
    expect_request(b.data, len, 1048576 - 1000, 99, 1000);

    /* an empty chunk is a request without chunk bytes */
    assert_int_equal(dm_cagent_pack_put(&req, 0, fill_pattern, &p, &b, &len, reason,
                                        sizeof reason), DPF_OK);
    expect_request(b.data, len, 1048576 - 1000, 99, 0);
    dm_cagent_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
}

static void test_unreadable_chunk(void **state)
{
    (void)state;
    Dpf__AgentRequest req;
    Dpf__KeyValue kv[2];
    Dpf__KeyValue *kvp[2];
    dm_cagent_buf b = {0};
    char reason[128] = "";
    size_t len = 0;
    request(&req, kv, kvp, 42);
    assert_int_equal(dm_cagent_pack_put(&req, 4096, fill_fails, NULL, &b, &len, reason,
                                        sizeof reason), DPF_ERR_IO);
    assert_string_equal(reason, "cannot read abc at 42: short file");
    dm_cagent_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk_in_place),
        cmocka_unit_test(test_unreadable_chunk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
