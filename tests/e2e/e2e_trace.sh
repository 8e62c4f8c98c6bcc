#!/usr/bin/env bash
# End to end (issue 11): `dpctl trace` tells one admin action's whole story
# from the database, against the real stack.
#  1. A DP whose host makes one install step fail (a regular file where the
#     SMSSIG$ share's directory must go: create_shares fails on the host, a
#     real fault, no test hook) is traced: the trace names create_shares,
#     its reason and the agent's lines, and shows the retry; once the file
#     is removed the same correlation id ends Installed.
#  2. A site reset of three DPs traces as one id with an outcome per DP.
#  3. A removal's trace lists the removal steps in the source's order
#     (seed 004, "DP removal" step 5) and ends Removed.
#  4. A Read-only Analyst reads the trace and the DP's history; a malformed
#     id is 400, an unknown one 404.
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

DP1=PS1DP1.CONTOSO.COM   # its host fails create_shares until the fault is removed
DP2=PS1DP2.CONTOSO.COM
DP3=PS1DP3.CONTOSO.COM   # removed at the end
export DPFLEET_INSTALL_RETRY_DELAY_SECONDS=2
e2e_stack_up --agents "$DP1,$DP2,$DP3"
DPCTL=$DPFLEET_BUILD/dpctl/dpctl

corr_of() { sed -n 's/^ *correlation id: *//p' "$1" | head -1; }
trace_json() { "$DPCTL" --json trace "$1" 2>/dev/null; }
# outcome of DP $2 in the trace of $1
outcome() { trace_json "$1" | jq -r --arg dp "$2" '.summary[] | select(.serverName == $dp) | .outcome' 2>/dev/null; }
# wait_outcome what corr dp regex seconds
wait_outcome() {
    local what=$1 corr=$2 dp=$3 re=$4 secs=$5 got="" i
    for i in $(seq 1 $((secs * 2))); do
        got=$(outcome "$corr" "$dp")
        if [[ "$got" =~ $re ]]; then e2e_ok "$what ($got)"; return 0; fi
        sleep 0.5
    done
    e2e_bad "$what (waited ${secs}s for /$re/, the outcome is '$got')"
    return 1
}

# ---- 1. an install step that fails on the host, retried, then Installed ----
root1=$DPFLEET_VAR/$DP1
mkdir -p "$root1"
echo "not a directory" >"$root1/SMSSIG\$"
chown --reference="$DPFLEET_VAR" "$root1" "$root1/SMSSIG\$" 2>/dev/null || true

"$DPCTL" dp add "$DP2" --site PS1 >"$DPFLEET_STACK/add2.out" 2>&1
"$DPCTL" dp add "$DP3" --site PS1 >"$DPFLEET_STACK/add3.out" 2>&1
"$DPCTL" dp add "$DP1" --site PS1 --description "fails create_shares" >"$DPFLEET_STACK/add1.out" 2>&1
e2e_eq "dpctl dp add succeeds" 0 $?
corr1=$(corr_of "$DPFLEET_STACK/add1.out")
e2e_check "dp add prints its correlation id ($corr1)" test -n "$corr1"
e2e_check "dp add prints how to follow it" grep -qF "Follow it with: dpctl trace $corr1" "$DPFLEET_STACK/add1.out"

e2e_wait_sql "the host fails create_shares twice (2398, the retry)" \
    "select count(*) >= 2 from status_messages where msg_id=2398 and correlation_id='$corr1' and istr[3]='create_shares'" t 60
wait_outcome "meanwhile the trace says why $DP1 is not installed" "$corr1" "$DP1" \
    '^(Failed at create_shares: .*SMSSIG|Waiting: |Still running: )' 30
"$DPCTL" trace "$corr1" >"$DPFLEET_STACK/trace1.out" 2>&1
e2e_eq "dpctl trace exits 0" 0 $?
e2e_check "the timeline has the provider's, dbmon's, hman's and DistMgr's lines" \
    bash -c "grep -q 'SMS Provider' '$DPFLEET_STACK/trace1.out' && grep -q 'SMSDBMON' '$DPFLEET_STACK/trace1.out' && grep -q 'HMAN' '$DPFLEET_STACK/trace1.out' && grep -qE 'DistMgr +[0-9]+ \(0x[0-9a-f]+\)' '$DPFLEET_STACK/trace1.out'"
e2e_check "the failed step is set apart with the DP" \
    grep -qF ">>> FAILED STEP create_shares on $DP1" "$DPFLEET_STACK/trace1.out"
e2e_check "with its reason naming the share" \
    grep -qE "Reason: .*SMSSIG" "$DPFLEET_STACK/trace1.out"
e2e_check "and the agent's lines (the shares it did create)" \
    grep -qF "~Successfully created share SMS_DP\$ on server $DP1" "$DPFLEET_STACK/trace1.out"
n=$(trace_json "$corr1" | jq --arg dp "$DP1" '[.entries[] | select(.source == "trace" and .serverName == $dp and .step == "create_shares" and .result == "failed")] | length')
e2e_check "the timeline shows the retry: create_shares failed in $n attempts" test "${n:-0}" -ge 2
n=$(trace_json "$corr1" | jq --arg dp "$DP1" '[.entries[] | select(.source == "trace" and .serverName == $dp and .step == "create_shares" and .result == "failed") | .agentLines | length] | min')
e2e_check "each failed attempt carries the agent's lines" test "${n:-0}" -ge 1

rm -f "$root1/SMSSIG\$"
e2e_wait_sql "$DP1 is installed once the fault is gone" \
    "select install_state from distribution_points where server_name='$DP1'" Installed 60
wait_outcome "the same correlation id now ends Installed" "$corr1" "$DP1" '^Installed$' 20
n=$(trace_json "$corr1" | jq --arg dp "$DP1" '.summary[] | select(.serverName == $dp) | .attempts')
e2e_check "the summary counts the attempts ($n)" test "${n:-0}" -ge 3
"$DPCTL" trace "$corr1" >"$DPFLEET_STACK/trace1b.out" 2>&1
e2e_check "dpctl trace still shows the failed step, as taken over by a later attempt" \
    grep -qF ">>> FAILED STEP create_shares on $DP1 (a later attempt took over" "$DPFLEET_STACK/trace1b.out"
e2e_check "and the outcome line" grep -qE "^  $DP1 +Installed \([0-9]+ attempts\)" "$DPFLEET_STACK/trace1b.out"
echo "# dpctl trace $corr1 (after the fault was removed):"
sed 's/^/#   /' "$DPFLEET_STACK/trace1b.out"
first=$(trace_json "$corr1" | jq -r '.entries[0].source + "/" + .entries[0].component')
e2e_eq "the story starts with the admin's action" "audit/SMS Provider" "$first"
e2e_eq "the action's user is named" 'CONTOSO\Admin' "$(trace_json "$corr1" | jq -r .user)"
sorted=$(trace_json "$corr1" | jq '[.entries[].time] == ([.entries[].time] | sort)')
e2e_eq "the entries are in time order" true "$sorted"

# ---- 2. a site reset of three DPs: one id, an outcome per DP --------------
e2e_wait_sql "the three DPs are installed" \
    "select count(*) from distribution_points where install_state='Installed'" 3 60
"$DPCTL" site reset PS1 >"$DPFLEET_STACK/reset.out" 2>&1
e2e_eq "dpctl site reset succeeds" 0 $?
corr2=$(corr_of "$DPFLEET_STACK/reset.out")
e2e_check "site reset prints how to follow it" grep -qF "Follow it with: dpctl trace $corr2" "$DPFLEET_STACK/reset.out"
e2e_wait_sql "every DP of the reset has its 2399 under the reset's id" \
    "select count(distinct istr[2]) from status_messages where msg_id=2399 and correlation_id='$corr2'" 3 90
for dp in $DP1 $DP2 $DP3; do
    wait_outcome "the reset's trace: $dp" "$corr2" "$dp" '^Installed$' 20
done
e2e_eq "one outcome per DP" 3 "$(trace_json "$corr2" | jq '.summary | length')"
n=$(trace_json "$corr2" | jq '[.entries[] | select(.component == "DistMgr" and .source == "trace") | .serverName] | unique | length')
e2e_eq "DistMgr's steps of the three DPs are in the one trace" 3 "$n"

# ---- 3. a removal lists the source's removal steps in order --------------
"$DPCTL" dp remove "$DP3" >"$DPFLEET_STACK/remove.out" 2>&1
e2e_eq "dpctl dp remove succeeds" 0 $?
corr3=$(corr_of "$DPFLEET_STACK/remove.out")
e2e_check "dp remove prints how to follow it" grep -qF "Follow it with: dpctl trace $corr3" "$DPFLEET_STACK/remove.out"
e2e_wait_sql "$DP3 is removed (2391)" \
    "select count(*) from status_messages where msg_id=2391 and correlation_id='$corr3'" 1 60
wait_outcome "the removal's trace ends Removed" "$corr3" "$DP3" '^Removed$' 20
steps=$(trace_json "$corr3" | jq -r --arg dp "$DP3" '[.entries[] | select(.source == "trace" and .serverName == $dp and .job == "remove" and .result == "ok") | .step] | join(" ")')
echo "# dpctl trace $corr3 (the removal):"
"$DPCTL" trace "$corr3" 2>&1 | sed 's/^/#   /'
want="remove_pxe remove_tasks remove_pulldp unregister_provider remove_shares remove_vdirs remove_settings"
e2e_eq "the removal steps in the source's order" "$want" "$steps"

# ---- 4. who may read, and bad ids -----------------------------------------
"$DPCTL" token create --user 'CONTOSO\Analyst' --role 'Read-only Analyst' >"$DPFLEET_STACK/tok.out" 2>&1
tok=$(grep -oE 'dpf_[A-Za-z0-9_-]{43}' "$DPFLEET_STACK/tok.out" | head -1)
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$DPFLEET_API/v1/trace/$corr1")
e2e_eq "a Read-only Analyst reads the admin's trace" 200 "$code"
code=$(curl -sS -o "$DPFLEET_STACK/hist.json" -w '%{http_code}' -H "Authorization: Bearer $tok" \
    "$DPFLEET_API/v1/distributionpoints/$DP1/history?limit=1")
e2e_eq "and the DP's history" 200 "$code"
e2e_eq "history?limit=1 is the newest job: the reset" "$corr2" "$(jq -r '.[0].correlationId' "$DPFLEET_STACK/hist.json")"
DPFLEET_TOKEN=$tok "$DPCTL" dp history "$DP1" >"$DPFLEET_STACK/hist.out" 2>&1
e2e_check "dpctl dp history lists the install with its outcome" \
    grep -qE "$corr1 +Installed" "$DPFLEET_STACK/hist.out"
e2e_eq "an unknown id is 404" 404 "$(api GET /v1/trace/0b7d3f6e-0000-4000-8000-000000000000)"
e2e_eq "a malformed id is 400" 400 "$(api GET '/v1/trace/not%20an%20id')"

e2e_finish
