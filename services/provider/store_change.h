/* SQL for changing and removing existing DPs and resetting a site (PATCH,
 * DELETE, POST .../reset), and for a DP's boundary group memberships. One
 * function per statement, run inside the caller's transaction. */
#ifndef PROV_STORE_CHANGE_H
#define PROV_STORE_CHANGE_H

#include <stddef.h>
#include <dpf/db.h>
#include <dpf/status.h>
#include "store_dp.h"
#include "validate_dp.h"

/* The DP role of server (case-insensitive): its id, site (len 8) and NAL
 * path (len DPF_NAL_MAX). DPF_ERR_NOT_FOUND if there is none. */
dpf_status prov_store_dp_role(dpf_db *db, const char *server, long long *role_id, char *site,
                              char *nal) DPF_MUSTCHECK;

/* The nine properties as stored, into *p with its strings in the buffers. */
typedef struct prov_dp_props_buf {
    prov_dp_props p;
    char description[PROV_DESC_MAX + 1];
    char drive[8];
} prov_dp_props_buf;
dpf_status prov_store_props_read(dpf_db *db, long long role_id, prov_dp_props_buf *out) DPF_MUSTCHECK;

/* Removes every pull source of the role. */
dpf_status prov_store_pull_sources_clear(dpf_db *db, long long role_id) DPF_MUSTCHECK;

/* The first DP (server name into buf) that has server as a pull source;
 * DPF_ERR_NOT_FOUND if none. */
dpf_status prov_store_dp_sourced_by(dpf_db *db, const char *server, char *buf, size_t len) DPF_MUSTCHECK;

/* Whether the pull-source chain starting at source leads back to self
 * (both upper-cased): DPF_OK if it does, with via (len bytes) the DP that
 * pulls from self directly on that chain; DPF_ERR_NOT_FOUND if it does not. */
dpf_status prov_store_pull_chain_reaches(dpf_db *db, const char *source, const char *self,
                                         char *via, size_t len) DPF_MUSTCHECK;

/* Groups the NAL path is a member of: columns id, name. *out owned by caller. */
dpf_status prov_store_dp_groups(dpf_db *db, const char *nal, dpf_db_result **out) DPF_MUSTCHECK;
dpf_status prov_store_group_remove_member(dpf_db *db, long long group_id, const char *nal) DPF_MUSTCHECK;

/* Deletes the role row (its props and sources go with it) and every
 * boundary group membership of nal. */
dpf_status prov_store_role_delete(dpf_db *db, long long role_id) DPF_MUSTCHECK;
dpf_status prov_store_members_delete(dpf_db *db, const char *nal) DPF_MUSTCHECK;

/* Site reset: every DP of the site with action 0 back to 'Pending' (the
 * trigger turns each into a dp.ins event). *count receives how many. */
dpf_status prov_store_site_reset(dpf_db *db, const char *site, long long *count) DPF_MUSTCHECK;

#endif
