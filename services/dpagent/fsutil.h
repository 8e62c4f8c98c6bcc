/* File-system helpers for the agent's steps. Every path handed in is built
 * by the caller from the host root and constant or validated names; these
 * functions never follow a request's names outside that root on their own.
 * "changed" out-parameters report whether anything on disk was modified, so
 * the steps can reply changed=0 when everything was already in place. */
#ifndef DPA_FSUTIL_H
#define DPA_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>
#include <dpf/status.h>

/* 1 if name may be used as one file name inside a directory the agent owns:
 * 1..255 bytes, printable ASCII, no '/', no '\\', no "..", not starting
 * with '.' (the agent's temporary files start with '.'). Otherwise 0 and,
 * when err is not NULL, the reason. */
int dpa_fs_name_safe(const char *name, char *err, size_t errlen);

/* mkdir -p path with mode (each created directory, and the last one also
 * when it exists, is chmod'ed to mode). *changed |= 1 if anything was
 * created or re-moded; changed may be NULL. */
dpf_status dpa_fs_mkdirs(const char *path, mode_t mode, int *changed) DPF_MUSTCHECK;

/* Writes data to path atomically (temporary file in the same directory,
 * fsync, rename, fsync of the directory), only when the file does not
 * already hold exactly data with this mode. The directory must exist.
 * *changed |= 1 when written; changed may be NULL. data borrowed. */
dpf_status dpa_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                               int *changed) DPF_MUSTCHECK;

/* 1 if path holds exactly data (same length and bytes), 0 otherwise. */
int dpa_fs_same_content(const char *path, const void *data, size_t len);

/* rm -rf path (does not follow symbolic links; a missing path is fine).
 * *changed |= 1 if something was removed. */
dpf_status dpa_fs_rmtree(const char *path, int *changed) DPF_MUSTCHECK;

/* Removes one file if it exists. *changed |= 1 if it did. */
dpf_status dpa_fs_unlink(const char *path, int *changed) DPF_MUSTCHECK;

/* Removes directory path if it is empty (anything else is left alone). */
void dpa_fs_rmdir_if_empty(const char *path);

int dpa_fs_is_dir(const char *path);
int dpa_fs_is_file(const char *path);

/* Number of regular files directly inside dir (0 if it does not exist). */
size_t dpa_fs_count_files(const char *dir);

#endif
