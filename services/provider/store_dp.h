/* The provider's SQL on the site control data: one function per statement,
 * every value a parameter. Callers run them inside their own transaction
 * (dp_create.c); nothing here begins or commits. Strings are borrowed. */
#ifndef PROV_STORE_DP_H
#define PROV_STORE_DP_H

#include <stddef.h>
#include <dpf/db.h>
#include <dpf/status.h>
#include "list_args.h"

/* The DP role's properties as stored (site_system_role_props). */
typedef struct prov_dp_props {
    const char *description;
    const char *drive;
    int is_pxe;
    int is_pull;
    int priority;
    int min_free_mb;
    int transfer_rate;
    int ssl_state;
    int validation_hours; /* ContentValidationIntervalHours */
} prov_dp_props;

/* Locks the site's site_control row (serialising admin changes per site) and
 * copies the site's name. DPF_ERR_NOT_FOUND if there is no such site. */
dpf_status prov_store_site_lock(dpf_db *db, const char *site, char *name, size_t len) DPF_MUSTCHECK;

/* The site of the DP role on server (upper-cased), DPF_ERR_NOT_FOUND if none. */
dpf_status prov_store_dp_site(dpf_db *db, const char *server, char *site, size_t len) DPF_MUSTCHECK;

/* DPF_OK if a removed DP (action 3) with this NAL path is still being
 * uninstalled, DPF_ERR_NOT_FOUND otherwise. */
dpf_status prov_store_dp_removing(dpf_db *db, const char *nal) DPF_MUSTCHECK;

/* Inserts a role row; *id receives its id. if_absent: an existing row
 * (site, role, NAL) is kept and *id is 0; otherwise it is DPF_ERR_CONFLICT. */
dpf_status prov_store_role_insert(dpf_db *db, const char *site, const char *role,
                                  const char *nal, const char *server, int if_absent,
                                  long long *id) DPF_MUSTCHECK;

/* Writes all nine DP role properties (insert or overwrite). */
dpf_status prov_store_props_write(dpf_db *db, long long role_id, const prov_dp_props *p) DPF_MUSTCHECK;

/* Inserts one pull-DP source of the role. */
dpf_status prov_store_pull_source_add(dpf_db *db, long long role_id, const char *server,
                                      int priority) DPF_MUSTCHECK;

/* The boundary group named name (case-insensitive), created in site if it
 * does not exist. *id its id, *created 1 if it was created now, canonical
 * (len bytes) its stored name. */
dpf_status prov_store_group_ensure(dpf_db *db, const char *name, const char *site, long long *id,
                                   int *created, char *canonical, size_t len) DPF_MUSTCHECK;

/* Adds the site system to the group; *added 0 if it was a member already. */
dpf_status prov_store_group_add_member(dpf_db *db, long long group_id, const char *nal,
                                       const char *server, int *added) DPF_MUSTCHECK;

/* One audit_log row. */
dpf_status prov_store_audit(dpf_db *db, const char *user, const char *app, const char *machine,
                            const char *action, const char *class_name, const char *object,
                            const char *corr) DPF_MUSTCHECK;

/* UPDATE site_control: its trigger writes the outbox row that wakes hman.
 * Exactly once per admin change. */
dpf_status prov_store_site_bump(dpf_db *db, const char *site) DPF_MUSTCHECK;

/* One DP as the API shows it (db/065_provider_reads.sql, dpf_dp_json):
 * *out (owned by the caller) has one row whose column 0 is the JSON text,
 * SQL NULL when no DP role is on server (matched case-insensitively). */
dpf_status prov_store_dp_show(dpf_db *db, const char *server, dpf_db_result **out) DPF_MUSTCHECK;

/* A page of DPs: up to f->limit + 1 rows in server name order, column 0
 * the server name, column 1 the DP's JSON text. *out owned by the caller. */
dpf_status prov_store_dp_page(dpf_db *db, const prov_dp_filter *f,
                              dpf_db_result **out) DPF_MUSTCHECK;

#endif
