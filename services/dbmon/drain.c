/* One drain step: claim a batch of outbox rows, publish each in id order,
 * delete what was published, commit. The RCV/SND lines are the source's
 * SMSDBMON lines ("RCV: UPDATE on SiteControl for SiteControl_AddUpd_HMAN
 * [PS1 ][1027921]"); we publish instead of dropping an inbox file, and keep
 * the file's name in the SND line so the source's vocabulary still greps.
 *
 * Publishing happens inside the claim transaction: if dbmon dies between a
 * publish and the commit, the rows are still there on restart and are
 * published again with the same message id, which JetStream drops as a
 * duplicate. A row that can never become an event is deleted and reported
 * (9901, raised in the same transaction as the delete) rather than left to
 * block every row behind it.
 *
 * Status message rows (statmsg.<site>.<component>.<id>) are published the
 * same way, in the same order, to the DPF_STATMSG stream that owns their
 * subjects; their SND line says "Published" (no inbox file stands behind
 * them) and names the status message. */
#include "dbmon.h"

#include <stdlib.h>
#include <string.h>

#include <dpf/log.h>
#include <dpf/statmsg.h>
#include <dpf/util.h>

typedef struct bad_row {
    int index;        /* into the claim result */
    char reason[256];
    char corr[64];    /* the row's, or the one minted for it */
} bad_row;

/* Raises 9901 for a row that was dropped, in the drain's transaction: the
 * report commits with the delete, or neither does. */
static dpf_status report_bad(dpf_bus *bus, dpf_db *db, const char *site, const dbmon_row *row,
                             const char *reason)
{
    dpf_log_set_corr(row->corr);
    dpf_statmsg m = {0};
    m.id = DPF_MSG_BAD_MESSAGE;
    m.severity = 'E';
    m.level = 'M';
    m.site = site;
    m.istr[0] = row->subject;
    m.istr[1] = reason;
    dpf_status st = dpf_statmsg_raise(bus, db, &m);
    if (st != DPF_OK)
        DPF_WARN("Could not raise status message 9901 for change [%lld]", row->id);
    return st;
}

static int is_statmsg(const dbmon_row *row)
{
    return strncmp(row->subject, DBMON_STATMSG_PREFIX, strlen(DBMON_STATMSG_PREFIX)) == 0;
}

dpf_status dbmon_drain_once(dpf_db *db, dpf_bus *bus, int limit, const char *site,
                            dbmon_drain_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    if (limit < 1 || limit > DBMON_BATCH_MAX)
        limit = DBMON_BATCH_MAX;

    int64_t t0 = dpf_mono_us();
    dpf_db_result *r = NULL;
    long long *done = NULL, *pub = NULL;
    bad_row *bad = NULL;
    int ndone = 0, nbad = 0, npub = 0;
    dpf_status pub_st = DPF_OK;

    dpf_status st = dpf_db_begin(db);
    if (st != DPF_OK) {
        DPF_ERROR("Cannot start the outbox transaction: %s", dpf_db_error(db));
        return st;
    }
    st = dbmon_store_claim(db, limit, &r);
    if (st != DPF_OK) {
        DPF_ERROR("Cannot read the outbox: %s", dpf_db_error(db));
        goto cleanup;
    }
    int n = dpf_db_result_rows(r);
    stats->claimed = n;
    if (n == 0)
        goto cleanup; /* idle: no line at all */

    done = calloc((size_t)n, sizeof *done);
    bad = calloc((size_t)n, sizeof *bad);
    pub = calloc((size_t)n, sizeof *pub);
    if (done == NULL || bad == NULL || pub == NULL) {
        st = DPF_ERR_NOMEM;
        goto cleanup;
    }

    for (int i = 0; i < n; i++) {
        dbmon_row row;
        dbmon_event ev;
        char why[256];
        char minted[40];
        dbmon_store_row(r, i, &row);
        int sm = is_statmsg(&row);
        if (row.corr[0] == '\0' && !sm) {
            /* a change made outside the API (psql, a migration): give it an
             * id here so hman's and distmgr's lines for it still go together */
            dpf_uuid(minted);
            row.corr = minted;
        }
        dpf_log_set_corr(row.corr);
        DPF_INFO("RCV: %s on %s for %s [%s ][%lld]", row.operation, row.table_name,
                 row.trigger_name, row.object_key, row.id);

        dpf_status enc = sm ? dbmon_encode_statmsg(db, &row, &ev, why, sizeof why)
                            : dbmon_encode(&row, &ev, why, sizeof why);
        if (sm && enc != DPF_OK && enc != DPF_ERR_INVALID) {
            /* the database failed us, the row is fine: it stays */
            DPF_ERROR("Change [%lld] on %s: %s", row.id, row.subject, why);
            dbmon_event_clear(&ev);
            st = enc;
            goto cleanup;
        }
        if (enc != DPF_OK) {
            DPF_ERROR("Change [%lld] on %s cannot become an event: %s. Dropped; see status "
                      "message 9901", row.id, row.subject, why);
            dbmon_event_clear(&ev);
            bad[nbad].index = i;
            dpf_fmt(bad[nbad].reason, sizeof bad[nbad].reason, "%s", why);
            dpf_fmt(bad[nbad].corr, sizeof bad[nbad].corr, "%s", row.corr);
            nbad++;
            done[ndone++] = row.id;
            continue;
        }
        pub_st = dpf_bus_publish(bus, row.subject, ev.data, ev.len, ev.msg_id, row.corr);
        dbmon_event_clear(&ev);
        if (pub_st != DPF_OK) {
            DPF_WARN("SND: Failed to publish %s [%lld]: %s. It stays in the outbox and will "
                     "be sent again", row.subject, row.id, dpf_status_text(pub_st));
            break;
        }
        if (sm)
            DPF_INFO("SND: Published %s (status message %u, record %lld) [%lld]", row.subject,
                     ev.statmsg_id, ev.statmsg_record, row.id);
        else
            DPF_INFO("SND: Dropped %s (%s) [%lld]", row.subject, ev.inbox, row.id);
        done[ndone++] = row.id;
        pub[npub++] = row.id;
    }
    dpf_log_set_corr(NULL);

    for (int b = 0; b < nbad && st == DPF_OK; b++) {
        dbmon_row row;
        dbmon_store_row(r, bad[b].index, &row);
        row.corr = bad[b].corr;
        st = report_bad(bus, db, site, &row, bad[b].reason);
    }
    dpf_log_set_corr(NULL);
    if (st == DPF_OK) /* the timeline's rows, from the outbox rows before they go */
        st = dbmon_store_trace(db, pub, npub);
    if (st == DPF_OK)
        st = dbmon_store_delete(db, done, ndone);
    if (st == DPF_OK)
        st = dpf_db_commit(db);
    if (st != DPF_OK) {
        DPF_ERROR("Cannot remove %d sent changes from the outbox: %s. They will be sent again "
                  "and dropped as duplicates", ndone, dpf_db_error(db));
        goto cleanup;
    }
    stats->published = ndone - nbad;
    stats->dropped = nbad;
    DPF_DEBUG("Outbox batch: %d claimed, %d published, %d dropped in %.2f ms", n,
              stats->published, stats->dropped, (double)(dpf_mono_us() - t0) / 1000.0);

cleanup:
    if (st != DPF_OK || stats->claimed == 0)
        dpf_db_rollback(db);
    dpf_log_set_corr(NULL);
    dpf_db_result_free(r);
    free(done);
    free(pub);
    free(bad);
    if (st != DPF_OK)
        return st;
    stats->bus_failed = pub_st != DPF_OK;
    return pub_st;
}
