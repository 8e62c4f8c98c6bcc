#!/usr/bin/env bash
# Crash tests (issue 3): services killed with SIGKILL in the middle of their
# work, then restarted. After each, what an administrator checks: every DP
# ends in the state the database says, no step is lost, none is left half
# done.
#   1. distmgr killed in the middle of a removal (restarted under another
#      name: the old lease has to run out)
#   2. distmgr killed in the middle of an upgrade wave (site reset of 10 DPs,
#      DPUpgradeThreadLimit 3; restarted under the same name: it takes its
#      leases back at once)
#   3. the agent killed in the middle of a step
#   4. dbmon killed between publishing a change and recording it; hman
#      killed in the middle of a site control transaction
# Steps take 400 ms on the agent so a kill lands inside them; locks taken
# with psql hold dbmon and hman at a known point of their transaction.
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

export DPFLEET_STEP_DELAY_MS=400
export DPFLEET_AGENT_STEP_TIMEOUT_SECONDS=3        # lease = 3 + 30 s
export DPFLEET_INSTALL_RETRY_DELAY_SECONDS=2
export DPFLEET_RECONCILE_INTERVAL_SECONDS=2
export DPFLEET_DP_UPGRADE_THREAD_LIMIT=3
export DPFLEET_HMAN_ACK_WAIT_SECONDS=5             # hman's change comes back 5 s after a crash
export DPFLEET_HMAN_RETRY_DELAY_SECONDS=2
unset DPFLEET_REPLICA_NAME

WAVE=()
for i in $(seq -w 1 10); do WAVE+=("CR$i.CONTOSO.COM"); done
RM=CRRM.CONTOSO.COM      # removed while distmgr is killed
AG=CRAG.CONTOSO.COM      # installed while its agent is killed
DB=CRDB.CONTOSO.COM      # added while dbmon is killed
HM=CRHM.CONTOSO.COM      # added while hman is killed
all=$(IFS=,; echo "${WAVE[*]},$RM,$AG,$DB,$HM")
e2e_stack_up --agents "$all"
BIN=$DPFLEET_BUILD
L=$DPFLEET_STACK/logs
COMP=$BIN/share/dp-components
VERSION=$(sed -n 's/^#define DPF_COMPONENT_VERSION "\(.*\)"/\1/p' "$E2E_ROOT/lib/include/dpf/agent.h")
LOCKER=e2e_crash_lock

q1() { sql "$1" 2>/dev/null || true; }
dpid_of() { q1 "select dpid from distribution_points where server_name='$1'"; }
msgs() { # msg_id server [after-id]: status messages of that id for that DP
    q1 "select count(*) from status_messages where msg_id=$1 and istr[2]='$2' and id > ${3:-0}"
}
# wait_log file pattern [seconds] [from-line]: until a line matches (grep -E)
wait_log() {
    local i
    for i in $(seq 1 $((${3:-30} * 20))); do
        tail -n +"${4:-1}" "$1" | grep -qE "$2" && return 0
        sleep 0.05
    done
    return 1
}
lines() { wc -l <"$1"; }
# A psql session holding a table lock until lock_release; returns once the
# lock is held.
lock_hold() { # table mode
    PGAPPNAME=$LOCKER psql "$DATABASE_URL" -XAtq -c "BEGIN" -c "LOCK TABLE $1 IN $2 MODE" \
        -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
    local i
    for i in $(seq 1 100); do
        [ "$(q1 "select count(*) from pg_locks l join pg_stat_activity a using (pid) where a.application_name='$LOCKER' and l.relation='$1'::regclass and l.granted")" = 1 ] && return 0
        sleep 0.05
    done
    e2e_bad "could not lock $1"
}
lock_release() {
    q1 "select pg_terminate_backend(pid) from pg_stat_activity where application_name='$LOCKER'" >/dev/null
}
# wait_blocked SQL-prefix: until a session of a service waits on a lock
# running a statement that starts so.
wait_blocked() {
    local i
    for i in $(seq 1 200); do
        [ "$(q1 "select count(*) from pg_stat_activity where wait_event_type='Lock' and application_name<>'$LOCKER' and query ilike '$1%'")" -ge 1 ] && return 0
        sleep 0.05
    done
    return 1
}
add_dp() { # fqdn [extra json]: POST, echoes the correlation id
    local code
    code=$(api POST /v1/distributionpoints "{\"serverName\":\"$1\",\"siteCode\":\"PS1\"${2:-}}")
    [ "$code" = 201 ] || e2e_bad "POST $1 is $code: $(api_body)"
    api_body | sed -n 's/.*"correlationId" *: *"\([^"]*\)".*/\1/p'
}
# What an administrator checks on a DP's host after an install: the
# component files are the signed set, the settings are the row's.
root_complete() { # fqdn
    local r=$DPFLEET_VAR/$1 id crc
    id=$(dpid_of "$1")
    crc=$(q1 "select dp_crc from distribution_points where server_name='$1'")
    (cd "$r/SMS_DP\$/sms/bin" && sha256sum --quiet -c "$COMP/MANIFEST" >/dev/null 2>&1) || return 1
    [ "$(ls "$r/SMS_DP\$/sms/bin" | wc -l)" = "$(wc -l <"$COMP/MANIFEST")" ] || return 1
    grep -qx "DPID=$id" "$r/etc/dp.conf" && grep -qx "DPCRC=$crc" "$r/etc/dp.conf" &&
        grep -qx "ServerName=$1" "$r/etc/dp.conf" && grep -qx "ComponentVersion=$VERSION" "$r/etc/dp.conf" &&
        test -f "$r/etc/shares.conf" -a -f "$r/etc/vdirs.conf" -a -f "$r/etc/provider.conf" &&
        grep -qx "enabled=1" "$r/etc/http.conf" &&
        test -d "$r/SCCMContentLib\$/PkgLib" -a -d "$r/SMSSIG\$"
}

# ---- all DPs installed ----------------------------------------------------
for dp in "${WAVE[@]}" "$RM"; do add_dp "$dp" >/dev/null; done
e2e_wait_sql "the 11 DPs are installed" \
    "select count(*) from distribution_points where install_state='Installed'" 11 120

# ---- 1. distmgr killed in the middle of a removal --------------------------
echo "# 1. distmgr killed in the middle of the removal of $RM"
rm_id=$(dpid_of "$RM")
from=$(lines "$L/distmgr.log")
"$BIN/dpctl/dpctl" dp remove "$RM" >/dev/null || e2e_bad "dpctl dp remove $RM"
if wait_log "$L/distmgr.log" "step remove_pulldp on $RM ok" 60 "$from"; then
    "$E2E_ROOT/scripts/stack" kill distmgr
    e2e_ok "distmgr killed after three removal steps of $RM"
else
    e2e_bad "the removal of $RM did not start"
fi
e2e_eq "killed after 2390 ..." 1 "$(msgs 2390 "$RM")"
e2e_eq "... and before 2391" 0 "$(msgs 2391 "$RM")"
e2e_eq "meanwhile the row says Removing, not a healthy DP" "Removing|3" \
    "$(q1 "select install_state||'|'||action from distribution_points where dpid=$rm_id")"
e2e_check "meanwhile its settings are still on the host (not removed yet)" \
    test -f "$DPFLEET_VAR/$RM/etc/dp.conf"
# A new name: the crashed replica's lease has to run out (3 + 30 s).
export DPFLEET_REPLICA_NAME=distmgr-0
from=$(lines "$L/distmgr.log")
"$E2E_ROOT/scripts/stack" start distmgr
e2e_wait_sql "$RM's row is deleted after the restart" \
    "select count(*) from distribution_points where dpid=$rm_id" 0 75
e2e_eq "one 2391 for $RM" 1 "$(msgs 2391 "$RM")"
e2e_eq "no 2392 for $RM" 0 "$(msgs 2392 "$RM")"
steps=$(tail -n +"$from" "$L/distmgr.log" | grep -oE "step remove_[a-z_]+ on $RM ok|step unregister_provider on $RM ok" |
    awk '{print $2}' | paste -sd' ')
e2e_eq "after the restart all seven removal steps ran, in the source's order" \
    "remove_pxe remove_tasks remove_pulldp unregister_provider remove_shares remove_vdirs remove_settings" "$steps"
e2e_eq "$RM's host root is empty" "" "$(ls -A "$DPFLEET_VAR/$RM" 2>/dev/null)"
e2e_eq "nothing of $RM left in the database" "0 0 0 0 0" \
    "$(q1 "select (select count(*) from dp_packages where dpid=$rm_id), (select count(*) from dp_notification where dpid=$rm_id), (select count(*) from dp_certificates where server_name='$RM'), (select count(*) from sys_res_list where server_name='$RM' and role_name='SMS Distribution Point'), (select count(*) from site_system_roles where server_name='$RM' and role_name='SMS Distribution Point')" | tr '|' ' ')"

# ---- 2. distmgr killed in the middle of an upgrade wave --------------------
echo "# 2. distmgr killed in the middle of a site reset of ${#WAVE[@]} DPs (DPUpgradeThreadLimit 3)"
base=$(q1 "select coalesce(max(id), 0) from status_messages")
wave_in=" $(IFS=,; printf "'%s'," "${WAVE[@]}" | sed 's/,$//') "
done_q="select count(distinct istr[2]) from status_messages where msg_id=2399 and id > $base and istr[2] in ($wave_in)"
from=$(lines "$L/distmgr.log")
out=$("$BIN/dpctl/dpctl" --json site reset PS1) || e2e_bad "dpctl site reset PS1: $out"
e2e_check "the reset covers the ${#WAVE[@]} DPs" grep -q "\"distributionPoints\": *${#WAVE[@]}" <<<"$out"
n=0
for i in $(seq 1 600); do
    n=$(q1 "$done_q")
    [ "${n:-0}" -ge 3 ] && break
    sleep 0.05
done
"$E2E_ROOT/scripts/stack" kill distmgr
killed_at=$(date +%s)
n=$(q1 "$done_q")
e2e_check "killed with some DPs upgraded and some not ($n of ${#WAVE[@]})" test "$n" -ge 1 -a "$n" -lt "${#WAVE[@]}"
e2e_check "the killed distmgr never ran more than 3 upgrades at once" \
    bash -c "! tail -n +$from '$L/distmgr.log' | grep -qE 'Used ([4-9]|[1-9][0-9]+) threads out of'"
e2e_check "meanwhile the DPs it was upgrading are Installing under its lease" \
    test "$(q1 "select count(*) from distribution_points where install_state='Installing' and left(lease_owner, 10) = 'distmgr-0/'")" -ge 1
from=$(lines "$L/distmgr.log")
"$E2E_ROOT/scripts/stack" start distmgr
e2e_wait_sql "every DP of the wave ends Installed at its CRC and the current components" \
    "select count(*) from distribution_points where install_state='Installed' and installed_crc=dp_crc and installed_version='$VERSION' and server_name in ($wave_in)" \
    "${#WAVE[@]}" 60
took=$(( $(date +%s) - killed_at ))
e2e_check "the wave finished ${took}s after the kill, before the old leases (33 s) ran out" test "$took" -lt 30
e2e_check "the restarted replica took back the leases it held before the crash" \
    bash -c "tail -n +$from '$L/distmgr.log' | grep -qE 'Replica distmgr-0 held [0-9]+ DP leases from before its restart'"
e2e_eq "every DP of the wave has its 2399" "${#WAVE[@]}" "$(q1 "$done_q")"
e2e_eq "no DP is left Installing or leased" 0 \
    "$(q1 "select count(*) from distribution_points where install_state<>'Installed' or lease_owner is not null")"

# ---- 3. the agent killed in the middle of a step ---------------------------
echo "# 3. the agent killed in the middle of a step of $AG's install"
base3=$(q1 "select coalesce(max(id), 0) from status_messages")
from=$(lines "$L/dpagent.log")
add_dp "$AG" ',"enablePXE":true' >/dev/null
if wait_log "$L/dpagent.log" "$AG: configure_vdirs \(DPID" 60 "$from"; then
    "$E2E_ROOT/scripts/stack" kill dpagent
    e2e_ok "the agent killed while it ran configure_vdirs for $AG"
else
    e2e_bad "the install of $AG did not reach configure_vdirs"
fi
e2e_wait_sql "distmgr reports the step with 2398" \
    "select count(*) > 0 from status_messages where msg_id=2398 and id > $base3 and istr[2]='$AG' and istr[3]='configure_vdirs' and istr[4] <> ''" t 20
e2e_eq "meanwhile $AG is Failed at configure_vdirs" "Failed|configure_vdirs" \
    "$(q1 "select install_state||'|'||last_step from distribution_points where server_name='$AG'")"
e2e_check "2398 gives the reason" \
    bash -c "psql '$DATABASE_URL' -XAtc \"select istr[4] from status_messages where msg_id=2398 and id > $base3 and istr[2]='$AG' order by id limit 1\" | grep -qiE 'no reply|no agent|timed out|timeout'"
e2e_wait_sql "distmgr retries while the agent is still down, and reports that too" \
    "select count(*) >= 2 from status_messages where msg_id=2398 and id > $base3 and istr[2]='$AG'" t 15
e2e_eq "the retry came after the retry delay (2 s)" t \
    "$(q1 "select max(raised_at) - min(raised_at) >= interval '1.9 s' from status_messages where msg_id=2398 and id > $base3 and istr[2]='$AG'")"
"$E2E_ROOT/scripts/stack" start dpagent
e2e_wait_sql "$AG ends Installed at its CRC after the agent's restart" \
    "select install_state||'|'||(installed_crc=dp_crc) from distribution_points where server_name='$AG'" "Installed|true" 60
e2e_eq "one 2399 for $AG" 1 "$(msgs 2399 "$AG" "$base3")"
e2e_eq "its 2399 follows its last 2398" t \
    "$(q1 "select max(id) filter (where msg_id=2399) > max(id) filter (where msg_id=2398) from status_messages where id > $base3 and istr[2]='$AG'")"
e2e_check "$AG's root is complete: signed files, settings of its row, shares, vdirs, provider" root_complete "$AG"
e2e_check "$AG's PXE tree and TFTP configuration are there" \
    test -d "$DPFLEET_VAR/$AG/RemoteInstall/SMSBoot" -a -f "$DPFLEET_VAR/$AG/etc/tftp.conf"
port=$(sed -n 's/^port=//p' "$DPFLEET_VAR/$AG/etc/http.conf")
echo "crash test content" >"$DPFLEET_VAR/$AG/SMSSIG\$/PS100099.tar"
e2e_eq "the restarted agent serves $AG's content" "crash test content" \
    "$(curl -sS "http://127.0.0.1:$port/SMS_DP_SMSSIG\$/PS100099.tar" 2>&1)"
rm -f "$DPFLEET_VAR/$AG/SMSSIG\$/PS100099.tar"

# ---- 4a. dbmon killed between publishing a change and recording it ----------
echo "# 4a. dbmon killed before and after publishing the change that adds $DB"
"$E2E_ROOT/scripts/stack" kill dbmon
corr=$(add_dp "$DB")
sleep 1
e2e_eq "the change waits in the outbox" 1 \
    "$(q1 "select count(*) from outbox where correlation_id='$corr' and subject='sitecontrol.changed.PS1'")"
e2e_eq "and nothing is processed without it" 0 "$(q1 "select count(*) from distribution_points where server_name='$DB'")"
# dbmon publishes inside its claim transaction and deletes the rows last:
# a SHARE lock on the outbox lets it claim and publish, and holds the delete.
lock_hold outbox SHARE
from=$(lines "$L/dbmon.log")
"$E2E_ROOT/scripts/stack" start dbmon
e2e_check "dbmon publishes the change" wait_log "$L/dbmon.log" "\[$corr\] SND: .*sitecontrol.changed.PS1" 20 "$from"
e2e_check "and waits to delete it from the outbox" wait_blocked "DELETE FROM outbox"
"$E2E_ROOT/scripts/stack" kill dbmon
lock_release
sleep 1
e2e_eq "the change is still in the outbox (published, not recorded)" 1 \
    "$(q1 "select count(*) from outbox where correlation_id='$corr' and subject='sitecontrol.changed.PS1'")"
"$E2E_ROOT/scripts/stack" start dbmon
e2e_wait_sql "$DB is installed" \
    "select install_state||'|'||(installed_crc=dp_crc) from distribution_points where server_name='$DB'" "Installed|true" 60
e2e_wait_sql "the outbox is empty" "select count(*) from outbox" 0 10
e2e_eq "hman processed the change once (one 3306)" 1 \
    "$(q1 "select count(*) from status_messages where msg_id=3306 and correlation_id='$corr'")"
e2e_eq "hman received it once (the second publication was a duplicate)" 1 \
    "$(grep -F "[$corr]" "$L/hman.log" | grep -c "Received site control change")"
e2e_eq "one Inserted DP line for $DB" 1 "$(grep "Inserted DP" "$L/hman.log" | grep -cF "$DB")"
e2e_eq "one row for $DB" 1 "$(q1 "select count(*) from distribution_points where server_name='$DB'")"
e2e_eq "one 2399 for $DB" 1 "$(msgs 2399 "$DB")"
e2e_check "$DB's root is complete" root_complete "$DB"

# ---- 4b. hman killed in the middle of a site control transaction -----------
echo "# 4b. hman killed in the transaction that inserts $HM"
# update_dp_cert comes after the DP's insert and its client packages: a SHARE
# lock on dp_certificates holds hman there, its insert not committed.
lock_hold dp_certificates SHARE
corr=$(add_dp "$HM")
e2e_check "hman inserted $HM and waits in its transaction" wait_blocked "SELECT update_dp_cert"
e2e_eq "no Inserted DP line for $HM before the commit" 0 "$(grep "Inserted DP" "$L/hman.log" | grep -cF "$HM")"
"$E2E_ROOT/scripts/stack" kill hman
lock_release
sleep 1
e2e_eq "nothing of $HM's insert is left (row, packages, site system)" "0 0 0" \
    "$(q1 "select (select count(*) from distribution_points where server_name='$HM'), (select count(*) from dp_packages p join distribution_points d using (dpid) where d.server_name='$HM'), (select count(*) from sys_res_list where server_name='$HM')" | tr '|' ' ')"
from=$(lines "$L/hman.log")
"$E2E_ROOT/scripts/stack" start hman
e2e_check "the change is redelivered to the restarted hman" \
    wait_log "$L/hman.log" "\[$corr\] Received site control change .*\(delivery [2-9]\)" 30 "$from"
e2e_wait_sql "$HM is installed" \
    "select install_state||'|'||(installed_crc=dp_crc) from distribution_points where server_name='$HM'" "Installed|true" 60
e2e_eq "one Inserted DP line for $HM across both hman processes" 1 "$(grep "Inserted DP" "$L/hman.log" | grep -cF "$HM")"
e2e_eq "one row for $HM" 1 "$(q1 "select count(*) from distribution_points where server_name='$HM'")"
e2e_eq "processed once (one 3306)" 1 \
    "$(q1 "select count(*) from status_messages where msg_id=3306 and correlation_id='$corr'")"
e2e_eq "$HM has its four client packages and a certificate" "4 1" \
    "$(q1 "select (select count(*) from dp_packages p join distribution_points d using (dpid) where d.server_name='$HM'), (select count(*) from dp_certificates where server_name='$HM')" | tr '|' ' ')"
e2e_check "$HM's root is complete" root_complete "$HM"

# ---- every DP in the state the database says --------------------------------
echo "# the whole fleet after the crashes"
# the wave's unacknowledged events come back after the ack wait (33 s)
wait=$(( killed_at + 36 - $(date +%s) ))
[ "$wait" -gt 0 ] && sleep "$wait"
e2e_eq "every DP is Installed at its CRC and the current components, none leased" 13 \
    "$(q1 "select count(*) from distribution_points where install_state='Installed' and installed_crc=dp_crc and installed_version='$VERSION' and action=0 and lease_owner is null")"
e2e_eq "and there are no other rows" 13 "$(q1 "select count(*) from distribution_points")"
bad=""
for dp in "${WAVE[@]}" "$AG" "$DB" "$HM"; do root_complete "$dp" || bad="$bad $dp"; done
e2e_eq "every DP's host root is complete and matches its row" "" "$bad"
e2e_eq "exactly one 2399 per DP of the wave, also after the redeliveries" "${#WAVE[@]}" \
    "$(q1 "select count(*) from (select istr[2] from status_messages where msg_id=2399 and id > $base and istr[2] in ($wave_in) group by 1 having count(*) = 1) x")"
e2e_eq "no failed removal or site control change" 0 \
    "$(q1 "select count(*) from status_messages where msg_id in (2392, 3307)")"
# status messages go out through the outbox too (dbmon publishes them after
# their transaction commits): one raised a moment ago may still be on its way
e2e_wait_sql "the outbox is empty" "select count(*) from outbox" 0 10

e2e_finish
