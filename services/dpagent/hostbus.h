/* A DP host's own NATS identity (issue 9): <host root>/etc/nats.creds (the
 * NATS credentials-file format) or <host root>/etc/nats.auth ("user=..."
 * and "password=..." lines). */
#ifndef DPA_HOSTBUS_H
#define DPA_HOSTBUS_H

#include <stddef.h>
#include <dpf/bus.h>
#include <dpf/status.h>

#define DPA_AUTH_VALUE_MAX 256   /* a user name or password, bytes */
#define DPA_AUTH_FILE_MAX 4096   /* etc/nats.auth, bytes */

/* A user name and password read from etc/nats.auth. Wipe it
 * (dpa_hostbus_auth_wipe) once used: the password stays in memory
 * otherwise. */
typedef struct dpa_hostbus_auth {
    char user[DPA_AUTH_VALUE_MAX];
    char password[DPA_AUTH_VALUE_MAX];
} dpa_hostbus_auth;

void dpa_hostbus_auth_wipe(dpa_hostbus_auth *auth);

/* Parses etc/nats.auth's text strictly: one "key=value" a line, the keys
 * user and password each exactly once, '#' comment lines and blank lines
 * allowed; an unknown or repeated key, a line without '=', an empty value,
 * one longer than DPA_AUTH_VALUE_MAX - 1 bytes, with a control character
 * (a NUL or '\r' included) or with blanks around it refuses the whole file:
 * DPF_ERR_INVALID and the line number and reason in err (never a value).
 * text is borrowed, len bytes (not NUL-terminated). */
dpf_status dpa_hostbus_parse_auth(const char *text, size_t len, dpa_hostbus_auth *out,
                                  char *err, size_t errlen) DPF_MUSTCHECK;

/* Reads and parses path: DPF_ERR_NOT_FOUND when it does not exist;
 * DPF_ERR_INVALID (reason in err) when it is not a regular file, not owned
 * by the agent's user, readable or writable by anyone else (it must be
 * 0600 or stricter), larger than DPA_AUTH_FILE_MAX, or does not parse. */
dpf_status dpa_hostbus_read_auth(const char *path, dpa_hostbus_auth *out, char *err,
                                 size_t errlen) DPF_MUSTCHECK;

/* Connects as host fqdn's own identity when its root holds etc/nats.creds
 * or etc/nats.auth (not both) that only its owner can read (mode 0600 or
 * stricter): *bus is a new connection (owned by the caller) and 1 is
 * returned, or -1 when that connection failed (logged). 0, *bus NULL, when
 * the host has no usable credential (a file others can read, one that does
 * not parse and both files at once are refused and logged): the host is
 * served on the process's connection. */
int dpa_hostbus_connect(const char *nats_url, const char *fqdn, const char *root, dpf_bus **bus);

#endif
