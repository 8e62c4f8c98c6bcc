/* dpf-natsauth init and agent: the key hierarchy and files of operator mode.
 *
 *   operator (+ signing key) ── signs ──> SYS account, dpfleet account (JetStream)
 *   dpfleet account signing key ── signs ──> one user per role, per DP host
 *   SYS account ── signs ──> the system user that pushes account updates
 *
 * nats.conf names the operator JWT, the system account and a NATS-based
 * resolver (type full, its store under DIR/jwt) preloaded with both account
 * JWTs; a later, newer account JWT (a revocation) pushed to the resolver
 * replaces the preload and survives restarts, since it is kept in the store
 * and the resolver takes the JWT with the later iat. With --tls-cert and
 * --tls-key, nats.conf also has a tls block: every client connection is TLS
 * (clients trust the CA that signed the certificate: DPFLEET_NATS_CA). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dpf/jwt.h>
#include <dpf/natsissuer.h>
#include <dpf/natsroles.h>
#include <dpf/nkeys.h>
#include <dpf/util.h>

#include "natsauth.h"

typedef struct keys {
    dpf_nkey *op, *op_sk, *sys, *acc, *acc_sk;
    char *op_jwt, *sys_jwt, *acc_jwt;
} keys;

static dpf_status write_in(const char *dir, const char *file, const char *text, int mode, char *err,
                           size_t errlen)
{
    char path[4096];
    dpf_fmt(path, sizeof path, "%s/%s", dir, file);
    dpf_status st = dpf_jwt_write_file(path, text, mode);
    if (st != DPF_OK)
        dpf_fmt(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return st;
}

static dpf_status write_seed(const char *dir, const char *file, const dpf_nkey *k, char *err,
                             size_t errlen)
{
    char seed[DPF_NKEY_SEED_LEN + 2];
    dpf_nkey_seed(k, seed);
    strcat(seed, "\n");
    dpf_status st = write_in(dir, file, seed, 0600, err, errlen);
    memset(seed, 0, sizeof seed);
    return st;
}

static dpf_status make_keys(keys *k)
{
    dpf_status st = dpf_nkey_create(DPF_NKEY_OPERATOR, &k->op);
    if (st == DPF_OK)
        st = dpf_nkey_create(DPF_NKEY_OPERATOR, &k->op_sk);
    if (st == DPF_OK)
        st = dpf_nkey_create(DPF_NKEY_ACCOUNT, &k->sys);
    if (st == DPF_OK)
        st = dpf_nkey_create(DPF_NKEY_ACCOUNT, &k->acc);
    if (st == DPF_OK)
        st = dpf_nkey_create(DPF_NKEY_ACCOUNT, &k->acc_sk);
    if (st != DPF_OK)
        return st;
    json_t *c = NULL;
    st = dpf_jwt_operator_claims(dpf_nkey_public(k->op), "dpfleet", dpf_nkey_public(k->sys), &c);
    if (st == DPF_OK) {
        json_t *nats = json_object_get(c, "nats");
        json_object_set_new(nats, "signing_keys", json_pack("[s]", dpf_nkey_public(k->op_sk)));
        st = dpf_jwt_sign(c, k->op, &k->op_jwt);
    }
    json_decref(c);
    c = NULL;
    if (st == DPF_OK && (st = dpf_jwt_account_claims(dpf_nkey_public(k->sys), "SYS", 0, NULL, &c)) == DPF_OK)
        st = dpf_jwt_sign(c, k->op_sk, &k->sys_jwt);
    json_decref(c);
    c = NULL;
    const char *sks[] = {dpf_nkey_public(k->acc_sk), NULL};
    if (st == DPF_OK && (st = dpf_jwt_account_claims(dpf_nkey_public(k->acc), "dpfleet", 1, sks, &c)) == DPF_OK)
        st = dpf_jwt_sign(c, k->op_sk, &k->acc_jwt);
    json_decref(c);
    return st;
}

static void free_keys(keys *k)
{
    dpf_nkey_destroy(k->op);
    dpf_nkey_destroy(k->op_sk);
    dpf_nkey_destroy(k->sys);
    dpf_nkey_destroy(k->acc);
    dpf_nkey_destroy(k->acc_sk);
    free(k->op_jwt);
    free(k->sys_jwt);
    free(k->acc_jwt);
}

/* A user credential signed by signer (issuer_account: its account when
 * signer is a signing key), at dir/file. */
static dpf_status write_user(const char *dir, const char *file, const char *name,
                             const dpf_nkey *signer, const char *issuer_account,
                             const dpf_jwt_perms *perms, char *err, size_t errlen)
{
    dpf_nkey *u = NULL;
    json_t *c = NULL;
    char *jwt = NULL, path[4096];
    dpf_status st = dpf_nkey_create(DPF_NKEY_USER, &u);
    if (st == DPF_OK)
        st = dpf_jwt_user_claims(dpf_nkey_public(u), name, issuer_account, perms, &c);
    if (st == DPF_OK)
        st = dpf_jwt_sign(c, signer, &jwt);
    dpf_fmt(path, sizeof path, "%s/%s", dir, file);
    if (st == DPF_OK && (st = dpf_jwt_creds_write(path, jwt, u)) != DPF_OK)
        dpf_fmt(err, errlen, "cannot write %s: %s", path, strerror(errno));
    json_decref(c);
    free(jwt);
    dpf_nkey_destroy(u);
    return st;
}

/* The tls block of nats.conf: clients must speak TLS (nats-server 2.9
 * requires it of every client once the block is there) and see this
 * certificate; "" without TLS. Names the files by absolute path; refuses a
 * file it cannot read or that is not PEM, and a key readable by others. */
static dpf_status tls_block(const natsauth_opts *tls, char *out, size_t len, char *err,
                            size_t errlen)
{
    out[0] = '\0';
    if (tls == NULL || (tls->cert == NULL && tls->key == NULL))
        return DPF_OK;
    if (tls->cert == NULL || tls->key == NULL) {
        dpf_fmt(err, errlen, "--tls-cert and --tls-key go together");
        return DPF_ERR_INVALID;
    }
    char cert[4096], key[4096];
    const char *given[] = {tls->cert, tls->key};
    char *abs[] = {cert, key};
    for (int i = 0; i < 2; i++) {
        char line[64] = "";
        FILE *f = realpath(given[i], abs[i]) ? fopen(abs[i], "r") : NULL;
        if (f == NULL) {
            dpf_fmt(err, errlen, "cannot read %s: %s", given[i], strerror(errno));
            return DPF_ERR_IO;
        }
        int pem = fgets(line, sizeof line, f) != NULL && strncmp(line, "-----BEGIN ", 11) == 0;
        struct stat sb;
        int loose = i == 1 && fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077) != 0;
        fclose(f);
        if (!pem) {
            dpf_fmt(err, errlen, "%s is not a PEM file", given[i]);
            return DPF_ERR_INVALID;
        }
        if (loose) {
            dpf_fmt(err, errlen, "the TLS key %s is readable by others: make it 0600", given[i]);
            return DPF_ERR_INVALID;
        }
    }
    if (!dpf_fmt(out, len, "tls: {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  timeout: 2\n}\n",
                 cert, key)) {
        dpf_fmt(err, errlen, "TLS file names too long");
        return DPF_ERR_INVALID;
    }
    return DPF_OK;
}

static dpf_status write_conf(const char *dir, const keys *k, const char *tls, char *err,
                             size_t errlen)
{
    size_t n = strlen(k->op_jwt) + strlen(k->sys_jwt) + strlen(k->acc_jwt) + 3 * strlen(dir) +
               strlen(tls) + 1024;
    char *conf = malloc(n);
    if (conf == NULL)
        return DPF_ERR_NOMEM;
    snprintf(conf, n,
             "# dpfleet NATS identities (dpf-natsauth init): operator mode.\n"
             "operator: \"%s/operator.jwt\"\n"
             "system_account: %s\n"
             "resolver: {\n  type: full\n  dir: \"%s/jwt\"\n  allow_delete: false\n"
             "  interval: \"2m\"\n  timeout: \"2s\"\n}\n"
             "resolver_preload: {\n  %s: \"%s\"\n  %s: \"%s\"\n}\n%s",
             dir, dpf_nkey_public(k->sys), dir, dpf_nkey_public(k->sys), k->sys_jwt,
             dpf_nkey_public(k->acc), k->acc_jwt, tls);
    dpf_status st = write_in(dir, "nats.conf", conf, 0600, err, errlen);
    free(conf);
    return st;
}

static int mkdir_private(const char *dir, const char *sub, char *err, size_t errlen)
{
    char path[4096];
    dpf_fmt(path, sizeof path, "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        dpf_fmt(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return 0;
    }
    return 1;
}

dpf_status natsauth_init(const char *given, const natsauth_opts *opts, char *err, size_t errlen)
{
    char path[4096], dir[4096], tlsconf[9000];
    dpf_status tst = tls_block(opts, tlsconf, sizeof tlsconf, err, errlen);
    if (tst != DPF_OK)
        return tst;
    int days = opts != NULL ? opts->agent_days : 0;
    if (days < 0 || days > DPF_NATSISSUER_AGENT_DAYS_MAX) {
        dpf_fmt(err, errlen, "--agent-days must be 1 to %d", DPF_NATSISSUER_AGENT_DAYS_MAX);
        return DPF_ERR_INVALID;
    }
    /* nats.conf names files by absolute path: nats-server may run elsewhere */
    if (!mkdir_private(given, NULL, err, errlen))
        return DPF_ERR_IO;
    if (realpath(given, dir) == NULL) {
        dpf_fmt(err, errlen, "%s: %s", given, strerror(errno));
        return DPF_ERR_IO;
    }
    dpf_fmt(path, sizeof path, "%s/nats.conf", dir);
    if (access(path, F_OK) == 0) {
        dpf_fmt(err, errlen, "%s exists: its keys are in use; remove the directory to start over", path);
        return DPF_ERR_CONFLICT;
    }
    if (!mkdir_private(dir, "creds", err, errlen) ||
        !mkdir_private(dir, "issuer", err, errlen) || !mkdir_private(dir, "keys", err, errlen) ||
        !mkdir_private(dir, "jwt", err, errlen))
        return DPF_ERR_IO;
    keys k;
    memset(&k, 0, sizeof k);
    dpf_status st = make_keys(&k);
    char credsdir[4096], issuer[4096], keysdir[4096];
    dpf_fmt(credsdir, sizeof credsdir, "%s/creds", dir);
    dpf_fmt(issuer, sizeof issuer, "%s/issuer", dir);
    dpf_fmt(keysdir, sizeof keysdir, "%s/keys", dir);
    if (st == DPF_OK)
        st = write_in(dir, "operator.jwt", k.op_jwt, 0644, err, errlen);
    if (st == DPF_OK)
        st = write_seed(keysdir, "operator.nk", k.op, err, errlen);
    if (st == DPF_OK)
        st = write_seed(keysdir, "sys.nk", k.sys, err, errlen);
    if (st == DPF_OK)
        st = write_seed(keysdir, "dpfleet.nk", k.acc, err, errlen);
    if (st == DPF_OK)
        st = write_seed(issuer, "operator-signing.nk", k.op_sk, err, errlen);
    if (st == DPF_OK)
        st = write_seed(issuer, "account-signing.nk", k.acc_sk, err, errlen);
    char pub[DPF_NKEY_PUBLIC_LEN + 2];
    dpf_fmt(pub, sizeof pub, "%s\n", dpf_nkey_public(k.acc));
    if (st == DPF_OK)
        st = write_in(issuer, "account.pub", pub, 0644, err, errlen);
    if (st == DPF_OK)
        st = write_user(issuer, "sys.creds", "dpfleet system", k.sys, NULL, NULL, err, errlen);
    char daystext[16];
    dpf_fmt(daystext, sizeof daystext, "%d\n", days);
    /* only here, with the operator: every agent credential it signs then expires */
    if (st == DPF_OK && days > 0)
        st = write_in(issuer, "agent-days", daystext, 0600, err, errlen);
    for (const dpf_natsrole *r = dpf_natsroles(); st == DPF_OK && r->name != NULL; r++) {
        char file[128];
        dpf_fmt(file, sizeof file, "%s.creds", r->name);
        st = write_user(credsdir, file, r->name, k.acc_sk, dpf_nkey_public(k.acc),
                        r->everything ? NULL : &r->perms, err, errlen);
    }
    if (st == DPF_OK)
        st = write_conf(dir, &k, tlsconf, err, errlen);
    free_keys(&k);
    return st;
}

dpf_status natsauth_agent(const char *dir, const char *fqdn, const char *out, char *err,
                          size_t errlen)
{
    char issdir[4096];
    dpf_fmt(issdir, sizeof issdir, "%s/issuer", dir);
    dpf_natsissuer *iss = NULL;
    dpf_status st = dpf_natsissuer_load(issdir, &iss, err, errlen);
    char *creds = NULL, pub[DPF_NKEY_PUBLIC_LEN + 1];
    if (st == DPF_OK && (st = dpf_natsissuer_agent(iss, fqdn, &creds, pub)) != DPF_OK)
        dpf_fmt(err, errlen, "'%s' is not a host name", fqdn);
    if (st == DPF_OK && (st = dpf_jwt_write_file(out, creds, 0600)) != DPF_OK)
        dpf_fmt(err, errlen, "cannot write %s: %s", out, strerror(errno));
    if (st == DPF_OK)
        printf("dpf-natsauth: agent credential of %s (user %s) in %s\n", fqdn, pub, out);
    if (creds != NULL) {
        memset(creds, 0, strlen(creds));
        free(creds);
    }
    dpf_natsissuer_destroy(iss);
    return st;
}
