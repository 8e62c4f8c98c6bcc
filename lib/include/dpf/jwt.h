/* NATS JWTs (nats-io/jwt v2 claims) and credentials files.
 *
 * A JWT here is header.payload.signature, each base64url without padding;
 * the header is {"typ":"JWT","alg":"ed25519-nkey"} and the signature is the
 * issuer nkey's Ed25519 signature of "header.payload". Claims are jansson
 * objects so that a caller can change one (add a revocation) and sign again:
 * build them with the dpf_jwt_*_claims functions, sign with dpf_jwt_sign. */
#ifndef DPF_JWT_H
#define DPF_JWT_H

#include <jansson.h>
#include "nkeys.h"
#include "status.h"

/* Subject lists are NULL-terminated arrays of borrowed strings, or NULL. */
typedef struct dpf_jwt_perms {
    const char *const *pub_allow;
    const char *const *pub_deny;
    const char *const *sub_allow;
    const char *const *sub_deny;
    int allow_responses; /* 1: may publish one reply to each request it received */
} dpf_jwt_perms;

/* Operator claims: subject op_pub, system_account (an account public key).
 * *claims owned by the caller (json_decref). */
dpf_status dpf_jwt_operator_claims(const char *op_pub, const char *name, const char *system_account,
                                   json_t **claims) DPF_MUSTCHECK;

/* Account claims: unlimited connections and subscriptions; JetStream
 * (unlimited storage) when jetstream is 1; signing_keys (account public
 * keys, may be NULL) may sign its users. *claims owned by the caller. */
dpf_status dpf_jwt_account_claims(const char *account_pub, const char *name, int jetstream,
                                  const char *const *signing_keys, json_t **claims) DPF_MUSTCHECK;

/* Adds to account claims (borrowed, changed) the revocation of every JWT of
 * user_pub issued at or before at (Unix seconds). Sign again to apply. */
dpf_status dpf_jwt_account_revoke(json_t *claims, const char *user_pub, long long at) DPF_MUSTCHECK;

/* 1 if account claims revoke user JWTs of user_pub issued at iat, else 0. */
int dpf_jwt_account_revoked(const json_t *claims, const char *user_pub, long long iat);

/* User claims with those permissions (NULL: everything). issuer_account is
 * the account's identity key when the JWT will be signed by one of its
 * signing keys, NULL when signed by the account key itself. */
dpf_status dpf_jwt_user_claims(const char *user_pub, const char *name, const char *issuer_account,
                               const dpf_jwt_perms *perms, json_t **claims) DPF_MUSTCHECK;

/* Sets iss (the signer's public key), iat (now, or later than the iat the
 * claims had) and jti (SHA-512/256 of the claims) in claims (borrowed,
 * changed) and signs: *jwt malloc'd, owned by the caller. */
dpf_status dpf_jwt_sign(json_t *claims, const dpf_nkey *signer, char **jwt) DPF_MUSTCHECK;

/* Decodes a JWT and verifies its signature against its "iss": *claims owned
 * by the caller. DPF_ERR_DECODE if malformed, DPF_ERR_VERIFY if the
 * signature does not match. */
dpf_status dpf_jwt_decode(const char *jwt, json_t **claims) DPF_MUSTCHECK;

/* The text of a NATS credentials file (user JWT and seed, the format
 * nats.c's natsOptions_SetUserCredentialsFromFiles reads): *text malloc'd,
 * owned by the caller; it holds the secret seed. */
dpf_status dpf_jwt_creds(const char *user_jwt, const dpf_nkey *user, char **text) DPF_MUSTCHECK;

/* Writes that file at path, mode 0600 from its creation (an existing file
 * is replaced through a temporary file and rename). */
dpf_status dpf_jwt_creds_write(const char *path, const char *user_jwt, const dpf_nkey *user) DPF_MUSTCHECK;

/* Writes text to path, created with mode (0600 for secrets), replacing it
 * atomically. */
dpf_status dpf_jwt_write_file(const char *path, const char *text, int mode) DPF_MUSTCHECK;

/* Reads a credentials file: *jwt (malloc'd) and *user (dpf_nkey_destroy),
 * both owned by the caller. DPF_ERR_NOT_FOUND if there is no file,
 * DPF_ERR_DECODE if it is not a credentials file. */
dpf_status dpf_jwt_creds_read(const char *path, char **jwt, dpf_nkey **user) DPF_MUSTCHECK;

#endif
