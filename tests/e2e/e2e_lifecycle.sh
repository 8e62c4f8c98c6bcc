#!/usr/bin/env bash
# End to end: the rest of a DP's life (issue 3; seed 004 "DP change",
# "DP removal", "DP upgrade"), driven with dpctl and the API against a real
# stack, and checked the way an administrator would: rows, host files,
# status messages and the services' log lines.
#   1. a description change updates one DP (its CRC, its row, its dp.conf)
#   2. PXE on and off
#   3. a pull DP with two sources, reordered; pull-source loops refused
#   4. removal of three DPs one at a time (DPRemovalThreadLimit 1), then of
#      three more at once after distmgr is restarted with the limit at 3
#   5. a site reset of 20 DPs with DPUpgradeThreadLimit 5
#   6. bad input: clear 4xx, nothing changed
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

SITE=PS1
DPS=()      # the site's 20 DPs that stay (agent steps take 40 ms)
for i in $(seq -w 1 20); do DPS+=("PS1DP$i.CONTOSO.COM"); done
RMS=()      # six DPs to remove (a second agent process, steps take 150 ms)
for i in 1 2 3 4 5 6; do RMS+=("PS1RM$i.CONTOSO.COM"); done
DP1=${DPS[0]} DP2=${DPS[1]} DP3=${DPS[2]} DP4=${DPS[3]} DP5=${DPS[4]} DP6=${DPS[5]}
STEP_ORDER="remove_pxe remove_tasks remove_pulldp unregister_provider remove_shares remove_vdirs remove_settings"

export DPFLEET_DP_UPGRADE_THREAD_LIMIT=5
DPFLEET_STEP_DELAY_MS=40 e2e_stack_up --agents "$(IFS=,; echo "${DPS[*]}")"
DPFLEET_STEP_DELAY_MS=150 "$E2E_ROOT/scripts/stack" agents-add "$(IFS=,; echo "${RMS[*]}")" \
    || { e2e_bad "agents-add"; exit 1; }
L=$DPFLEET_STACK/logs
DPCTL=$DPFLEET_BUILD/dpctl/dpctl
T0=$SECONDS

nal() { echo "[\"Display=\\\\$1\\\"]MSWNET:[\"SMS_SITE=$SITE\"]\\\\$1\\"; }
# The JSON field "correlationId" of dpctl --json's output.
corr_of() { sed -n 's/.*"correlationId" *: *"\([^"]*\)".*/\1/p'; }
# Lines of a service's log that carry a correlation id.
corr_lines() { grep -F "[$2]" "$L/$1.log"; }
# Epoch milliseconds of log lines ("2026-11-21 07:53:39.006 ..."), one per line.
to_ms() { cut -c1-23 | TZ=UTC date -f - +%s%3N; }
# The most intervals ("start end" in ms, one per line on stdin) open at once.
max_overlap() {
    awk '{ print $1, 1; print $2, -1 }' | sort -k1,1n -k2,2n |
        awk '{ n += $2; if (n > m) m = n } END { print m + 0 }'
}
# all_in TEXT STRING...: every string occurs in the text.
all_in() {
    local text=$1 p; shift
    for p in "$@"; do grep -qF -- "$p" <<<"$text" || return 1; done
}
# wait_for "what" seconds command...: polls until the command succeeds.
wait_for() {
    local what=$1 secs=$2 i; shift 2
    for i in $(seq 1 $((secs * 5))); do
        "$@" && { e2e_ok "$what"; return 0; }
        sleep 0.2
    done
    e2e_bad "$what (waited ${secs}s)"
    return 1
}
# A DP is settled when it is installed at its current CRC.
settled_sql() { echo "select count(*) from distribution_points where server_name='$1' and install_state='Installed' and installed_crc=dp_crc"; }
# What must not move when a request is refused: row counts, every DP row
# (CRCs included), the properties, the pull sources, the outbox and the site
# control serial.
snapshot() {
    sql "select (select count(*) from distribution_points), (select count(*) from site_system_roles),
                (select md5(string_agg(d::text, '|' order by dpid)) from distribution_points d),
                (select md5(string_agg(p::text, '|' order by role_id, name)) from site_system_role_props p),
                (select md5(coalesce(string_agg(s::text, '|' order by role_id, source_server), '')) from pull_dp_sources s),
                (select count(*) from outbox), (select serial from site_control where site_code='$SITE')"
}

for dp in "${DPS[@]}" "${RMS[@]}"; do
    "$DPCTL" dp add "$dp" --site $SITE --description "DP $dp" >/dev/null || e2e_bad "dpctl dp add $dp"
done
e2e_wait_sql "all 26 DPs installed" \
    "select count(*) from distribution_points where install_state='Installed'" 26 120
echo "# setup took $((SECONDS - T0)) s"

# ---- 1. DP change: one description --------------------------------------
declare -A crc_before
while read -r srv crc; do crc_before[$srv]=$crc; done < <(sql "select server_name||' '||dp_crc from distribution_points" | tr '|' ' ')
others_before=$(sql "select md5(string_agg(d::text, '|' order by dpid)) from distribution_points d where server_name<>'$DP1'")
row_before=$(sql "select md5(d::text) from distribution_points d where server_name='$DP1'")
n2399=$(sql "select count(*) from status_messages where msg_id=2399 and istr[2]='$DP1'")
corr=$("$DPCTL" --json dp set "$DP1" --description "Relabelled: branch office, 2nd floor" | corr_of)
e2e_check "dpctl dp set --description returns a correlation id" test -n "$corr"
e2e_wait_sql "$DP1 re-installed after the change (a new 2399)" \
    "select count(*) from status_messages where msg_id=2399 and istr[2]='$DP1'" $((n2399 + 1)) 30
e2e_wait_sql "$DP1 settled" "$(settled_sql "$DP1")" 1 30
new_crc=$(sql "select dp_crc from distribution_points where server_name='$DP1'")
e2e_check "$DP1's CRC changed (${crc_before[$DP1]} -> $new_crc)" test "$new_crc" != "${crc_before[$DP1]}"
e2e_check "$DP1's row changed" test "$row_before" != "$(sql "select md5(d::text) from distribution_points d where server_name='$DP1'")"
e2e_eq "the other 25 rows are untouched" "$others_before" \
    "$(sql "select md5(string_agg(d::text, '|' order by dpid)) from distribution_points d where server_name<>'$DP1'")"
same=0
while read -r srv crc; do
    [ "$srv" != "$DP1" ] && [ "$crc" = "${crc_before[$srv]}" ] && same=$((same + 1))
done < <(sql "select server_name||' '||dp_crc from distribution_points" | tr '|' ' ')
e2e_eq "the other 25 CRCs are identical" 25 "$same"
e2e_check "hman: Updated DP $DP1. DBCRC:old,NewCRC:new" \
    all_in "$(corr_lines hman "$corr")" "Updated DP $(nal "$DP1"). DBCRC:${crc_before[$DP1]},NewCRC:$new_crc"
e2e_eq "hman: one line sums up the 25 others as unchanged" 1 \
    "$(corr_lines hman "$corr" | grep -cF 'Will not update 25 DPs of site PS1 (unchanged)')"
e2e_eq "hman: and no Updated DP for any other" 1 "$(corr_lines hman "$corr" | grep -c 'Updated DP')"
e2e_wait_sql "one 3306 for the change" \
    "select count(*) from status_messages where msg_id=3306 and correlation_id='$corr'" 1 10
e2e_eq "the new 2399 carries the change's correlation id" 1 \
    "$(sql "select count(*) from status_messages where msg_id=2399 and istr[2]='$DP1' and correlation_id='$corr'")"
e2e_check "$DP1's etc/dp.conf has the new description" \
    grep -qxF "Description=Relabelled: branch office, 2nd floor" "$DPFLEET_VAR/$DP1/etc/dp.conf"
e2e_check "$DP1's etc/dp.conf has the new CRC" grep -qxF "DPCRC=$new_crc" "$DPFLEET_VAR/$DP1/etc/dp.conf"

# ---- 2. PXE on and off ---------------------------------------------------
R2=$DPFLEET_VAR/$DP2
e2e_check "$DP2 starts without PXE" test ! -e "$R2/RemoteInstall" -a ! -e "$R2/etc/tftp.conf"
"$DPCTL" dp set "$DP2" --pxe >/dev/null || e2e_bad "dpctl dp set --pxe"
wait_for "PXE on: $DP2's RemoteInstall tree and etc/tftp.conf appear" 30 \
    test -d "$R2/RemoteInstall/SMSBoot/x64" -a -f "$R2/etc/tftp.conf"
e2e_wait_sql "$DP2 settled as PXE" "select is_pxe from distribution_points where server_name='$DP2' and install_state='Installed' and installed_crc=dp_crc" t 30
e2e_check "tftp.conf serves the RemoteInstall tree" grep -qxF "root=$R2/RemoteInstall" "$R2/etc/tftp.conf"
"$DPCTL" dp set "$DP2" --no-pxe >/dev/null || e2e_bad "dpctl dp set --no-pxe"
wait_for "PXE off: $DP2's RemoteInstall tree and etc/tftp.conf go" 30 \
    test ! -e "$R2/RemoteInstall" -a ! -e "$R2/etc/tftp.conf"
e2e_wait_sql "$DP2 settled without PXE" "select is_pxe from distribution_points where server_name='$DP2' and install_state='Installed' and installed_crc=dp_crc" f 30
e2e_check "$DP2 still has its shares and settings" test -d "$R2/SCCMContentLib\$" -a -f "$R2/etc/dp.conf"

# ---- 3. Pull DP: two sources, reordered; loops refused -------------------
R3=$DPFLEET_VAR/$DP3
corr=$("$DPCTL" --json dp set "$DP3" --pull-source "$DP4:1" --pull-source "$DP5:2" | corr_of)
wait_for "$DP3's pulldp.conf lists $DP4 then $DP5" 30 grep -sqxF "sources=$DP4:1,$DP5:2" "$R3/etc/pulldp.conf"
e2e_wait_sql "$DP3 settled as a pull DP" \
    "select is_pull_dp::text||pull_dp_state from distribution_points where server_name='$DP3' and install_state='Installed' and installed_crc=dp_crc" trueInstalled 30
for line in "ConfigurePullDP" "~NAL Path $(nal "$DP3") is a Pull DP" "PullDP $(nal "$DP3") is marked Installed"; do
    e2e_check "distmgr: $line" all_in "$(corr_lines distmgr "$corr")" "$line"
done
corr=$("$DPCTL" --json dp set "$DP3" --pull-source "$DP4:3" --pull-source "$DP5:1" | corr_of)
wait_for "after reordering, $DP3's pulldp.conf lists $DP5 then $DP4" 30 \
    grep -sqxF "sources=$DP5:1,$DP4:3" "$R3/etc/pulldp.conf"
e2e_wait_sql "$DP3 settled after the reorder" "$(settled_sql "$DP3")" 1 30
e2e_check "distmgr: PullDP $DP3 is marked Installed after the reorder" \
    all_in "$(corr_lines distmgr "$corr")" "PullDP $(nal "$DP3") is marked Installed"
e2e_eq "the database keeps both sources with their new priorities" "$DP5:1 $DP4:3" \
    "$(sql "select string_agg(s.source_server||':'||s.priority, ' ' order by s.priority) from pull_dp_sources s join site_system_roles r on r.id=s.role_id where r.server_name='$DP3'")"
api GET "/v1/distributionpoints/$DP3" >/dev/null
e2e_eq "the API lists the sources by priority" "$DP5:1 $DP4:3" \
    "$(grep -oE '"serverName" *: *"[^"]*" *, *"priority" *: *[0-9]+' /tmp/e2e_body.$$ |
        sed -E 's/"serverName" *: *"([^"]*)" *, *"priority" *: *([0-9]+)/\1:\2/' | tr '\n' ' ' | sed 's/ $//')"
"$DPCTL" dp set "$DP6" --pull-source "$DP3:1" >/dev/null || e2e_bad "dpctl dp set $DP6 --pull-source $DP3"
wait_for "$DP6 pulls from $DP3 (a chain $DP6 -> $DP3 -> $DP4)" 30 grep -sqxF "sources=$DP3:1" "$DPFLEET_VAR/$DP6/etc/pulldp.conf"
e2e_wait_sql "$DP6 settled" "$(settled_sql "$DP6")" 1 30

before=$(snapshot)
out=$("$DPCTL" dp set "$DP4" --pull-source "$DP3:1" 2>&1); rc=$?
e2e_eq "$DP4 pulling from $DP3 (which pulls from $DP4) is refused" 1 "$rc"
e2e_check "  with 409 and why: $out" all_in "$out" "HTTP 409" "must not lead back"
out=$("$DPCTL" dp set "$DP4" --pull-source "$DP6:1" 2>&1); rc=$?
e2e_eq "$DP4 pulling from $DP6 ($DP6 -> $DP3 -> $DP4) is refused" 1 "$rc"
e2e_check "  with 409 naming the DP that closes the loop: $out" all_in "$out" "HTTP 409" "through $DP3"
out=$("$DPCTL" dp set "$DP3" --pull-source "$DP3:1" 2>&1); rc=$?
e2e_eq "$DP3 pulling from itself is refused" 1 "$rc"
e2e_check "  with 400 and why: $out" all_in "$out" "HTTP 400" "own pull source"
code=$(api PATCH "/v1/distributionpoints/$DP5" "{\"pullDP\":{\"sources\":[{\"serverName\":\"$DP6\",\"priority\":1}]}}")
e2e_eq "the same over the API ($DP5 -> $DP6 -> $DP3 -> $DP5) is 409" 409 "$code"
e2e_check "  with a JSON error on pullDP.sources: $(api_body)" grep -q '"field" *: *"pullDP.sources"' /tmp/e2e_body.$$
sleep 1
e2e_eq "the refused loops changed nothing" "$before" "$(snapshot)"
e2e_check "$DP4 got no pull-DP configuration" test ! -e "$DPFLEET_VAR/$DP4/etc/pulldp.conf"

# ---- 4. Removal ----------------------------------------------------------
# remove_wave "label" host...: removes the hosts with dpctl and checks the
# whole removal; prints nothing, leaves the removal intervals in $WAVE_IV.
remove_wave() {
    local label=$1 h id start end iv=""; shift
    local dmark hmark
    dmark=$(wc -l <"$L/distmgr.log"); hmark=$(wc -l <"$L/hman.log")
    declare -A ids
    for h in "$@"; do ids[$h]=$(sql "select dpid from distribution_points where server_name='$h'"); done
    for h in "$@"; do "$DPCTL" dp remove "$h" >/dev/null || e2e_bad "dpctl dp remove $h"; done
    local list; list=$(printf "'%s'," "$@"); list=${list%,}
    e2e_wait_sql "$label: the three rows are deleted from distribution_points" \
        "select count(*) from distribution_points where server_name in ($list)" 0 60
    local dlog hlog; dlog=$(tail -n +$((dmark + 1)) "$L/distmgr.log"); hlog=$(tail -n +$((hmark + 1)) "$L/hman.log")
    for h in "$@"; do
        id=${ids[$h]}
        e2e_check "$label: hman: Site system no longer in use: $h" grep -qF "Site system no longer in use: $SITE $h " <<<"$hlog"
        e2e_eq "$label: 2390 and 2391 for $h" "2390 2391" \
            "$(sql "select string_agg(msg_id::text, ' ' order by msg_id) from status_messages where msg_id in (2390,2391,2392) and istr[2]='$h'")"
        e2e_check "$label: $h's agent root is cleaned" \
            bash -c "[ ! -e '$DPFLEET_VAR/$h' ] || [ -z \"\$(ls -A '$DPFLEET_VAR/$h')\" ]"
        e2e_eq "$label: $h's steps in the source's order" "$STEP_ORDER" \
            "$(grep -oE "step (remove_[a-z_]+|unregister_provider) on $h ok" <<<"$dlog" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//')"
        start=$(grep -m1 -F "~Processing $id.DPN" <<<"$dlog" | to_ms)
        end=$(grep -E "DPID $id - .* is removed from DistributionPoints" <<<"$dlog" | tail -1 | to_ms)
        e2e_check "$label: $h's removal has a start and an end in distmgr's log" test -n "$start" -a -n "$end"
        iv+="$start ${end:-0}"$'\n'
    done
    WAVE_IV=$iv
    WAVE_LOG=$dlog
}
remove_wave "limit 1" "${RMS[0]}" "${RMS[1]}" "${RMS[2]}"
e2e_eq "limit 1: the removals never overlap (most at once)" 1 "$(printf '%s' "$WAVE_IV" | max_overlap)"
e2e_check "limit 1: a removal waited for the DP manager's only thread" \
    grep -q "DP manager thread: All 1 threads are busy" <<<"$WAVE_LOG"
e2e_check "limit 1: Used 1 threads out of 1" grep -q "Removing DP with ID [0-9]*\. Thread 0x[0-9a-f]*\. Used 1 threads out of 1\." <<<"$WAVE_LOG"
echo "# limit 1 removal intervals (ms):"; printf '%s' "$WAVE_IV" | sed 's/^/#   /'

"$E2E_ROOT/scripts/stack" stop distmgr
DPFLEET_DP_REMOVAL_THREAD_LIMIT=3 "$E2E_ROOT/scripts/stack" start distmgr
remove_wave "limit 3" "${RMS[3]}" "${RMS[4]}" "${RMS[5]}"
ov=$(printf '%s' "$WAVE_IV" | max_overlap)
e2e_check "limit 3: removals run at the same time (most at once: $ov)" test "$ov" -ge 2
e2e_check "limit 3: distmgr runs with DPRemovalThreadLimit 3" \
    grep -q "DP manager thread: Removing DP with ID [0-9]*\. Thread 0x[0-9a-f]*\. Used [123] threads out of 3\." <<<"$WAVE_LOG"
echo "# limit 3 removal intervals (ms):"; printf '%s' "$WAVE_IV" | sed 's/^/#   /'
e2e_eq "20 DPs are left in the site" 20 "$(sql "select count(*) from distribution_points where site_code='$SITE'")"

# ---- 5. Site reset: 20 DPs, DPUpgradeThreadLimit 5 -----------------------
dmark=$(wc -l <"$L/distmgr.log")
out=$("$DPCTL" --json site reset $SITE); corr=$(corr_of <<<"$out")
e2e_check "dpctl site reset $SITE: 20 DPs ($out)" grep -q '"distributionPoints" *: *20' <<<"$out"
e2e_wait_sql "every DP of the site upgraded: one new 2399 each" \
    "select count(distinct istr[2]) from status_messages where msg_id=2399 and correlation_id='$corr'" 20 90
e2e_wait_sql "and all 20 installed at their CRC with the current components" \
    "select count(*) from distribution_points where install_state='Installed' and installed_crc=dp_crc and installed_version<>''" 20 30
e2e_eq "exactly one 2399 per DP" 20 "$(sql "select count(*) from status_messages where msg_id=2399 and correlation_id='$corr'")"
sleep 0.5
rlog=$(tail -n +$((dmark + 1)) "$L/distmgr.log" | grep -F "[$corr]")
e2e_eq "distmgr: 'Found site reset request' once" 1 \
    "$(grep -cF "Found site reset request for site $SITE, will upgrade all the Distribution Points" <<<"$rlog")"
first_found=$(grep -nF "Found site reset request" <<<"$rlog" | head -1 | cut -d: -f1)
first_step=$(grep -nE "step [a-z_]+ on .* ok in" <<<"$rlog" | head -1 | cut -d: -f1)
e2e_check "  before any step of the wave (line ${first_found:-?} < ${first_step:-?})" \
    test "${first_found:-999999}" -lt "${first_step:-0}"
e2e_eq "20 DPs handed to upgrade workers" 20 \
    "$(grep -oE "Upgrading DP with ID [0-9]+\." <<<"$rlog" | sort -u | wc -l)"
maxk=$(grep -oE "Used [0-9]+ threads out of 5\." <<<"$rlog" | awk '{print $2}' | sort -n | tail -1)
e2e_eq "most upgrade threads in use (Used k threads out of 5)" 5 "${maxk:-none}"
e2e_eq "no 'Used k threads' line with another limit" 0 \
    "$(grep "Upgrading DP with ID" <<<"$rlog" | grep -vc "threads out of 5\.")"
e2e_check "distmgr's peak line: peak 5 threads in use out of 5" grep -qF "peak 5 threads in use out of 5" <<<"$rlog"
e2e_check "DPs waited for a free thread" grep -qF "All 5 threads are busy" <<<"$rlog"
iv=""
for dp in "${DPS[@]}"; do
    id=$(sql "select dpid from distribution_points where server_name='$dp'")
    s=$(grep -m1 -F "~Processing $id.INS" <<<"$rlog" | to_ms)
    e=$(grep -E "DPID $id - NAL Path .* is installed at CRC" <<<"$rlog" | tail -1 | to_ms)
    [ -n "$s" ] && [ -n "$e" ] && iv+="$s $e"$'\n'
done
e2e_eq "every upgrade has a start and an end in distmgr's log" 20 "$(printf '%s' "$iv" | grep -c .)"
ov=$(printf '%s' "$iv" | max_overlap)
e2e_check "upgrades running at once, from the workers' own lines: $ov (at most 5)" test "$ov" -ge 2 -a "$ov" -le 5
for dp in "$DP3" "$DP6"; do
    u=$(grep -nF "PullDP $(nal "$dp") is marked Uninstalled" <<<"$rlog" | head -1 | cut -d: -f1)
    i=$(grep -nF "PullDP $(nal "$dp") is marked Installed" <<<"$rlog" | tail -1 | cut -d: -f1)
    e2e_check "pull DP $dp: marked Uninstalled (line ${u:-?}) then Installed (line ${i:-?})" \
        test -n "$u" -a -n "$i" -a "${u:-0}" -lt "${i:-0}"
done
e2e_eq "the pull DPs are Installed again" "Installed Installed" \
    "$(sql "select string_agg(pull_dp_state, ' ') from distribution_points where server_name in ('$DP3','$DP6')")"

# ---- 6. Bad input: clear 4xx, nothing changed ----------------------------
before=$(snapshot)
e2e_eq "PATCH with an unknown field is 400" 400 "$(api PATCH "/v1/distributionpoints/$DP1" '{"descripton":"typo"}')"
e2e_check "  JSON error naming the field: $(api_body)" grep -q '"error" *: *".*descripton.*"field" *: *"descripton"' /tmp/e2e_body.$$
e2e_eq "PATCH with a wrongly typed field is 400" 400 "$(api PATCH "/v1/distributionpoints/$DP1" '{"priority":"high"}')"
e2e_check "  JSON error naming the field: $(api_body)" grep -q '"error" *: *"[^"]*".*"field" *: *"priority"' /tmp/e2e_body.$$
e2e_eq "PATCH enablePXE with a string is 400" 400 "$(api PATCH "/v1/distributionpoints/$DP1" '{"enablePXE":"yes"}')"
e2e_eq "removing an unknown DP is 404" 404 "$(api DELETE /v1/distributionpoints/NOSUCHDP.CONTOSO.COM)"
e2e_check "  JSON error: $(api_body)" grep -q '"error" *: *"no distribution point named' /tmp/e2e_body.$$
out=$("$DPCTL" dp remove NOSUCHDP.CONTOSO.COM 2>&1); rc=$?
e2e_check "dpctl dp remove of an unknown DP fails with 404 (exit $rc: $out)" all_in "exit $rc $out" "exit 1 " "HTTP 404"
e2e_eq "resetting an unknown site is 404" 404 "$(api POST /v1/sites/ZZ9/reset '{}')"
e2e_check "  JSON error: $(api_body)" grep -q '"error" *: *"unknown site code' /tmp/e2e_body.$$
out=$("$DPCTL" site reset ZZ9 2>&1); rc=$?
e2e_check "dpctl site reset of an unknown site fails with 404 (exit $rc: $out)" all_in "exit $rc $out" "exit 1 " "HTTP 404"
sleep 1
e2e_eq "bad input changed nothing (counts, rows, CRCs, outbox)" "$before" "$(snapshot)"

echo "# took $((SECONDS - T0)) s after the stack was up"
e2e_finish
