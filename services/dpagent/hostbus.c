/* One NATS connection per DP host that has its own credential.
 *
 * distmgr issues each DP host a credential that allows exactly its own
 * agent.<FQDN>.step subject (lib/src/natsissuer.c); the administrator puts
 * it in the host's root as etc/nats.creds. A server configured with users
 * and passwords instead gives the host etc/nats.auth ("user=..." and
 * "password=..." lines), which any NATS client can be tried with too. A
 * host with one gets a connection of its own, so its steps can only ever
 * arrive for it; hosts without one (a process simulating many hosts in
 * tests and benches) share the process's connection and its identity
 * (DPFLEET_NATS_CREDS). Either file must be the agent's own and 0600: a
 * looser one, one that does not parse, or both at once are refused and
 * logged, never half used. The password is never logged. */
#include "hostbus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dpf/log.h>
#include <dpf/util.h>

void dpa_hostbus_auth_wipe(dpa_hostbus_auth *auth)
{
    if (auth == NULL)
        return;
    volatile char *p = (volatile char *)auth;
    for (size_t i = 0; i < sizeof *auth; i++)
        p[i] = 0;
}

/* Checks one "key=value" line (without its newline) and stores the value. */
static dpf_status auth_line(const char *line, size_t n, int lineno, dpa_hostbus_auth *out,
                            int *seen, char *err, size_t errlen)
{
    static const char *const keys[] = {"user", "password"};
    const char *eq = memchr(line, '=', n);
    if (eq == NULL) {
        dpf_fmt(err, errlen, "line %d: not a key=value line", lineno);
        return DPF_ERR_INVALID;
    }
    size_t klen = (size_t)(eq - line), vlen = n - klen - 1;
    int k = -1;
    for (int i = 0; i < 2; i++)
        if (klen == strlen(keys[i]) && memcmp(line, keys[i], klen) == 0)
            k = i;
    if (k < 0) {
        dpf_fmt(err, errlen, "line %d: unknown key (only user= and password= are allowed)",
                lineno);
        return DPF_ERR_INVALID;
    }
    if (seen[k]) {
        dpf_fmt(err, errlen, "line %d: %s= given twice", lineno, keys[k]);
        return DPF_ERR_INVALID;
    }
    const char *v = eq + 1;
    if (vlen == 0 || vlen >= DPA_AUTH_VALUE_MAX) {
        dpf_fmt(err, errlen, "line %d: the %s must be 1 to %d bytes", lineno, keys[k],
                DPA_AUTH_VALUE_MAX - 1);
        return DPF_ERR_INVALID;
    }
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f) {
            dpf_fmt(err, errlen, "line %d: the %s holds a control character", lineno, keys[k]);
            return DPF_ERR_INVALID;
        }
    }
    if (v[0] == ' ' || v[0] == '\t' || v[vlen - 1] == ' ') {
        dpf_fmt(err, errlen, "line %d: blanks around the %s", lineno, keys[k]);
        return DPF_ERR_INVALID;
    }
    char *dst = k == 0 ? out->user : out->password;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
    seen[k] = 1;
    return DPF_OK;
}

dpf_status dpa_hostbus_parse_auth(const char *text, size_t len, dpa_hostbus_auth *out,
                                  char *err, size_t errlen)
{
    int seen[2] = {0, 0}, lineno = 0;
    memset(out, 0, sizeof *out);
    dpf_status st = DPF_OK;
    for (size_t pos = 0; st == DPF_OK && pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
        pos += n + (nl != NULL);
        lineno++;
        if (n == 0 || line[0] == '#')
            continue;
        st = auth_line(line, n, lineno, out, seen, err, errlen);
    }
    if (st == DPF_OK && (!seen[0] || !seen[1])) {
        dpf_fmt(err, errlen, "no %s= line", !seen[0] ? "user" : "password");
        st = DPF_ERR_INVALID;
    }
    if (st != DPF_OK)
        dpa_hostbus_auth_wipe(out);
    return st;
}

dpf_status dpa_hostbus_read_auth(const char *path, dpa_hostbus_auth *out, char *err,
                                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        dpf_fmt(err, errlen, "cannot read it: %s", strerror(errno));
        return errno == ENOENT ? DPF_ERR_NOT_FOUND : DPF_ERR_INVALID;
    }
    /* the checks are on the open file, so it cannot be swapped meanwhile */
    struct stat sb;
    char buf[DPA_AUTH_FILE_MAX + 1];
    dpf_status st = DPF_ERR_INVALID;
    ssize_t got = 0;
    if (fstat(fd, &sb) != 0)
        dpf_fmt(err, errlen, "cannot stat it: %s", strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        dpf_fmt(err, errlen, "not a regular file");
    else if ((sb.st_mode & 077) != 0 || sb.st_uid != geteuid())
        dpf_fmt(err, errlen, "mode %03o, owner uid %u: a credential must be 0600 and owned by "
                "the agent's user (uid %u)", (unsigned)(sb.st_mode & 0777),
                (unsigned)sb.st_uid, (unsigned)geteuid());
    else if (sb.st_size > DPA_AUTH_FILE_MAX)
        dpf_fmt(err, errlen, "larger than %d bytes", DPA_AUTH_FILE_MAX);
    else if ((got = read(fd, buf, sizeof buf)) < 0)
        dpf_fmt(err, errlen, "cannot read it: %s", strerror(errno));
    else if (got > DPA_AUTH_FILE_MAX)
        dpf_fmt(err, errlen, "larger than %d bytes", DPA_AUTH_FILE_MAX);
    else
        st = dpa_hostbus_parse_auth(buf, (size_t)got, out, err, errlen);
    close(fd);
    memset(buf, 0, sizeof buf);
    return st;
}

/* 1 when path exists (whatever it is), 0 when it does not; -1 (logged)
 * when it cannot be told. */
static int present(const char *fqdn, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0)
        return 1;
    if (errno == ENOENT)
        return 0;
    DPF_WARN("%s: cannot read %s: %s; serving with the process identity", fqdn, path,
             strerror(errno));
    return -1;
}

static int connect_creds(const char *nats_url, const char *fqdn, const char *path, dpf_bus **bus)
{
    char name[300];
    struct stat sb;
    memset(&sb, 0, sizeof sb);
    if (stat(path, &sb) != 0 || (sb.st_mode & 077) != 0 || sb.st_uid != geteuid()) {
        DPF_ERROR("%s: %s is mode %03o or not ours: a credential must be 0600 and owned by the "
                  "agent; not used, serving with the process identity", fqdn, path,
                  (unsigned)(sb.st_mode & 0777));
        return 0;
    }
    dpf_bus_auth auth = {.creds_file = path};
    dpf_fmt(name, sizeof name, "dpagent %s", fqdn);
    dpf_status st = dpf_bus_connect_as(nats_url, name, &auth, bus);
    if (st != DPF_OK) {
        DPF_ERROR("%s: cannot connect to NATS with the host's own credential %s: %s", fqdn, path,
                  dpf_status_text(st));
        *bus = NULL;
        return -1;
    }
    DPF_INFO("%s: connected with the host's own NATS credential %s", fqdn, path);
    return 1;
}

static int connect_user(const char *nats_url, const char *fqdn, const char *path, dpf_bus **bus)
{
    char name[300], err[256] = "";
    dpa_hostbus_auth a;
    if (dpa_hostbus_read_auth(path, &a, err, sizeof err) != DPF_OK) {
        DPF_ERROR("%s: %s refused: %s; not used, serving with the process identity", fqdn, path,
                  err);
        return 0;
    }
    dpf_bus_auth auth = {.user = a.user, .password = a.password};
    dpf_fmt(name, sizeof name, "dpagent %s", fqdn);
    dpf_status st = dpf_bus_connect_as(nats_url, name, &auth, bus);
    if (st != DPF_OK) {
        DPF_ERROR("%s: cannot connect to NATS as the host's own user %s (%s): %s", fqdn, a.user,
                  path, dpf_status_text(st));
        dpa_hostbus_auth_wipe(&a);
        *bus = NULL;
        return -1;
    }
    DPF_INFO("%s: connected with the host's own NATS user %s (%s)", fqdn, a.user, path);
    dpa_hostbus_auth_wipe(&a);
    return 1;
}

int dpa_hostbus_connect(const char *nats_url, const char *fqdn, const char *root, dpf_bus **bus)
{
    *bus = NULL;
    char creds[4096], userfile[4096];
    if (!dpf_fmt(creds, sizeof creds, "%s/etc/nats.creds", root) ||
        !dpf_fmt(userfile, sizeof userfile, "%s/etc/nats.auth", root))
        return 0;
    int has_creds = present(fqdn, creds), has_user = present(fqdn, userfile);
    if (has_creds < 0 || has_user < 0)
        return 0;
    if (has_creds && has_user) {
        DPF_ERROR("%s: both %s and %s exist: keep the one the host should use; neither used, "
                  "serving with the process identity", fqdn, creds, userfile);
        return 0;
    }
    if (has_creds)
        return connect_creds(nats_url, fqdn, creds, bus);
    if (has_user)
        return connect_user(nats_url, fqdn, userfile, bus);
    return 0;
}
