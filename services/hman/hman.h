/* hman's private interface (SMS_HIERARCHY_MANAGER): the site snapshot, the
 * pure decisions on it, the store and the processing of one site control
 * change, split so tests can drive each without the bus.
 *
 * Processing a site (process.c), in ONE transaction:
 *   lock site_control row -> (change already covered by a later pass? 3306,
 *   done) -> load snapshot (store_site.c) -> sync sys_res_list -> classify
 *   each DP (classify.c) -> insert / update / mark removed (dps.c,
 *   store_dp.c) -> record the pass (store_state.c) -> commit. By default any
 *   failure rolls the whole change back; with set_aside_failed a DP whose
 *   writes fail is rolled back alone (savepoint) and reported (3308). */
#ifndef HMAN_H
#define HMAN_H

#include <stddef.h>
#include <stdint.h>
#include <dpf/db.h>
#include <dpf/dp.h>

#include "index.h"

/* Status message of a DP set aside (HmanSetAsideFailedDPs): severity E,
 * ISTR0 change path, ISTR1 site, ISTR2 NAL path, ISTR3 reason, AID0 404. */
#define HMAN_MSG_DP_SET_ASIDE 3308

/* A site system role as the site control data holds it. For DP roles the
 * properties are filled from site_system_role_props (defaults where absent)
 * and the pull sources / boundary groups are canonical strings. All strings
 * owned by the snapshot. */
typedef struct hman_role {
    long long role_id;
    char *role_name;
    char *nal_path;
    char *server_name;       /* upper-cased, as in the NAL path */
    char *description;
    char *dp_drive;
    char *pull_sources;      /* canonical "FQDN:prio,..." */
    char *boundary_groups;   /* canonical "a,b" */
    int is_pxe, is_pull_dp, priority, min_free_space_mb, transfer_rate, ssl_state;
    int content_validation_hours; /* 0..DPF_DP_VALIDATION_HOURS_MAX, 0 = off */
    char crc[9];             /* DP roles: the CRC of the above, once loaded */
    struct hman_dp_row *dp;  /* DP roles: its DistributionPoints row, NULL if none (dps.c) */
} hman_role;

/* A distribution_points row of the site. Strings owned by the snapshot. */
typedef struct hman_dp_row {
    long long dpid;
    char *nal_path;
    char *server_name;
    char *identity_guid;
    char *dp_crc;
    int action;              /* 0 normal, 3 deleted (removal pending) */
    int is_pull_dp;
    int has_role;            /* a DP role names it (dps.c) */
} hman_dp_row;

/* A sys_res_list row: a role HMAN has already processed. */
typedef struct hman_sysres {
    char *role_name;
    char *nal_path;
    char *server_name;
} hman_sysres;

typedef struct hman_site {
    char site_code[8];
    char site_name[128];
    hman_role *roles;        /* every role of the site, DP or not */
    int nroles;
    hman_dp_row *dps;
    int ndps;
    hman_sysres *sysres;
    int nsysres;
    int cap_roles, cap_dps, cap_sysres; /* allocated lengths */
    /* lookups (site.c), built on first use, dropped when the array grows */
    hman_index *ix_roles, *ix_role_ids, *ix_dps, *ix_sysres;
    hman_role *last_by_id;   /* the last role found by id: its properties come in a row */
} hman_site;

/* site.c: the snapshot's memory. hman_site_destroy(NULL) is a no-op. */
dpf_status hman_site_create(const char *site_code, hman_site **out) DPF_MUSTCHECK;
void hman_site_destroy(hman_site *s);
/* Appends and returns a zeroed role / row / sysres entry (owned by s), or NULL
 * when out of memory. The strdup helpers store copies of the borrowed text. */
hman_role *hman_site_add_role(hman_site *s);
hman_dp_row *hman_site_add_dp(hman_site *s);
hman_sysres *hman_site_add_sysres(hman_site *s);
char *hman_strdup(const char *text); /* NULL -> "" copy */
/* Role / row / sysres by NAL path (and role name) or role id, NULL if
 * absent. Borrowed. Constant time once the site's index is built (on the
 * first lookup after the array last grew). */
hman_role *hman_site_role(hman_site *s, const char *role_name, const char *nal);
hman_role *hman_site_role_by_id(hman_site *s, long long role_id);
hman_dp_row *hman_site_dp(hman_site *s, const char *nal);
hman_sysres *hman_site_sysres(hman_site *s, const char *role_name, const char *nal);

/* classify.c: pure decisions. */
typedef enum hman_verdict {
    HMAN_DP_NEW,        /* DP role with no DistributionPoints row: insert it */
    HMAN_DP_CHANGED,    /* row with Action 0 whose DPCRC differs: update it */
    HMAN_DP_UNCHANGED,  /* same DPCRC: "Will not update", write nothing */
    HMAN_DP_REMOVING,   /* DP role while its row still has Action 3: wait for distmgr */
    HMAN_DP_REMOVED,    /* row with Action 0 and no DP role: Action 3 + DPNotification */
    HMAN_DP_GONE,       /* row with Action 3 and no role: already being removed, nothing */
} hman_verdict;

/* role and row may each be NULL (not both); new_crc is the role's CRC hex. */
hman_verdict hman_classify(const hman_role *role, const hman_dp_row *row, const char *new_crc);
const char *hman_verdict_name(hman_verdict v);

/* The CRC properties of a DP role (strings borrowed from role). */
void hman_role_props(const hman_role *role, const char *site_code, dpf_dp_props *p);
/* Upper-case hex CRC of the role's properties, as the source prints it. */
void hman_role_crc(const hman_role *role, const char *site_code, char out[9]);
/* The numeric properties' defaults (lib dp_props.h: Priority 200,
 * MinFreeSpace 50, content validation every 168 hours, the rest 0); the
 * strings are left alone. */
void hman_role_set_defaults(hman_role *role);
/* Sets one site_system_role_props value on a DP role (unknown names
 * ignored), as dpf_dp_prop_clamp holds it: ContentValidationIntervalHours
 * to 0..8760, the range distribution_points accepts, so a bad value written
 * to the site control by hand cannot make every change of the site fail. */
dpf_status hman_role_set_prop(hman_role *role, const char *name, const char *value1,
                              long long value3) DPF_MUSTCHECK;

/* Canonical pull sources: entries sorted by priority, then server name
 * (upper-cased), joined "FQDN:prio,FQDN:prio". *out malloc'd, owned by the
 * caller. servers/prios borrowed, n entries (0 -> ""). */
dpf_status hman_canon_sources(const char *const *servers, const int *prios, int n,
                              char **out) DPF_MUSTCHECK;
/* Canonical boundary groups: names sorted bytewise, duplicates dropped,
 * joined with ','. *out malloc'd, owned by the caller. */
dpf_status hman_canon_groups(const char *const *names, int n, char **out) DPF_MUSTCHECK;

/* cert.c: the self-signed certificate thumbprint of a DP: upper-case hex
 * SHA-1 of "<SERVER>|<IdentityGUID>", stable for the DP's identity. */
dpf_status hman_cert_thumbprint(const char *server, const char *guid, char out[41]) DPF_MUSTCHECK;

/* store_site.c: loads the site's snapshot. Call inside the transaction, after
 * hman_store_lock_site. *out owned by the caller. */
dpf_status hman_store_lock_site(dpf_db *db, const char *site_code, char *site_name,
                                size_t namelen, long long *serial) DPF_MUSTCHECK; /* NOT_FOUND: no such site */
/* Loads the site's DP roles (with their properties, pull sources and
 * boundary groups) and its DistributionPoints rows into s (SysResList is
 * not loaded: see below). */
dpf_status hman_store_load(dpf_db *db, hman_site *s) DPF_MUSTCHECK;
/* The site's roles (of every kind) missing from SysResList, ordered by
 * server, NAL path and role; columns role_name, nal_path, server_name. */
dpf_status hman_store_sysres_missing(dpf_db *db, const char *site,
                                     dpf_db_result **out) DPF_MUSTCHECK;
/* Deletes the site's SysResList entries whose role is gone; *out: the
 * deleted entries (role_name, nal_path, server_name). */
dpf_status hman_store_sysres_prune(dpf_db *db, const char *site,
                                   dpf_db_result **out) DPF_MUSTCHECK;
/* The server of a role as its NAL path names it (upper-cased; server,
 * upper-cased, when the NAL path names none). malloc'd, owned by the caller;
 * NULL when out of memory. */
char *hman_role_server(const char *nal, const char *server);

/* store_dp.c: the writes, one statement each. Strings borrowed. */
dpf_status hman_store_sysres_add(dpf_db *db, const char *site, const char *role_name,
                                 const char *nal, const char *server) DPF_MUSTCHECK;
dpf_status hman_store_dp_insert(dpf_db *db, const char *site, const hman_role *role,
                                const char *guid, const char *crc, long long *dpid) DPF_MUSTCHECK;
dpf_status hman_store_dp_update(dpf_db *db, long long dpid, const hman_role *role,
                                const char *crc) DPF_MUSTCHECK;
dpf_status hman_store_dp_remove(dpf_db *db, long long dpid) DPF_MUSTCHECK;
/* Records change_id as processed for site; DPF_ERR_CONFLICT if it already
 * was. Also forgets records older than a week. */
dpf_status hman_store_record_change(dpf_db *db, long long change_id,
                                    const char *site) DPF_MUSTCHECK;
dpf_status hman_store_add_package(dpf_db *db, long long dpid, const char *package_id) DPF_MUSTCHECK;
dpf_status hman_store_cert(dpf_db *db, const char *server, const char *guid, int cert_type,
                           const char *thumbprint) DPF_MUSTCHECK;
/* The default client packages (packages.client_setting not null), ordered by
 * package id. *out owned by the caller; columns package_id, client_setting. */
dpf_status hman_store_client_packages(dpf_db *db, dpf_db_result **out) DPF_MUSTCHECK;

/* store_state.c: the last pass over a site. covered: the highest outbox id
 * whose site control change that pass saw (every change of the site with an
 * id up to it was committed before the pass read the site); 0 when no pass
 * is recorded. Call after hman_store_lock_site. */
typedef struct hman_pass {
    long long serial;       /* site_control.serial the pass read */
    long long covered;      /* outbox ids up to this one are covered */
    long long change_id;    /* the change the pass ran for (0: none) */
    char roles[64];         /* the roles' fingerprint: "count:sum of ids" */
} hman_pass;
dpf_status hman_store_last_pass(dpf_db *db, const char *site, hman_pass *last) DPF_MUSTCHECK;
/* The outbox id high-water mark now: every outbox id handed out so far is
 * at most this (0 before the first). Read it after locking the site. */
dpf_status hman_store_outbox_mark(dpf_db *db, long long *mark) DPF_MUSTCHECK;
/* The fingerprint of the site's set of roles ("count:sum of ids"): it
 * changes whenever a role is added or removed. */
dpf_status hman_store_roles_fingerprint(dpf_db *db, const char *site, char out[64]) DPF_MUSTCHECK;
dpf_status hman_store_record_pass(dpf_db *db, const char *site,
                                  const hman_pass *pass) DPF_MUSTCHECK;

/* process.c */
typedef struct hman_opts {
    int set_aside_failed;   /* HmanSetAsideFailedDPs: 0 = the source's all-or-nothing */
} hman_opts;

typedef struct hman_result {
    char site_name[128];
    int inserted, updated, unchanged, removed, waiting;
    int sysres_added, sysres_removed;
    int set_aside;                    /* DPs whose writes failed and were set aside (3308) */
    int already;                      /* 1: this change id was processed before */
    int covered;                      /* 1: a pass after this change was written covered it */
    long long serial;                 /* site_control.serial processed */
    char failed_nal[DPF_NAL_MAX + 1]; /* the DP whose write failed, "" if none */
    char reason[512];                 /* why it failed, "" on success */
} hman_result;

/* Processes one site control change of site_code in one transaction (see
 * the top of this file). corr (borrowed, may be "") goes to the outbox rows
 * the change causes. DPF_OK: committed. DPF_ERR_NOT_FOUND: no such site
 * (permanent). Anything else: rolled back, res->failed_nal / res->reason say
 * which DP and why. res filled in every case. */
dpf_status hman_process_site(dpf_db *db, const char *site_code, const char *corr,
                             hman_result *res) DPF_MUSTCHECK;

/* The same for the change change_id (> 0, its outbox id), recorded in the
 * same transaction: a change already recorded is not processed again
 * (DPF_OK, res->already = 1, nothing written); a change covered by a pass
 * that read the site after it was written is recorded and gets its 3306
 * without a second pass (DPF_OK, res->covered = 1). change_id 0 behaves as
 * hman_process_site. */
dpf_status hman_process_change(dpf_db *db, const char *site_code, const char *corr,
                               long long change_id, hman_result *res) DPF_MUSTCHECK;
/* The same with options (opts borrowed; NULL = the defaults). */
dpf_status hman_process_change_opts(dpf_db *db, const char *site_code, const char *corr,
                                    long long change_id, const hman_opts *opts,
                                    hman_result *res) DPF_MUSTCHECK;

#endif
