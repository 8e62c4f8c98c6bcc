/* The source's naming rules for distribution points. The NAL path is the key
 * every table and log line uses for a DP, so building and parsing it live in
 * one place; the property CRC is what HMAN compares to decide whether a DP
 * changed, so its canonical text must never depend on the caller. */
#include "dpf/dp.h"
#include "dpf/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

static int label_char_ok(unsigned char c)
{
    return isascii(c) && (isalnum(c) || c == '-');
}

int dpf_fqdn_valid(const char *name, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (name == NULL || *name == '\0') {
        dpf_fmt(err, errlen, "name is empty");
        return 0;
    }
    size_t total = strlen(name);
    if (total > DPF_FQDN_MAX) {
        dpf_fmt(err, errlen, "name is %zu characters long, more than %d", total, DPF_FQDN_MAX);
        return 0;
    }

    int labels = 0;
    const char *p = name;
    const char *last = NULL;
    size_t last_len = 0;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        labels++;
        if (len == 0) {
            dpf_fmt(err, errlen, "label %d is empty (leading, trailing or double dot)", labels);
            return 0;
        }
        if (len > 63) {
            dpf_fmt(err, errlen, "label %d '%.20s...' is %zu characters long, more than 63",
                    labels, p, len);
            return 0;
        }
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)p[i];
            if (!label_char_ok(c)) {
                if (isprint(c) && isascii(c))
                    dpf_fmt(err, errlen, "label '%.*s' contains '%c' (only letters, digits and '-')",
                            (int)len, p, c);
                else
                    dpf_fmt(err, errlen, "label %d contains byte 0x%02x (only letters, digits and '-')",
                            labels, c);
                return 0;
            }
        }
        if (p[0] == '-') {
            dpf_fmt(err, errlen, "label '%.*s' starts with '-'", (int)len, p);
            return 0;
        }
        if (p[len - 1] == '-') {
            dpf_fmt(err, errlen, "label '%.*s' ends with '-'", (int)len, p);
            return 0;
        }
        last = p;
        last_len = len;
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    if (labels < 2) {
        dpf_fmt(err, errlen, "'%s' is a single label; a FQDN needs at least host.domain", name);
        return 0;
    }
    size_t digits = 0;
    while (digits < last_len && isdigit((unsigned char)last[digits]))
        digits++;
    if (digits == last_len) {
        dpf_fmt(err, errlen, "top-level label '%.*s' is all digits", (int)last_len, last);
        return 0;
    }
    return 1;
}

int dpf_site_code_valid(const char *code)
{
    if (code == NULL || strlen(code) != 3)
        return 0;
    for (int i = 0; i < 3; i++) {
        unsigned char c = (unsigned char)code[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

/* The pieces of ["Display=\\SERVER\"]MSWNET:["SMS_SITE=SITE"]\\SERVER\ */
#define NAL_HEAD "[\"Display=\\\\"
#define NAL_MID "\\\"]MSWNET:[\"SMS_SITE="
#define NAL_SITE_END "\"]\\\\"
#define NAL_TAIL "\\"

/* A quote or backslash inside a name would make the path ambiguous to parse. */
static int nal_part_ok(const char *s)
{
    return s != NULL && *s != '\0' && strpbrk(s, "\"\\[]") == NULL;
}

dpf_status dpf_nal_path(const char *server, const char *site, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return DPF_ERR_INVALID;
    buf[0] = '\0';
    if (!nal_part_ok(server) || !nal_part_ok(site))
        return DPF_ERR_INVALID;

    char up[DPF_FQDN_MAX + 1];
    size_t sl = strlen(server);
    if (sl > DPF_FQDN_MAX)
        return DPF_ERR_INVALID;
    for (size_t i = 0; i <= sl; i++)
        up[i] = (char)toupper((unsigned char)server[i]);

    int n = snprintf(buf, len, NAL_HEAD "%s" NAL_MID "%s" NAL_SITE_END "%s" NAL_TAIL,
                     up, site, up);
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return DPF_ERR_INVALID;
    }
    return DPF_OK;
}

dpf_status dpf_nal_server(const char *nal, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return DPF_ERR_INVALID;
    buf[0] = '\0';
    if (nal == NULL || strncmp(nal, NAL_HEAD, strlen(NAL_HEAD)) != 0)
        return DPF_ERR_INVALID;
    const char *server = nal + strlen(NAL_HEAD);
    const char *mid = strstr(server, NAL_MID);
    if (mid == NULL || mid == server)
        return DPF_ERR_INVALID;
    size_t slen = (size_t)(mid - server);
    const char *site = mid + strlen(NAL_MID);
    const char *site_end = strstr(site, NAL_SITE_END);
    if (site_end == NULL || site_end == site)
        return DPF_ERR_INVALID;
    /* the trailing copy of the server must match the display one */
    const char *tail = site_end + strlen(NAL_SITE_END);
    if (strlen(tail) != slen + strlen(NAL_TAIL) || strncasecmp(tail, server, slen) != 0 ||
        strcmp(tail + slen, NAL_TAIL) != 0)
        return DPF_ERR_INVALID;
    if (slen + 1 > len)
        return DPF_ERR_INVALID;
    for (size_t i = 0; i < slen; i++)
        buf[i] = (char)toupper((unsigned char)server[i]);
    buf[slen] = '\0';
    return DPF_OK;
}

/* zlib's crc32 (reflected IEEE polynomial, 0xEDB88320): the values HMAN
 * stores must not change, and zlib's is the reference for them. crc32_z
 * takes a size_t length, so nothing is truncated above 4 GiB. */
uint32_t dpf_crc32(uint32_t crc, const void *data, size_t len)
{
    if (len == 0)
        return crc;
    return (uint32_t)crc32_z(crc, data, len);
}

/* Each field is "name=<length>:<bytes>;" so no value can imitate a separator
 * or shift into the next field ("ab"+"c" differs from "a"+"bc"). */
static uint32_t crc_str(uint32_t crc, const char *name, const char *value)
{
    char head[64];
    const char *v = value ? value : "";
    size_t vl = strlen(v);
    int n = snprintf(head, sizeof head, "%s=%zu:", name, vl);
    crc = dpf_crc32(crc, head, (size_t)n);
    crc = dpf_crc32(crc, v, vl);
    return dpf_crc32(crc, ";", 1);
}

static uint32_t crc_int(uint32_t crc, const char *name, int value)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%s=%d;", name, value);
    return dpf_crc32(crc, buf, (size_t)n);
}

uint32_t dpf_dp_crc(const dpf_dp_props *p)
{
    uint32_t crc = 0;
    if (p == NULL)
        return 0;
    crc = dpf_crc32(crc, "dpfleet-dp-v1;", 14);
    crc = crc_str(crc, "ServerName", p->server_name);
    crc = crc_str(crc, "SiteCode", p->site_code);
    crc = crc_str(crc, "Description", p->description);
    crc = crc_str(crc, "DPDrive", p->dp_drive);
    crc = crc_str(crc, "PullSources", p->pull_sources);
    crc = crc_str(crc, "BoundaryGroups", p->boundary_groups);
    crc = crc_int(crc, "IsPXE", p->is_pxe);
    crc = crc_int(crc, "IsPullDP", p->is_pull_dp);
    crc = crc_int(crc, "Priority", p->priority);
    crc = crc_int(crc, "MinFreeSpace", p->min_free_space_mb);
    crc = crc_int(crc, "TransferRate", p->transfer_rate);
    crc = crc_int(crc, "SslState", p->ssl_state);
    /* appended (not inserted) and left out at its default: see dp.h */
    if (p->content_validation_hours != DPF_DP_VALIDATION_HOURS_DEFAULT)
        crc = crc_int(crc, "ContentValidationIntervalHours", p->content_validation_hours);
    return crc;
}

void dpf_crc_hex(uint32_t crc, char out[9])
{
    snprintf(out, 9, "%X", (unsigned)crc);
}
