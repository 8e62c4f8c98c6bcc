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
    DPF_ERR_NOT_FOUND, /* something named does not exist: which thing depends on
                        * the function (see below); never test for it across a
                        * sequence that mixes db, bus and file calls */
    DPF_ERR_CONFLICT,  /* unique violation, already exists */
    DPF_ERR_DB,        /* PostgreSQL error (see dpf_db_error) */
    DPF_ERR_BUS,       /* NATS / JetStream error */
    DPF_ERR_TIMEOUT,   /* no answer in time */
    DPF_ERR_IO,        /* file system or socket error */
    DPF_ERR_DECODE,    /* protobuf or JSON could not be decoded */
    DPF_ERR_VERIFY,    /* hash or signature mismatch */
    DPF_ERR_STEP,      /* an on-host step failed (see the reply's error) */
    DPF_ERR_BUSY,      /* no free worker or lease held elsewhere */
} dpf_status;

/* What DPF_ERR_NOT_FOUND means, function by function (libdpf):
 *
 *   dpf_db_exec_row             the statement returned no row (and the
 *                               store_*.c functions built on it: no such
 *                               DP/site/package/job, or a lease lost)
 *   dpf_db_migrate              the migrations directory does not exist
 *   dpf_read_file               the file does not exist (ENOENT; other
 *                               errors are DPF_ERR_IO)
 *   dpf_bus_publish             no JetStream stream holds the subject (the
 *                               stream was deleted or the server restarted
 *                               without its store): dpf_bus_ensure_streams
 *                               and retry; the message was not stored
 *   other dpf_bus_* JetStream   NATS_NOT_FOUND from nats.c: the stream (or
 *   calls (consumers, pull)     consumer) is missing; the same remedy
 *   dpf_config_parse and        --help was given and the usage printed: not
 *   dpf_daemon_start            an error, exit 0 (exit_code says so)
 *
 * So a caller tests for it right at the call that returned it and turns
 * it into its own answer there (the provider's 404s, hman's "site is not
 * in the sites table", distmgr's lost lease), never after a sequence that
 * mixes db, bus and file calls: a missing stream read as a missing row
 * would terminate, and so lose, the message being handled. (Today only
 * dbmon publishes, and drain.c keeps the publish status apart.) */

/* Returns a static, human-readable text for the status. Never NULL. */
const char *dpf_status_text(dpf_status s);

#endif
