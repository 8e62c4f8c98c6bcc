/* Signed agent steps (issue 9, item 5): distmgr signs every AgentRequest
 * with its Ed25519 step key; the agent accepts only requests signed with the
 * key it trusts, no older (or further in the future) than its window, and
 * never the same nonce twice.
 *
 * Wire form: the request's bytes B, with signed_at_ms and nonce set, then
 * one more encoding holding only step_signature (protobuf merges
 * concatenated messages). The signature is Ed25519 over
 * "dpfleet-step-v1" || SHA-256(B), so the whole request (step, host, DPID,
 * params, files, chunk, time and nonce) is covered and a content_put chunk
 * need not be copied to be signed. */
#ifndef DPF_STEPSIG_H
#define DPF_STEPSIG_H

#include <stddef.h>
#include <stdint.h>
#include <dpf/status.h>
#include "dpfleet.pb-c.h"

#define DPF_STEPSIG_NONCE_LEN 16
/* The most bytes dpf_stepsig_seal appends (tag, length, 64-byte signature). */
#define DPF_STEPSIG_TAIL_MAX 72
#define DPF_STEPSIG_DEFAULT_MAX_AGE_S 60

typedef struct dpf_stepsig_signer dpf_stepsig_signer;
typedef struct dpf_stepsig_verifier dpf_stepsig_verifier;
typedef struct dpf_stepsig_replay dpf_stepsig_replay;

/* Loads the PEM Ed25519 private key at path. Refused (DPF_ERR_INVALID, err
 * says why, never the key) unless the file is a regular file of mode 0600
 * or stricter. *out owned by the caller: dpf_stepsig_signer_free. */
dpf_status dpf_stepsig_signer_load(const char *path, dpf_stepsig_signer **out, char *err,
                                   size_t errlen) DPF_MUSTCHECK;
void dpf_stepsig_signer_free(dpf_stepsig_signer *s);

/* Sets req->signed_at_ms to now_ms and req->nonce to 16 random bytes held
 * in nonce (the caller's storage, alive until req is packed). */
dpf_status dpf_stepsig_stamp(Dpf__AgentRequest *req, int64_t now_ms,
                             uint8_t nonce[DPF_STEPSIG_NONCE_LEN]) DPF_MUSTCHECK;

/* Signs buf[0, len) (a stamped, packed request) and appends the signature
 * field at buf + len; buf must have DPF_STEPSIG_TAIL_MAX spare bytes.
 * *total = len + the bytes appended. */
dpf_status dpf_stepsig_seal(const dpf_stepsig_signer *s, uint8_t *buf, size_t len,
                            size_t *total) DPF_MUSTCHECK;

/* stamp (now) + pack + seal into a malloc'd *out (owned by the caller). */
dpf_status dpf_stepsig_pack(const dpf_stepsig_signer *s, Dpf__AgentRequest *req, uint8_t **out,
                            size_t *len) DPF_MUSTCHECK;

/* Loads the PEM Ed25519 public key at path; max_age_s (>= 1) is the window
 * a request's signed_at_ms must fall in, either side of now. */
dpf_status dpf_stepsig_verifier_load(const char *path, int max_age_s,
                                     dpf_stepsig_verifier **out, char *err,
                                     size_t errlen) DPF_MUSTCHECK;
void dpf_stepsig_verifier_free(dpf_stepsig_verifier *v);

/* One host's memory of the nonces it accepted within the window (bounded:
 * when full, the oldest is forgotten and requests signed at or before it
 * are refused from then on). Not thread-safe: one host's steps run one at
 * a time. */
dpf_status dpf_stepsig_replay_create(dpf_stepsig_replay **out) DPF_MUSTCHECK;
void dpf_stepsig_replay_free(dpf_stepsig_replay *r);

/* Checks the wire bytes data[0, len) whose decoded form is req: signed
 * last, by v's key, signed_at_ms within the window of now_ms, nonce not in
 * replay (then remembered there). DPF_OK, or DPF_ERR_VERIFY with why set to
 * a short reason an administrator can act on ("unsigned", "signed with
 * another key", "signed 75 s ago, older than the 60 s window", ...). */
dpf_status dpf_stepsig_check(const dpf_stepsig_verifier *v, dpf_stepsig_replay *replay,
                             const void *data, size_t len, const Dpf__AgentRequest *req,
                             int64_t now_ms, char *why, size_t whylen) DPF_MUSTCHECK;

/* Wall-clock time in Unix milliseconds. */
int64_t dpf_stepsig_now_ms(void);

/* Writes a fresh Ed25519 key pair: priv_path (PEM PKCS#8, mode 0600) and
 * pub_path (PEM SubjectPublicKeyInfo). For tests and set-up tools. */
dpf_status dpf_stepsig_keygen(const char *priv_path, const char *pub_path, char *err,
                              size_t errlen) DPF_MUSTCHECK;

#endif
