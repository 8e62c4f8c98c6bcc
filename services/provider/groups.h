/* Boundary group membership of a DP (source step 2), inside the caller's
 * transaction: groups are matched case-insensitively and created when
 * missing; each membership change is logged and audited. The lines that are
 * only true after COMMIT are logged by prov_groups_log_committed. */
#ifndef PROV_GROUPS_H
#define PROV_GROUPS_H

#include <stddef.h>
#include <dpf/db.h>
#include "provider.h"
#include "validate_dp.h"

#define PROV_GROUPS_TRACK 64

/* What changed, by stored group name, for the post-COMMIT lines. */
typedef struct prov_group_changes {
    char added[PROV_GROUPS_TRACK][PROV_GROUP_NAME_MAX + 1];
    size_t n_added;
    char removed[PROV_GROUPS_TRACK][PROV_GROUP_NAME_MAX + 1];
    size_t n_removed;
} prov_group_changes;

/* The DP identified by nal/server in site. All strings borrowed. */
typedef struct prov_group_target {
    const char *site;
    const char *nal;
    const char *server;
    const prov_user *user;
    const char *corr;
} prov_group_target;

/* Adds the DP to each of names (n of them). */
dpf_status prov_groups_add(dpf_db *db, const prov_group_target *t, const char *const *names,
                           size_t n, prov_group_changes *ch, prov_field_error *err) DPF_MUSTCHECK;

/* Makes names the DP's whole set of groups: leaves the others, joins the new. */
dpf_status prov_groups_set(dpf_db *db, const prov_group_target *t, const char *const *names,
                           size_t n, prov_group_changes *ch, prov_field_error *err) DPF_MUSTCHECK;

/* "Successfully added 1 servers to boundary group ..." and the Auditing lines. */
void prov_groups_log_committed(const prov_group_changes *ch, const char *user);

#endif
