/* The distmgr <-> dpagent protocol: core NATS request/reply on
 * "agent.<FQDN>.step" (FQDN upper-cased), AgentRequest in, AgentReply out
 * (proto/dpfleet.proto). Each step is idempotent: running it again on a host
 * where it is already done changes nothing and replies ok with changed=0.
 *
 * Install / upgrade steps, in the order distmgr runs them (seed step 8):
 *   install_files     copy the DP component files into SMS_DP$/sms/bin, each
 *                     verified against the signed manifest (SHA-256 +
 *                     Ed25519 signature); request carries files+manifest+signature
 *   create_shares     SMS_DP$, SCCMContentLib$ (PkgLib, DataLib, FileLib), SMSSIG$
 *   enable_http       enable the agent's HTTP content server ("install IIS")
 *   register_provider register the local control endpoint ("DP WMI provider")
 *   configure_vdirs   write the virtual-directory table (SMS_DP_SMSPKG$, SMS_DP_SMSSIG$, ...)
 *   write_settings    the DP settings file (key=value), params = the DP's properties
 *   configure_pxe     param "pxe" = "1": RemoteInstall tree + TFTP config; "0": removed
 *   configure_pulldp  param "pulldp" = "1" with "sources" = "FQDN:prio,...": pull-DP
 *                     component enabled; "0": removed                       (issue 3)
 * Removal steps (issue 3), in the source's order:
 *   remove_pxe, remove_tasks, remove_pulldp, unregister_provider,
 *   remove_shares, remove_vdirs, remove_settings
 * Query:
 *   status            reply log lines "key=value" describing the host
 *
 * Content steps (issue 6). The host's content library is
 * SCCMContentLib$/FileLib/<first 4 hex of sha256>/<sha256> (each file once,
 * by hash, shared by every package and version), DataLib/<pkg>.<ver>.INI
 * (the version's files: "<sha256> <size> <path>" per line) and
 * PkgLib/<pkg>.INI ("version=<n>": the version the host serves). A file is
 * written to FileLib/.partial/<sha256> and moved into FileLib only after its
 * SHA-256 and size were verified, so nothing partial is ever served. Every
 * reply carries content_url when the content server runs.
 *   content_have      request content = files (sha256, size); reply content =
 *                     the same files with size = bytes the host holds (the
 *                     whole size: in FileLib; less: a partial file to resume
 *                     at that offset; 0: nothing)
 *   content_put       params "sha256", "size" (whole file); offset; chunk (at
 *                     most DPF_CONTENT_CHUNK_MAX bytes). offset 0 starts the
 *                     file again; any other offset must equal what the host
 *                     holds (else the step fails naming the offset it holds).
 *                     When the file is complete it is verified and moved into
 *                     FileLib (a mismatch deletes it and fails: "... failed
 *                     verification: SHA-256 mismatch"). reply content[0] =
 *                     {sha256, size = bytes held}
 *   content_install   params "package_id", "version"; content = every file of
 *                     the version (path, sha256, size). Fails, changing
 *                     nothing, unless every file is in FileLib; else writes
 *                     DataLib then PkgLib (the switch a client sees), removes
 *                     the package's older DataLib versions and the FileLib
 *                     files no package references any more
 *   content_remove    param "package_id": PkgLib and DataLib entries go, then
 *                     the FileLib files no other package uses. Idempotent
 *   content_pull      (pull DPs) params "package_id", "sources" =
 *                     "FQDN=http://host:port,..." in the order to try;
 *                     content = one file (path, sha256, size). Downloads
 *                     <base>/SMS_DP_SMSPKG$/<package_id>/<path> from each
 *                     source in turn until one gives the right bytes (HTTP
 *                     error, unreachable or hash mismatch: next source), into
 *                     FileLib like content_put. Fails naming every source
 *                     tried and why; reply log has one line per attempt
 *   content_validate  (issue 7) param "package_id": re-hashes every file of
 *                     the version PkgLib names, at low CPU and I/O priority
 *                     (the step's thread only). ok=1 when the check ran;
 *                     reply content = the files that failed (path, sha256
 *                     expected, size = bytes found, -1 when missing), empty
 *                     when every file is verified; one log line per bad file
 *                     and a summary line. ok=0 when the package is not held
 * The content server serves GET /SMS_DP_SMSPKG$/<pkg>/<path> from the
 * version PkgLib names (404 for a package or path it does not hold).
 */
#ifndef DPF_AGENT_H
#define DPF_AGENT_H

#define DPF_AGENT_SUBJECT_FMT "agent.%s.step"

#define DPF_STEP_INSTALL_FILES "install_files"
#define DPF_STEP_CREATE_SHARES "create_shares"
#define DPF_STEP_ENABLE_HTTP "enable_http"
#define DPF_STEP_REGISTER_PROVIDER "register_provider"
#define DPF_STEP_CONFIGURE_VDIRS "configure_vdirs"
#define DPF_STEP_WRITE_SETTINGS "write_settings"
#define DPF_STEP_CONFIGURE_PXE "configure_pxe"
#define DPF_STEP_CONFIGURE_PULLDP "configure_pulldp"
#define DPF_STEP_REMOVE_PXE "remove_pxe"
#define DPF_STEP_REMOVE_TASKS "remove_tasks"
#define DPF_STEP_REMOVE_PULLDP "remove_pulldp"
#define DPF_STEP_UNREGISTER_PROVIDER "unregister_provider"
#define DPF_STEP_REMOVE_SHARES "remove_shares"
#define DPF_STEP_REMOVE_VDIRS "remove_vdirs"
#define DPF_STEP_REMOVE_SETTINGS "remove_settings"
#define DPF_STEP_STATUS "status"
#define DPF_STEP_CONTENT_HAVE "content_have"
#define DPF_STEP_CONTENT_PUT "content_put"
#define DPF_STEP_CONTENT_INSTALL "content_install"
#define DPF_STEP_CONTENT_REMOVE "content_remove"
#define DPF_STEP_CONTENT_PULL "content_pull"
#define DPF_STEP_CONTENT_VALIDATE "content_validate"

/* Largest content_put chunk (NATS's default max_payload is 1 MiB). */
#define DPF_CONTENT_CHUNK_MAX (512 * 1024)
/* The virtual directory clients download packages from. */
#define DPF_CONTENT_VDIR "SMS_DP_SMSPKG$"

/* The DP component version distmgr installs; written to the settings file
 * as ComponentVersion and compared on upgrade. */
#define DPF_COMPONENT_VERSION "5.0.8355.1000"

#endif
