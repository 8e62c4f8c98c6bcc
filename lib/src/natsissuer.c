/* Agent credentials for DP hosts, minted when a DP is added and revoked when
 * it is removed (issue 9, NATS identities).
 *
 * A user JWT signed by the dpfleet account's signing key is all nats-server
 * needs to let a new host in: no configuration change, no reload. Revoking
 * means the account's own JWT must list the user key, so the issuer fetches
 * the account JWT the server holds now (its resolver is the truth, and
 * keeps earlier revocations), adds one, re-signs it with the operator
 * signing key and pushes it through the system account.
 *
 * That list grows with every DP ever removed, and nats-server takes the
 * account JWT in one message (1 MB at most): ~14,000 revocations. When the
 * issuer directory says agent credentials expire (agent-days, written only
 * by dpf-natsauth init, so every agent credential of this operator has an
 * "exp"), a revocation older than that lifetime revokes only credentials
 * that expired anyway, and each push leaves it out. */
#include "natsissuer.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus_p.h"
#include "jwt.h"
#include "natsroles.h"
#include "util.h"

struct dpf_natsissuer {
    char account[DPF_NKEY_PUBLIC_LEN + 1];
    long long agent_lifetime_s; /* 0: agent credentials never expire */
    dpf_nkey *account_signing;
    dpf_nkey *operator_signing;
    char sys_creds[4096];
};

static dpf_status load_seed(const char *dir, const char *file, dpf_nkey **out, char *err,
                            size_t errlen)
{
    char path[4096], *text = NULL;
    size_t len = 0;
    dpf_fmt(path, sizeof path, "%s/%s", dir, file);
    dpf_status st = dpf_read_file(path, &text, &len);
    if (st == DPF_OK)
        st = dpf_nkey_from_seed(text, out);
    if (text != NULL) {
        memset(text, 0, len);
        free(text);
    }
    if (st != DPF_OK)
        dpf_fmt(err, errlen, "%s: %s", path, st == DPF_ERR_DECODE ? "not an nkey seed" : dpf_status_text(st));
    return st;
}

/* DIR/agent-days: absent, or a whole number of days 1..3650 and a newline */
static dpf_status load_lifetime(const char *dir, long long *out, char *err, size_t errlen)
{
    char path[4096], *text = NULL, *end = NULL;
    size_t len = 0;
    *out = 0;
    dpf_fmt(path, sizeof path, "%s/agent-days", dir);
    dpf_status st = dpf_read_file(path, &text, &len);
    if (st == DPF_ERR_NOT_FOUND)
        return DPF_OK;
    if (st != DPF_OK) {
        dpf_fmt(err, errlen, "%s: %s", path, dpf_status_text(st));
        return st;
    }
    long long days = strtoll(text, &end, 10);
    int ok = end != text && (*end == '\0' || strcmp(end, "\n") == 0) && text[0] != '-' &&
             days >= 1 && days <= DPF_NATSISSUER_AGENT_DAYS_MAX;
    free(text);
    if (!ok) {
        dpf_fmt(err, errlen, "%s: not a number of days from 1 to %d", path,
                DPF_NATSISSUER_AGENT_DAYS_MAX);
        return DPF_ERR_INVALID;
    }
    *out = days * 86400;
    return DPF_OK;
}

long long dpf_natsissuer_agent_lifetime(const dpf_natsissuer *iss)
{
    return iss != NULL ? iss->agent_lifetime_s : 0;
}

size_t dpf_natsissuer_prune(json_t *claims, long long now, long long lifetime_s)
{
    json_t *rev = json_object_get(json_object_get(claims, "nats"), "revocations");
    if (lifetime_s <= 0 || !json_is_object(rev))
        return 0;
    size_t pruned = 0;
    const char *key;
    json_t *at, *tmp;
    json_object_foreach_safe(rev, tmp, key, at) {
        /* "*" revokes every user of the account: never ours to drop */
        if (strcmp(key, "*") == 0 || !json_is_integer(at))
            continue;
        if (json_integer_value(at) + lifetime_s + DPF_NATSISSUER_PRUNE_MARGIN_S < now) {
            json_object_del(rev, key);
            pruned++;
        }
    }
    return pruned;
}

dpf_status dpf_natsissuer_load(const char *dir, dpf_natsissuer **out, char *err, size_t errlen)
{
    *out = NULL;
    dpf_natsissuer *iss = calloc(1, sizeof *iss);
    if (iss == NULL)
        return DPF_ERR_NOMEM;
    char path[4096], *pub = NULL;
    size_t len = 0;
    dpf_fmt(path, sizeof path, "%s/account.pub", dir);
    dpf_status st = dpf_read_file(path, &pub, &len);
    if (st == DPF_OK) {
        pub[strcspn(pub, "\r\n ")] = '\0';
        if (!dpf_nkey_public_valid(pub, DPF_NKEY_ACCOUNT))
            st = DPF_ERR_DECODE;
        else
            memcpy(iss->account, pub, sizeof iss->account);
        free(pub);
    }
    if (st != DPF_OK)
        dpf_fmt(err, errlen, "%s: %s", path, st == DPF_ERR_DECODE ? "not an account key" : dpf_status_text(st));
    if (st == DPF_OK)
        st = load_seed(dir, "account-signing.nk", &iss->account_signing, err, errlen);
    if (st == DPF_OK)
        st = load_seed(dir, "operator-signing.nk", &iss->operator_signing, err, errlen);
    if (st == DPF_OK && (dpf_nkey_kind(iss->account_signing) != DPF_NKEY_ACCOUNT ||
                         dpf_nkey_kind(iss->operator_signing) != DPF_NKEY_OPERATOR)) {
        dpf_fmt(err, errlen, "%s: the signing keys are of the wrong type", dir);
        st = DPF_ERR_INVALID;
    }
    if (st == DPF_OK && !dpf_fmt(iss->sys_creds, sizeof iss->sys_creds, "%s/sys.creds", dir))
        st = DPF_ERR_INVALID;
    if (st == DPF_OK)
        st = load_lifetime(dir, &iss->agent_lifetime_s, err, errlen);
    if (st != DPF_OK) {
        dpf_natsissuer_destroy(iss);
        return st;
    }
    *out = iss;
    return DPF_OK;
}

void dpf_natsissuer_destroy(dpf_natsissuer *iss)
{
    if (iss == NULL)
        return;
    dpf_nkey_destroy(iss->account_signing);
    dpf_nkey_destroy(iss->operator_signing);
    free(iss);
}

dpf_status dpf_natsissuer_agent(const dpf_natsissuer *iss, const char *fqdn, char **creds,
                                char user_pub[DPF_NKEY_PUBLIC_LEN + 1])
{
    *creds = NULL;
    dpf_natsroles_agent_buf buf;
    dpf_jwt_perms perms;
    if (!dpf_natsroles_agent(fqdn, &buf, &perms))
        return DPF_ERR_INVALID;
    dpf_nkey *user = NULL;
    json_t *claims = NULL;
    char *jwt = NULL, name[300];
    dpf_fmt(name, sizeof name, "dpagent %s", fqdn);
    dpf_status st = dpf_nkey_create(DPF_NKEY_USER, &user);
    if (st == DPF_OK)
        st = dpf_jwt_user_claims(dpf_nkey_public(user), name, iss->account, &perms, &claims);
    if (st == DPF_OK && iss->agent_lifetime_s > 0 &&
        json_object_set_new(claims, "exp", json_integer((long long)time(NULL) +
                                                        iss->agent_lifetime_s)) != 0)
        st = DPF_ERR_NOMEM;
    if (st == DPF_OK)
        st = dpf_jwt_sign(claims, iss->account_signing, &jwt);
    if (st == DPF_OK)
        st = dpf_jwt_creds(jwt, user, creds);
    if (st == DPF_OK)
        memcpy(user_pub, dpf_nkey_public(user), DPF_NKEY_PUBLIC_LEN + 1);
    json_decref(claims);
    free(jwt);
    dpf_nkey_destroy(user);
    return st;
}

/* A request on the system account's connection; *reply owned by the caller. */
static dpf_status sys_request(natsConnection *nc, const char *subject, const char *data,
                              natsMsg **reply, char *err, size_t errlen)
{
    natsStatus s = natsConnection_RequestString(reply, nc, subject, data, 5000);
    if (s != NATS_OK) {
        dpf_fmt(err, errlen, "%s: %s", subject, natsStatus_GetText(s));
        return s == NATS_TIMEOUT ? DPF_ERR_TIMEOUT : DPF_ERR_BUS;
    }
    return DPF_OK;
}

static dpf_status push_revocation(natsConnection *nc, const dpf_natsissuer *iss,
                                  const char *user_pub, char *err, size_t errlen)
{
    char subject[160];
    natsMsg *m = NULL;
    json_t *claims = NULL, *answer = NULL;
    char *jwt = NULL;
    dpf_fmt(subject, sizeof subject, "$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP", iss->account);
    dpf_status st = sys_request(nc, subject, "", &m, err, errlen);
    if (st == DPF_OK) {
        char *cur = strndup(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
        st = cur ? dpf_jwt_decode(cur, &claims) : DPF_ERR_NOMEM;
        free(cur);
        if (st != DPF_OK)
            dpf_fmt(err, errlen, "the resolver's JWT of account %s does not verify", iss->account);
        else if (strcmp(json_string_value(json_object_get(claims, "sub")) ?: "", iss->account) != 0) {
            dpf_fmt(err, errlen, "the resolver answered with the JWT of another account");
            st = DPF_ERR_VERIFY;
        }
    }
    natsMsg_Destroy(m);
    m = NULL;
    long long now = (long long)time(NULL);
    if (st == DPF_OK && (st = dpf_jwt_account_revoke(claims, user_pub, now)) != DPF_OK)
        dpf_fmt(err, errlen, "%s is not a user key", user_pub);
    if (st == DPF_OK)
        dpf_natsissuer_prune(claims, now, iss->agent_lifetime_s);
    if (st == DPF_OK)
        st = dpf_jwt_sign(claims, iss->operator_signing, &jwt);
    if (st == DPF_OK)
        st = sys_request(nc, "$SYS.REQ.CLAIMS.UPDATE", jwt, &m, err, errlen);
    if (st == DPF_OK) {
        answer = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
        json_t *data = json_object_get(answer, "data");
        if (json_integer_value(json_object_get(data, "code")) != 200) {
            json_t *e = json_object_get(answer, "error");
            dpf_fmt(err, errlen, "nats-server refused the account update: %s",
                    json_string_value(json_object_get(e, "description")) ?: "no reason given");
            st = DPF_ERR_BUS;
        }
    }
    natsMsg_Destroy(m);
    json_decref(answer);
    json_decref(claims);
    free(jwt);
    return st;
}

dpf_status dpf_natsissuer_revoke(const dpf_natsissuer *iss, const char *nats_url,
                                 const char *user_pub, char *err, size_t errlen)
{
    if (!dpf_nkey_public_valid(user_pub, DPF_NKEY_USER)) {
        dpf_fmt(err, errlen, "not a user key");
        return DPF_ERR_INVALID;
    }
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    natsStatus s = natsOptions_Create(&o);
    int tls = 0;
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, nats_url);
    if (s == NATS_OK) /* TLS as every other connection (DPFLEET_NATS_CA) */
        s = dpf_bus__tls_options(o, nats_url, &tls);
    if (s == NATS_OK)
        s = natsOptions_SetUserCredentialsFromFiles(o, iss->sys_creds, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, "dpfleet credential issuer");
    /* nats.c 3.4.1 sends no signature when the nonce's signature begins
     * with a zero byte (1 connect in 256 is refused; see bus.c): a new
     * nonce, a new signature */
    for (int attempt = 0; s == NATS_OK || s == NATS_CONNECTION_AUTH_FAILED; attempt++) {
        if (attempt == 3)
            break;
        s = natsConnection_Connect(&nc, o);
        if (s == NATS_OK)
            break;
    }
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
        dpf_fmt(err, errlen, "cannot connect to %s as the system account (%s): %s", nats_url,
                iss->sys_creds, natsStatus_GetText(s));
        return DPF_ERR_BUS;
    }
    dpf_status st = push_revocation(nc, iss, user_pub, err, errlen);
    natsConnection_Destroy(nc);
    return st;
}
