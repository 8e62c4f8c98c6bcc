/* The file half of a host's content library (SCCMContentLib$): FileLib keeps
 * each file once, by its SHA-256, at FileLib/<first 4 hex>/<sha256>; a file
 * being received lives in FileLib/.partial/<sha256> and is moved into
 * FileLib only after its size and SHA-256 were verified (fsync, rename), so
 * nothing partial is ever visible. Every function takes the library's
 * directory (<host root>/SCCMContentLib$, borrowed) and checks the names it
 * is given, so a request can never lead outside the library. Errors are
 * written into err (errlen bytes) as sentences an administrator can read. */
#ifndef DPA_CONTENTLIB_H
#define DPA_CONTENTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <dpf/status.h>

#define DPA_CLIB_SHA_LEN 64
/* SHA-256 of no bytes: the one file nobody needs to send. */
#define DPA_CLIB_SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A file of a package version (all borrowed). */
typedef struct dpa_clib_file {
    const char *path; /* relative, '/'-separated */
    const char *sha;  /* 64 lower-case hex */
    int64_t size;
} dpa_clib_file;

/* Wire checks; 1 if good, else 0 with the reason in err (err may be NULL).
 * Package ids: site code + 5 hex digits, ^[A-Z0-9]{3}[0-9A-F]{5}$.
 * Paths: non-empty '/'-separated segments, none "." or "..", no leading
 * '/', no '\\', no control characters, at most 1024 bytes.
 * Hashes: exactly 64 lower-case hex digits. */
int dpa_clib_pkg_valid(const char *id, char *err, size_t errlen);
int dpa_clib_path_valid(const char *rel, char *err, size_t errlen);
int dpa_clib_sha_valid(const char *sha, char *err, size_t errlen);
/* All three and size >= 0 for one file (path may be NULL when not needed). */
int dpa_clib_file_valid(const dpa_clib_file *f, int need_path, char *err, size_t errlen);

/* FileLib/<4 hex>/<sha> and FileLib/.partial/<sha> of lib into out.
 * 0 if it does not fit. sha must be valid. */
int dpa_clib_file_path(const char *lib, const char *sha, char *out, size_t len);
int dpa_clib_partial_path(const char *lib, const char *sha, char *out, size_t len);

/* 1 if FileLib holds sha as a regular file of exactly size bytes. An empty
 * file (size 0, DPA_CLIB_SHA_EMPTY) is created on demand: nothing has to be
 * sent for it, and "0 bytes held" could not tell "nothing" from "all". */
int dpa_clib_in_filelib(const char *lib, const char *sha, int64_t size);

/* Bytes of sha the host holds into *held: size when it is in FileLib; the
 * length of a partial file to resume at; else 0. A partial that is already
 * complete (an agent killed between the last write and the move) is
 * verified and moved now; one that fails verification is deleted. */
dpf_status dpa_clib_have(const char *lib, const char *sha, int64_t size, int64_t *held,
                         char *err, size_t errlen) DPF_MUSTCHECK;

/* content_put: writes len bytes of data (borrowed) at offset of the
 * partial file of sha (offset 0 starts it again; any other offset must be
 * the partial's length, else DPF_ERR_CONFLICT naming the length held).
 * When offset + len == size the file is verified and moved into FileLib
 * (*stored = 1); a mismatch deletes it (DPF_ERR_VERIFY). A file already in
 * FileLib is left alone (*held = size, *stored = 0). *held = bytes held
 * after the call. */
dpf_status dpa_clib_put(const char *lib, const char *sha, int64_t size, int64_t offset,
                        const void *data, size_t len, int64_t *held, int *stored, char *err,
                        size_t errlen) DPF_MUSTCHECK;

/* For downloads: creates (or empties) the partial file of sha and returns
 * a descriptor open for writing in *fd (owned by the caller: close it
 * before dpa_clib_commit). */
dpf_status dpa_clib_partial_open(const char *lib, const char *sha, int *fd, char *err,
                                 size_t errlen) DPF_MUSTCHECK;
/* Deletes the partial file of sha, if any. */
void dpa_clib_partial_drop(const char *lib, const char *sha);

/* Verifies the partial file of sha (size, then SHA-256 read back in blocks)
 * and moves it into FileLib. Mismatch: the partial is deleted and
 * DPF_ERR_VERIFY returned with "... failed verification: ..." in err. */
dpf_status dpa_clib_commit(const char *lib, const char *sha, int64_t size, char *err,
                           size_t errlen) DPF_MUSTCHECK;

/* SHA-256 of the open file fd from its current position, read in blocks,
 * as 64 lower-case hex digits into hex (65 bytes). *bytes = bytes read. */
dpf_status dpa_clib_hash_fd(int fd, char hex[DPA_CLIB_SHA_LEN + 1], int64_t *bytes) DPF_MUSTCHECK;

#endif
