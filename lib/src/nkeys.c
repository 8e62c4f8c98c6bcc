/* NATS nkeys for dpfleet's own credentials (issue 9).
 *
 * nats-server in operator mode trusts an operator key, which signs account
 * JWTs, whose keys sign user JWTs; every link is an Ed25519 key in the nkeys
 * text encoding. The control plane mints those keys itself (dpf-natsauth at
 * set-up, distmgr for each DP host's agent), so it needs the encoding: base32
 * of a prefix, the raw key and a CRC-16. The cryptography is OpenSSL's EVP
 * Ed25519, already what dpagent verifies manifests with; nothing here is a
 * reimplementation of a cipher. */
#include "nkeys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_SEED (18 << 3) /* 'S' once base32-encoded */
#define RAW_KEY 32

struct dpf_nkey {
    dpf_nkey_type type;
    unsigned char seed[RAW_KEY];
    EVP_PKEY *pkey;
    char public_key[DPF_NKEY_PUBLIC_LEN + 1];
};

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* CRC-16/XMODEM (polynomial 0x1021, initial 0), as nkeys' crc16.go. */
static uint16_t crc16(const unsigned char *p, size_t n)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* base32 without padding; out needs (n * 8 + 4) / 5 + 1 bytes. */
static void b32_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    unsigned buf = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = B32[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = B32[(buf << (5 - bits)) & 31];
    out[o] = '\0';
}

/* Decodes exactly n characters into out (capacity cap); returns the byte
 * count or -1 for a character outside the alphabet or leftover bits set. */
static long b32_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    size_t o = 0;
    unsigned buf = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = in[i] ? strchr(B32, in[i]) : NULL;
        if (p == NULL)
            return -1;
        buf = (buf << 5) | (unsigned)(p - B32);
        bits += 5;
        if (bits >= 8) {
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    if (bits > 0 && (buf & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}

static int type_known(int t)
{
    return t == DPF_NKEY_OPERATOR || t == DPF_NKEY_ACCOUNT || t == DPF_NKEY_USER;
}

/* The prefix byte of a type: its letter's base32 value in the top 5 bits. */
static unsigned char type_prefix(dpf_nkey_type t)
{
    return (unsigned char)((strchr(B32, (int)t) - B32) << 3);
}

static void encode_public(dpf_nkey_type t, const unsigned char pub[RAW_KEY],
                          char out[DPF_NKEY_PUBLIC_LEN + 1])
{
    unsigned char raw[1 + RAW_KEY + 2];
    raw[0] = type_prefix(t);
    memcpy(raw + 1, pub, RAW_KEY);
    uint16_t c = crc16(raw, 1 + RAW_KEY);
    raw[1 + RAW_KEY] = (unsigned char)(c & 0xff);
    raw[2 + RAW_KEY] = (unsigned char)(c >> 8);
    b32_encode(raw, sizeof raw, out);
}

/* Decodes a public key of any known type: the type, or 0 if invalid. */
static int decode_public(const char *text, unsigned char pub[RAW_KEY])
{
    unsigned char raw[1 + RAW_KEY + 2];
    if (text == NULL || strlen(text) != DPF_NKEY_PUBLIC_LEN ||
        b32_decode(text, DPF_NKEY_PUBLIC_LEN, raw, sizeof raw) != (long)sizeof raw)
        return 0;
    uint16_t c = (uint16_t)(raw[1 + RAW_KEY] | (raw[2 + RAW_KEY] << 8));
    if (crc16(raw, 1 + RAW_KEY) != c || !type_known(text[0]) || raw[0] != type_prefix((dpf_nkey_type)text[0]))
        return 0;
    memcpy(pub, raw + 1, RAW_KEY);
    return text[0];
}

static dpf_status from_raw(dpf_nkey_type type, const unsigned char seed[RAW_KEY], dpf_nkey **out)
{
    *out = NULL;
    dpf_nkey *k = calloc(1, sizeof *k);
    if (k == NULL)
        return DPF_ERR_NOMEM;
    k->type = type;
    memcpy(k->seed, seed, RAW_KEY);
    unsigned char pub[RAW_KEY];
    size_t plen = sizeof pub;
    k->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, RAW_KEY);
    if (k->pkey == NULL || EVP_PKEY_get_raw_public_key(k->pkey, pub, &plen) != 1 || plen != RAW_KEY) {
        dpf_nkey_destroy(k);
        return DPF_ERR_VERIFY;
    }
    encode_public(type, pub, k->public_key);
    *out = k;
    return DPF_OK;
}

dpf_status dpf_nkey_create(dpf_nkey_type type, dpf_nkey **out)
{
    *out = NULL;
    if (!type_known(type))
        return DPF_ERR_INVALID;
    unsigned char seed[RAW_KEY];
    if (RAND_bytes(seed, sizeof seed) != 1)
        return DPF_ERR_IO;
    dpf_status st = from_raw(type, seed, out);
    OPENSSL_cleanse(seed, sizeof seed);
    return st;
}

dpf_status dpf_nkey_from_seed(const char *text, dpf_nkey **out)
{
    *out = NULL;
    if (text == NULL)
        return DPF_ERR_DECODE;
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    unsigned char raw[2 + RAW_KEY + 2 + 1];
    if (n != DPF_NKEY_SEED_LEN || b32_decode(text, n, raw, sizeof raw) != 2 + RAW_KEY + 2)
        return DPF_ERR_DECODE;
    uint16_t c = (uint16_t)(raw[2 + RAW_KEY] | (raw[3 + RAW_KEY] << 8));
    /* the two prefix bytes carry 'S' and the type letter, 5 bits each */
    int type = text[1];
    if (crc16(raw, 2 + RAW_KEY) != c || (raw[0] & 0xf8) != PREFIX_SEED || !type_known(type) ||
        (unsigned char)(((raw[0] & 7) << 5) | (raw[1] >> 3)) != type_prefix((dpf_nkey_type)type)) {
        OPENSSL_cleanse(raw, sizeof raw);
        return DPF_ERR_DECODE;
    }
    dpf_status st = from_raw((dpf_nkey_type)type, raw + 2, out);
    OPENSSL_cleanse(raw, sizeof raw);
    return st;
}

void dpf_nkey_destroy(dpf_nkey *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    OPENSSL_cleanse(key->seed, sizeof key->seed);
    free(key);
}

dpf_nkey_type dpf_nkey_kind(const dpf_nkey *key)
{
    return key->type;
}

const char *dpf_nkey_public(const dpf_nkey *key)
{
    return key->public_key;
}

void dpf_nkey_seed(const dpf_nkey *key, char out[DPF_NKEY_SEED_LEN + 1])
{
    unsigned char raw[2 + RAW_KEY + 2];
    unsigned char p = type_prefix(key->type);
    raw[0] = (unsigned char)(PREFIX_SEED | (p >> 5));
    raw[1] = (unsigned char)((p & 31) << 3);
    memcpy(raw + 2, key->seed, RAW_KEY);
    uint16_t c = crc16(raw, 2 + RAW_KEY);
    raw[2 + RAW_KEY] = (unsigned char)(c & 0xff);
    raw[3 + RAW_KEY] = (unsigned char)(c >> 8);
    char buf[(sizeof raw * 8 + 4) / 5 + 1];
    b32_encode(raw, sizeof raw, buf);
    memcpy(out, buf, DPF_NKEY_SEED_LEN);
    out[DPF_NKEY_SEED_LEN] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(buf, sizeof buf);
}

dpf_status dpf_nkey_sign(const dpf_nkey *key, const void *data, size_t len,
                         unsigned char sig[DPF_NKEY_SIG_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t slen = DPF_NKEY_SIG_LEN;
    int ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestSign(ctx, sig, &slen, data, len) == 1 && slen == DPF_NKEY_SIG_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? DPF_OK : DPF_ERR_VERIFY;
}

dpf_status dpf_nkey_verify(const char *public_key, const void *data, size_t len,
                           const unsigned char sig[DPF_NKEY_SIG_LEN])
{
    unsigned char pub[RAW_KEY];
    if (!decode_public(public_key, pub))
        return DPF_ERR_DECODE;
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, RAW_KEY);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = pk != NULL && ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
             EVP_DigestVerify(ctx, sig, DPF_NKEY_SIG_LEN, data, len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return ok ? DPF_OK : DPF_ERR_VERIFY;
}

int dpf_nkey_public_valid(const char *text, dpf_nkey_type type)
{
    unsigned char pub[RAW_KEY];
    return decode_public(text, pub) == (int)type;
}

static const char B64U[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *dpf_nkey_b64url(const void *data, size_t len)
{
    const unsigned char *in = data;
    char *out = malloc(len / 3 * 4 + 5);
    if (out == NULL)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = B64U[v >> 18];
        out[o++] = B64U[(v >> 12) & 63];
        out[o++] = B64U[(v >> 6) & 63];
        out[o++] = B64U[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = B64U[v >> 18];
        out[o++] = B64U[(v >> 12) & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = B64U[v >> 18];
        out[o++] = B64U[(v >> 12) & 63];
        out[o++] = B64U[(v >> 6) & 63];
    }
    out[o] = '\0';
    return out;
}

unsigned char *dpf_nkey_b64url_decode(const char *text, size_t n, size_t *len)
{
    while (n > 0 && text[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 4);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    unsigned buf = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = text[i] ? strchr(B64U, text[i]) : NULL;
        if (p == NULL) {
            free(out);
            return NULL;
        }
        buf = (buf << 6) | (unsigned)(p - B64U);
        bits += 6;
        if (bits >= 8) {
            out[o++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}
