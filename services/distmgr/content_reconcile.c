/* The content half of the reconcile: packages whose rows say there is work
 * (an event lost, a job whose lease ran out after a crash, a retry that is
 * due, a DP that joined a boundary group the package was sent to) are
 * queued for the package transfer thread. */
#include "content_reconcile.h"

#include <dpf/log.h>

#include "store_pkg.h"

#define MAX_PER_PASS 1000

int dm_content_reconcile(const dm_ctx *ctx, dpf_db *db, dm_proc *transfer)
{
    long long seqs[MAX_PER_PASS];
    int n = 0, queued = 0;
    if (dm_store_pkg_needing_work(db, ctx->retry_delay_s, seqs, MAX_PER_PASS, &n) != DPF_OK) {
        DPF_WARN("Reconcile: cannot look for packages that need work: %s", dpf_db_error(db));
        return -1;
    }
    for (int i = 0; i < n; i++)
        queued += dm_proc_push_dpid(transfer, seqs[i], "reconcile", NULL);
    if (queued > 0)
        DPF_INFO("Reconcile: %d packages need the package transfer", queued);
    return queued;
}

int dm_content_reclaim(const dm_ctx *ctx, dpf_db *db)
{
    const char *p[] = {ctx->owner};
    dpf_db_result *r = NULL;
    /* a job token is "<replica>/<uuid>": compare the prefix, not a LIKE */
    dpf_status st = dpf_db_exec(
        db,
        "WITH a AS (UPDATE dp_packages SET lease_owner = NULL, lease_until = NULL "
        " WHERE left(lease_owner, length($1) + 1) = $1 || '/' RETURNING 1), "
        "b AS (UPDATE packages SET lease_owner = NULL, lease_until = NULL "
        " WHERE left(lease_owner, length($1) + 1) = $1 || '/' RETURNING 1) "
        "SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)",
        1, p, &r);
    long long n = st == DPF_OK ? dpf_db_result_int(r, 0, 0) : -1;
    dpf_db_result_free(r);
    if (st != DPF_OK)
        DPF_WARN("Cannot release this replica's content leases: %s", dpf_db_error(db));
    else if (n > 0)
        DPF_INFO("Replica %s held %lld content leases from before its restart; released them",
                 ctx->owner, n);
    return (int)n;
}
