/* The host's HTTP content server (the source's IIS with the SMS_DP_SMSPKG$
 * and SMS_DP_SMSSIG$ virtual directories). One libmicrohttpd daemon per
 * host, read-only (GET/HEAD). A package vdir (SMS_DP_SMSPKG$ and
 * NOCERT_SMS_DP_SMSPKG$, whose directory is the content library) serves
 * GET /<vdir>/<package id>/<path> from the version PkgLib names (the
 * FileLib file its DataLib manifest lists for path); every other vdir
 * serves <vdir's directory>/<path>. Anything that is not a plain relative
 * path ("..", ".", empty segments, backslashes, control characters, an
 * encoded NUL, '/' or '\\') gets 400; what the host does not hold
 * (including through a symbolic link leading out) gets 404. */
#ifndef DPA_CONTENT_SERVER_H
#define DPA_CONTENT_SERVER_H

#include <stddef.h>
#include <dpf/status.h>

typedef struct dpa_http dpa_http;

/* Listens on addr:port (IPv4 dotted address; port 0 = an ephemeral port).
 * *out owned by the caller (dpa_http_stop); the reason in err. */
dpf_status dpa_http_start(const char *addr, int port, dpa_http **out, char *err,
                          size_t errlen) DPF_MUSTCHECK;
/* Stops the daemon (waits for running requests) and frees it. NULL no-op. */
void dpa_http_stop(dpa_http *h);

/* The port it actually listens on. */
int dpa_http_port(const dpa_http *h);

/* Replaces the virtual-directory table: names[i] ("SMS_DP_SMSPKG$") is
 * served from dirs[i]. Copied; n = 0 serves nothing. */
dpf_status dpa_http_set_vdirs(dpa_http *h, const char *const *names, const char *const *dirs,
                              size_t n) DPF_MUSTCHECK;

/* 1 if name is a package vdir (DPF_CONTENT_VDIR or its NOCERT_ twin). */
int dpa_http_is_pkg_vdir(const char *name);

/* 1 if rel (the part of the URL after "/<vdir>/") is a plain relative path:
 * non-empty segments separated by single '/', none "." or "..", no '\\',
 * no control characters. Pure; exposed for tests. */
int dpa_http_rel_safe(const char *rel);

#endif
