/* proto: every message of proto/dpfleet.proto survives pack/unpack, and bytes
 * that are not a message fail to unpack instead of crashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dpfleet.pb-c.h"

/* Packs m into a fresh buffer; *len gets its size. */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), *len);
    return buf;
}

static void test_site_control_changed(void **state)
{
    Dpf__SiteControlChanged in = DPF__SITE_CONTROL_CHANGED__INIT;
    in.site_code = "PS1";
    in.change_id = 1027921;
    size_t len;
    uint8_t *buf = pack(&in.base, &len);
    Dpf__SiteControlChanged *out = dpf__site_control_changed__unpack(NULL, len, buf);
    assert_non_null(out);
    assert_string_equal(out->site_code, "PS1");
    assert_int_equal(out->change_id, 1027921);
    dpf__site_control_changed__free_unpacked(out, NULL);
    free(buf);
}

static void test_dp_install_and_notification(void **state)
{
    Dpf__DpInstall in = DPF__DP_INSTALL__INIT;
    in.dpid = 32;
    in.change_id = -1; /* negative int64 survives too */
    in.reason = "reset";
    size_t len;
    uint8_t *buf = pack(&in.base, &len);
    Dpf__DpInstall *out = dpf__dp_install__unpack(NULL, len, buf);
    assert_non_null(out);
    assert_int_equal(out->dpid, 32);
    assert_int_equal(out->change_id, -1);
    assert_string_equal(out->reason, "reset");
    dpf__dp_install__free_unpacked(out, NULL);
    free(buf);

    Dpf__DpNotification n = DPF__DP_NOTIFICATION__INIT;
    n.dpid = 34;
    n.change_id = 99;
    buf = pack(&n.base, &len);
    Dpf__DpNotification *nout = dpf__dp_notification__unpack(NULL, len, buf);
    assert_non_null(nout);
    assert_int_equal(nout->dpid, 34);
    assert_int_equal(nout->change_id, 99);
    dpf__dp_notification__free_unpacked(nout, NULL);
    free(buf);
}

static void test_status_message(void **state)
{
    static const char nal[] =
        "[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\PS1DP1.CONTOSO.COM\\";
    char *istr[10] = {(char *)nal, "PS1DP1.CONTOSO.COM", "", "", "", "", "", "", "", ""};
    Dpf__StatusAttribute a = DPF__STATUS_ATTRIBUTE__INIT;
    a.id = 404;
    a.value = (char *)nal;
    Dpf__StatusAttribute *attrs[] = {&a};
    Dpf__StatusMessage in = DPF__STATUS_MESSAGE__INIT;
    in.id = 2399;
    in.severity = "I";
    in.level = "M";
    in.source = "SMS Server";
    in.component = "SMS_DISTRIBUTION_MANAGER";
    in.system = "PS1SITE.CONTOSO.COM";
    in.site = "PS1";
    in.pid = 1956;
    in.tid = 4788;
    in.time_ms = 1462991818062LL;
    in.n_istr = 10;
    in.istr = istr;
    in.n_attrs = 1;
    in.attrs = attrs;
    in.correlation_id = "c0ffee";
    in.record_id = 77;

    size_t len;
    uint8_t *buf = pack(&in.base, &len);
    Dpf__StatusMessage *out = dpf__status_message__unpack(NULL, len, buf);
    assert_non_null(out);
    assert_int_equal(out->id, 2399);
    assert_string_equal(out->severity, "I");
    assert_string_equal(out->level, "M");
    assert_string_equal(out->source, "SMS Server");
    assert_string_equal(out->component, "SMS_DISTRIBUTION_MANAGER");
    assert_string_equal(out->system, "PS1SITE.CONTOSO.COM");
    assert_string_equal(out->site, "PS1");
    assert_int_equal(out->pid, 1956);
    assert_int_equal(out->tid, 4788);
    assert_int_equal(out->time_ms, 1462991818062LL);
    assert_int_equal(out->n_istr, 10);
    assert_string_equal(out->istr[0], nal);
    assert_string_equal(out->istr[1], "PS1DP1.CONTOSO.COM");
    assert_string_equal(out->istr[9], "");
    assert_int_equal(out->n_attrs, 1);
    assert_int_equal(out->attrs[0]->id, 404);
    assert_string_equal(out->attrs[0]->value, nal);
    assert_string_equal(out->correlation_id, "c0ffee");
    assert_int_equal(out->record_id, 77);
    dpf__status_message__free_unpacked(out, NULL);
    free(buf);
}

static void test_agent_request(void **state)
{
    Dpf__KeyValue kv1 = DPF__KEY_VALUE__INIT, kv2 = DPF__KEY_VALUE__INIT;
    kv1.key = "pxe";
    kv1.value = "1";
    kv2.key = "sources";
    kv2.value = "PS1SYS.CONTOSO.COM:1,PS1SQL.CONTOSO.COM:2";
    Dpf__KeyValue *params[] = {&kv1, &kv2};
    static const uint8_t bin[] = {0x00, 0xff, 0x10, 0x00, 0x7f};
    Dpf__ComponentFile f = DPF__COMPONENT_FILE__INIT;
    f.name = "smsdpprov.so";
    f.data.data = (uint8_t *)bin;
    f.data.len = sizeof bin;
    Dpf__ComponentFile *files[] = {&f};
    Dpf__AgentRequest in = DPF__AGENT_REQUEST__INIT;
    in.step = "install_files";
    in.fqdn = "PS1DP1.CONTOSO.COM";
    in.dpid = 32;
    in.nal_path = "[\"Display=\\\\PS1DP1.CONTOSO.COM\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\PS1DP1.CONTOSO.COM\\";
    in.site_code = "PS1";
    in.n_params = 2;
    in.params = params;
    in.n_files = 1;
    in.files = files;
    in.manifest.data = (uint8_t *)"manifest";
    in.manifest.len = 8;
    in.signature.data = (uint8_t *)bin;
    in.signature.len = sizeof bin;

    size_t len;
    uint8_t *buf = pack(&in.base, &len);
    Dpf__AgentRequest *out = dpf__agent_request__unpack(NULL, len, buf);
    assert_non_null(out);
    assert_string_equal(out->step, "install_files");
    assert_string_equal(out->fqdn, "PS1DP1.CONTOSO.COM");
    assert_int_equal(out->dpid, 32);
    assert_string_equal(out->nal_path, in.nal_path);
    assert_string_equal(out->site_code, "PS1");
    assert_int_equal(out->n_params, 2);
    assert_string_equal(out->params[0]->key, "pxe");
    assert_string_equal(out->params[1]->value, "PS1SYS.CONTOSO.COM:1,PS1SQL.CONTOSO.COM:2");
    assert_int_equal(out->n_files, 1);
    assert_string_equal(out->files[0]->name, "smsdpprov.so");
    assert_int_equal(out->files[0]->data.len, sizeof bin);
    assert_memory_equal(out->files[0]->data.data, bin, sizeof bin);
    assert_int_equal(out->manifest.len, 8);
    assert_memory_equal(out->manifest.data, "manifest", 8);
    assert_memory_equal(out->signature.data, bin, sizeof bin);
    dpf__agent_request__free_unpacked(out, NULL);
    free(buf);
}

static void test_agent_reply(void **state)
{
    char *log[] = {"Created share SMS_DP$", "SMS_DP$ already exists"};
    Dpf__AgentReply in = DPF__AGENT_REPLY__INIT;
    in.ok = 1;
    in.step = "create_shares";
    in.fqdn = "PS1DP1.CONTOSO.COM";
    in.duration_us = 1234567;
    in.n_log = 2;
    in.log = log;
    in.error = "";
    in.changed = 1;
    size_t len;
    uint8_t *buf = pack(&in.base, &len);
    Dpf__AgentReply *out = dpf__agent_reply__unpack(NULL, len, buf);
    assert_non_null(out);
    assert_true(out->ok);
    assert_true(out->changed);
    assert_string_equal(out->step, "create_shares");
    assert_int_equal(out->duration_us, 1234567);
    assert_int_equal(out->n_log, 2);
    assert_string_equal(out->log[1], "SMS_DP$ already exists");
    assert_string_equal(out->error, "");
    dpf__agent_reply__free_unpacked(out, NULL);
    free(buf);

    /* an empty message packs to nothing and unpacks to the defaults */
    Dpf__AgentReply empty = DPF__AGENT_REPLY__INIT;
    assert_int_equal(dpf__agent_reply__get_packed_size(&empty), 0);
    out = dpf__agent_reply__unpack(NULL, 0, (const uint8_t *)"");
    assert_non_null(out);
    assert_false(out->ok);
    assert_string_equal(out->step, "");
    dpf__agent_reply__free_unpacked(out, NULL);
}

static void test_garbage_fails(void **state)
{
    /* length-delimited field 1 claiming 255 bytes that are not there */
    static const uint8_t overlong[] = {0x0a, 0xff, 0x01, 'P', 'S'};
    /* a varint tag that never ends */
    static const uint8_t endless[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff};
    /* field number 0 is not allowed */
    static const uint8_t zero_tag[] = {0x00, 0x01};
    /* field 2 (int64) sent as a string: wrong wire type for a known field */
    static const uint8_t wrong_type[] = {0x12, 0x01, 'x'};

    assert_null(dpf__site_control_changed__unpack(NULL, sizeof overlong, overlong));
    assert_null(dpf__status_message__unpack(NULL, sizeof endless, endless));
    assert_null(dpf__dp_install__unpack(NULL, sizeof zero_tag, zero_tag));
    assert_null(dpf__dp_notification__unpack(NULL, sizeof wrong_type, wrong_type));

    /* a real message cut short in the middle of a string */
    Dpf__AgentRequest in = DPF__AGENT_REQUEST__INIT;
    in.step = "write_settings";
    in.fqdn = "PS1DP1.CONTOSO.COM";
    size_t len;
    uint8_t *buf = pack(&in.base, &len);
    for (size_t cut = 1; cut < len; cut++) {
        Dpf__AgentRequest *out = dpf__agent_request__unpack(NULL, cut, buf);
        /* every prefix either fails or is a shorter valid message: never a crash */
        if (out != NULL) {
            assert_true(strlen(out->fqdn) <= strlen(in.fqdn));
            dpf__agent_request__free_unpacked(out, NULL);
        }
    }
    assert_null(dpf__agent_request__unpack(NULL, len - 3, buf));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_site_control_changed),
        cmocka_unit_test(test_dp_install_and_notification),
        cmocka_unit_test(test_status_message),
        cmocka_unit_test(test_agent_request),
        cmocka_unit_test(test_agent_reply),
        cmocka_unit_test(test_garbage_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
