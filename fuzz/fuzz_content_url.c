/* libFuzzer target: the content server's URL handling (content_server.c)
 * end to end: the real libmicrohttpd daemon of a host, started once on a
 * loopback port with a plain virtual directory and a package one, is sent
 * "GET <input> HTTP/1.1" for each input, so our unescaping, the vdir split
 * and dpa_http_rel_safe see exactly what a client can send. Beside the
 * vdir lie a file and a symbolic link leading to it: the answer must never
 * carry that file's text. dpa_http_rel_safe is also checked alone: a path
 * it accepts has no ".", ".." or empty segment, no '\\' and no control
 * character. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <dpf/agent.h>

#include "content_server.h"
#include "fuzz_util.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define SECRET "OUTSIDE-THE-VDIR-7f3a"

static dpa_http *server;
static int port;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        abort();
}

static void setup(void)
{
    const char *tmpl = fuzz_make_tmpdir("fuzz_content_url");
    char p[512], q[512], lib[512];
    snprintf(p, sizeof p, "%s/outside.txt", tmpl);
    write_file(p, SECRET "\n");
    snprintf(p, sizeof p, "%s/vdir", tmpl);
    snprintf(lib, sizeof lib, "%s/lib", tmpl);
    if (mkdir(p, 0700) != 0 || mkdir(lib, 0700) != 0)
        abort();
    snprintf(p, sizeof p, "%s/vdir/sub", tmpl);
    if (mkdir(p, 0700) != 0)
        abort();
    snprintf(p, sizeof p, "%s/vdir/sub/in.txt", tmpl);
    write_file(p, "inside\n");
    snprintf(p, sizeof p, "%s/vdir/link.txt", tmpl);
    snprintf(q, sizeof q, "%s/outside.txt", tmpl);
    if (symlink(q, p) != 0)
        abort();
    snprintf(p, sizeof p, "%s/vdir/up", tmpl);
    if (symlink("..", p) != 0)
        abort();
    char err[256];
    if (dpa_http_start("127.0.0.1", 0, &server, err, sizeof err) != DPF_OK) {
        fprintf(stderr, "fuzz_content_url: %s\n", err);
        abort();
    }
    snprintf(p, sizeof p, "%s/vdir", tmpl);
    const char *names[] = {"SMS_DP_SMSSIG$", DPF_CONTENT_VDIR};
    const char *dirs[] = {p, lib};
    if (dpa_http_set_vdirs(server, names, dirs, 2) != DPF_OK)
        abort();
    port = dpa_http_port(server);
}

static void rel_safe(const char *rel)
{
    if (!dpa_http_rel_safe(rel))
        return;
    size_t n = strlen(rel);
    CHECK(n > 0 && rel[0] != '/' && rel[n - 1] != '/');
    CHECK(strstr(rel, "//") == NULL && strchr(rel, '\\') == NULL);
    CHECK(strcmp(rel, ".") != 0 && strcmp(rel, "..") != 0);
    CHECK(strncmp(rel, "./", 2) != 0 && strncmp(rel, "../", 3) != 0);
    CHECK(strstr(rel, "/./") == NULL && strstr(rel, "/../") == NULL);
    CHECK(!(n >= 2 && strcmp(rel + n - 2, "/.") == 0));
    CHECK(!(n >= 3 && strcmp(rel + n - 3, "/..") == 0));
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)rel[i] >= 0x20 && rel[i] != 0x7f);
}

/* How many bytes the answer in resp (got bytes) has in all once its
 * headers are complete; 0 while they are not. */
static size_t answer_len(const char *resp, size_t got)
{
    const char *end = memmem(resp, got, "\r\n\r\n", 4);
    if (end == NULL)
        return 0;
    size_t head = (size_t)(end - resp) + 4;
    const char *cl = strcasestr(resp, "\r\nContent-Length:");
    if (cl == NULL || cl > end)
        return head;
    return head + strtoul(cl + 17, NULL, 10);
}

/* The client closes first and with a reset (SO_LINGER 0), so no socket is
 * left in TIME_WAIT: tens of thousands of connections a second would
 * otherwise use up the loopback's ephemeral ports. */
static void request(const uint8_t *url, size_t len)
{
    int fd = -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 500; i++) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            break;
        close(fd);
        fd = -1;
        usleep(10000);
    }
    CHECK(fd >= 0); /* the server stopped accepting connections */
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    static char buf[8192];
    int head = snprintf(buf, sizeof buf, "GET ");
    size_t n = len < sizeof buf - 100 ? len : sizeof buf - 100;
    memcpy(buf + head, url, n);
    int tail = snprintf(buf + head + n, 100, " HTTP/1.1\r\nHost: fuzz\r\n\r\n");
    ssize_t w = send(fd, buf, (size_t)head + n + (size_t)tail, MSG_NOSIGNAL);
    (void)w;
    static char resp[65536];
    size_t got = 0, want = 0;
    ssize_t r;
    while (got < sizeof resp - 1 && (r = recv(fd, resp + got, sizeof resp - 1 - got, 0)) > 0) {
        got += (size_t)r;
        resp[got] = '\0';
        want = answer_len(resp, got);
        if (want != 0 && got >= want)
            break;
    }
    resp[got] = '\0';
    close(fd);
    /* the one property that matters: nothing outside the vdir is served */
    CHECK(memmem(resp, got, SECRET, strlen(SECRET)) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int done;
    if (!done) {
        fuzz_init_once("SMS_DP_AGENT");
        setup();
        done = 1;
    }
    char *s = fuzz_strndup(data, size);
    rel_safe(s);
    request(data, size);
    free(s);
    return 0;
}
