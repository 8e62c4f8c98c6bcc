/* nkeys and JWTs (lib/src/nkeys.c, lib/src/jwt.c): the encodings against
 * the published NATS example key pair, round trips, tampering, and the
 * credentials file that nats.c reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "jwt.h"
#include "nkeys.h"

/* The user key pair of the NATS documentation (and of nkeys' tests), and its
 * signature of the nonce "DhXdTMAeiHhLDig" (standard base64 in the source). */
static const char DOC_SEED[] = "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY";
static const char DOC_PUB[] = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";
static const char DOC_SIG_B64URL[] =
    "WosANJXgeyxerXFo0twRiMG-_ZjYp1K_46bFeFax705yFTCTjM18jWl01gGYk4KKbadiHd-hP3WgUQ2iLZUAAA";

static void test_known_seed(void **state)
{
    (void)state;
    dpf_nkey *k = NULL;
    assert_int_equal(dpf_nkey_from_seed(DOC_SEED, &k), DPF_OK);
    assert_int_equal(dpf_nkey_kind(k), DPF_NKEY_USER);
    assert_string_equal(dpf_nkey_public(k), DOC_PUB);
    char seed[DPF_NKEY_SEED_LEN + 1];
    dpf_nkey_seed(k, seed);
    assert_string_equal(seed, DOC_SEED);
    unsigned char sig[DPF_NKEY_SIG_LEN];
    assert_int_equal(dpf_nkey_sign(k, "DhXdTMAeiHhLDig", 15, sig), DPF_OK);
    char *b = dpf_nkey_b64url(sig, sizeof sig);
    assert_string_equal(b, DOC_SIG_B64URL);
    free(b);
    assert_int_equal(dpf_nkey_verify(DOC_PUB, "DhXdTMAeiHhLDig", 15, sig), DPF_OK);
    assert_int_equal(dpf_nkey_verify(DOC_PUB, "DhXdTMAeiHhLDiG", 15, sig), DPF_ERR_VERIFY);
    dpf_nkey_destroy(k);
}

static void test_bad_seeds(void **state)
{
    (void)state;
    dpf_nkey *k = NULL;
    char bad[] = "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY";
    bad[20] = bad[20] == 'A' ? 'B' : 'A'; /* CRC no longer matches */
    assert_int_equal(dpf_nkey_from_seed(bad, &k), DPF_ERR_DECODE);
    assert_null(k);
    assert_int_equal(dpf_nkey_from_seed("SUACSS", &k), DPF_ERR_DECODE);
    assert_int_equal(dpf_nkey_from_seed("SUACSSL3UAHUD0KF1NVUZRF5UHPMWZ6BFDTJ7M6USDXIED8PPQYYYCU3VY", &k),
                     DPF_ERR_DECODE);
    assert_int_equal(dpf_nkey_from_seed(DOC_PUB, &k), DPF_ERR_DECODE); /* a public key is no seed */
    assert_int_equal(dpf_nkey_from_seed(NULL, &k), DPF_ERR_DECODE);
    assert_int_equal(dpf_nkey_from_seed("", &k), DPF_ERR_DECODE);
    assert_true(dpf_nkey_public_valid(DOC_PUB, DPF_NKEY_USER));
    assert_false(dpf_nkey_public_valid(DOC_PUB, DPF_NKEY_ACCOUNT));
    assert_false(dpf_nkey_public_valid("UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF5", DPF_NKEY_USER));
    assert_false(dpf_nkey_public_valid(NULL, DPF_NKEY_USER));
    dpf_nkey_destroy(NULL);
}

static void test_types_round_trip(void **state)
{
    (void)state;
    const dpf_nkey_type types[] = {DPF_NKEY_OPERATOR, DPF_NKEY_ACCOUNT, DPF_NKEY_USER};
    const char *seed_prefix[] = {"SO", "SA", "SU"};
    for (int i = 0; i < 3; i++) {
        dpf_nkey *k = NULL, *k2 = NULL;
        assert_int_equal(dpf_nkey_create(types[i], &k), DPF_OK);
        const char *pub = dpf_nkey_public(k);
        assert_int_equal(strlen(pub), DPF_NKEY_PUBLIC_LEN);
        assert_int_equal(pub[0], (char)types[i]);
        assert_true(dpf_nkey_public_valid(pub, types[i]));
        char seed[DPF_NKEY_SEED_LEN + 1];
        dpf_nkey_seed(k, seed);
        assert_memory_equal(seed, seed_prefix[i], 2);
        assert_int_equal(dpf_nkey_from_seed(seed, &k2), DPF_OK);
        assert_string_equal(dpf_nkey_public(k2), pub);
        assert_int_equal(dpf_nkey_kind(k2), types[i]);
        dpf_nkey_destroy(k);
        dpf_nkey_destroy(k2);
    }
    assert_int_equal(dpf_nkey_create((dpf_nkey_type)'X', &(dpf_nkey *){NULL}), DPF_ERR_INVALID);
}

static void test_b64url(void **state)
{
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char *e = dpf_nkey_b64url(in[i], strlen(in[i]));
        assert_string_equal(e, out[i]);
        size_t n = 99;
        unsigned char *d = dpf_nkey_b64url_decode(e, strlen(e), &n);
        assert_int_equal(n, strlen(in[i]));
        assert_string_equal((char *)d, in[i]);
        free(e);
        free(d);
    }
    size_t n;
    assert_null(dpf_nkey_b64url_decode("Zm9v+", 5, &n));
    assert_null(dpf_nkey_b64url_decode("Z", 1, &n));
}

static void test_user_jwt(void **state)
{
    (void)state;
    dpf_nkey *acc = NULL, *sk = NULL, *user = NULL;
    assert_int_equal(dpf_nkey_create(DPF_NKEY_ACCOUNT, &acc), DPF_OK);
    assert_int_equal(dpf_nkey_create(DPF_NKEY_ACCOUNT, &sk), DPF_OK);
    assert_int_equal(dpf_nkey_create(DPF_NKEY_USER, &user), DPF_OK);
    const char *pub[] = {"agent.h1.example.>", NULL};
    const char *sub[] = {"agent.h1.example.>", "_INBOX.>", NULL};
    dpf_jwt_perms perms = {.pub_allow = pub, .sub_allow = sub, .allow_responses = 1};
    json_t *c = NULL;
    assert_int_equal(dpf_jwt_user_claims(dpf_nkey_public(user), "h1", dpf_nkey_public(acc), &perms, &c),
                     DPF_OK);
    char *jwt = NULL;
    assert_int_equal(dpf_jwt_sign(c, sk, &jwt), DPF_OK);
    json_decref(c);
    /* the header nats-server expects, first */
    const char hdr[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
    char *h64 = dpf_nkey_b64url(hdr, strlen(hdr));
    assert_int_equal(strchr(jwt, '.') - jwt, strlen(h64));
    assert_memory_equal(jwt, h64, strlen(h64));
    free(h64);

    json_t *d = NULL;
    assert_int_equal(dpf_jwt_decode(jwt, &d), DPF_OK);
    assert_string_equal(json_string_value(json_object_get(d, "iss")), dpf_nkey_public(sk));
    assert_string_equal(json_string_value(json_object_get(d, "sub")), dpf_nkey_public(user));
    assert_int_equal(strlen(json_string_value(json_object_get(d, "jti"))), 52);
    json_t *nats = json_object_get(d, "nats");
    assert_string_equal(json_string_value(json_object_get(nats, "type")), "user");
    assert_int_equal(json_integer_value(json_object_get(nats, "version")), 2);
    assert_string_equal(json_string_value(json_object_get(nats, "issuer_account")), dpf_nkey_public(acc));
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(nats, "sub"), "allow"), 1)), "_INBOX.>");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(nats, "resp"), "max")), 1);
    json_decref(d);

    /* one changed byte in the payload or the signature is refused */
    char *t = strdup(jwt);
    char *dot = strchr(t, '.') + 5;
    *dot = *dot == 'A' ? 'B' : 'A';
    assert_int_not_equal(dpf_jwt_decode(t, &d), DPF_OK);
    strcpy(t, jwt);
    t[strlen(t) - 3] = t[strlen(t) - 3] == 'A' ? 'B' : 'A';
    assert_int_equal(dpf_jwt_decode(t, &d), DPF_ERR_VERIFY);
    assert_null(d);
    assert_int_equal(dpf_jwt_decode("a.b", &d), DPF_ERR_DECODE);
    assert_int_equal(dpf_jwt_decode("not a jwt", &d), DPF_ERR_DECODE);
    free(t);

    /* the credentials file, 0600, read back */
    char path[] = "/tmp/test_nkeys.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    chmod(path, 0644);
    assert_int_equal(dpf_jwt_creds_write(path, jwt, user), DPF_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char *jwt2 = NULL;
    dpf_nkey *user2 = NULL;
    assert_int_equal(dpf_jwt_creds_read(path, &jwt2, &user2), DPF_OK);
    assert_string_equal(jwt2, jwt);
    assert_string_equal(dpf_nkey_public(user2), dpf_nkey_public(user));
    free(jwt2);
    dpf_nkey_destroy(user2);
    assert_int_equal(dpf_jwt_write_file(path, "garbage\n", 0600), DPF_OK);
    assert_int_equal(dpf_jwt_creds_read(path, &jwt2, &user2), DPF_ERR_DECODE);
    unlink(path);
    assert_int_equal(dpf_jwt_creds_read(path, &jwt2, &user2), DPF_ERR_NOT_FOUND);

    free(jwt);
    dpf_nkey_destroy(acc);
    dpf_nkey_destroy(sk);
    dpf_nkey_destroy(user);
}

static void test_account_revocation(void **state)
{
    (void)state;
    dpf_nkey *op = NULL, *acc = NULL, *sk = NULL, *user = NULL;
    assert_int_equal(dpf_nkey_create(DPF_NKEY_OPERATOR, &op), DPF_OK);
    assert_int_equal(dpf_nkey_create(DPF_NKEY_ACCOUNT, &acc), DPF_OK);
    assert_int_equal(dpf_nkey_create(DPF_NKEY_ACCOUNT, &sk), DPF_OK);
    assert_int_equal(dpf_nkey_create(DPF_NKEY_USER, &user), DPF_OK);
    const char *sks[] = {dpf_nkey_public(sk), NULL};
    json_t *c = NULL;
    assert_int_equal(dpf_jwt_account_claims(dpf_nkey_public(acc), "dpfleet", 1, sks, &c), DPF_OK);
    char *jwt1 = NULL, *jwt2 = NULL;
    assert_int_equal(dpf_jwt_sign(c, op, &jwt1), DPF_OK);
    assert_false(dpf_jwt_account_revoked(c, dpf_nkey_public(user), 100));
    assert_int_equal(dpf_jwt_account_revoke(c, dpf_nkey_public(user), 1000), DPF_OK);
    assert_int_equal(dpf_jwt_account_revoke(c, "Unot-a-key", 1000), DPF_ERR_INVALID);
    assert_int_equal(dpf_jwt_sign(c, op, &jwt2), DPF_OK);
    json_decref(c);

    json_t *d1 = NULL, *d2 = NULL;
    assert_int_equal(dpf_jwt_decode(jwt1, &d1), DPF_OK);
    assert_int_equal(dpf_jwt_decode(jwt2, &d2), DPF_OK);
    /* the re-signed account JWT is newer, so a resolver takes it */
    assert_true(json_integer_value(json_object_get(d2, "iat")) >
                json_integer_value(json_object_get(d1, "iat")));
    assert_true(dpf_jwt_account_revoked(d2, dpf_nkey_public(user), 1000));
    assert_false(dpf_jwt_account_revoked(d2, dpf_nkey_public(user), 1001));
    json_t *lim = json_object_get(json_object_get(d2, "nats"), "limits");
    assert_int_equal(json_integer_value(json_object_get(lim, "disk_storage")), -1);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_object_get(d2, "nats"), "signing_keys"), 0)),
                        dpf_nkey_public(sk));
    json_decref(d1);
    json_decref(d2);
    free(jwt1);
    free(jwt2);

    assert_int_equal(dpf_jwt_operator_claims(dpf_nkey_public(op), "op", dpf_nkey_public(acc), &c), DPF_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "nats"), "system_account")),
                        dpf_nkey_public(acc));
    json_decref(c);
    assert_int_equal(dpf_jwt_operator_claims(dpf_nkey_public(acc), "op", NULL, &c), DPF_ERR_INVALID);
    assert_int_equal(dpf_jwt_account_claims(dpf_nkey_public(user), "x", 0, NULL, &c), DPF_ERR_INVALID);
    dpf_nkey_destroy(op);
    dpf_nkey_destroy(acc);
    dpf_nkey_destroy(sk);
    dpf_nkey_destroy(user);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_seed),      cmocka_unit_test(test_bad_seeds),
        cmocka_unit_test(test_types_round_trip), cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_user_jwt),        cmocka_unit_test(test_account_revocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
