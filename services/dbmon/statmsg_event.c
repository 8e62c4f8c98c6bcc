/* Outbox rows of status messages (subject statmsg.<site>.<component>.<id>,
 * written by dpf_statmsg_raise in the raiser's transaction): the event is
 * the status_messages row itself, read by id, as the Dpf__StatusMessage a
 * watcher decodes. Unlike the other kinds it needs the database, so it is not
 * in encode.c's table of pure encoders.
 *
 * The message id is the one the raiser would have used
 * ("statmsg-<record id>-<raised time ms>"), not "outbox-<id>": JetStream drops
 * a republish after a crash between publish and delete as a duplicate. The
 * row is read back column by column (ISTR and attributes as separate fields)
 * so nothing here parses SQL array or JSON text. */
#include "dbmon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dpf/statmsg.h>
#include <dpf/util.h>
#include "dpfleet.pb-c.h"

#define ISTRS 10

/* Columns: 0..9 the fixed fields, 10..19 ISTR0..9, then the attribute
 * count and (id, value) for each of the first DPF_STATMSG_MAX_ATTRS. */
static const char SQL_LOAD[] =
    "SELECT msg_id, severity, level, source, component, system, site_code, pid, tid,"
    " round(extract(epoch FROM raised_at) * 1000)::bigint,"
    " coalesce(istr[1], ''), coalesce(istr[2], ''), coalesce(istr[3], ''),"
    " coalesce(istr[4], ''), coalesce(istr[5], ''), coalesce(istr[6], ''),"
    " coalesce(istr[7], ''), coalesce(istr[8], ''), coalesce(istr[9], ''),"
    " coalesce(istr[10], ''), jsonb_array_length(attrs),"
    " coalesce((attrs->0->>'id')::bigint, 0), coalesce(attrs->0->>'value', ''),"
    " coalesce((attrs->1->>'id')::bigint, 0), coalesce(attrs->1->>'value', ''),"
    " coalesce((attrs->2->>'id')::bigint, 0), coalesce(attrs->2->>'value', ''),"
    " coalesce((attrs->3->>'id')::bigint, 0), coalesce(attrs->3->>'value', ''),"
    " correlation_id"
    " FROM status_messages WHERE id = $1::bigint";

enum { COL_ISTR = 10, COL_NATTRS = 20, COL_ATTR = 21, COL_CORR = 29 };

static int parse_record(const char *key, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(key, &end, 10);
    if (*key == '\0' || *end != '\0' || errno == ERANGE || v <= 0)
        return 0;
    *out = v;
    return 1;
}

dpf_status dbmon_encode_statmsg(dpf_db *db, const dbmon_row *row, dbmon_event *ev, char *err,
                                size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    long long record;
    if (!parse_record(row->object_key, &record)) {
        dpf_fmt(err, errlen, "'%s' is not a status message id", row->object_key);
        return DPF_ERR_INVALID;
    }
    char key[24];
    dpf_fmt(key, sizeof key, "%lld", record);
    const char *params[] = {key};
    dpf_db_result *r = NULL;
    dpf_status st = dpf_db_exec_row(db, SQL_LOAD, 1, params, &r);
    if (st == DPF_ERR_NOT_FOUND) {
        dpf_fmt(err, errlen, "status message %lld is not in status_messages", record);
        return DPF_ERR_INVALID;
    }
    if (st != DPF_OK) {
        dpf_fmt(err, errlen, "reading status message %lld failed: %s", record,
                dpf_db_error(db));
        return st;
    }

    /* every string below is borrowed from r, which outlives the packing */
    Dpf__StatusMessage pb = DPF__STATUS_MESSAGE__INIT;
    char *istr[ISTRS];
    Dpf__StatusAttribute attr_store[DPF_STATMSG_MAX_ATTRS];
    Dpf__StatusAttribute *attrs[DPF_STATMSG_MAX_ATTRS];
    pb.id = (uint32_t)dpf_db_result_int(r, 0, 0);
    pb.severity = (char *)dpf_db_result_get(r, 0, 1);
    pb.level = (char *)dpf_db_result_get(r, 0, 2);
    pb.source = (char *)dpf_db_result_get(r, 0, 3);
    pb.component = (char *)dpf_db_result_get(r, 0, 4);
    pb.system = (char *)dpf_db_result_get(r, 0, 5);
    pb.site = (char *)dpf_db_result_get(r, 0, 6);
    pb.pid = (uint32_t)dpf_db_result_int(r, 0, 7);
    pb.tid = (uint64_t)dpf_db_result_int(r, 0, 8);
    pb.time_ms = dpf_db_result_int(r, 0, 9);
    for (int i = 0; i < ISTRS; i++)
        istr[i] = (char *)dpf_db_result_get(r, 0, COL_ISTR + i);
    pb.n_istr = ISTRS;
    pb.istr = istr;
    long long nattrs = dpf_db_result_int(r, 0, COL_NATTRS);
    if (nattrs > DPF_STATMSG_MAX_ATTRS)
        nattrs = DPF_STATMSG_MAX_ATTRS;
    for (int i = 0; i < nattrs; i++) {
        dpf__status_attribute__init(&attr_store[i]);
        attr_store[i].id = (uint32_t)dpf_db_result_int(r, 0, COL_ATTR + 2 * i);
        attr_store[i].value = (char *)dpf_db_result_get(r, 0, COL_ATTR + 2 * i + 1);
        attrs[i] = &attr_store[i];
    }
    pb.n_attrs = nattrs > 0 ? (size_t)nattrs : 0;
    pb.attrs = attrs;
    pb.correlation_id = (char *)dpf_db_result_get(r, 0, COL_CORR);
    pb.record_id = record;

    /* the subject must be the one the row's own fields give, or a watcher
     * filtering on statmsg.PS1.*.3306 would get another message */
    char subject[256];
    dpf_statmsg_subject(pb.site, pb.component, (unsigned)pb.id, subject, sizeof subject);
    if (strcmp(subject, row->subject) != 0) {
        dpf_fmt(err, errlen, "subject %s does not match status message %lld (%s)",
                row->subject, record, subject);
        dpf_db_result_free(r);
        return DPF_ERR_INVALID;
    }
    dpf_statmsg_msg_id(record, pb.time_ms, ev->msg_id, sizeof ev->msg_id);
    ev->statmsg_id = pb.id;
    ev->statmsg_record = record;
    dpf_fmt(ev->inbox, sizeof ev->inbox, "status message %u", (unsigned)pb.id);
    size_t n = dpf__status_message__get_packed_size(&pb);
    ev->data = malloc(n > 0 ? n : 1);
    if (ev->data == NULL) {
        dpf_db_result_free(r);
        dpf_fmt(err, errlen, "out of memory");
        return DPF_ERR_NOMEM;
    }
    ev->len = dpf__status_message__pack(&pb, ev->data);
    dpf_db_result_free(r);
    return DPF_OK;
}
