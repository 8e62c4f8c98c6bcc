/* e2e_natsprobe CREDS connect | sub SUBJECT | pub SUBJECT
 *   Tries one thing on the nats-server at NATS_URL with a credentials file,
 *   as any NATS client holding that file could, and says whether the server
 *   allowed it: exit 0 and "allowed", 3 and "refused: <the server's words>"
 *   (authorization failure or Permissions Violation), 1 for anything else.
 *   sub waits 1 s after the subscription for the server's verdict. A
 *   refused connection is tried three times (nats.c 3.4.1 drops 1 nonce
 *   signature in 256, see lib/src/bus.c). */
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* set on nats.c's callback thread, read by main; the error text is read by
 * main too (natsConnection_GetLastError): nats.c rewrites it on its reader
 * thread when another -ERR arrives, so the callback does not copy it */
static atomic_int g_refused;

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    (void)nc;
    (void)sub;
    (void)closure;
    if (err == NATS_NOT_PERMITTED)
        atomic_store(&g_refused, 1);
}

int main(int argc, char **argv)
{
    const char *url = getenv("NATS_URL");
    if (argc < 3 || url == NULL || (strcmp(argv[2], "connect") != 0 && argc != 4)) {
        fprintf(stderr, "usage: NATS_URL=... e2e_natsprobe CREDS connect|sub SUBJECT|pub SUBJECT\n");
        return 1;
    }
    natsOptions *o = NULL;
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK)
        s = natsOptions_SetURL(o, url);
    if (s == NATS_OK)
        s = natsOptions_SetUserCredentialsFromFiles(o, argv[1], NULL);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(o, on_error, NULL);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, 0);
    /* nats.c 3.4.1 leaves out a nonce signature that begins with a zero
     * byte (1 connection in 256) and the server refuses the CONNECT: a
     * refusal counts only when it happens three times, with new nonces */
    for (int attempt = 0; s == NATS_OK || (s == NATS_CONNECTION_AUTH_FAILED && attempt < 3);
         attempt++) {
        s = natsConnection_Connect(&nc, o);
        if (s != NATS_CONNECTION_AUTH_FAILED)
            break;
    }
    int rc = 1;
    if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED) {
        printf("refused: cannot connect: %s\n", natsStatus_GetText(s));
        rc = 3;
    } else if (s != NATS_OK) {
        printf("error: cannot connect: %s\n", natsStatus_GetText(s));
    } else {
        if (strcmp(argv[2], "sub") == 0)
            s = natsConnection_SubscribeSync(&sub, nc, argv[3]);
        else if (strcmp(argv[2], "pub") == 0)
            s = natsConnection_PublishString(nc, argv[3], "e2e_natsprobe");
        if (s == NATS_OK)
            s = natsConnection_FlushTimeout(nc, 2000);
        for (int i = 0; s == NATS_OK && !atomic_load(&g_refused) && i < 20 && strcmp(argv[2], "connect") != 0; i++)
            usleep(50 * 1000);
        if (atomic_load(&g_refused)) {
            const char *why = NULL;
            natsConnection_GetLastError(nc, &why);
            printf("refused: %s\n", why != NULL && *why ? why : "not permitted");
            rc = 3;
        } else if (s != NATS_OK) {
            printf("error: %s\n", natsStatus_GetText(s));
        } else {
            printf("allowed\n");
            rc = 0;
        }
    }
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(o);
    return rc;
}
