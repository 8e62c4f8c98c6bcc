#!/usr/bin/env bash
# End to end: NATS identities (issue 9, item 4) against a real stack whose
# nats-server runs in operator mode, tried the way an intruder holding one
# DP host's credential would, with an ordinary NATS client (e2e_natsprobe):
#   1. adding a DP makes distmgr issue that host's credential (logged with
#      the DPID and FQDN); placed in the host root as etc/nats.creds (0600),
#      the agent serves the host with it and the install completes
#   2. with it nats-server refuses: another host's subject, publishing
#      dp.ins.x / dp.dpn.x, reading sitecontrol.changed.>; it may serve its
#      own subject
#   3. the status-message reader may read statmsg.> and nothing else: not
#      the request inboxes either (each role reads only its own
#      _INBOX_<role>.>, so it cannot see the agents' replies to distmgr,
#      which came on _INBOX_distmgr while the DPs were installed)
#   4. removing the DP revokes the credential: it no longer connects, and the
#      other host's still does
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

SITE=PS1
H1=NSEC1.CONTOSO.COM
H2=NSEC2.CONTOSO.COM
PROBE=${E2E_NATSPROBE:-$DPFLEET_BUILD/tests/e2e/e2e_natsprobe}
e2e_stack_up
L=$DPFLEET_STACK/logs
DPCTL=$DPFLEET_BUILD/dpctl/dpctl
CREDS=$DPFLEET_STACK/agent-creds
[ -n "${DPFLEET_STATMSG_CREDS:-}" ] || { e2e_bad "scripts/stack up printed DPFLEET_STATMSG_CREDS"; e2e_finish; exit 1; }

allowed() { "$PROBE" "$@" >/tmp/e2e_probe.$$ 2>&1; }
refused() { "$PROBE" "$@" >/tmp/e2e_probe.$$ 2>&1; [ $? -eq 3 ]; }
wait_for() { # "what" seconds command...
    local what=$1 secs=$2 i; shift 2
    for i in $(seq 1 $((secs * 5))); do
        "$@" && { e2e_ok "$what"; return 0; }
        sleep 0.2
    done
    e2e_bad "$what (waited ${secs}s)"
    return 1
}

# 1. issued with the DP, used by the agent
for h in $H1 $H2; do
    "$DPCTL" dp add "$h" --site $SITE --description "NATS identity test" >/dev/null || e2e_bad "dpctl dp add $h"
done
wait_for "distmgr issued a credential for each new DP" 60 test -f "$CREDS/$H1.creds" -a -f "$CREDS/$H2.creds"
e2e_check "the issue is logged with the DPID and FQDN" \
    grep -qE "DPID [0-9]+: issued agent NATS credential of $H1 \(user U[A-Z0-9]{55}, agent.$H1.step only\)" "$L/distmgr.log"
e2e_eq "the credential file is mode 600" 600 "$(stat -c %a "$CREDS/$H1.creds")"
e2e_check "no seed in distmgr's log" bash -c "! grep -q 'SU[A-Z2-7]\{56\}' '$L/distmgr.log'"
for h in $H1 $H2; do
    mkdir -p "$DPFLEET_VAR/$h/etc"
    install -m 0600 "$CREDS/$h.creds" "$DPFLEET_VAR/$h/etc/nats.creds"
done
"$E2E_ROOT/scripts/stack" agents-add "$H1,$H2" || e2e_bad "agents-add"
e2e_wait_sql "both DPs are installed through their hosts' own identities" \
    "select count(*) from distribution_points where server_name in ('$H1','$H2') and install_state='Installed'" 2 90
e2e_check "the agent connected with $H1's own credential" \
    grep -qF "$H1: connected with the host's own NATS credential" "$L"/dpagent-*.log

# 2. one host's credential against everything else
C1=$DPFLEET_VAR/$H1/etc/nats.creds
C2=$DPFLEET_VAR/$H2/etc/nats.creds
e2e_check "$H1 may subscribe to its own subject" allowed "$C1" sub "agent.$H1.step"
e2e_check "$H1 may not subscribe to $H2's subject" refused "$C1" sub "agent.$H2.step"
grep -q "Permissions Violation" /tmp/e2e_probe.$$ && e2e_ok "nats-server says Permissions Violation" \
    || e2e_bad "nats-server says Permissions Violation ($(cat /tmp/e2e_probe.$$))"
e2e_check "$H1 may not subscribe to every agent subject" refused "$C1" sub "agent.*.>"
e2e_check "$H1 may not publish dp.ins.x" refused "$C1" pub dp.ins.x
e2e_check "$H1 may not publish dp.dpn.x" refused "$C1" pub dp.dpn.x
e2e_check "$H1 may not read sitecontrol.changed.>" refused "$C1" sub "sitecontrol.changed.>"
e2e_check "$H1 may not read request inboxes" refused "$C1" sub "_INBOX.>"
e2e_check "$H1 may not read status messages" refused "$C1" sub "statmsg.>"
e2e_check "$H1 may not send requests to $H2" refused "$C1" pub "agent.$H2.step"

# 3. the status-message reader
e2e_check "the reader may read statmsg.>" allowed "$DPFLEET_STATMSG_CREDS" sub "statmsg.>"
e2e_check "the reader may not read dp.ins.>" refused "$DPFLEET_STATMSG_CREDS" sub "dp.ins.>"
e2e_check "the reader may not read agent subjects" refused "$DPFLEET_STATMSG_CREDS" sub "agent.*.>"
e2e_check "the reader may not publish a status message" refused "$DPFLEET_STATMSG_CREDS" pub "statmsg.PS1.X.1"
e2e_check "the reader may not read every request inbox" refused "$DPFLEET_STATMSG_CREDS" sub "_INBOX.>"
e2e_check "the reader may not read distmgr's inboxes (the agents' replies)" \
    refused "$DPFLEET_STATMSG_CREDS" sub "_INBOX_distmgr.>"
e2e_check "the reader may not read every subject" refused "$DPFLEET_STATMSG_CREDS" sub ">"
e2e_check "the reader may read its own inboxes" allowed "$DPFLEET_STATMSG_CREDS" sub "_INBOX_statmsg-reader.>"
e2e_check "$H1 may not read distmgr's inboxes" refused "$C1" sub "_INBOX_distmgr.>"
timeout 3 env DPFLEET_NATS_CREDS= "$DPCTL" statmsg watch --all >/tmp/e2e_watch.$$ 2>/dev/null
e2e_check "dpctl statmsg watch reads the stream with the reader's credential" test -s /tmp/e2e_watch.$$

# 4. revoked with the DP
"$DPCTL" dp remove "$H1" >/dev/null || e2e_bad "dpctl dp remove $H1"
e2e_wait_sql "$H1 is removed" "select count(*) from distribution_points where server_name='$H1'" 0 90
wait_for "distmgr logged the revocation" 30 \
    grep -qE "DPID [0-9]+: revoked agent NATS credential of $H1 \(user U" "$L/distmgr.log"
wait_for "$H1's credential no longer connects" 10 refused "$C1" connect
e2e_check "$H2's credential still serves its host" allowed "$C2" sub "agent.$H2.step"
e2e_check "the issuer file of $H1 is gone" test ! -e "$CREDS/$H1.creds"
rm -f /tmp/e2e_probe.$$ /tmp/e2e_watch.$$
e2e_finish
