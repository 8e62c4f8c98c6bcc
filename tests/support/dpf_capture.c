/* The stderr capture of dpf_capture.h: dup2 onto a mkstemp file, read back
 * whole with dpf_read_file. */
#include "dpf_capture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include <dpf/util.h>

static char g_path[64];
static int g_saved = -1;

void dpf_capture_begin(void)
{
    snprintf(g_path, sizeof g_path, "/tmp/dpf_capture_XXXXXX");
    int fd = mkstemp(g_path);
    assert_true(fd >= 0);
    fflush(stderr);
    g_saved = dup(2);
    assert_true(g_saved >= 0);
    assert_true(dup2(fd, 2) >= 0);
    close(fd);
}

char *dpf_capture_end(void)
{
    fflush(stderr);
    dup2(g_saved, 2);
    close(g_saved);
    g_saved = -1;
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(dpf_read_file(g_path, &text, &len), DPF_OK);
    unlink(g_path);
    return text;
}
