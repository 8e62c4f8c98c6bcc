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
    DPF_ERR_NOT_FOUND, /* the row, file or subject does not exist */
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

/* Returns a static, human-readable text for the status. Never NULL. */
const char *dpf_status_text(dpf_status s);

#endif
