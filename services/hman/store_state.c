/* What hman remembers about its last pass over each site, so that a burst
 * of site control changes costs one pass, not one per change.
 *
 * Why an outbox id tells whether a change is covered: the trigger that
 * writes a change's outbox row fires on the site's site_control row, which
 * the writer holds locked until it commits. A pass locks that row first and
 * then reads the outbox id sequence, so every site control change of the
 * site whose outbox id is at most that mark was committed before the pass
 * read the site: the pass saw it. A change with a higher id (or written
 * later) gets a pass of its own. */
#include "hman.h"

#include <dpf/util.h>

static const char SQL_LAST[] =
    "SELECT serial, covered_change_id, change_id, roles_fingerprint FROM hman_site_state "
    "WHERE site_code = $1";

static const char SQL_FINGERPRINT[] =
    "SELECT count(*) || ':' || coalesce(sum(id), 0) FROM site_system_roles WHERE site_code = $1";

/* pg_sequence_last_value is NULL until the first id is handed out */
static const char SQL_MARK[] =
    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('outbox', 'id')::regclass), 0)";

static const char SQL_RECORD[] =
    "INSERT INTO hman_site_state (site_code, serial, covered_change_id, change_id, "
    "                             roles_fingerprint) "
    "VALUES ($1, $2::bigint, $3::bigint, $4::bigint, $5) ON CONFLICT (site_code) DO UPDATE "
    "SET serial = EXCLUDED.serial, "
    "    covered_change_id = GREATEST(hman_site_state.covered_change_id, "
    "                                 EXCLUDED.covered_change_id), "
    "    change_id = EXCLUDED.change_id, roles_fingerprint = EXCLUDED.roles_fingerprint, "
    "    processed_at = now()";

dpf_status hman_store_last_pass(dpf_db *db, const char *site, hman_pass *last)
{
    const char *p[] = {site};
    dpf_db_result *r = NULL;
    *last = (hman_pass){0};
    dpf_status st = dpf_db_exec(db, SQL_LAST, 1, p, &r);
    if (st == DPF_OK && dpf_db_result_rows(r) == 1) {
        last->serial = dpf_db_result_int(r, 0, 0);
        last->covered = dpf_db_result_int(r, 0, 1);
        last->change_id = dpf_db_result_int(r, 0, 2);
        dpf_fmt(last->roles, sizeof last->roles, "%s", dpf_db_result_get(r, 0, 3));
    }
    dpf_db_result_free(r);
    return st;
}

dpf_status hman_store_outbox_mark(dpf_db *db, long long *mark)
{
    dpf_db_result *r = NULL;
    *mark = 0;
    dpf_status st = dpf_db_exec(db, SQL_MARK, 0, NULL, &r);
    if (st == DPF_OK && dpf_db_result_rows(r) == 1)
        *mark = dpf_db_result_int(r, 0, 0);
    dpf_db_result_free(r);
    return st;
}

dpf_status hman_store_record_pass(dpf_db *db, const char *site, const hman_pass *pass)
{
    char serial[24], covered[24], change[24];
    dpf_fmt(serial, sizeof serial, "%lld", pass->serial);
    dpf_fmt(covered, sizeof covered, "%lld", pass->covered);
    dpf_fmt(change, sizeof change, "%lld", pass->change_id);
    const char *p[] = {site, serial, covered, change, pass->roles};
    return dpf_db_exec(db, SQL_RECORD, 5, p, NULL);
}

dpf_status hman_store_roles_fingerprint(dpf_db *db, const char *site, char out[64])
{
    const char *p[] = {site};
    out[0] = '\0';
    return dpf_db_exec_text(db, SQL_FINGERPRINT, 1, p, out, 64);
}
