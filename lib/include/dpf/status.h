/* One status type for the whole project. natsStatus, libpq result states and
 * protobuf-c failures are converted to dpf_status at the library boundary. */
#ifndef DPF_STATUS_H
#define DPF_STATUS_H

#define DPF_MUSTCHECK __attribute__((warn_unused_result))
#define DPF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

typedef enum dpf_status {
    DPF_OK = 0,
    DPF_ERR_NOMEM,     /* allocation failed */
    DPF_ERR_INVALID,   /* bad argument or bad input */
    DPF_ERR_NOT_FOUND, /* no such row (a statement that must return one did
                        * not: no such DP/site/package/job, or a lease lost)
                        * or no such file or directory; never a NATS thing */
    DPF_ERR_CONFLICT,  /* unique violation, already exists */
    DPF_ERR_DB,        /* PostgreSQL error (see dpf_db_error) */
    DPF_ERR_BUS,       /* NATS / JetStream error */
    DPF_ERR_TIMEOUT,   /* no answer in time */
    DPF_ERR_IO,        /* file system or socket error */
    DPF_ERR_DECODE,    /* protobuf or JSON could not be decoded */
    DPF_ERR_VERIFY,    /* hash or signature mismatch */
    DPF_ERR_STEP,      /* an on-host step failed (see the reply's error) */
    DPF_ERR_BUSY,      /* no free worker or lease held elsewhere */
    DPF_ERR_NO_STREAM, /* JetStream has no stream holding the subject, or the
                        * stream or durable consumer asked for is missing (the
                        * stream was deleted, or the server restarted without
                        * its store): dpf_bus_ensure_streams and retry; a
                        * message being published was not stored */
    DPF_HELP_SHOWN,    /* not an error: --help was given and the usage printed
                        * (dpf_config_parse, dpf_daemon_start); exit 0 */
} dpf_status;

/* Each value means one thing whichever function returned it, so a caller
 * may test for one after a sequence that mixes db, bus and file calls: a
 * missing stream (DPF_ERR_NO_STREAM) is never read as a missing row
 * (DPF_ERR_NOT_FOUND), which would terminate, and so lose, the message
 * being handled. Still, DPF_ERR_NOT_FOUND from a function that reads
 * several rows says only that one was missing: the caller that wants to
 * say which tests it at the call. */

/* Returns a static, human-readable text for the status. Never NULL. */
const char *dpf_status_text(dpf_status s);

#endif
