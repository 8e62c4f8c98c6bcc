/* The host's own log, <host root>/SMS_DP$/sms/logs/smsdpprov.log (the
 * source's SMSDPProv.log on the DP): every line a step reports is appended
 * with its time, thread id and correlation id:
 *
 *   2026-11-21 07:30:01.123 4788 (0x12b4) [corr] Succesfully created share REMINST */
#ifndef DPA_AGENTLOG_H
#define DPA_AGENTLOG_H

#define DPA_AGENTLOG_REL "SMS_DP$/sms/logs/smsdpprov.log"

/* Appends line to host_root's smsdpprov.log. create: make the logs
 * directory if missing (install steps); otherwise the line is only written
 * when the directory exists, so removal steps do not bring back SMS_DP$.
 * Failures are ignored (the line still reaches stderr and the reply). */
void dpa_agentlog_append(const char *host_root, int create, const char *line);

#endif
