/* NATS and JetStream over nats.c 3.4.1: the connection, the streams,
 * publishing and core request/reply (bus_sub.c has the receiving side).
 * Everything nats.c returns is turned into a dpf_status here, with nats.c's
 * own text logged at the point of failure, so no natsStatus travels further.
 * (Pull consumers are in bus_pull.c: 3.4.1's Fetch overflows the heap on a
 * partial batch, DESIGN.md known constraints, so it asks for one message.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus_p.h"
#include "dpf/jwt.h"
#include "dpf/log.h"
#include "dpf/natsroles.h"
#include "dpf/util.h"

#define DUPLICATE_WINDOW_NS (2LL * 60 * 1000 * NS_PER_MS)
#define KEEP_7_DAYS_NS (7LL * 24 * 3600 * 1000 * NS_PER_MS)
#define CONNECT_RETRY_MS 30000
#define BUS_CLOSE_WAIT_S 5

dpf_status dpf_bus__status(natsStatus s, jsErrCode jerr, const char *what)
{
    if (s == NATS_OK)
        return DPF_OK;
    const char *detail = nats_GetLastError(NULL);
    if (jerr != 0)
        DPF_ERROR("%s failed: %s (JetStream error %d: %s)", what, natsStatus_GetText(s),
                  (int)jerr, detail ? detail : "");
    else
        DPF_ERROR("%s failed: %s (%s)", what, natsStatus_GetText(s), detail ? detail : "");
    switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
        return DPF_ERR_TIMEOUT;
    case NATS_NO_MEMORY:
        return DPF_ERR_NOMEM;
    case NATS_NOT_FOUND:
        /* from the JetStream calls: a stream or consumer is missing (nats.c
         * uses it otherwise only for headers and KV, which do not come here) */
        return DPF_ERR_NO_STREAM;
    case NATS_INVALID_ARG:
        return DPF_ERR_INVALID;
    default:
        return DPF_ERR_BUS;
    }
}

/* ---- connection ---- */

static void on_disconnected(natsConnection *nc, void *closure)
{
    dpf_bus *bus = closure;
    atomic_store(&bus->connected, 0);
    if (atomic_load(&bus->closing))
        return;
    DPF_WARN("Disconnected from NATS (%s); reconnecting in the background", bus->name);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    dpf_bus *bus = closure;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    atomic_store(&bus->connected, 1);
    uint64_t n = atomic_fetch_add(&bus->reconnects, 1) + 1;
    DPF_INFO("Reconnected to NATS at %s (%s, reconnection %llu)", url, bus->name,
             (unsigned long long)n);
}

static void on_closed(natsConnection *nc, void *closure)
{
    dpf_bus *bus = closure;
    DPF_DEBUG("NATS connection closed (%s)", bus->name);
    pthread_mutex_lock(&bus->mu);
    bus->closed = 1;
    pthread_cond_broadcast(&bus->cv);
    pthread_mutex_unlock(&bus->mu);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
                           void *closure)
{
    dpf_bus *bus = closure;
    /* slow consumers and sequence mismatches end up here; JetStream will
     * redeliver what was dropped, so this is a warning, not a failure */
    DPF_WARN("NATS asynchronous error on %s: %s", bus->name, natsStatus_GetText(err));
}

void dpf_bus_auth_from_env(dpf_bus_auth *auth)
{
    const char *creds = getenv("DPFLEET_NATS_CREDS");
    const char *user = getenv("NATS_USER");
    const char *pass = getenv("NATS_PASS");
    const char *inbox = getenv("DPFLEET_NATS_INBOX_PREFIX");
    auth->inbox_prefix = inbox && *inbox ? inbox : NULL;
    auth->creds_file = creds && *creds ? creds : NULL;
    auth->user = user && *user ? user : NULL;
    auth->password = pass ? pass : NULL;
}

/* The user JWT and the nonce's signature come from these two callbacks,
 * not from natsOptions_SetUserCredentialsFromFiles, because of a nats.c
 * 3.4.1 defect: nats_Base64RawURL_EncodeString gives NULL (and NATS_OK) for
 * data whose first byte is 0, so a signature beginning with a zero byte
 * (1 nonce in 256) is left out of the CONNECT, nats-server logs "Signature
 * missing" and refuses the connection as an Authorization Violation. An
 * Ed25519 signature of that nonce is always the same, so the callback
 * refuses to sign it (zero_sig) and the connect is tried again with a new
 * nonce: by dpf_bus_connect_as at once, by nats.c's reconnection loop after
 * a loss. The file is read at each (re)connect, as nats.c does. */
static natsStatus creds_error(char **err_txt, const char *what, const char *file, dpf_status st)
{
    char text[4200];
    snprintf(text, sizeof text, "%s %s: %s", what, file, dpf_status_text(st));
    *err_txt = strdup(text);
    return NATS_ERR;
}

static natsStatus creds_jwt(char **user_jwt, char **err_txt, void *closure)
{
    dpf_bus *bus = closure;
    char *jwt = NULL;
    dpf_nkey *key = NULL;
    dpf_status st = dpf_jwt_creds_read(bus->creds_file, &jwt, &key);
    dpf_nkey_destroy(key);
    if (st != DPF_OK)
        return creds_error(err_txt, "cannot read the NATS credentials file", bus->creds_file, st);
    *user_jwt = jwt;
    return NATS_OK;
}

static natsStatus creds_sign(char **err_txt, unsigned char **signature, int *signature_len,
                             const char *nonce, void *closure)
{
    dpf_bus *bus = closure;
    char *jwt = NULL;
    dpf_nkey *key = NULL;
    unsigned char *sig = malloc(DPF_NKEY_SIG_LEN);
    dpf_status st = sig == NULL ? DPF_ERR_NOMEM : dpf_jwt_creds_read(bus->creds_file, &jwt, &key);
    if (st == DPF_OK)
        st = dpf_nkey_sign(key, nonce ? nonce : "", nonce ? strlen(nonce) : 0, sig);
    free(jwt);
    dpf_nkey_destroy(key);
    if (st != DPF_OK) {
        free(sig);
        return creds_error(err_txt, "cannot sign with the NATS credentials file", bus->creds_file,
                           st);
    }
    if (sig[0] == 0) {
        free(sig);
        atomic_store(&bus->zero_sig, 1);
        *err_txt = strdup("the nonce's signature begins with a zero byte, which nats.c 3.4.1 "
                          "would leave out; trying again with a new nonce");
        return NATS_ERR;
    }
    *signature = sig;
    *signature_len = DPF_NKEY_SIG_LEN;
    return NATS_OK;
}

static natsStatus set_auth(dpf_bus *bus, natsOptions *o, const dpf_bus_auth *auth)
{
    if (auth == NULL)
        return NATS_OK;
    if (auth->creds_file != NULL) {
        if (!dpf_fmt(bus->creds_file, sizeof bus->creds_file, "%s", auth->creds_file)) {
            DPF_ERROR("NATS credentials file name too long: %.100s...", auth->creds_file);
            return NATS_INVALID_ARG;
        }
        return natsOptions_SetUserCredentialsCallbacks(o, creds_jwt, bus, creds_sign, bus);
    }
    if (auth->user != NULL)
        return natsOptions_SetUserInfo(o, auth->user, auth->password ? auth->password : "");
    return NATS_OK;
}

/* The inbox prefix of a connection as auth: the one given, else
 * "_INBOX_<role>" when the credential's JWT is named after one of the roles
 * of natsroles.c, else "" (nats.c's default). The file was read by nats.c
 * already or will be: one that cannot be read here is its error to report. */
static void inbox_prefix(const dpf_bus_auth *auth, char *buf, size_t len)
{
    buf[0] = '\0';
    if (auth == NULL)
        return;
    if (auth->inbox_prefix != NULL && *auth->inbox_prefix != '\0') {
        dpf_fmt(buf, len, "%s", auth->inbox_prefix);
        return;
    }
    if (auth->creds_file == NULL)
        return;
    char *jwt = NULL;
    dpf_nkey *user = NULL;
    json_t *claims = NULL;
    if (dpf_jwt_creds_read(auth->creds_file, &jwt, &user) == DPF_OK &&
        dpf_jwt_decode(jwt, &claims) == DPF_OK) {
        const char *name = json_string_value(json_object_get(claims, "name"));
        if (name != NULL && !dpf_natsroles_inbox_prefix(name, buf, len))
            buf[0] = '\0';
    }
    json_decref(claims);
    free(jwt);
    dpf_nkey_destroy(user);
}

static const char *auth_name(const dpf_bus_auth *auth)
{
    if (auth == NULL)
        return "no credentials";
    if (auth->creds_file != NULL)
        return auth->creds_file;
    return auth->user != NULL ? auth->user : "no credentials";
}

/* The host of url's first server ("tls://u:p@host:4222,..." -> "host");
 * 0 when there is none or it does not fit. */
static int url_host(const char *url, char *host, size_t len)
{
    const char *p = strstr(url, "://");
    p = p != NULL ? p + 3 : url;
    size_t n = strcspn(p, ",/");
    const char *at = memchr(p, '@', n);
    if (at != NULL) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (*p == '[') { /* an IPv6 address */
        const char *close = memchr(p, ']', n);
        if (close == NULL)
            return 0;
        p++;
        n = (size_t)(close - p);
    } else {
        const char *colon = memchr(p, ':', n);
        if (colon != NULL)
            n = (size_t)(colon - p);
    }
    if (n == 0 || n >= len)
        return 0;
    memcpy(host, p, n);
    host[n] = '\0';
    return 1;
}

/* TLS for NATS (issue 9): DPFLEET_NATS_CA names the CA file that signed
 * nats-server's certificate. With it, or with a tls:// URL, the connection
 * is TLS or nothing: the server's certificate must chain to that CA and
 * carry the URL's host name (DPFLEET_NATS_TLS_HOSTNAME instead, for servers
 * reached by address or sharing one name); nats.c 3.4.1 checks the name only
 * when told which. A tls:// URL without a CA is refused here (nats.c would
 * trust no CA at all). Without either, plain TCP, and a server that
 * requires TLS refuses the client. *tls: 1 when TLS is on. */
natsStatus dpf_bus__tls_options(natsOptions *o, const char *url, int *tls)
{
    const char *ca = getenv("DPFLEET_NATS_CA");
    const char *name = getenv("DPFLEET_NATS_TLS_HOSTNAME");
    char host[256];
    *tls = 0;
    if (ca != NULL && *ca == '\0')
        ca = NULL;
    if (ca == NULL && strstr(url, "tls://") == NULL)
        return NATS_OK;
    if (ca == NULL) {
        DPF_ERROR("NATS URL %s asks for TLS but DPFLEET_NATS_CA is not set: name the CA file "
                  "that signed nats-server's certificate", url);
        return NATS_INVALID_ARG;
    }
    if (name != NULL && *name != '\0')
        dpf_fmt(host, sizeof host, "%s", name);
    else if (!url_host(url, host, sizeof host)) {
        DPF_ERROR("NATS URL %s: no host name to check nats-server's certificate against "
                  "(set DPFLEET_NATS_TLS_HOSTNAME)", url);
        return NATS_INVALID_ARG;
    }
    natsStatus s = natsOptions_SetSecure(o, true);
    if (s == NATS_OK && (s = natsOptions_LoadCATrustedCertificates(o, ca)) != NATS_OK) {
        const char *why = nats_GetLastError(NULL);
        DPF_ERROR("cannot load the NATS CA file %s (DPFLEET_NATS_CA): %s", ca, why ? why : "");
        return s;
    }
    if (s == NATS_OK)
        s = natsOptions_SetExpectedHostname(o, host);
    if (s == NATS_OK)
        *tls = 1;
    return s;
}

static natsStatus build_options(dpf_bus *bus, const char *url, const dpf_bus_auth *auth,
                                natsOptions **out)
{
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, url);
    if (s == NATS_OK)
        s = dpf_bus__tls_options(o, url, &bus->tls);
    if (s == NATS_OK)
        s = set_auth(bus, o, auth);
    inbox_prefix(auth, bus->inbox_prefix, sizeof bus->inbox_prefix);
    if (s == NATS_OK && bus->inbox_prefix[0] != '\0')
        s = natsOptions_SetCustomInboxPrefix(o, bus->inbox_prefix);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, bus->name);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(o, 250);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(o, on_disconnected, bus);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(o, on_reconnected, bus);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(o, on_closed, bus);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(o, on_async_error, bus);
    if (s != NATS_OK) {
        natsOptions_Destroy(o);
        return s;
    }
    *out = o;
    return NATS_OK;
}

/* A server that is not up yet is worth waiting for; a bad URL or bad
 * credentials are not. */
static int worth_retrying(natsStatus s)
{
    return s == NATS_NO_SERVER || s == NATS_IO_ERROR || s == NATS_TIMEOUT ||
           s == NATS_CONNECTION_CLOSED || s == NATS_STALE_CONNECTION ||
           s == NATS_NOT_YET_CONNECTED;
}

static void free_bus(dpf_bus *bus)
{
    pthread_mutex_destroy(&bus->mu);
    pthread_cond_destroy(&bus->cv);
    free(bus);
}

dpf_status dpf_bus_connect(const char *url, const char *name, dpf_bus **out)
{
    dpf_bus_auth auth;
    dpf_bus_auth_from_env(&auth);
    return dpf_bus_connect_as(url, name, &auth, out);
}

dpf_status dpf_bus_connect_as(const char *url, const char *name, const dpf_bus_auth *auth,
                              dpf_bus **out)
{
    if (out == NULL)
        return DPF_ERR_INVALID;
    *out = NULL;
    if (url == NULL || *url == '\0') {
        DPF_ERROR("NATS URL is not set");
        return DPF_ERR_INVALID;
    }
    dpf_bus *bus = calloc(1, sizeof *bus);
    if (bus == NULL)
        return DPF_ERR_NOMEM;
    pthread_mutex_init(&bus->mu, NULL);
    pthread_cond_init(&bus->cv, NULL);
    snprintf(bus->name, sizeof bus->name, "%s", name && *name ? name : "dpfleet");

    natsOptions *opts = NULL;
    natsStatus s = build_options(bus, url, auth, &opts);
    if (s != NATS_OK) {
        free_bus(bus);
        return dpf_bus__status(s, 0, "NATS options");
    }

    /* services may start before nats-server: keep trying for a while */
    int64_t deadline = dpf_mono_us() + (int64_t)CONNECT_RETRY_MS * 1000;
    int attempt = 0;
    int zero_sigs = 0;
    for (;;) {
        attempt++;
        atomic_store(&bus->zero_sig, 0);
        s = natsConnection_Connect(&bus->nc, opts);
        if (s != NATS_OK && atomic_load(&bus->zero_sig) && ++zero_sigs < 20) {
            DPF_DEBUG("NATS connect of %s: signature began with a zero byte; trying again",
                      bus->name);
            attempt--;
            continue;
        }
        if (s == NATS_OK || !worth_retrying(s) || dpf_mono_us() >= deadline || dpf_stopping())
            break;
        if (attempt == 1)
            DPF_WARN("NATS at %s not reachable yet (%s); retrying for up to %d s", url,
                     natsStatus_GetText(s), CONNECT_RETRY_MS / 1000);
        nats_Sleep(attempt < 4 ? 250 : 1000);
    }
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
        /* no connection was made, so no event will arrive for it */
        if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED)
            DPF_ERROR("NATS at %s refused the identity %s: check the user and its permissions "
                      "in nats-server's configuration", url, auth_name(auth));
        dpf_status st = dpf_bus__status(s, 0, "NATS connect");
        free_bus(bus);
        return st;
    }

    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    s = natsConnection_JetStream(&bus->js, bus->nc, &jo);
    if (s != NATS_OK) {
        dpf_status st = dpf_bus__status(s, 0, "JetStream context");
        dpf_bus_destroy(bus); /* waits for the close event */
        return st;
    }
    char curl[256] = "";
    natsConnection_GetConnectedUrl(bus->nc, curl, sizeof curl);
    atomic_store(&bus->connected, 1);
    DPF_INFO("Connected to NATS at %s as %s%s", curl, bus->name,
             bus->tls ? " (TLS, server certificate verified)" : "");
    *out = bus;
    return DPF_OK;
}

void dpf_bus_destroy(dpf_bus *bus)
{
    if (bus == NULL)
        return;
    atomic_store(&bus->closing, 1);
    jsCtx_Destroy(bus->js);
    if (bus->nc == NULL) {
        free_bus(bus);
        return;
    }
    /* flush what was published without waiting for an ack */
    natsConnection_FlushTimeout(bus->nc, 1000);
    natsConnection_Close(bus->nc);
    natsConnection_Destroy(bus->nc);

    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += BUS_CLOSE_WAIT_S;
    int closed;
    pthread_mutex_lock(&bus->mu);
    while (!bus->closed && pthread_cond_timedwait(&bus->cv, &bus->mu, &until) == 0)
        ;
    closed = bus->closed;
    pthread_mutex_unlock(&bus->mu);
    if (closed)
        free_bus(bus);
    else /* a late callback would find freed memory: better to leak */
        DPF_WARN("NATS close event for %s did not arrive; not freeing its state", bus->name);
}

uint64_t dpf_bus_reconnects(dpf_bus *bus)
{
    return bus != NULL ? (uint64_t)atomic_load(&bus->reconnects) : 0;
}

int dpf_bus_connected(dpf_bus *bus)
{
    return bus != NULL && atomic_load(&bus->connected);
}

/* ---- streams ---- */

static dpf_status ensure_stream(dpf_bus *bus, jsStreamConfig *cfg)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddStream(&si, bus->js, cfg, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
        /* exists with a different configuration: bring it to ours */
        jerr = 0;
        s = js_UpdateStream(&si, bus->js, cfg, NULL, &jerr);
        if (s == NATS_OK)
            DPF_INFO("Updated stream %s to the current configuration", cfg->Name);
    }
    jsStreamInfo_Destroy(si);
    char what[96];
    snprintf(what, sizeof what, "ensure stream %s", cfg->Name);
    return dpf_bus__status(s, jerr, what);
}

dpf_status dpf_bus_ensure_streams(dpf_bus *bus)
{
    if (bus == NULL)
        return DPF_ERR_INVALID;
    static const char *events_subjects[] = {"sitecontrol.changed.>", "dp.ins.>", "dp.dpn.>",
                                            "pkg.changed.>", "dp.val.>"};
    static const char *statmsg_subjects[] = {"statmsg.>"};

    jsStreamConfig ev;
    jsStreamConfig_Init(&ev);
    ev.Name = "DPF_EVENTS";
    ev.Subjects = events_subjects;
    ev.SubjectsLen = 5;
    /* each event is work for exactly one consumer group and goes once acked */
    ev.Retention = js_WorkQueuePolicy;
    ev.Storage = js_FileStorage;
    ev.Duplicates = DUPLICATE_WINDOW_NS;
    ev.MaxAge = KEEP_7_DAYS_NS;
    dpf_status st = ensure_stream(bus, &ev);
    if (st != DPF_OK)
        return st;

    jsStreamConfig sm;
    jsStreamConfig_Init(&sm);
    sm.Name = "DPF_STATMSG";
    sm.Subjects = statmsg_subjects;
    sm.SubjectsLen = 1;
    sm.Retention = js_LimitsPolicy;
    sm.Storage = js_FileStorage;
    sm.Duplicates = DUPLICATE_WINDOW_NS;
    sm.MaxAge = KEEP_7_DAYS_NS;
    return ensure_stream(bus, &sm);
}

/* ---- publish ---- */

natsStatus dpf_bus__new_msg(const char *subject, const char *reply, const void *data, size_t len,
                          const char *corr, natsMsg **out)
{
    natsStatus s = natsMsg_Create(out, subject, reply, (const char *)data, (int)len);
    if (s == NATS_OK && corr != NULL && *corr != '\0')
        s = natsMsgHeader_Set(*out, DPF_CORR_HEADER, corr);
    if (s != NATS_OK) {
        natsMsg_Destroy(*out);
        *out = NULL;
    }
    return s;
}

dpf_status dpf_bus_publish(dpf_bus *bus, const char *subject, const void *data, size_t len,
                           const char *msg_id, const char *corr)
{
    if (bus == NULL || subject == NULL || (data == NULL && len > 0) || len > INT32_MAX)
        return DPF_ERR_INVALID;
    natsMsg *msg = NULL;
    natsStatus s = dpf_bus__new_msg(subject, NULL, data, len, corr, &msg);
    if (s != NATS_OK)
        return dpf_bus__status(s, 0, "create message");

    jsPubOptions po;
    jsPubOptions_Init(&po);
    if (msg_id != NULL && *msg_id != '\0')
        po.MsgId = msg_id;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    s = js_PublishMsg(&pa, bus->js, msg, &po, &jerr);
    if (s == NATS_OK && pa != NULL && pa->Duplicate)
        DPF_DEBUG("publish %s: duplicate of message id %s, not stored again", subject,
                  msg_id ? msg_id : "");
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(msg);
    if (s == NATS_NO_RESPONDERS) {
        /* JetStream answers every subject a stream holds: nobody answering
         * means no stream does (or JetStream is off) */
        DPF_ERROR("publish to %s: no stream holds this subject (is JetStream enabled and "
                  "dpf_bus_ensure_streams called?)", subject);
        return DPF_ERR_NO_STREAM;
    }
    char what[300];
    snprintf(what, sizeof what, "publish to %s", subject);
    return dpf_bus__status(s, jerr, what);
}

/* ---- core request/reply ---- */

dpf_status dpf_bus_request(dpf_bus *bus, const char *subject, const void *data, size_t len,
                           const char *corr, int timeout_ms, void **reply, size_t *reply_len)
{
    if (reply != NULL)
        *reply = NULL;
    if (reply_len != NULL)
        *reply_len = 0;
    if (bus == NULL || subject == NULL || reply == NULL || reply_len == NULL ||
        (data == NULL && len > 0) || len > INT32_MAX)
        return DPF_ERR_INVALID;

    natsMsg *req = NULL;
    natsStatus s = dpf_bus__new_msg(subject, NULL, data, len, corr, &req);
    if (s != NATS_OK)
        return dpf_bus__status(s, 0, "create request");
    natsMsg *rep = NULL;
    s = natsConnection_RequestMsg(&rep, bus->nc, req, timeout_ms > 0 ? timeout_ms : 1);
    natsMsg_Destroy(req);
    if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) {
        /* an expected outcome (host down); the caller decides how loud to be */
        DPF_DEBUG("request to %s: %s", subject,
                  s == NATS_TIMEOUT ? "no reply in time" : "no responders");
        natsMsg_Destroy(rep);
        return DPF_ERR_TIMEOUT;
    }
    if (s != NATS_OK) {
        char what[300];
        snprintf(what, sizeof what, "request to %s", subject);
        return dpf_bus__status(s, 0, what);
    }
    int n = natsMsg_GetDataLength(rep);
    size_t rl = n > 0 ? (size_t)n : 0;
    /* one spare byte so text replies can be used as C strings */
    char *copy = malloc(rl + 1);
    if (copy == NULL) {
        natsMsg_Destroy(rep);
        return DPF_ERR_NOMEM;
    }
    if (rl > 0)
        memcpy(copy, natsMsg_GetData(rep), rl);
    copy[rl] = '\0';
    natsMsg_Destroy(rep);
    *reply = copy;
    *reply_len = rl;
    return DPF_OK;
}

/* A reply copied out with one spare NUL byte (text replies are C strings). */
static dpf_status take_reply(natsMsg *rep, void **reply, size_t *reply_len)
{
    int n = natsMsg_GetDataLength(rep);
    size_t rl = n > 0 ? (size_t)n : 0;
    char *copy = malloc(rl + 1);
    if (copy == NULL)
        return DPF_ERR_NOMEM;
    if (rl > 0)
        memcpy(copy, natsMsg_GetData(rep), rl);
    copy[rl] = '\0';
    *reply = copy;
    *reply_len = rl;
    return DPF_OK;
}

/* How long one wait for the reply lasts before the connection is looked at. */
#define IDEM_SLICE_MS 250
/* After a reconnection, "no responders" may only mean the responder has not
 * subscribed again yet: ask again this much later. */
#define IDEM_NO_RESPONDERS_RETRY_MS 500

dpf_status dpf_bus_request_idem(dpf_bus *bus, const char *subject, const void *data, size_t len,
                                const char *corr, int timeout_ms, void **reply,
                                size_t *reply_len)
{
    if (reply != NULL)
        *reply = NULL;
    if (reply_len != NULL)
        *reply_len = 0;
    if (bus == NULL || subject == NULL || reply == NULL || reply_len == NULL ||
        (data == NULL && len > 0) || len > INT32_MAX)
        return DPF_ERR_INVALID;
    natsInbox *unique = NULL;
    natsSubscription *sub = NULL;
    natsMsg *req = NULL;
    char inbox[256];
    /* natsInbox_Create knows nothing of the connection's prefix ("_INBOX.<nuid>"):
     * the reply must come on an inbox this identity may read */
    natsStatus s = natsInbox_Create(&unique);
    if (s == NATS_OK &&
        !dpf_fmt(inbox, sizeof inbox, "%s%s",
                 bus->inbox_prefix[0] != '\0' ? bus->inbox_prefix : "_INBOX",
                 unique + strlen("_INBOX")))
        s = NATS_INVALID_ARG;
    natsInbox_Destroy(unique);
    if (s == NATS_OK)
        s = natsConnection_SubscribeSync(&sub, bus->nc, inbox);
    if (s == NATS_OK)
        s = dpf_bus__new_msg(subject, inbox, data, len, corr, &req);
    if (s != NATS_OK) {
        natsSubscription_Destroy(sub);
        return dpf_bus__status(s, 0, "create request");
    }
    int64_t deadline = dpf_mono_us() + (int64_t)(timeout_ms > 0 ? timeout_ms : 1) * 1000;
    uint64_t gen = dpf_bus_reconnects(bus);
    int reconnected = 0, sends = 0;
    int64_t send_at = 0; /* when to (re)send; 0 = now */
    int need_send = 1;
    dpf_status st = DPF_ERR_TIMEOUT;
    for (;;) {
        int64_t now = dpf_mono_us();
        if (now >= deadline)
            break;
        if (need_send && now >= send_at && dpf_bus_connected(bus)) {
            gen = dpf_bus_reconnects(bus);
            if (natsConnection_PublishMsg(bus->nc, req) == NATS_OK) {
                need_send = 0;
                if (sends++ > 0)
                    DPF_INFO("request to %s: NATS came back while waiting for the reply; "
                             "sent it again", subject);
            }
        }
        int64_t left_ms = (deadline - now) / 1000;
        natsMsg *rep = NULL;
        int64_t slice = left_ms < IDEM_SLICE_MS ? (left_ms > 0 ? left_ms : 1) : IDEM_SLICE_MS;
        s = natsSubscription_NextMsg(&rep, sub, slice);
        /* 3.4.1 reports "no responders" as a status of NextMsg, later
         * versions as a message: either way */
        if (s == NATS_NO_RESPONDERS || (s == NATS_OK && natsMsg_IsNoResponders(rep))) {
            natsMsg_Destroy(rep);
            if (!reconnected) {
                DPF_DEBUG("request to %s: no responders", subject);
                break; /* nobody serves the subject: say so at once */
            }
            need_send = 1;
            send_at = dpf_mono_us() + IDEM_NO_RESPONDERS_RETRY_MS * 1000LL;
            continue;
        }
        if (s == NATS_OK) {
            st = take_reply(rep, reply, reply_len);
            natsMsg_Destroy(rep);
            break;
        }
        if (s != NATS_TIMEOUT) {
            char what[300];
            snprintf(what, sizeof what, "request to %s", subject);
            st = dpf_bus__status(s, 0, what);
            break;
        }
        /* the server went away after the request left: its reply went with
         * it, so ask again on the new connection */
        if (dpf_bus_reconnects(bus) != gen) {
            reconnected = 1;
            need_send = 1;
            send_at = 0;
        }
    }
    if (st == DPF_ERR_TIMEOUT)
        DPF_DEBUG("request to %s: no reply in time", subject);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    natsMsg_Destroy(req);
    return st;
}

dpf_status dpf_bus_respond(dpf_bus *bus, dpf_bus_msg *req, const void *data, size_t len)
{
    if (bus == NULL || req == NULL || (data == NULL && len > 0) || len > INT32_MAX)
        return DPF_ERR_INVALID;
    const char *reply = natsMsg_GetReply(req->msg);
    if (reply == NULL || *reply == '\0') {
        DPF_WARN("cannot respond on %s: the request has no reply subject",
                 natsMsg_GetSubject(req->msg));
        return DPF_ERR_INVALID;
    }
    natsMsg *rep = NULL;
    /* the reply carries the request's correlation id back */
    natsStatus s = dpf_bus__new_msg(reply, NULL, data, len, dpf_bus_msg_corr(req), &rep);
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(bus->nc, rep);
    natsMsg_Destroy(rep);
    return dpf_bus__status(s, 0, "respond");
}
