/* The source's naming rules for distribution points: FQDN check, NAL path,
 * property CRC. Pure functions, no I/O. */
#ifndef DPF_DP_H
#define DPF_DP_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#define DPF_FQDN_MAX 253
#define DPF_NAL_MAX 600

/* 1 if name is a valid FQDN (at least two labels, each 1-63 of [A-Za-z0-9-],
 * not starting or ending with '-', the last label not all digits, 253 chars
 * at most); otherwise 0 with the reason in err. */
int dpf_fqdn_valid(const char *name, char *err, size_t errlen);

/* 1 if code is a valid site code (exactly 3 of [A-Z0-9]). */
int dpf_site_code_valid(const char *code);

/* ["Display=\\SERVER\"]MSWNET:["SMS_SITE=PS1"]\\SERVER\   (server upper-cased)
 * DPF_ERR_INVALID if buf is too small. */
dpf_status dpf_nal_path(const char *server, const char *site, char *buf, size_t len) DPF_MUSTCHECK;

/* The server name inside a NAL path, upper-cased, into buf. */
dpf_status dpf_nal_server(const char *nal, char *buf, size_t len) DPF_MUSTCHECK;

/* CRC-32 (IEEE 802.3, as zlib) of data, continuing from crc (start with 0). */
uint32_t dpf_crc32(uint32_t crc, const void *data, size_t len);

/* The properties of a DP that HMAN compares by CRC. Strings borrowed. */
typedef struct dpf_dp_props {
    const char *server_name;
    const char *site_code;
    const char *description;
    const char *dp_drive;
    const char *pull_sources; /* canonical "FQDN:prio,FQDN:prio" in priority order, "" if none */
    const char *boundary_groups; /* canonical sorted "a,b", "" if none */
    int is_pxe;
    int is_pull_dp;
    int priority;
    int min_free_space_mb;
    int transfer_rate;
    int ssl_state;
    int content_validation_hours; /* 0 = off; DPF_DP_VALIDATION_HOURS_DEFAULT if not set */
} dpf_dp_props;

/* Content validation schedule of a DP, in hours (ContentValidationIntervalHours). */
#define DPF_DP_VALIDATION_HOURS_DEFAULT 168
#define DPF_DP_VALIDATION_HOURS_MAX 8760

/* CRC of the canonical text of p (every field, in a fixed order). The
 * content validation interval is part of the text only when it differs
 * from DPF_DP_VALIDATION_HOURS_DEFAULT, so every DP that existed before the
 * property did keeps its CRC (and is not reinstalled by the upgrade). */
uint32_t dpf_dp_crc(const dpf_dp_props *p);

/* The source prints CRCs as upper-case hex without leading zeros: 439BCA34, 13639BB. */
void dpf_crc_hex(uint32_t crc, char out[9]);

#endif
