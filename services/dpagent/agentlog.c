/* smsdpprov.log on the host. The source's DP keeps its own log of what the
 * DP provider did (SMSDPProv.log), separate from DistMgr.log on the site
 * server; an administrator on the DP looks there first. Each line is one
 * O_APPEND write, so lines from concurrent writers never interleave. */
#include "agentlog.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dpf/log.h>
#include "fsutil.h"

void dpa_agentlog_append(const char *host_root, int create, const char *line)
{
    char dir[4096], path[4096];
    if (snprintf(dir, sizeof dir, "%s/SMS_DP$/sms/logs", host_root) >= (int)sizeof dir ||
        snprintf(path, sizeof path, "%s/%s", host_root, DPA_AGENTLOG_REL) >= (int)sizeof path)
        return;
    if (!dpa_fs_is_dir(dir)) {
        if (!create || dpa_fs_mkdirs(dir, 0755, NULL) != DPF_OK)
            return;
    }

    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    unsigned long long tid = (unsigned long long)dpf_log_tid();
    const char *corr = dpf_log_corr();
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03ld %llu (0x%llx) [%s] %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, tid, tid, corr[0] ? corr : "-", line);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    buf[len - 1] = '\n';

    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return;
    ssize_t w = write(fd, buf, len);
    (void)w;
    close(fd);
}
