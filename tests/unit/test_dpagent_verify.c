/* verify.c: a component set is accepted only when the MANIFEST signature
 * matches the trusted key and every file matches its SHA-256 line. Keys are
 * generated here with libcrypto; the last test checks the real set that
 * cmake/components.cmake signed with the openssl CLI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <dpf/manifest.h>
#include <dpf/util.h>
#include "verify.h"

typedef struct keypair {
    EVP_PKEY *key;
    char pem[512];
} keypair;

static void make_key(keypair *kp)
{
    kp->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(kp->key);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, kp->key), 1);
    int n = BIO_read(bio, kp->pem, sizeof kp->pem - 1);
    assert_true(n > 0);
    kp->pem[n] = '\0';
    BIO_free(bio);
}

static size_t sign(const keypair *kp, const char *data, unsigned char sig[64])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = 64;
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, kp->key), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &len, (const unsigned char *)data, strlen(data)), 1);
    EVP_MD_CTX_free(ctx);
    return len;
}

static const char *g_names[] = {"smsdpprov", "smsfileisapi"};
static const char *g_data[] = {"provider v1\n", "isapi v1\n"};

static void make_manifest(char *out, size_t len)
{
    char h0[65], h1[65];
    dpf_manifest_sha256_hex(g_data[0], strlen(g_data[0]), h0);
    dpf_manifest_sha256_hex(g_data[1], strlen(g_data[1]), h1);
    snprintf(out, len, "%s  %s\n%s  %s\n", h0, g_names[0], h1, g_names[1]);
}

static void files_of(dpa_file f[2])
{
    for (int i = 0; i < 2; i++) {
        f[i].name = g_names[i];
        f[i].data = g_data[i];
        f[i].len = strlen(g_data[i]);
    }
}

typedef struct fixture {
    keypair kp;
    dpa_verify *v;
    char manifest[512];
    unsigned char sig[64];
    size_t siglen;
    dpa_file files[2];
    char err[512];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    make_key(&f->kp);
    char err[256];
    assert_int_equal(dpa_verify_create_pem(f->kp.pem, strlen(f->kp.pem), &f->v, err, sizeof err),
                     DPF_OK);
    make_manifest(f->manifest, sizeof f->manifest);
    f->siglen = sign(&f->kp, f->manifest, f->sig);
    files_of(f->files);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dpa_verify_destroy(f->v);
    EVP_PKEY_free(f->kp.key);
    free(f);
    return 0;
}

static dpf_status check(fixture *f, const char *manifest, size_t nfiles)
{
    f->err[0] = '\0';
    return dpa_verify_files(f->v, manifest, strlen(manifest), f->sig, f->siglen, f->files, nfiles,
                            f->err, sizeof f->err);
}

static void good_set_passes(void **state)
{
    fixture *f = *state;
    assert_int_equal(check(f, f->manifest, 2), DPF_OK);
}

static void altered_file_fails(void **state)
{
    fixture *f = *state;
    f->files[0].data = "provider v2\n";
    assert_int_equal(check(f, f->manifest, 2), DPF_ERR_VERIFY);
    assert_string_equal(f->err, "File 'smsdpprov' failed verification: SHA-256 mismatch");
}

static void altered_manifest_fails(void **state)
{
    fixture *f = *state;
    char m[512];
    snprintf(m, sizeof m, "%s", f->manifest);
    m[0] = m[0] == '0' ? '1' : '0'; /* one hash digit */
    assert_int_equal(check(f, m, 2), DPF_ERR_VERIFY);
    assert_non_null(strstr(f->err, "MANIFEST failed verification"));
}

static void wrong_key_fails(void **state)
{
    fixture *f = *state;
    keypair other;
    make_key(&other);
    f->siglen = sign(&other, f->manifest, f->sig);
    EVP_PKEY_free(other.key);
    assert_int_equal(check(f, f->manifest, 2), DPF_ERR_VERIFY);
    assert_non_null(strstr(f->err, "signature does not match the trusted key"));
}

static void missing_signature_fails(void **state)
{
    fixture *f = *state;
    f->siglen = 0;
    assert_int_equal(check(f, f->manifest, 2), DPF_ERR_VERIFY);
}

static void missing_and_extra_files_fail(void **state)
{
    fixture *f = *state;
    assert_int_equal(check(f, f->manifest, 1), DPF_ERR_VERIFY);
    assert_string_equal(f->err,
                        "File 'smsfileisapi' is listed in the signed MANIFEST but was not sent");

    dpa_file three[3];
    memcpy(three, f->files, sizeof f->files);
    three[2] = (dpa_file){"evil", "x", 1};
    assert_int_equal(dpa_verify_files(f->v, f->manifest, strlen(f->manifest), f->sig, f->siglen,
                                      three, 3, f->err, sizeof f->err),
                     DPF_ERR_VERIFY);
    assert_string_equal(f->err, "File 'evil' failed verification: not listed in the signed MANIFEST");

    three[2] = (dpa_file){"../evil", "x", 1};
    assert_int_equal(dpa_verify_files(f->v, f->manifest, strlen(f->manifest), f->sig, f->siglen,
                                      three, 3, f->err, sizeof f->err),
                     DPF_ERR_VERIFY);
}

static void meta_files_are_skipped(void **state)
{
    fixture *f = *state;
    dpa_file with_meta[4];
    memcpy(with_meta, f->files, sizeof f->files);
    with_meta[2] = (dpa_file){"MANIFEST", f->manifest, strlen(f->manifest)};
    with_meta[3] = (dpa_file){"MANIFEST.sig", f->sig, f->siglen};
    assert_int_equal(dpa_verify_files(f->v, f->manifest, strlen(f->manifest), f->sig, f->siglen,
                                      with_meta, 4, f->err, sizeof f->err),
                     DPF_OK);
}

static void signed_but_unsafe_manifest_fails(void **state)
{
    fixture *f = *state;
    char h[65], m[256];
    dpf_manifest_sha256_hex("x", 1, h);
    snprintf(m, sizeof m, "%s  ../../etc/passwd\n", h);
    f->siglen = sign(&f->kp, m, f->sig);
    dpa_file one = {"passwd", "x", 1};
    assert_int_equal(dpa_verify_files(f->v, m, strlen(m), f->sig, f->siglen, &one, 1, f->err,
                                      sizeof f->err),
                     DPF_ERR_INVALID);
    assert_non_null(strstr(f->err, "unsafe file name"));

    snprintf(m, sizeof m, "not a manifest\n");
    f->siglen = sign(&f->kp, m, f->sig);
    assert_int_equal(dpa_verify_files(f->v, m, strlen(m), f->sig, f->siglen, &one, 1, f->err,
                                      sizeof f->err),
                     DPF_ERR_INVALID);
}

static void no_key_refuses(void **state)
{
    (void)state;
    char err[256];
    dpa_file one = {"a", "x", 1};
    assert_int_equal(dpa_verify_files(NULL, "m", 1, "s", 1, &one, 1, err, sizeof err),
                     DPF_ERR_VERIFY);
    dpa_verify *v = NULL;
    assert_int_equal(dpa_verify_create_pem("garbage", 7, &v, err, sizeof err), DPF_ERR_INVALID);
    assert_null(v);
    assert_int_not_equal(dpa_verify_create("/nonexistent/signing.pub", &v, err, sizeof err), DPF_OK);
}

/* The set the build produced: openssl CLI signature, libcrypto check. */
static void build_time_set_verifies(void **state)
{
    (void)state;
    const char *dir = DPAGENT_COMPONENTS_DIR;
    char path[1024], err[512];
    dpa_verify *v = NULL;
    snprintf(path, sizeof path, "%s/signing.pub", dir);
    assert_int_equal(dpa_verify_create(path, &v, err, sizeof err), DPF_OK);

    char *manifest = NULL, *sig = NULL;
    size_t mlen = 0, slen = 0;
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    assert_int_equal(dpf_read_file(path, &manifest, &mlen), DPF_OK);
    snprintf(path, sizeof path, "%s/MANIFEST.sig", dir);
    assert_int_equal(dpf_read_file(path, &sig, &slen), DPF_OK);
    assert_int_equal(slen, 64);

    dpa_file files[32];
    char *data[32];
    size_t n = 0;
    for (char *line = strtok(manifest, "\n"); line != NULL && n < 32; line = strtok(NULL, "\n")) {
        files[n].name = line + 66;
        snprintf(path, sizeof path, "%s/%s", dir, files[n].name);
        assert_int_equal(dpf_read_file(path, &data[n], &files[n].len), DPF_OK);
        files[n].data = data[n];
        n++;
    }
    assert_true(n >= 4);
    /* strtok cut the manifest (the names point into it): read it again
     * for the signature check */
    char *signed_text = NULL;
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    assert_int_equal(dpf_read_file(path, &signed_text, &mlen), DPF_OK);
    assert_int_equal(dpa_verify_files(v, signed_text, mlen, sig, slen, files, n, err, sizeof err),
                     DPF_OK);
    for (size_t i = 0; i < n; i++)
        free(data[i]);
    free(signed_text);
    free(manifest);
    free(sig);
    dpa_verify_destroy(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(good_set_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(altered_file_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(altered_manifest_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_key_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_signature_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_and_extra_files_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(meta_files_are_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(signed_but_unsafe_manifest_fails, setup, teardown),
        cmocka_unit_test(no_key_refuses),
        cmocka_unit_test(build_time_set_verifies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
