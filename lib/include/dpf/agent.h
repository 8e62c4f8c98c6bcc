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

/* The DP component version distmgr installs; written to the settings file
 * as ComponentVersion and compared on upgrade. */
#define DPF_COMPONENT_VERSION "5.0.8355.1000"

#endif
