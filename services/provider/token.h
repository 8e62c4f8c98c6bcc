/* API tokens (issue 9): the secret, its hash, and the api_tokens table
 * (db/070_api_tokens.sql). A secret is "dpf_" + 43 characters of base64url
 * (32 bytes from getrandom); only its SHA-256 is ever stored or compared.
 * Used by the token endpoints (handle_tokens.c), the request check
 * (auth.c) and "provider issue-token" (issue_token.c). */
#ifndef PROV_TOKEN_H
#define PROV_TOKEN_H

#include <stddef.h>
#include <dpf/db.h>
#include <dpf/status.h>

#define PROV_TOKEN_PREFIX "dpf_"
#define PROV_TOKEN_SECRET_LEN 47 /* "dpf_" + 43 */
#define PROV_TOKEN_HASH_HEX 64
#define PROV_TOKEN_USER_MAX 256
#define PROV_TOKEN_MAX_HOURS 87600 /* ten years */

/* Roles, as bits so a route can name several (routes.c). */
enum {
    PROV_ROLE_FULL = 1u,  /* Full Administrator */
    PROV_ROLE_INFRA = 2u, /* Infrastructure Administrator */
    PROV_ROLE_APP = 4u,   /* Application Administrator */
    PROV_ROLE_READ = 8u,  /* Read-only Analyst */
    PROV_ROLE_ALL = 15u,
    PROV_PUBLIC = 0x100u, /* a route anyone may call without a credential */
};

/* The role's exact name ("Full Administrator"); NULL for anything but one bit. */
const char *prov_role_name(unsigned role);
/* The role bit of an exact name; 0 if it is none of the four. */
unsigned prov_role_parse(const char *name);
/* "Full Administrator or Infrastructure Administrator" into buf. */
void prov_roles_text(unsigned roles, char *buf, size_t len);
/* The four names, quoted and comma-separated, for error messages (static). */
const char *prov_role_list(void);

/* A new secret into out (PROV_TOKEN_SECRET_LEN + 1 bytes). DPF_ERR_IO when
 * the kernel gives no random bytes. */
dpf_status prov_token_secret(char *out) DPF_MUSTCHECK;
/* 1 if s has the form of a secret (prefix, length, base64url alphabet). */
int prov_token_wellformed(const char *s);
/* SHA-256 of the secret: raw (32 bytes, may be NULL) and lower-case hex
 * (65 bytes, may be NULL). */
void prov_token_hash(const char *secret, unsigned char raw[32], char hex[PROV_TOKEN_HASH_HEX + 1]);

/* What a new token is: the secret (only in memory, shown once), its id and
 * expiry ("" when it never expires; ISO 8601 UTC otherwise). */
typedef struct prov_token_made {
    char secret[PROV_TOKEN_SECRET_LEN + 1];
    char id[24];
    char expires_at[40];
} prov_token_made;

/* Makes a secret and inserts its row. hours: 0 for no expiry, else
 * 1..PROV_TOKEN_MAX_HOURS. role: an exact role name. Strings borrowed. */
dpf_status prov_token_issue(dpf_db *db, const char *user, const char *role,
                            const char *created_by, int hours, prov_token_made *out) DPF_MUSTCHECK;

/* A row as the request check needs it. */
typedef struct prov_token_row {
    long long id;
    char user[PROV_TOKEN_USER_MAX + 1];
    unsigned role;          /* one PROV_ROLE_* bit */
    long long expires_epoch; /* 0: never */
    int expired;
    int revoked;
} prov_token_row;

/* The row whose hash is hex: DPF_OK, DPF_ERR_NOT_FOUND, or DPF_ERR_DB. */
dpf_status prov_token_lookup(dpf_db *db, const char *hex, prov_token_row *out) DPF_MUSTCHECK;

/* Every token, newest first, as the list answers it: one JSON text per row
 * in column 0 (never the hash). *out owned by the caller. */
dpf_status prov_token_list(dpf_db *db, dpf_db_result **out) DPF_MUSTCHECK;

/* Revokes token id (decimal text). DPF_OK (also when it was revoked
 * already: *was_revoked 1), DPF_ERR_NOT_FOUND, DPF_ERR_DB. */
dpf_status prov_token_revoke(dpf_db *db, const char *id, int *was_revoked) DPF_MUSTCHECK;

#endif
