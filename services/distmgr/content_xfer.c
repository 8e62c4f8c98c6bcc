/* One transfer job: one package version to (or off) one DP, from claim to
 * recorded outcome. A standard DP is pushed to: the agent says which files
 * (by hash) it holds whole or in part, the missing bytes are streamed to it
 * from the site content library in chunks (resuming a partial file where it
 * stopped), then the version is installed. A pull DP is told to fetch each
 * missing file from its source DPs by priority. The outcome and its status
 * message (2330, 2332, 2333, 8212, 2334) are written in one transaction,
 * conditioned on the job's token. */
#include "content_xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dpf/agent.h>
#include <dpf/log.h>
#include <dpf/metrics.h>
#include <dpf/trace.h>
#include <dpf/util.h>

#include "content.h"
#include "content_agent.h"
#include "content_lib.h"

/* Bytes per content_put: half the agent's limit (DPF_CONTENT_CHUNK_MAX).
 * Each transfer thread holds its chunk and nats.c a copy on its way out:
 * with 512 KiB chunks five transfers took distmgr to 22.2 MB, with 256 KiB
 * to 18.7 MB (the 20 MB of issue 8) for 11% less throughput (bench/
 * distribute 200 20 20: 177 against 158 MiB/s). */
#define XFER_CHUNK ((size_t)DPF_CONTENT_CHUNK_MAX / 2)

typedef struct job {
    const dm_ctx *ctx;
    dpf_db *db;
    dm_dist_row *row;
    const char *token;
    const char *corr;
    dm_cagent_target target;
    char base[256];      /* content_url the agent last reported */
    char file[512];      /* the file a failure is about, "" if none */
    char reason[1024];
    int no_source;       /* a pull DP found no source holding a file */
    int cancelled;
    long long bytes;
    int files_sent;
    int64_t next_renew_us;
    dm_cagent_buf put;   /* the content_put request, chunk included */
    long long trace_id;  /* the job's row on the timeline (0: not recorded) */
    char lines[2048];    /* the agent's lines of the last step but content_put */
} job;

static void note_base(job *j, const dm_cagent_reply *r)
{
    if (r->rep != NULL && r->rep->content_url != NULL && r->rep->content_url[0] != '\0')
        dpf_fmt(j->base, sizeof j->base, "%s", r->rep->content_url);
}

/* Renews the lease now and then; 0 when the job must stop (reason set, or
 * cancelled). */
static int keep_going(job *j)
{
    if (dpf_stopping()) {
        j->cancelled = 1;
        dpf_fmt(j->reason, sizeof j->reason, "distmgr is stopping");
        return 0;
    }
    int64_t now = dpf_mono_us();
    if (now < j->next_renew_us)
        return 1;
    j->next_renew_us = now + (int64_t)j->ctx->lease_s * 1000000 / 3;
    int cancel = 0;
    dpf_status st = dm_store_dist_renew(j->db, j->row->dpid, j->row->package_id, j->token,
                                        j->ctx->lease_s, &cancel);
    if (st == DPF_ERR_NOT_FOUND) {
        j->cancelled = 2; /* lost: nothing to record */
        dpf_fmt(j->reason, sizeof j->reason, "the row was retargeted or taken over");
        return 0;
    }
    if (cancel) {
        j->cancelled = 1;
        dpf_fmt(j->reason, sizeof j->reason, "the DP is being removed, is no longer "
                "installed or entered maintenance mode");
        return 0;
    }
    return 1;
}

static dpf_status run_step(job *j, const char *step, const dm_agent_kv *params, size_t np,
                           Dpf__ContentFile **files, size_t nf, const void *chunk,
                           size_t clen, long long offset, dm_cagent_reply *out)
{
    dpf_status st = dm_cagent_run(j->ctx->bus, &j->target, step, params, np, files, nf, chunk,
                                  clen, offset, j->ctx->step_timeout_s, out, j->reason,
                                  sizeof j->reason);
    note_base(j, out);
    /* what the host said, for the timeline; not for every chunk */
    if ((st != DPF_OK || chunk == NULL) && out->rep != NULL)
        dpf_trace_join_lines(out->rep->log, out->rep->n_log, j->lines, sizeof j->lines);
    return st;
}

/* The job on the timeline (dpf/trace.h): one step per job, started on the
 * job's connection before the first request (no transaction is open) and
 * ended in the transaction that records the outcome. */
static void trace_start(job *j, const char *step)
{
    dpf_trace_who who = {.corr = j->corr, .component = DPF_TRACE_DISTMGR, .dpid = j->row->dpid,
                         .server = j->row->server_name,
                         .job = j->row->state == DM_CS_REMOVING ? "remove content" : "distribute",
                         .job_id = j->token};
    if (dpf_trace_step_start(j->db, &who, step, &j->trace_id) != DPF_OK)
        DPF_WARN("Package %s on DPID %lld: could not record the job on the timeline: %s",
                 j->row->package_id, j->row->dpid, dpf_db_error(j->db));
}

static dpf_status trace_end(job *j, const char *result, const char *message, int in_tx)
{
    long long id = j->trace_id;
    j->trace_id = 0;
    dpf_status st = in_tx ? dpf_trace_step_finish_tx(j->db, id, result, message, j->lines)
                          : dpf_trace_step_finish(j->db, id, result, message, j->lines);
    if (st != DPF_OK)
        DPF_WARN("Package %s on DPID %lld: could not record the job's end on the timeline: %s",
                 j->row->package_id, j->row->dpid, dpf_db_error(j->db));
    return st;
}

/* Where a chunk comes from: the file in the site content library. */
typedef struct source {
    int fd;
    const char *sha256;
    long long offset;
} source;

static dpf_status read_chunk(void *arg, uint8_t *dst, size_t n, char *reason, size_t len)
{
    const source *src = arg;
    ssize_t got = pread(src->fd, dst, n, (off_t)src->offset);
    if (got >= 0 && (size_t)got == n)
        return DPF_OK;
    dpf_fmt(reason, len, "cannot read %s in the site content library at %lld: %s",
            src->sha256, src->offset, got < 0 ? strerror(errno) : "short file");
    return DPF_ERR_IO;
}

/* Sends the bytes of one file from offset on, each chunk read straight into
 * the job's request buffer. */
static dpf_status push_file(job *j, const dm_pkg_file *f, long long offset)
{
    const dm_content_cfg *cfg = dm_content_cfg_get();
    char path[4096], sha[DM_SHA256_HEX], size[24];
    dm_clib_path(cfg->library, f->sha256, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        dpf_fmt(j->reason, sizeof j->reason, "the site content library has no file %s: %s",
                f->sha256, strerror(errno));
        return DPF_ERR_IO;
    }
    dpf_fmt(sha, sizeof sha, "%s", f->sha256);
    dpf_fmt(size, sizeof size, "%lld", f->size);
    dm_agent_kv kv[] = {{"sha256", sha}, {"size", size}};
    dpf_status st = DPF_OK;
    do {
        if (!keep_going(j)) {
            st = DPF_ERR_BUSY;
            break;
        }
        long long want = f->size - offset;
        size_t n = want > (long long)XFER_CHUNK ? XFER_CHUNK : (size_t)want;
        source src = {fd, f->sha256, offset};
        dm_cagent_reply r = {0};
        st = dm_cagent_put(j->ctx->bus, &j->target, kv, 2, offset, n, read_chunk, &src, &j->put,
                           j->ctx->step_timeout_s, &r, j->reason, sizeof j->reason);
        note_base(j, &r);
        long long held = offset + (long long)n;
        if (st == DPF_OK && r.rep->n_content > 0 && r.rep->content[0] != NULL)
            held = r.rep->content[0]->size;
        dm_cagent_reply_free(&r);
        if (st != DPF_OK)
            break;
        j->bytes += (long long)n;
        if (held <= offset && n > 0) {
            dpf_fmt(j->reason, sizeof j->reason, "the DP did not take the bytes of %s at %lld",
                    f->sha256, offset);
            st = DPF_ERR_STEP;
            break;
        }
        offset = held;
    } while (offset < f->size);
    close(fd);
    if (st == DPF_OK && f->size > 0)
        j->files_sent++;
    return st;
}

/* An empty file has no bytes to send or download: a zero-length put
 * makes the DP hold it. It is not counted as a file sent. */
static dpf_status put_empty(job *j, const dm_pkg_file *f)
{
    char sha[DM_SHA256_HEX];
    dpf_fmt(sha, sizeof sha, "%s", f->sha256);
    dm_agent_kv kv[] = {{"sha256", sha}, {"size", "0"}};
    if (!keep_going(j))
        return DPF_ERR_BUSY;
    dm_cagent_reply r = {0};
    dpf_status st = run_step(j, DPF_STEP_CONTENT_PUT, kv, 2, NULL, 0, "", 0, 0, &r);
    dm_cagent_reply_free(&r);
    return st;
}

static dpf_status pull_file(job *j, const dm_pkg_file *f, const char *sources)
{
    Dpf__ContentFile cf = DPF__CONTENT_FILE__INIT, *cfp = &cf;
    cf.path = f->path;
    cf.sha256 = (char *)f->sha256;
    cf.size = f->size;
    dm_agent_kv kv[] = {{"package_id", j->row->package_id}, {"sources", sources}};
    if (!keep_going(j))
        return DPF_ERR_BUSY;
    dm_cagent_reply r = {0};
    dpf_status st = run_step(j, DPF_STEP_CONTENT_PULL, kv, 2, &cfp, 1, NULL, 0, 0, &r);
    dm_cagent_reply_free(&r);
    if (st == DPF_OK) {
        j->files_sent++;
        j->bytes += f->size;
    } else if (st == DPF_ERR_STEP) {
        j->no_source = 1;
    }
    return st;
}

/* Files of the version the DP lacks, sent or pulled; then installed. */
static dpf_status transfer(job *j)
{
    dm_pkg_file *files = NULL;
    int n = 0;
    dpf_status st = dm_store_pkg_files(j->db, j->row->package_id, j->row->version, &files, &n);
    if (st != DPF_OK) {
        dpf_fmt(j->reason, sizeof j->reason, "cannot read the files of version %d: %s",
                j->row->version, dpf_db_error(j->db));
        return st;
    }
    Dpf__ContentFile *cf = calloc((size_t)n + 1, sizeof *cf);
    Dpf__ContentFile **cfp = calloc((size_t)n + 1, sizeof *cfp);
    char sources[4096] = "", missing[1024] = "";
    dm_cagent_reply have = {0};
    if (cf == NULL || cfp == NULL) {
        st = DPF_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        dpf__content_file__init(&cf[i]);
        cf[i].path = files[i].path;
        cf[i].sha256 = files[i].sha256;
        cf[i].size = files[i].size;
        cfp[i] = &cf[i];
    }
    if (j->row->is_pull_dp) {
        st = dm_store_dist_sources(j->db, j->row->dpid, sources, sizeof sources, missing,
                                   sizeof missing);
        if (st == DPF_OK && sources[0] == '\0') {
            dpf_fmt(j->reason, sizeof j->reason, "the pull DP has no source DP with a content "
                    "server%s%s", missing[0] ? ": not installed yet: " : "", missing);
            j->no_source = 1;
            st = DPF_ERR_NOT_FOUND;
            goto out;
        }
        DPF_INFO("Package %s: pull DP %s will download from its sources in this order: %s",
                 j->row->package_id, j->row->server_name, sources);
    }
    /* a version without files (the client packages) has nothing to ask about */
    if (n > 0)
        st = run_step(j, DPF_STEP_CONTENT_HAVE, NULL, 0, cfp, (size_t)n, NULL, 0, 0, &have);
    if (st != DPF_OK)
        goto out;
    int held_whole = 0;
    for (int i = 0; i < n && st == DPF_OK; i++) {
        long long held = 0;
        for (size_t k = 0; have.rep != NULL && k < have.rep->n_content; k++) {
            const Dpf__ContentFile *h = have.rep->content[k];
            if (h != NULL && h->sha256 != NULL && strcmp(h->sha256, files[i].sha256) == 0)
                held = h->size;
        }
        /* identical bytes listed twice are fetched once */
        int dup = 0;
        for (int k = 0; k < i && !dup; k++)
            dup = strcmp(files[k].sha256, files[i].sha256) == 0;
        if (dup)
            continue;
        /* an empty file looks the same held or not: it is sent (no bytes) */
        if (held >= files[i].size && files[i].size > 0) {
            held_whole++;
            continue;
        }
        dpf_fmt(j->file, sizeof j->file, "%s", files[i].path);
        if (files[i].size == 0)
            st = put_empty(j, &files[i]);
        else if (j->row->is_pull_dp)
            st = pull_file(j, &files[i], sources);
        else
            st = push_file(j, &files[i], held);
    }
    if (st != DPF_OK)
        goto out;
    j->file[0] = '\0';
    if (!keep_going(j)) {
        st = DPF_ERR_BUSY;
        goto out;
    }
    char version[16];
    dpf_fmt(version, sizeof version, "%d", j->row->version);
    dm_agent_kv kv[] = {{"package_id", j->row->package_id}, {"version", version}};
    dm_cagent_reply r = {0};
    st = run_step(j, DPF_STEP_CONTENT_INSTALL, kv, 2, cfp, (size_t)n, NULL, 0, 0, &r);
    dm_cagent_reply_free(&r);
    if (st == DPF_OK)
        DPF_INFO("Package %s version %d on %s: %d files already on the DP, %d %s (%lld bytes)",
                 j->row->package_id, j->row->version, j->row->server_name, held_whole,
                 j->files_sent, j->row->is_pull_dp ? "downloaded from its sources" : "sent",
                 j->bytes);
out:
    dm_cagent_reply_free(&have);
    /* the chunk buffer goes back to the system (mmap'd at this size) as
     * soon as the DP is done, not when the package is */
    dm_cagent_buf_free(&j->put);
    free(cfp);
    free(cf);
    dm_pkg_files_free(files, n);
    return st;
}

static dpf_status begin(job *j)
{
    dpf_status st = dpf_db_begin(j->db);
    if (st == DPF_OK)
        st = dpf_db_set_corr(j->db, j->corr);
    return st;
}

/* Commits the outcome's transaction (st: how it went so far); DPF_OK when
 * the outcome is recorded. */
static dpf_status finish(job *j, dpf_status st, const char *what)
{
    if (st == DPF_OK)
        st = dpf_db_commit(j->db);
    if (st != DPF_OK) {
        dpf_db_rollback(j->db);
        DPF_WARN("Package %s on DPID %lld: could not record %s (%s); the lease runs out and "
                 "the job is done again", j->row->package_id, j->row->dpid, what,
                 st == DPF_ERR_NOT_FOUND ? "the job lost its row" : dpf_db_error(j->db));
    }
    return st;
}

static void record_failure(job *j)
{
    const dm_content_cfg *cfg = dm_content_cfg_get();
    int attempts = 0, gave_up = 0;
    dpf_status st = begin(j);
    if (st == DPF_OK)
        st = dm_store_dist_failed(j->db, j->row->dpid, j->row->package_id, j->token, j->reason,
                                  cfg->retry_delay_s, cfg->max_attempts, &attempts, &gave_up);
    /* a restarted agent may serve on another port: keep the address fresh */
    if (st == DPF_OK)
        st = dm_store_dist_content_base(j->db, j->row->dpid, j->base);
    if (st == DPF_OK) {
        char msg[sizeof j->reason + sizeof j->file + 16];
        dpf_fmt(msg, sizeof msg, "%s%s%s", j->reason, j->file[0] ? ", file " : "", j->file);
        st = trace_end(j, DPF_TRACE_FAILED, msg, 1);
    }
    unsigned id = j->row->state == DM_CS_REMOVING ? DM_MSG_PKG_DIST_FAILED
                  : j->no_source                  ? DM_MSG_PULL_NO_SOURCE
                  : gave_up                       ? DM_MSG_PKG_DIST_GAVE_UP
                                                  : DM_MSG_PKG_DIST_FAILED;
    if (st == DPF_OK)
        st = dm_content_raise(j->ctx, j->db, j->row->site_code, id, 'E', j->row->package_id,
                              j->row->nal_path, j->file, j->reason);
    if (finish(j, st, "the failure") == DPF_OK && j->row->state != DM_CS_REMOVING)
        dpf_metrics_inc(DPF_M_DISTRIBUTIONS, "failed", NULL, NULL);
    if (gave_up)
        DPF_ERROR("Failed to %s package %s on DP %s%s%s: %s. Attempt %d of %d: gave up; "
                  "redistribute it to try again", j->row->state == DM_CS_REMOVING ? "remove"
                  : "distribute", j->row->package_id, j->row->nal_path, j->file[0] ? ", file " : "",
                  j->file, j->reason, attempts, cfg->max_attempts);
    else
        DPF_ERROR("Failed to %s package %s on DP %s%s%s: %s. Attempt %d of %d, will retry in "
                  "%d s", j->row->state == DM_CS_REMOVING ? "remove" : "distribute",
                  j->row->package_id, j->row->nal_path, j->file[0] ? ", file " : "", j->file,
                  j->reason, attempts, cfg->max_attempts, cfg->retry_delay_s);
}

static void remove_from_dp(job *j)
{
    dm_agent_kv kv[] = {{"package_id", j->row->package_id}};
    dm_cagent_reply r = {0};
    DPF_INFO("Removing package %s from DP %s", j->row->package_id, j->row->nal_path);
    char step[96];
    dpf_fmt(step, sizeof step, "remove package %s", j->row->package_id);
    trace_start(j, step);
    dpf_status st = run_step(j, DPF_STEP_CONTENT_REMOVE, kv, 1, NULL, 0, NULL, 0, 0, &r);
    dm_cagent_reply_free(&r);
    if (st != DPF_OK) {
        record_failure(j);
        return;
    }
    st = begin(j);
    if (st == DPF_OK)
        st = dm_store_dist_removed(j->db, j->row->dpid, j->row->package_id, j->token);
    if (st == DPF_OK)
        st = dm_store_dist_content_base(j->db, j->row->dpid, j->base);
    if (st == DPF_OK)
        st = trace_end(j, DPF_TRACE_OK, NULL, 1);
    if (st == DPF_OK)
        st = dm_content_raise(j->ctx, j->db, j->row->site_code, DM_MSG_PKG_REMOVED, 'I',
                              j->row->package_id, j->row->nal_path, j->row->server_name, NULL);
    st = finish(j, st, "the removal");
    if (st == DPF_OK)
        DPF_INFO("Package %s was removed from DP %s", j->row->package_id, j->row->nal_path);
}

void dm_xfer_run(const dm_ctx *ctx, dpf_db *db, dm_dist_row *row, const char *token,
                 const char *corr)
{
    job j = {.ctx = ctx, .db = db, .row = row, .token = token, .corr = corr,
             .target = {row->dpid, row->server_name, row->nal_path, row->site_code}};
    j.next_renew_us = dpf_mono_us() + (int64_t)ctx->lease_s * 1000000 / 3;
    if (row->state == DM_CS_REMOVING) {
        remove_from_dp(&j);
        return;
    }
    DPF_INFO("Start %s package %s version %d on DP %s (attempt %d)",
             row->is_pull_dp ? "pulling" : "updating", row->package_id, row->version,
             row->nal_path, row->attempts + 1);
    int64_t t0 = dpf_mono_us();
    char step[96];
    dpf_fmt(step, sizeof step, "package %s version %d", row->package_id, row->version);
    trace_start(&j, step);
    dpf_status st = transfer(&j);
    if (j.cancelled) {
        /* stopped for the DP (maintenance mode, removal) or taken over */
        (void)trace_end(&j, j.cancelled == 1 ? DPF_TRACE_WAITING : DPF_TRACE_INFO, j.reason, 0);
        if (j.cancelled == 1 && dm_store_dist_release(db, row->dpid, row->package_id, token) !=
                                    DPF_OK)
            DPF_WARN("Package %s on DPID %lld: could not release the job's lease; it runs out",
                     row->package_id, row->dpid);
        DPF_INFO("Package %s on DP %s: transfer stopped: %s", row->package_id, row->nal_path,
                 j.reason);
        return;
    }
    if (st != DPF_OK) {
        record_failure(&j);
        return;
    }
    char version[16];
    dpf_fmt(version, sizeof version, "%d", row->version);
    st = begin(&j);
    if (st == DPF_OK)
        st = dm_store_dist_installed(db, row->dpid, row->package_id, token, row->version,
                                     j.bytes, j.files_sent);
    if (st == DPF_OK)
        st = dm_store_dist_content_base(db, row->dpid, j.base);
    if (st == DPF_OK) {
        char msg[160];
        dpf_fmt(msg, sizeof msg, "%d files %s, %lld bytes", j.files_sent,
                row->is_pull_dp ? "downloaded from its sources" : "sent", j.bytes);
        st = trace_end(&j, DPF_TRACE_OK, msg, 1);
    }
    if (st == DPF_OK)
        st = dm_content_raise(ctx, db, row->site_code, DM_MSG_PKG_INSTALLED, 'I',
                              row->package_id, row->nal_path, version, row->server_name);
    st = finish(&j, st, "the install");
    if (st == DPF_OK)
        dpf_metrics_inc(DPF_M_DISTRIBUTIONS, "ok", NULL, NULL);
    if (st == DPF_OK)
        DPF_INFO("Package %s version %d is installed on DP %s: %d files, %lld bytes transferred "
                 "in %lld ms", row->package_id, row->version, row->nal_path, j.files_sent, j.bytes,
                 (long long)(dpf_mono_us() - t0) / 1000);
}
