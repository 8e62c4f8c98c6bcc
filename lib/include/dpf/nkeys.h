/* NATS nkeys: Ed25519 key pairs with their NATS text encodings.
 *
 * A public key is a type prefix byte ('O' operator, 'A' account, 'U' user),
 * the 32-byte Ed25519 public key and a CRC-16 (XMODEM, little-endian), all
 * in RFC 4648 base32 without padding: 56 characters starting with the type
 * letter. A seed is the same with two prefix bytes ('S' and the type) around
 * the 32-byte Ed25519 seed: 58 characters starting with "SO", "SA" or "SU".
 * These are the encodings nats-server and nats.c read (nats-io/nkeys). */
#ifndef DPF_NKEYS_H
#define DPF_NKEYS_H

#include <stddef.h>
#include "status.h"

#define DPF_NKEY_PUBLIC_LEN 56
#define DPF_NKEY_SEED_LEN 58
#define DPF_NKEY_SIG_LEN 64

typedef enum dpf_nkey_type {
    DPF_NKEY_OPERATOR = 'O', /* signs account JWTs */
    DPF_NKEY_ACCOUNT = 'A',  /* an account's identity or signing key: signs user JWTs */
    DPF_NKEY_USER = 'U',     /* a client connection's identity */
} dpf_nkey_type;

typedef struct dpf_nkey dpf_nkey;

/* A new random key pair of that type (OpenSSL's RAND_bytes). *out is owned
 * by the caller (dpf_nkey_destroy). */
dpf_status dpf_nkey_create(dpf_nkey_type type, dpf_nkey **out) DPF_MUSTCHECK;

/* The key pair of an encoded seed (58 characters, trailing blanks allowed).
 * DPF_ERR_DECODE for anything that is not a valid operator, account or user
 * seed (bad base32, bad CRC, unknown type). *out owned by the caller. */
dpf_status dpf_nkey_from_seed(const char *seed, dpf_nkey **out) DPF_MUSTCHECK;

/* Wipes the seed and frees. NULL is a no-op. */
void dpf_nkey_destroy(dpf_nkey *key);

dpf_nkey_type dpf_nkey_kind(const dpf_nkey *key);

/* The encoded public key, borrowed from key (valid until it is destroyed). */
const char *dpf_nkey_public(const dpf_nkey *key);

/* The encoded seed into out (NUL-terminated). It is the secret: callers
 * write it only to files of mode 0600 and never log it. */
void dpf_nkey_seed(const dpf_nkey *key, char out[DPF_NKEY_SEED_LEN + 1]);

/* Ed25519 signature of data (borrowed) into sig. */
dpf_status dpf_nkey_sign(const dpf_nkey *key, const void *data, size_t len,
                         unsigned char sig[DPF_NKEY_SIG_LEN]) DPF_MUSTCHECK;

/* DPF_OK if sig is public_key's signature of data; DPF_ERR_VERIFY if not;
 * DPF_ERR_DECODE if public_key is not a valid encoded public key. */
dpf_status dpf_nkey_verify(const char *public_key, const void *data, size_t len,
                           const unsigned char sig[DPF_NKEY_SIG_LEN]) DPF_MUSTCHECK;

/* 1 if text is a valid encoded public key of that type (CRC checked), else 0. */
int dpf_nkey_public_valid(const char *text, dpf_nkey_type type);

/* Base64url without padding (the JWT encoding): out malloc'd, owned by the
 * caller; NULL on allocation failure. */
char *dpf_nkey_b64url(const void *data, size_t len);

/* Decodes base64url (padding optional) into a malloc'd buffer with a NUL
 * after the *len bytes; NULL if text is not base64url. Owned by the caller. */
unsigned char *dpf_nkey_b64url_decode(const char *text, size_t text_len, size_t *len);

#endif
