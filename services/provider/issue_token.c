/* provider issue-token --user NAME --role ROLE [--expires-hours N] --out FILE
 * [--force]: makes an API token with the service's database settings
 * (DATABASE_URL or --database-url), writes its secret and a newline to FILE
 * (created mode 0600, refused if it exists unless --force) and prints the
 * token's id. The secret goes nowhere else: not to stdout, not to the log.
 * scripts/stack up uses it for the first Full Administrator. */
#include "issue_token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dpf/config.h>
#include <dpf/db.h>
#include <dpf/log.h>

#include "token.h"

static char *o_db_url, *o_user, *o_role, *o_out;
static int o_hours, o_force;

static const dpf_option OPTIONS[] = {
    DPF_OPT_STRING("database-url", "DATABASE_URL", &o_db_url, NULL,
                   "PostgreSQL connection string (required; the provider's)"),
    DPF_OPT_STRING("user", NULL, &o_user, NULL, "the user the token acts as (required)"),
    DPF_OPT_STRING("role", NULL, &o_role, NULL,
                   "Full Administrator, Infrastructure Administrator, Application Administrator "
                   "or Read-only Analyst (required)"),
    DPF_OPT_INT("expires-hours", NULL, &o_hours, 0, 0, PROV_TOKEN_MAX_HOURS,
                "hours until the token expires (0: never)"),
    DPF_OPT_STRING("out", NULL, &o_out, NULL, "file the secret is written to, mode 0600 (required)"),
    DPF_OPT_BOOL("force", NULL, &o_force, 0, "replace FILE if it exists"),
    DPF_OPT_END,
};

/* The file, created (or emptied, with force) mode 0600 before any token
 * exists, so a refused file leaves no token behind. -1 after saying why. */
static int open_out(const char *path, int force)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL),
                  0600);
    if (fd < 0) {
        fprintf(stderr, "provider issue-token: cannot create %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (use --force to replace it)" : "");
        return -1;
    }
    if (fchmod(fd, 0600) != 0) {
        fprintf(stderr, "provider issue-token: cannot make %s mode 0600: %s\n", path,
                strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int write_secret(int fd, const char *path, const char *secret)
{
    size_t n = strlen(secret);
    int ok = write(fd, secret, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
    ok = close(fd) == 0 && ok;
    if (!ok)
        fprintf(stderr, "provider issue-token: cannot write %s: %s\n", path, strerror(errno));
    return ok;
}

int prov_issue_token_main(int argc, char **argv)
{
    char err[256];
    dpf_status st = dpf_config_parse(OPTIONS, argc, argv, err, sizeof err);
    if (st == DPF_ERR_INVALID) {
        fprintf(stderr, "provider issue-token: %s\n", err);
        return 2;
    }
    if (st != DPF_OK) /* --help: the usage is printed */
        return 0;
    int rc = 2;
    dpf_db *db = NULL;
    prov_token_made made = {0};
    if (o_db_url == NULL || *o_db_url == '\0' || o_user == NULL || *o_user == '\0' ||
        o_out == NULL || *o_out == '\0') {
        fprintf(stderr, "provider issue-token: --user, --out and DATABASE_URL (or "
                        "--database-url) are required\n");
        goto done;
    }
    if (strlen(o_user) > PROV_TOKEN_USER_MAX) {
        fprintf(stderr, "provider issue-token: --user is longer than 256 characters\n");
        goto done;
    }
    if (prov_role_parse(o_role) == 0) {
        fprintf(stderr, "provider issue-token: unknown role '%s'; --role must be one of %s\n",
                o_role ? o_role : "", prov_role_list());
        goto done;
    }
    rc = 1;
    int fd = open_out(o_out, o_force);
    if (fd < 0)
        goto done;
    if (dpf_db_connect(o_db_url, &db) != DPF_OK) {
        fprintf(stderr, "provider issue-token: cannot connect to PostgreSQL\n");
        close(fd);
        unlink(o_out);
        goto done;
    }
    if (prov_token_issue(db, o_user, o_role, "provider issue-token", o_hours, &made) != DPF_OK) {
        fprintf(stderr, "provider issue-token: the token could not be stored: %s\n",
                dpf_db_error(db));
        close(fd);
        unlink(o_out);
        goto done;
    }
    if (!write_secret(fd, o_out, made.secret)) {
        unlink(o_out);
        const char *p[] = {made.id}; /* a token nobody holds is no use: revoke it */
        if (dpf_db_exec(db, "UPDATE api_tokens SET revoked_at = now() WHERE id = $1::bigint", 1,
                        p, NULL) != DPF_OK)
            fprintf(stderr, "provider issue-token: revoking token %s failed too\n", made.id);
        goto done;
    }
    printf("%s\n", made.id);
    fprintf(stderr, "provider issue-token: token %s for %s (%s%s%s) written to %s\n", made.id,
            o_user, o_role, made.expires_at[0] ? ", expires " : "", made.expires_at, o_out);
    rc = 0;
done:
    explicit_bzero(made.secret, sizeof made.secret);
    dpf_db_destroy(db);
    dpf_config_free(OPTIONS);
    return rc;
}
