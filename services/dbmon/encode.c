/* Turns an outbox row into the protobuf event its subject carries. This is
 * dbmon's one dispatch point: a table from subject prefix to encoder, one
 * small encoder per event kind. A new event kind is one encoder and one line
 * in the table. The inbox name each kind gets is the file the source would
 * have dropped (HMAN.box\PS1.SCU, distmgr.box\32.INS, distmgr.box\34.DPN), so
 * an administrator who knows the source's logs recognises the SND line. */
#include "dbmon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/dp.h>
#include <dpf/sitecontrol.h>
#include <dpf/util.h>
#include "dpfleet.pb-c.h"

typedef dpf_status (*encoder)(const dbmon_row *row, dbmon_event *ev, char *err, size_t errlen);

/* Packs any protobuf-c message into ev->data. */
static dpf_status pack(const ProtobufCMessage *m, dbmon_event *ev, char *err, size_t errlen)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    ev->data = malloc(n > 0 ? n : 1);
    if (ev->data == NULL) {
        dpf_fmt(err, errlen, "out of memory");
        return DPF_ERR_NOMEM;
    }
    ev->len = protobuf_c_message_pack(m, ev->data);
    return DPF_OK;
}

/* A DPID key must be a positive decimal number. */
static int parse_dpid(const char *key, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(key, &end, 10);
    if (*key == '\0' || *end != '\0' || errno == ERANGE || v <= 0)
        return 0;
    *out = v;
    return 1;
}

static dpf_status enc_sitecontrol(const dbmon_row *row, dbmon_event *ev, char *err, size_t errlen)
{
    if (!dpf_site_code_valid(row->object_key)) {
        dpf_fmt(err, errlen, "'%s' is not a site code", row->object_key);
        return DPF_ERR_INVALID;
    }
    Dpf__SiteControlChanged m = DPF__SITE_CONTROL_CHANGED__INIT;
    m.site_code = (char *)row->object_key;
    m.change_id = row->id;
    dpf_fmt(ev->inbox, sizeof ev->inbox, "hman.box/%s.SCU", row->object_key);
    return pack(&m.base, ev, err, errlen);
}

static dpf_status enc_dp_ins(const dbmon_row *row, dbmon_event *ev, char *err, size_t errlen)
{
    long long dpid;
    if (!parse_dpid(row->object_key, &dpid)) {
        dpf_fmt(err, errlen, "'%s' is not a DPID", row->object_key);
        return DPF_ERR_INVALID;
    }
    Dpf__DpInstall m = DPF__DP_INSTALL__INIT;
    m.dpid = dpid;
    m.change_id = row->id;
    m.reason = (char *)(row->reason[0] ? row->reason : "insert");
    dpf_fmt(ev->inbox, sizeof ev->inbox, "distmgr.box/%lld.INS", dpid);
    return pack(&m.base, ev, err, errlen);
}

static dpf_status enc_dp_dpn(const dbmon_row *row, dbmon_event *ev, char *err, size_t errlen)
{
    long long dpid;
    if (!parse_dpid(row->object_key, &dpid)) {
        dpf_fmt(err, errlen, "'%s' is not a DPID", row->object_key);
        return DPF_ERR_INVALID;
    }
    Dpf__DpNotification m = DPF__DP_NOTIFICATION__INIT;
    m.dpid = dpid;
    m.change_id = row->id;
    dpf_fmt(ev->inbox, sizeof ev->inbox, "distmgr.box/%lld.DPN", dpid);
    return pack(&m.base, ev, err, errlen);
}

static dpf_status enc_pkg_changed(const dbmon_row *row, dbmon_event *ev, char *err,
                                  size_t errlen)
{
    long long seq;
    if (!parse_dpid(row->object_key, &seq)) {
        dpf_fmt(err, errlen, "'%s' is not a package number", row->object_key);
        return DPF_ERR_INVALID;
    }
    Dpf__PackageChanged m = DPF__PACKAGE_CHANGED__INIT;
    m.seq = seq;
    m.change_id = row->id;
    m.reason = (char *)row->reason;
    dpf_fmt(ev->inbox, sizeof ev->inbox, "distmgr.box/%lld.PKG", seq);
    return pack(&m.base, ev, err, errlen);
}

/* dp.val.<dpid>: a content validation to run (issue 7), carried as a
 * DpNotification: the DPID and the change are all the handler needs. */
static dpf_status enc_dp_val(const dbmon_row *row, dbmon_event *ev, char *err, size_t errlen)
{
    long long dpid;
    if (!parse_dpid(row->object_key, &dpid)) {
        dpf_fmt(err, errlen, "'%s' is not a DPID", row->object_key);
        return DPF_ERR_INVALID;
    }
    Dpf__DpNotification m = DPF__DP_NOTIFICATION__INIT;
    m.dpid = dpid;
    m.change_id = row->id;
    dpf_fmt(ev->inbox, sizeof ev->inbox, "distmgr.box/%lld.VAL", dpid);
    return pack(&m.base, ev, err, errlen);
}

static const struct {
    const char *prefix; /* the subject is "<prefix>.<object_key>" */
    encoder fn;
} kinds[] = {
    {DPF_SUBJ_SITECONTROL, enc_sitecontrol},
    {DPF_SUBJ_DP_INS, enc_dp_ins},
    {DPF_SUBJ_DP_DPN, enc_dp_dpn},
    {DPF_SUBJ_PKG_CHANGED, enc_pkg_changed},
    {DPF_SUBJ_DP_VAL, enc_dp_val},
};

dpf_status dbmon_encode(const dbmon_row *row, dbmon_event *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    if (row == NULL || row->subject == NULL || row->object_key == NULL) {
        dpf_fmt(err, errlen, "empty outbox row");
        return DPF_ERR_INVALID;
    }
    dpf_fmt(ev->msg_id, sizeof ev->msg_id, "outbox-%lld", row->id);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t pl = strlen(kinds[i].prefix);
        if (strncmp(row->subject, kinds[i].prefix, pl) != 0 || row->subject[pl] != '.')
            continue;
        /* the subject must name exactly the row's key, or a consumer filtering
         * on dp.ins.<dpid> would act on the wrong DP */
        if (strcmp(row->subject + pl + 1, row->object_key) != 0) {
            dpf_fmt(err, errlen, "subject %s does not match key '%s'", row->subject,
                    row->object_key);
            return DPF_ERR_INVALID;
        }
        return kinds[i].fn(row, ev, err, errlen);
    }
    dpf_fmt(err, errlen, "no event is defined for subject '%s'", row->subject);
    return DPF_ERR_INVALID;
}

void dbmon_event_clear(dbmon_event *ev)
{
    if (ev == NULL)
        return;
    free(ev->data);
    ev->data = NULL;
    ev->len = 0;
}
