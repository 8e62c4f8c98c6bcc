/* The host's HTTP content server (the source's IIS with the SMS_DP_SMSPKG$
 * and SMS_DP_SMSSIG$ virtual directories). One libmicrohttpd daemon per
 * host. GET/HEAD /<vdir>/<path> serves the file <vdir's directory>/<path>
 * read-only; anything that is not a plain relative path inside the
 * directory ("..", ".", empty segments, backslashes, control characters, an
 * encoded NUL, a symbolic link leading out) gets 400 or 404. */
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

/* 1 if rel (the part of the URL after "/<vdir>/") is a plain relative path:
 * non-empty segments separated by single '/', none "." or "..", no '\\',
 * no control characters. Pure; exposed for tests. */
int dpa_http_rel_safe(const char *rel);

#endif
