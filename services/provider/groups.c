/* Boundary group membership. The source's log for step 2 is
 *   AddSiteSystem
 *   Adding site system <NAL> to the boundary group <name>
 *   Successfully added 1 servers to boundary group <name>
 *   Auditing: User <user> modified an instance of class SMS_BoundaryGroup.
 * and the removal mirrors it. */
#include "groups.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <dpf/log.h>

#include "change.h"
#include "store_change.h"
#include "store_dp.h"

static void remember(char list[][PROV_GROUP_NAME_MAX + 1], size_t *n, const char *name)
{
    if (*n < PROV_GROUPS_TRACK)
        snprintf(list[(*n)++], PROV_GROUP_NAME_MAX + 1, "%s", name);
}

static dpf_status audit_group(dpf_db *db, const prov_group_target *t, const char *action,
                              long long gid, const char *name, prov_field_error *err)
{
    char object[PROV_GROUP_NAME_MAX + 64];
    snprintf(object, sizeof object, "GroupID=%lld,Name=\"%s\"", gid, name);
    if (prov_store_audit(db, t->user->user, t->user->app, t->user->machine, action,
                         PROV_CLASS_GROUP, object, t->corr) != DPF_OK)
        return prov_change_db_fail(db, err, "writing the audit log");
    return DPF_OK;
}

static dpf_status join(dpf_db *db, const prov_group_target *t, const char *name,
                       prov_group_changes *ch, prov_field_error *err)
{
    long long gid = 0;
    int created = 0, added = 0;
    char stored[PROV_GROUP_NAME_MAX + 1];
    if (prov_store_group_ensure(db, name, t->site, &gid, &created, stored, sizeof stored) != DPF_OK)
        return prov_change_db_fail(db, err, "creating the boundary group");
    if (created) {
        DPF_INFO("Creating boundary group %s in site %s", stored, t->site);
        dpf_status st = audit_group(db, t, "created", gid, stored, err);
        if (st != DPF_OK)
            return st;
    }
    DPF_INFO("Adding site system %s to the boundary group %s", t->nal, stored);
    if (prov_store_group_add_member(db, gid, t->nal, t->server, &added) != DPF_OK)
        return prov_change_db_fail(db, err, "adding the DP to the boundary group");
    if (!added) /* a member already: nothing changed, nothing to audit */
        return DPF_OK;
    remember(ch->added, &ch->n_added, stored);
    return audit_group(db, t, "modified", gid, stored, err);
}

dpf_status prov_groups_add(dpf_db *db, const prov_group_target *t, const char *const *names,
                           size_t n, prov_group_changes *ch, prov_field_error *err)
{
    if (n > 0)
        DPF_INFO("AddSiteSystem");
    for (size_t i = 0; i < n; i++) {
        dpf_status st = join(db, t, names[i], ch, err);
        if (st != DPF_OK)
            return st;
    }
    return DPF_OK;
}

static int listed(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(names[i], name) == 0)
            return 1;
    }
    return 0;
}

dpf_status prov_groups_set(dpf_db *db, const prov_group_target *t, const char *const *names,
                           size_t n, prov_group_changes *ch, prov_field_error *err)
{
    dpf_db_result *cur = NULL;
    if (prov_store_dp_groups(db, t->nal, &cur) != DPF_OK)
        return prov_change_db_fail(db, err, "reading the DP's boundary groups");
    dpf_status st = DPF_OK;
    for (int i = 0; i < dpf_db_result_rows(cur) && st == DPF_OK; i++) {
        long long gid = dpf_db_result_int(cur, i, 0);
        const char *name = dpf_db_result_get(cur, i, 1);
        if (listed(names, n, name))
            continue;
        DPF_INFO("Removing site system %s from the boundary group %s", t->nal, name);
        if (prov_store_group_remove_member(db, gid, t->nal) != DPF_OK) {
            st = prov_change_db_fail(db, err, "removing the DP from the boundary group");
            break;
        }
        remember(ch->removed, &ch->n_removed, name);
        st = audit_group(db, t, "modified", gid, name, err);
    }
    dpf_db_result_free(cur);
    if (st != DPF_OK)
        return st;
    return prov_groups_add(db, t, names, n, ch, err);
}

void prov_groups_log_committed(const prov_group_changes *ch, const char *user)
{
    for (size_t i = 0; i < ch->n_removed; i++) {
        DPF_INFO("Successfully removed 1 servers from boundary group %s", ch->removed[i]);
        DPF_INFO("Auditing: User %s modified an instance of class %s.", user, PROV_CLASS_GROUP);
    }
    for (size_t i = 0; i < ch->n_added; i++) {
        DPF_INFO("Successfully added 1 servers to boundary group %s", ch->added[i]);
        DPF_INFO("Auditing: User %s modified an instance of class %s.", user, PROV_CLASS_GROUP);
    }
}
