/* The content side of distmgr (issue 6), the source's Software Distribution
 * component: package processing into the site content library and the
 * package transfer to DPs. Settings, the package transfer thread's handler
 * and what the reconcile and the modules share. */
#ifndef DM_CONTENT_H
#define DM_CONTENT_H

#include <stddef.h>
#include <dpf/db.h>
#include <dpf/statmsg.h>

#include "distmgr.h"

/* Status messages of the content flow (2300, 2301, 2330 are the source's
 * IDs; the others are dpfleet's own, documented in the README). */
enum {
    DM_MSG_PKG_PROCESSING = 2300,  /* I  package id, name */
    DM_MSG_PKG_PROCESSED = 2301,   /* I  package id, name, version, files */
    DM_MSG_PKG_PROCESS_FAILED = 2302, /* E package id, name, reason */
    DM_MSG_PKG_INSTALLED = 2330,   /* I  package id, NAL path, version, server */
    DM_MSG_PKG_DIST_FAILED = 2332, /* E  package id, NAL path, file, reason (retrying) */
    DM_MSG_PKG_DIST_GAVE_UP = 2333,/* E  package id, NAL path, file, reason (Failed) */
    DM_MSG_PKG_REMOVED = 2334,     /* I  package id, NAL path, server */
    DM_MSG_PKG_DELETED = 2335,     /* I  package id, name */
    DM_MSG_PULL_NO_SOURCE = 8212,  /* E  package id, NAL path, file, sources tried */
};

/* Settings, read-only after start-up. Strings borrowed from the option
 * table, which outlives every thread. */
typedef struct dm_content_cfg {
    const char *library;          /* DPFLEET_CONTENT_LIBRARY: the site content library */
    const char *source_roots;     /* DPFLEET_CONTENT_SOURCE_ROOTS, ':'-separated */
    int max_packages;             /* MaxPackages: packages transferred at once */
    int max_threads_per_package;  /* MaxThreadsPerPackage: DPs per package at once */
    int retry_delay_s;            /* ContentRetryDelaySeconds */
    int max_attempts;             /* ContentRetryLimit: attempts before Failed */
} dm_content_cfg;

/* Stores cfg (borrowed for the life of the process). Call before the
 * package transfer thread starts. */
void dm_content_configure(const dm_content_cfg *cfg);
const dm_content_cfg *dm_content_cfg_get(void);

/* Raises a content status message (component distmgr, site site) with up
 * to four insertion strings, in the caller's transaction if one is open. */
dpf_status dm_content_raise(const dm_ctx *ctx, dpf_db *db, const char *site, unsigned id,
                            char severity, const char *s0, const char *s1, const char *s2,
                            const char *s3) DPF_MUSTCHECK;

/* A DM_RETRY outcome after ms, with why (copied). */
dm_outcome dm_content_retry(int ms, const char *why);

/* pkg.changed.<seq> -> item (dpid holds the package seq). */
void dm_pkg_decode(const void *data, size_t len, const char *subject, dm_item *it);

/* The package transfer thread's handler: processes, distributes, removes
 * and deletes whatever the package's rows say needs doing. */
dm_outcome dm_handle_pkg(const dm_ctx *ctx, dm_item *it, dpf_db **db);

#endif
