/* Status messages, as the source raises them:
 *
 *   STATMSG: ID=2399 SEV=I LEV=M SOURCE="SMS Server" COMP="SMS_DISTRIBUTION_MANAGER"
 *   SYS=PS1SITE.CONTOSO.COM SITE=PS1 PID=1956 TID=4788 GMTDATE=Wed May 11 18:36:58.062 2016
 *   ISTR0="..." ... ISTR9="" NUMATTRS=1 AID0=404 AVAL0="..."
 *
 * Raising one logs the STATMSG line and, with a database, writes the
 * status_messages row and an outbox row in the caller's transaction; dbmon
 * publishes it on statmsg.<site>.<component>.<id> (stream DPF_STATMSG) once
 * that transaction commits, so a message is never published for a state
 * that rolled back and never lost for one that committed. Without a
 * database it is published at once.
 *
 * IDs used by dpfleet (2399 and 3306 are the source's; the others are ours):
 *   2399 I  DP installed or upgraded                ISTR0 NAL path, ISTR1 server
 *   2398 E  DP install/upgrade step failed          ISTR0 NAL path, ISTR1 server, ISTR2 step, ISTR3 reason
 *   2390 I  DP removal started                      ISTR0 NAL path, ISTR1 server
 *   2391 I  DP removal completed                    ISTR0 NAL path, ISTR1 server
 *   2392 E  DP removal step failed                  ISTR0 NAL path, ISTR1 server, ISTR2 step, ISTR3 reason
 *   3306 I  HMAN processed site control             ISTR0 change path, ISTR1 site name, ISTR2 site
 *   3307 E  HMAN failed, whole change rolled back   ISTR0 change path, ISTR1 site, ISTR2 NAL path, ISTR3 reason
 *   3308 E  HMAN set one DP aside (HmanSetAsideFailedDPs): its writes rolled back alone, the
 *           other DPs processed                     ISTR0 change path, ISTR1 site, ISTR2 NAL path, ISTR3 reason
 *   2394 I  DP entered maintenance mode             ISTR0 NAL path, ISTR1 server, ISTR2 user
 *   2395 I  DP left maintenance mode                ISTR0 NAL path, ISTR1 server, ISTR2 user
 *   2396 W  maintenance mode forced although it leaves boundary groups or packages without
 *           a DP                                    ISTR0 NAL path, ISTR1 user, ISTR2 groups, ISTR3 packages
 *   2380 I  content validation started on a DP     ISTR0 NAL path, ISTR1 server
 *   2384 I  a package's content verified on a DP   ISTR0 package, ISTR1 NAL path
 *   2383 E  a package failed validation on a DP    ISTR0 package, ISTR1 NAL path, ISTR2 files
 * (content: 2300-2335 and 8212, see services/distmgr/content.h)
 *   9901 E  a message could not be decoded and was terminated  ISTR0 subject, ISTR1 reason
 */
#ifndef DPF_STATMSG_H
#define DPF_STATMSG_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "bus.h"
#include "db.h"
#include "dpfleet.pb-c.h"

#define DPF_STATMSG_MAX_ATTRS 4

enum {
    DPF_MSG_DP_INSTALLED = 2399,
    DPF_MSG_DP_INSTALL_FAILED = 2398,
    DPF_MSG_DP_REMOVE_STARTED = 2390,
    DPF_MSG_DP_REMOVED = 2391,
    DPF_MSG_DP_REMOVE_FAILED = 2392,
    DPF_MSG_HMAN_PROCESSED = 3306,
    DPF_MSG_HMAN_FAILED = 3307,
    DPF_MSG_DP_MAINT_ON = 2394,
    DPF_MSG_DP_MAINT_OFF = 2395,
    DPF_MSG_DP_MAINT_FORCED = 2396,
    DPF_MSG_VALIDATION_STARTED = 2380,
    DPF_MSG_VALIDATION_OK = 2384,
    DPF_MSG_VALIDATION_FAILED = 2383,
    DPF_MSG_BAD_MESSAGE = 9901,
};

typedef struct dpf_statmsg {
    unsigned id;
    char severity;          /* 'I', 'W' or 'E' */
    char level;             /* 'M' or 'D' */
    const char *component;  /* "SMS_DISTRIBUTION_MANAGER"; NULL = the log component */
    const char *site;       /* "PS1" */
    const char *system;     /* NULL = this host's name (DPFLEET_SYSTEM_NAME or hostname) */
    const char *istr[10];   /* NULL entries are "" */
    int nattrs;
    unsigned attr_id[DPF_STATMSG_MAX_ATTRS];
    const char *attr_val[DPF_STATMSG_MAX_ATTRS];
} dpf_statmsg;

/* Raises m. All pointers borrowed. The correlation id is the calling
 * thread's (dpf_log_corr). The STATMSG line is logged here, when raising, in
 * every case (also when storing fails).
 *
 * db != NULL: one statement writes the status_messages row and its outbox
 * row (subject statmsg.<site>.<component>.<id>, table StatusMessages,
 * object key = the row's id) on db as it stands, and nothing is published
 * here (bus is not used): dbmon publishes it from the outbox after the
 * commit, with record_id set, the correlation header and the message id
 * "statmsg-<record id>-<raised time ms>", so a republish after a dbmon crash
 * is dropped by JetStream as a duplicate. Inside the caller's transaction
 * the message commits or rolls back with it: raise it in the transaction of
 * the state it reports. A raise in a transaction that later rolls back
 * leaves its logged STATMSG line but no row, no outbox row and no published
 * message. A failed insert aborts the caller's transaction, so raise failure
 * messages after the rollback (outside a transaction the statement commits
 * by itself). A failure to store is logged and returned; nothing is
 * published then.
 *
 * db == NULL (the database is unreachable): published at once on bus (if
 * not NULL) with message id "statmsg-<uuid>" and record_id 0; a failure to
 * publish is logged and returned.
 *
 * DPF_ERR_INVALID for a bad severity/level or nattrs out of 0..MAX_ATTRS. */
dpf_status dpf_statmsg_raise(dpf_bus *bus, dpf_db *db, const dpf_statmsg *m) DPF_MUSTCHECK;

/* The subject of a status message: statmsg.<site>.<component>.<id>, each
 * token with '.', '*', '>' and white space replaced by '_' ("-" if empty).
 * site/component borrowed (NULL is empty); buf always terminated. */
void dpf_statmsg_subject(const char *site, const char *component, unsigned id, char *buf,
                         size_t len);

/* The JetStream message id of the stored status message record_id raised at
 * time_ms: "statmsg-<record id>-<time ms>" (buf always terminated; 64 bytes
 * are enough). */
void dpf_statmsg_msg_id(long long record_id, int64_t time_ms, char *buf, size_t len);

/* Writes the "STATMSG: ID=… NUMATTRS=…" line for pb into buf (always
 * terminated, truncated if short). Returns the length it needed. */
size_t dpf_statmsg_format(const Dpf__StatusMessage *pb, char *buf, size_t len);

#endif
