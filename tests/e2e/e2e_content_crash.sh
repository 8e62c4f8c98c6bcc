#!/usr/bin/env bash
# Crash tests of content distribution (issue 6). A package with a 300 MiB
# file and small files goes to two standard DPs and a pull DP, and:
#   1. distmgr is SIGKILLed in the middle of the transfer and restarted
#      (same replica name: it takes its leases back at once);
#   2. the agent is SIGKILLed in the middle of the transfer to three other
#      DPs and restarted;
#   3. during 1 and 2 a client downloads the big file from every DP every
#      200 ms: each answer is 404 or the complete, correct file;
#   4. a file corrupted in the site content library is refused by the agent's
#      hash check, reported and not served; restored, it installs.
# After 1 and 2 every DP is Installed with the source's bytes, one 2330 per
# DP and version, and the transfer resumed (it did not send the file again).
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

export DPFLEET_REPLICA_NAME=distmgr-0
export DPFLEET_AGENT_STEP_TIMEOUT_SECONDS=10     # lease = 10 + 30 s
export DPFLEET_CONTENT_RETRY_DELAY_SECONDS=2
export DPFLEET_RECONCILE_INTERVAL_SECONDS=2

DP1=CCDP1.CONTOSO.COM DP2=CCDP2.CONTOSO.COM DP3=CCDP3.CONTOSO.COM # 1: std, std, pull
DP4=CCDP4.CONTOSO.COM DP5=CCDP5.CONTOSO.COM DP6=CCDP6.CONTOSO.COM # 2: std, std, pull
DP7=CCDP7.CONTOSO.COM                                             # 4: std
e2e_stack_up --agents "$DP1,$DP2,$DP3,$DP4,$DP5,$DP6,$DP7"
STACK="$E2E_ROOT/scripts/stack"
DPCTL=$DPFLEET_BUILD/dpctl/dpctl
L=$DPFLEET_STACK/logs
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
q1() { sql "$1" 2>/dev/null || true; }
lib() { echo "$DPFLEET_VAR/$1/SCCMContentLib\$"; }
dpp() { q1 "select $3 from dp_packages x join distribution_points d using (dpid) where package_id='$1' and server_name='$2'"; }
sha() { sha256sum <"$1" | cut -d' ' -f1; }

for dp in $DP1 $DP2 $DP4 $DP5 $DP7; do "$DPCTL" dp add "$dp" --site PS1 >/dev/null || e2e_bad "dp add $dp"; done
e2e_wait_sql "the standard DPs are installed" \
    "select count(*) from distribution_points where install_state='Installed'" 5 90
"$DPCTL" dp add "$DP3" --site PS1 --pull-source "$DP1:1" --pull-source "$DP2:2" >/dev/null || e2e_bad "dp add $DP3"
"$DPCTL" dp add "$DP6" --site PS1 --pull-source "$DP4:1" --pull-source "$DP5:2" >/dev/null || e2e_bad "dp add $DP6"
e2e_wait_sql "the pull DPs are installed and every content server is recorded" \
    "select count(*) from distribution_points where install_state='Installed' and content_base like 'http://%'" 7 90

# ---- the sources: a big package and a small one
BIGSRC=$DPFLEET_SOURCES/big SMALLSRC=$DPFLEET_SOURCES/small
mkdir -p "$BIGSRC/sub" "$SMALLSRC"
head -c 314572800 /dev/urandom >"$BIGSRC/big.bin"
head -c 65536 /dev/urandom >"$BIGSRC/sub/small.dat"
echo "big package" >"$BIGSRC/readme.txt"
head -c 1048576 /dev/urandom >"$SMALLSRC/a.bin"
echo "small package" >"$SMALLSRC/readme.txt"
BIGSHA=$(sha "$BIGSRC/big.bin")
TOTAL=$(du -cb "$BIGSRC"/big.bin "$BIGSRC"/sub/small.dat "$BIGSRC"/readme.txt | tail -1 | cut -f1)
create() { # name dir -> package id
    local code
    code=$(api POST /v1/packages "{\"name\":\"$1\",\"sourcePath\":\"$2\"}")
    [ "$code" = 201 ] || e2e_bad "POST /v1/packages $1 is $code: $(api_body)"
    api_body | json 'd["packageId"]'
}
BIG=$(create Big "$BIGSRC")
SMALL=$(create Small "$SMALLSRC")
e2e_wait_sql "both packages are processed (2301)" \
    "select count(*) from status_messages where msg_id=2301 and istr[1] in ('$BIG','$SMALL')" 2 120

# ---- helpers
# poll OUT dp...: downloads big.bin from each DP's contentUrl every 200 ms
# until it got it whole from every DP (or OUT.stop exists); one line per
# answer: "<dp> 404|good|down|cut|BAD <code> <bytes>".
poll() {
    local out=$1 dp url code rc n left; shift
    declare -A got
    while [ ! -e "$out.stop" ]; do
        left=0
        for dp in "$@"; do
            [ -n "${got[$dp]:-}" ] && continue
            left=1
            url=$(q1 "select content_base from distribution_points where server_name='$dp'")/SMS_DP_SMSPKG\$/$BIG/big.bin
            code=$(curl -s --max-time 60 -o "$out.body" -w '%{http_code}' "$url"); rc=$?
            n=$(stat -c %s "$out.body" 2>/dev/null || echo 0)
            if [ "$code" = 404 ]; then echo "$dp 404"
            elif [ "$code" = 000 ]; then echo "$dp down"
            elif [ "$code" = 200 ] && [ $rc -ne 0 ]; then echo "$dp cut $rc $n"   # server killed mid-answer
            elif [ "$code" = 200 ] && [ "$(sha "$out.body")" = "$BIGSHA" ]; then echo "$dp good"; got[$dp]=1
            else echo "$dp BAD $code $n"; fi
            rm -f "$out.body"
        done
        [ $left = 0 ] && break
        sleep 0.2
    done
}
poll_check() { # out pid ndps
    local i
    for i in $(seq 1 120); do kill -0 "$2" 2>/dev/null || break; sleep 0.5; done
    touch "$1.stop"; wait "$2"
    e2e_eq "poller: no answer was a partial or wrong file ($(sort "$1" | uniq -c | awk '{printf "%s ", $0}'))" \
        0 "$(grep -c BAD "$1")"
    e2e_check "poller: 404 while the package was not installed" grep -q ' 404$' "$1"
    e2e_eq "poller: the complete file from every DP" "$3" "$(grep -c ' good$' "$1")"
}
# partial_at_least bytes dp...: until each DP has that much of big.bin in .partial
partial_at_least() {
    local want=$1 i dp ok; shift
    for i in $(seq 1 600); do
        ok=1
        for dp in "$@"; do
            [ "$(stat -c %s "$(lib "$dp")/FileLib/.partial/$BIGSHA" 2>/dev/null || echo 0)" -ge "$want" ] || ok=0
        done
        [ $ok = 1 ] && return 0
        sleep 0.1
    done
    return 1
}
check_files() { # package srcdir version dp...: every file from every DP's contentUrl
    local pkg=$1 src=$2 ver=$3 dp url f bad=0 n; shift 3
    for dp in "$@"; do
        api GET "/v1/packages/$pkg" >/dev/null
        url=$(api_body | json "[x['contentUrl'] for x in d['distributionPoints'] if x['serverName']=='$dp'][0]")
        for f in $(cd "$src" && find . -type f | sed 's|^\./||'); do
            [ "$(curl -sS "$url/$f" | sha256sum | cut -d' ' -f1)" = "$(sha "$src/$f")" ] ||
                { bad=$((bad + 1)); echo "  $dp $f ($url) differs"; }
        done
        n=$(q1 "select count(*) from status_messages where msg_id=2330 and istr[1]='$pkg' and istr[3]='$ver' and istr[4]='$dp'")
        [ "$n" = 1 ] || { bad=$((bad + 1)); echo "  $dp: $n 2330 for $pkg version $ver"; }
    done
    e2e_eq "$pkg v$ver on $*: every file has the source's SHA-256, one 2330 each" 0 "$bad"
}
installed_q() { # package dp...
    echo "select count(*) from dp_packages x join distribution_points d using (dpid) where package_id='$1' and x.state='Installed' and x.installed_version=1 and server_name in ($(printf "'%s'," "${@:2}" | sed 's/,$//'))"
}
# resumed dp: the DP's log says a transfer resumed, and the job that installed
# did not send the 32 MiB the DP held at the kill again
resumed() {
    grep -q "1 partly received (resumable)" "$DPFLEET_VAR/$1/SMS_DP\$/sms/logs/smsdpprov.log" &&
        [ "$(dpp "$BIG" "$1" x.bytes_sent)" -le $((TOTAL - 33554432)) ]
}

# ---- 1. distmgr killed in the middle of the transfer -------------------------
echo "# 1. distmgr killed in the middle of sending $BIG (300 MiB) to $DP1, $DP2 (pull: $DP3)"
poll "$DPFLEET_STACK/poll1" $DP1 $DP2 $DP3 >"$DPFLEET_STACK/poll1.log" &
P1=$!
e2e_eq "distribute is 202" 202 "$(api POST "/v1/packages/$BIG/distribute" "{\"distributionPoints\":[\"$DP1\",\"$DP2\",\"$DP3\"]}")"
if partial_at_least 33554432 $DP1 $DP2; then
    "$STACK" kill distmgr
    e2e_ok "distmgr killed with 32 MiB or more of big.bin in $DP1's and $DP2's .partial"
else
    e2e_bad "no partial file of 32 MiB on $DP1 and $DP2 within 60 s"
fi
e2e_eq "meanwhile no 2330 for $BIG" 0 "$(q1 "select count(*) from status_messages where msg_id=2330 and istr[1]='$BIG'")"
e2e_check "meanwhile the standard DPs are InProgress under distmgr-0's job leases" test \
    "$(q1 "select count(*) from dp_packages x join distribution_points d using (dpid) where package_id='$BIG' and x.state='InProgress' and x.lease_owner like 'distmgr-0/%' and not is_pull_dp")" = 2
from=$(wc -l <"$L/distmgr.log")
sleep 1
"$STACK" start distmgr
e2e_wait_sql "after the restart the three DPs end Installed" "$(installed_q "$BIG" $DP1 $DP2 $DP3)" 3 150
e2e_check "the restarted replica took its content leases back at once" \
    bash -c "tail -n +$from '$L/distmgr.log' | grep -qE 'Replica distmgr-0 held [0-9]+ content leases from before its restart'"
for dp in $DP1 $DP2; do
    e2e_check "$dp resumed its partial file: bytes sent <= $TOTAL - 32 MiB ($(dpp "$BIG" "$dp" x.bytes_sent))" resumed "$dp"
done
check_files "$BIG" "$BIGSRC" 1 $DP1 $DP2 $DP3
poll_check "$DPFLEET_STACK/poll1.log" $P1 3

# ---- 2. the agent killed in the middle of the transfer -------------------------
echo "# 2. the agent killed in the middle of sending $BIG to $DP4, $DP5 (pull: $DP6)"
base=$(q1 "select coalesce(max(id), 0) from status_messages")
poll "$DPFLEET_STACK/poll2" $DP4 $DP5 $DP6 >"$DPFLEET_STACK/poll2.log" &
P2=$!
e2e_eq "distribute is 202" 202 "$(api POST "/v1/packages/$BIG/distribute" "{\"distributionPoints\":[\"$DP4\",\"$DP5\",\"$DP6\"]}")"
if partial_at_least 33554432 $DP4 $DP5; then
    "$STACK" kill dpagent
    e2e_ok "the agent killed with 32 MiB or more of big.bin in $DP4's and $DP5's .partial"
else
    e2e_bad "no partial file of 32 MiB on $DP4 and $DP5 within 60 s"
fi
e2e_wait_sql "a 2332 for each DP whose agent is down names big.bin and the agent not answering" \
    "select count(distinct istr[2]) from status_messages where msg_id=2332 and id > $base and istr[1]='$BIG' and istr[3]='big.bin' and (istr[4] like 'no reply from the agent%' or istr[4] like 'no agent answers%') and istr[2] in (select nal_path from distribution_points where server_name in ('$DP4','$DP5'))" 2 40
e2e_eq "meanwhile none of them is Installed" 0 "$(q1 "$(installed_q "$BIG" $DP4 $DP5 $DP6)")"
"$STACK" start dpagent
e2e_wait_sql "after the agent's restart the three DPs end Installed" "$(installed_q "$BIG" $DP4 $DP5 $DP6)" 3 150
for dp in $DP4 $DP5; do
    e2e_check "$dp resumed its partial file: bytes sent <= $TOTAL - 32 MiB ($(dpp "$BIG" "$dp" x.bytes_sent))" resumed "$dp"
done
check_files "$BIG" "$BIGSRC" 1 $DP4 $DP5 $DP6
poll_check "$DPFLEET_STACK/poll2.log" $P2 3
# the restarted agent listens on new (ephemeral) ports: contentUrl must follow
for dp in $DP1 $DP2 $DP3; do
    e2e_eq "$dp: contentUrl names the port its restarted content server listens on" \
        "http://127.0.0.1:$(sed -n 's/^port=//p' "$DPFLEET_VAR/$dp/etc/http.conf")" \
        "$(q1 "select content_base from distribution_points where server_name='$dp'")"
done
check_files "$BIG" "$BIGSRC" 1 $DP1 $DP2 $DP3   # the DPs of 1 still serve it
e2e_eq "no DP holds a partial file any more" 0 "$(find "$DPFLEET_VAR"/*/SCCMContentLib\$/FileLib/.partial -type f 2>/dev/null | wc -l)"

# ---- 4. a file corrupted in the site content library --------------------------
echo "# 4. a file of $SMALL corrupted in the site content library, distributed to $DP7"
base=$(q1 "select coalesce(max(id), 0) from status_messages")
ASHA=$(sha "$SMALLSRC/a.bin")
SITEFILE=$DPFLEET_STACK/contentlib/FileLib/${ASHA:0:4}/$ASHA
e2e_check "the site content library holds a.bin by its hash" test -f "$SITEFILE"
chmod u+w "$SITEFILE" 2>/dev/null
head -c 1048576 /dev/urandom >"$SITEFILE"
e2e_eq "distribute is 202" 202 "$(api POST "/v1/packages/$SMALL/distribute" "{\"distributionPoints\":[\"$DP7\"]}")"
nal7=$(q1 "select nal_path from distribution_points where server_name='$DP7'")
e2e_wait_sql "a 2332 names the package, the DP, the file and the verification failure" \
    "select count(*) > 0 from status_messages where msg_id=2332 and id > $base and istr[1]='$SMALL' and istr[2]='$nal7' and istr[3]='a.bin' and istr[4] like '%failed verification: SHA-256 mismatch%'" t 40
e2e_eq "the DP row is Retrying (or Failed) with the reason" t \
    "$(dpp "$SMALL" $DP7 "x.state in ('Retrying','Failed') and x.last_error like '%failed verification%'")"
url7=$(q1 "select content_base from distribution_points where server_name='$DP7'")/SMS_DP_SMSPKG\$/$SMALL
e2e_eq "$DP7 does not serve a.bin (404)" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$url7/a.bin")"
e2e_eq "$DP7 does not serve the package at all (404)" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$url7/readme.txt")"
e2e_eq "$DP7 keeps no copy of the refused bytes" 0 "$(find "$(lib $DP7)/FileLib" -type f -name "$ASHA" | wc -l)"
e2e_eq "no 2330 for $SMALL" 0 "$(q1 "select count(*) from status_messages where msg_id=2330 and istr[1]='$SMALL'")"
cp "$SMALLSRC/a.bin" "$SITEFILE"
e2e_wait_sql "restored, $SMALL ends Installed on $DP7" "$(installed_q "$SMALL" $DP7)" 1 60
check_files "$SMALL" "$SMALLSRC" 1 $DP7

e2e_finish
