#!/usr/bin/env bash
# End to end, issue 8 ("Recovery"): DPs are added through the API and a
# package is distributed to them while nats-server is killed with SIGKILL
# and started again (same port, same JetStream store), then PostgreSQL is
# stopped at once (pg_ctl stop -m immediate) and started again (same port,
# same data). API calls that fail meanwhile are retried, as an
# administrator would. Afterwards: every DP Installed, every package entry
# Installed, one 2399 per DP and one 2330 per DP and package version, no
# service died, each service logged the outage and the recovery, and the
# last 2399/2330 came within 10 s of both servers being back.
# Every timer keeps its default (retry delays, reconcile interval, ack
# waits): the work must resume because the connections came back, not
# because a timer ran out. Agent steps take 200 ms so that installs are in
# flight during both outages. nats-server stays down E2E_FAULT_NATS_DOWN_S
# seconds (default 10), PostgreSQL E2E_FAULT_PG_DOWN_S (default 20: a
# restart with crash recovery of a busy database takes that long): long
# enough that a service which retries on a doubling backoff (0.5, 1, 2, 4,
# 8, 16 s...) instead of noticing the server is back shows it, whatever the
# backoff's phase.
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

export DPFLEET_STEP_DELAY_MS=200
NATS_DOWN_S=${E2E_FAULT_NATS_DOWN_S:-10}
PG_DOWN_S=${E2E_FAULT_PG_DOWN_S:-20}
unset DPFLEET_REPLICA_NAME DPFLEET_INSTALL_RETRY_DELAY_SECONDS DPFLEET_RECONCILE_INTERVAL_SECONDS \
    DPFLEET_CONTENT_RETRY_DELAY_SECONDS DPFLEET_HMAN_RETRY_DELAY_SECONDS DPFLEET_HMAN_ACK_WAIT_SECONDS

N=10
DPS=()
for i in $(seq -w 1 $N); do DPS+=("PS1FLT$i.CONTOSO.COM"); done
e2e_stack_up --agents "$(IFS=,; echo "${DPS[*]}")"
STACK_CMD=$E2E_ROOT/scripts/stack
L=$DPFLEET_STACK/logs
ADMIN_LOG=$DPFLEET_STACK/admin.log
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
now() { date +%s.%N; }

# An administrator's call: retried while it answers 5xx or nothing (the
# provider says 503 while PostgreSQL is down), for up to 120 s. Prints the
# final HTTP code; the body is in $DPFLEET_STACK/body.
call() { # method path [json]
    local code i
    for i in $(seq 1 240); do
        code=$(curl -s --max-time 10 -o "$DPFLEET_STACK/body" -w '%{http_code}' -X "$1" \
            -H 'Content-Type: application/json' -H "Authorization: Bearer $DPFLEET_TOKEN" \
            ${3:+--data-binary "$3"} "$DPFLEET_API$2")
        case $code in
            5*|000) echo "$(date +%T.%3N) $1 $2: $code, trying again" >>"$ADMIN_LOG"; sleep 0.5 ;;
            2*) echo "$(date +%T.%3N) $1 $2: $code" >>"$ADMIN_LOG"; echo "$code"; return 0 ;;
            *) echo "$(date +%T.%3N) $1 $2: $code $(head -c 300 "$DPFLEET_STACK/body")" >>"$ADMIN_LOG"
               echo "$code"; return 0 ;;
        esac
    done
    echo "$code"
}

# ---- the package, processed before the outages
SRC=$DPFLEET_SOURCES/faultapp
mkdir -p "$SRC/bin"
head -c 2097152 /dev/urandom >"$SRC/bin/setup.bin"
head -c 50000 /dev/urandom >"$SRC/bin/data.dat"
echo "fault test" >"$SRC/readme.txt"
code=$(call POST /v1/packages "{\"name\":\"FaultApp\",\"description\":\"e2e fault\",\"sourcePath\":\"$SRC\"}")
e2e_eq "POST /v1/packages is 201" 201 "$code"
PKG=$(json 'd["packageId"]' <"$DPFLEET_STACK/body")
e2e_wait_sql "2301: version 1 of $PKG processed" \
    "select count(*) from status_messages where msg_id=2301 and istr[1]='$PKG'" 1 30

# ---- the administrator, in the background: one DP every 2 s, then the
# package to all of them; both outages happen while this runs
admin() {
    local dp code list
    for dp in "${DPS[@]}"; do
        code=$(call POST /v1/distributionpoints "{\"serverName\":\"$dp\",\"siteCode\":\"PS1\"}")
        # 409: an earlier try committed although its answer was lost
        case $code in 201|202|409) ;; *) echo "dp add $dp: $code $(cat "$DPFLEET_STACK/body")" >>"$ADMIN_LOG" ;; esac
        sleep 2
    done
    # a DP can be named in a distribution once hman has made its
    # distribution_points row (GET /v1/distributionpoints/NAME already
    # answers 200 from the site control rows before that): until then the
    # answer is 404 "no distribution point named", and the administrator
    # tries again
    list=$(printf '"%s",' "${DPS[@]}")
    for _ in $(seq 1 240); do
        code=$(call POST "/v1/packages/$PKG/distribute" "{\"distributionPoints\":[${list%,}]}")
        [ "$code" = 404 ] && grep -q "no distribution point named" "$DPFLEET_STACK/body" || break
        sleep 0.5
    done
    echo "distribute: $code" >>"$ADMIN_LOG"
    echo done >"$DPFLEET_STACK/admin.done"
}
admin &
ADMIN_PID=$!

# ---- the faults: nats-server killed once 2 DPs are in (installs in
# flight), PostgreSQL stopped soon after it is back, while the adds go on.
# *_DOWN: just before the server went; *_START: when it was started again;
# *_BACK: once it accepted connections again.
dp_rows() { sql "select count(*) from distribution_points" 2>/dev/null || echo 0; }
for _ in $(seq 1 150); do [ "$(dp_rows)" -ge 2 ] && break; sleep 0.1; done
e2e_check "2 DPs were added before the faults" test "$(dp_rows)" -ge 2
# readyz SERVICE -> "<http code> <body>" of its /readyz (the provider's on the API port)
readyz() {
    local url
    if [ "$1" = provider ]; then url=$DPFLEET_API/readyz
    else url=http://127.0.0.1:$(cat "$DPFLEET_STACK/health.$1.port")/readyz; fi
    local code
    code=$(curl -s --max-time 5 -o "$DPFLEET_STACK/readyz.body" -w '%{http_code}' "$url")
    echo "$code $(tr -d '\n' <"$DPFLEET_STACK/readyz.body" 2>/dev/null)"
}
READY_SVCS="dbmon hman distmgr"
for svc in $READY_SVCS provider; do
    e2e_eq "$svc is ready before the faults" 200 "$(readyz "$svc" | cut -d' ' -f1)"
done
NATS_DOWN=$(now)
"$STACK_CMD" nats-kill || e2e_bad "scripts/stack nats-kill"
sleep 3
for svc in $READY_SVCS; do
    r=$(readyz "$svc")
    e2e_eq "$svc /readyz is 503 while nats-server is down" 503 "${r%% *}"
    e2e_check "$svc /readyz names NATS as the reason ($r)" grep -q '"nats":"not connected' <<<"$r"
done
sleep $((NATS_DOWN_S > 3 ? NATS_DOWN_S - 3 : 0))
NATS_START=$(now)
# a server that does not come back makes every later check fail after long
# waits (and the test run into ctest's timeout): stop here, saying why
"$STACK_CMD" nats-start || { e2e_bad "scripts/stack nats-start: nats-server did not start" \
    "again (its log: nats.log of the kept logs)"; exit 1; }
NATS_BACK=$(now)
sleep 1
PG_DOWN=$(now)
"$STACK_CMD" pg-stop || e2e_bad "scripts/stack pg-stop"
sleep 3
for svc in $READY_SVCS provider; do
    r=$(readyz "$svc")
    e2e_eq "$svc /readyz is 503 while PostgreSQL is down" 503 "${r%% *}"
done
for svc in $READY_SVCS; do
    r=$(readyz "$svc")
    e2e_check "$svc /readyz names the database as the reason ($r)" grep -q '"database":"' <<<"$r"
done
sleep $((PG_DOWN_S > 3 ? PG_DOWN_S - 3 : 0))
PG_START=$(now)
"$STACK_CMD" pg-start || { e2e_bad "scripts/stack pg-start: PostgreSQL did not start again"; exit 1; }
PG_BACK=$(now)
BACK=$(python3 -c "print(max($NATS_BACK, $PG_BACK))")
echo "# nats-server down $(python3 -c "print(round($NATS_BACK - $NATS_DOWN, 1))") s," \
    "PostgreSQL down $(python3 -c "print(round($PG_BACK - $PG_DOWN, 1))") s"

wait "$ADMIN_PID"
e2e_check "the administrator's calls all went through (see $ADMIN_LOG)" test -f "$DPFLEET_STACK/admin.done"
e2e_eq "no call failed for good" "" "$(grep -E '^dp add|^distribute: [^2]' "$ADMIN_LOG")"
e2e_check "some call was refused during the outage and retried" grep -q "trying again" "$ADMIN_LOG"

# ---- the end state (generous waits: the time limit is checked below)
q_in="server_name in ($(printf "'%s'," "${DPS[@]}" | sed 's/,$//'))"
e2e_wait_sql "every DP is Installed" \
    "select count(*) from distribution_points where $q_in and install_state='Installed'" $N 180
e2e_wait_sql "every dp_packages entry is Installed" \
    "select count(*) from dp_packages where package_id='$PKG' and state='Installed' and installed_version=1" $N 180
e2e_eq "the package has one entry per DP, no more" $N \
    "$(sql "select count(*) from dp_packages where package_id='$PKG'")"
sleep 2 # a duplicate would come now, if at all
e2e_eq "exactly one 2399 per DP" "$N|$N" \
    "$(sql "select count(*) || '|' || count(distinct istr[2]) from status_messages where msg_id=2399 and istr[2] in ($(printf "'%s'," "${DPS[@]}" | sed 's/,$//'))")"
e2e_eq "exactly one 2330 per DP and package version" "$N|$N" \
    "$(sql "select count(*) || '|' || count(distinct (istr[2], istr[3])) from status_messages where msg_id=2330 and istr[1]='$PKG'")"
e2e_eq "no DP failed an install step on the way (2398)" 0 \
    "$(sql "select count(*) from status_messages where msg_id=2398")"

# ---- ready again, and the readiness changes were logged (once each way)
for svc in $READY_SVCS provider; do
    for _ in $(seq 1 20); do [ "$(readyz "$svc" | cut -d' ' -f1)" = 200 ] && break; sleep 0.5; done
    e2e_eq "$svc /readyz is 200 again after both outages" 200 "$(readyz "$svc" | cut -d' ' -f1)"
done
for svc in $READY_SVCS; do
    e2e_check "$svc logged that it was not ready" grep -q "Not ready ($svc /readyz answers 503)" "$L/$svc.log"
    e2e_check "$svc logged that it was ready again" grep -q "Ready again ($svc /readyz answers 200)" "$L/$svc.log"
done

# ---- every service lived through both outages
for f in "$DPFLEET_STACK"/pids/*.pid; do
    name=$(basename "$f" .pid)
    e2e_check "$name is still running" kill -0 "$(cat "$f")"
done

# ---- each service logged the outage and the recovery
# has_line LOG ERE AFTER [BEFORE]: prints the first line matching ERE
# logged at or after the epoch AFTER (and before BEFORE); fails if none
has_line() {
    python3 - "$@" <<'PY'
import re, sys, datetime
path, pat = sys.argv[1], re.compile(sys.argv[2])
after = float(sys.argv[3])
before = float(sys.argv[4]) if len(sys.argv) > 4 else float("inf")
for line in open(path, errors="replace"):
    if pat.search(line):
        try:
            t = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").timestamp()
        except ValueError:
            continue
        if after <= t < before:
            print(line.rstrip()[:220]); sys.exit(0)
sys.exit(1)
PY
}
NATS_OUT='Disconnected from NATS|Outage: NATS'
NATS_REC='Reconnected to NATS|Recovery: NATS is back'
PG_OUT='database connection lost|Lost the database connection|PostgreSQL is not reachable|no database connection|Cannot reach the database|database is not available'
PG_REC='database connection re-established|Recovery: PostgreSQL is back|connected to PostgreSQL'
# the outage while it lasts (what an administrator reading the log then
# sees), the recovery once the server was started again
for svc in dbmon hman distmgr dpagent; do
    e2e_check "$svc logged the NATS outage while it lasted" \
        has_line "$L/$svc.log" "$NATS_OUT" "$NATS_DOWN" "$NATS_BACK"
    e2e_check "$svc logged the NATS recovery" has_line "$L/$svc.log" "$NATS_REC" "$NATS_START"
done
for svc in dbmon hman distmgr provider; do
    e2e_check "$svc logged the PostgreSQL outage while it lasted" \
        has_line "$L/$svc.log" "$PG_OUT" "$PG_DOWN" "$PG_BACK"
    e2e_check "$svc logged the PostgreSQL recovery" has_line "$L/$svc.log" "$PG_REC" "$PG_START"
done

# ---- how soon the work resumed: both servers back -> the last 2399 / 2330
echo "# both servers back at $(date -d "@$BACK" +%T.%3N)"
for id in 2399 2330; do
    last=$(sql "select extract(epoch from max(raised_at)) from status_messages where msg_id=$id")
    delay=$(python3 -c "print(round(${last:-0} - $BACK, 1))")
    echo "# last $id $delay s after both servers were back"
    e2e_check "the last $id came within 10 s of both servers being back ($delay s)" \
        python3 -c "import sys; sys.exit(0 if $delay <= 10 else 1)"
done
for svc in dbmon hman distmgr provider dpagent; do
    for what in "NATS@$NATS_REC@$NATS_BACK@$NATS_START" "PostgreSQL@$PG_REC@$PG_BACK@$PG_START"; do
        IFS=@ read -r srv pat at start <<<"$what"
        line=$(has_line "$L/$svc.log" "$pat" "$start") || continue
        echo "# $svc: $srv recovery logged $(python3 -c "import datetime; print(round(datetime.datetime.strptime('${line:0:23}', '%Y-%m-%d %H:%M:%S.%f').timestamp() - $at, 1))") s after it was back"
    done
done

# E2E_FAULT_KEEP=DIR keeps the logs and the administrator's calls there
if [ -n "${E2E_FAULT_KEEP:-}" ]; then
    mkdir -p "$E2E_FAULT_KEEP" && cp -r "$L" "$ADMIN_LOG" "$E2E_FAULT_KEEP"/
fi
e2e_finish
