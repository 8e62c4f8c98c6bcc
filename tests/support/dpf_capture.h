/* For tests that check what is logged: stderr (fd 2, where dpf_log writes)
 * pointed at a temporary file between begin and end. One capture at a time;
 * the functions fail the test (cmocka) when a file cannot be made or read. */
#ifndef DPF_CAPTURE_H
#define DPF_CAPTURE_H

void dpf_capture_begin(void);

/* Points stderr back where it was; returns what was written meanwhile
 * (malloc'd, owned by the caller). */
char *dpf_capture_end(void);

#endif
