#!/usr/bin/env bash
# End to end: every service's ops listener (DPFLEET_OPS, printed by
# scripts/stack up) serves /metrics without a token, as Prometheus text that
# parses; the counters move with the work: three DPs added through the API
# raise distmgr's install counter by exactly three, the provider's request
# counter by the three POSTs, and the bus, agent step, hman histogram and
# consumer series with them, and a package processed raises distmgr's
# package counter by one. The API port serves no unauthenticated
# /metrics. hman stopped with SIGTERM logs what it drained, and started
# again with DPFLEET_LOG_FORMAT=json writes JSON lines carrying the next
# action's correlation id. (/readyz during a NATS outage: e2e_fault.)
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

DP1=PS1DP1.CONTOSO.COM
DP2=PS1DP2.CONTOSO.COM
DP3=PS1DP3.CONTOSO.COM
DP4=PS1DP4.CONTOSO.COM
e2e_stack_up --agents "$DP1,$DP2,$DP3,$DP4"
STACK_CMD=$E2E_ROOT/scripts/stack
M=$DPFLEET_STACK/metrics
mkdir -p "$M"

# DPFLEET_OPS: provider=http://...,dbmon=http://...,hman=...,distmgr=...
e2e_check "DPFLEET_OPS names the four services' ops listeners ($DPFLEET_OPS)" \
    grep -qE '^provider=http://127\.0\.0\.1:[0-9]+,dbmon=http://127\.0\.0\.1:[0-9]+,hman=http://127\.0\.0\.1:[0-9]+,distmgr=http://127\.0\.0\.1:[0-9]+$' \
    <<<"${DPFLEET_OPS:-}"
ops() { tr ',' '\n' <<<"$DPFLEET_OPS" | sed -n "s/^$1=//p"; }

# scrape SERVICE NAME -> $M/NAME.txt (no token); fails on a non-200
scrape() {
    local code
    code=$(curl -s --max-time 10 -o "$M/$2.txt" -w '%{http_code}' "$(ops "$1")/metrics")
    [ "$code" = 200 ]
}

# Checks a scrape against the text exposition format: every line a # HELP,
# a # TYPE or a sample (name, optional {label="value",...}, a number); a
# family typed once; every sample after its family's # TYPE (a histogram's
# _bucket/_sum/_count included); counters end in _total; a histogram's
# +Inf bucket equals its _count. Prints the first problem.
prom_parse() {
    awk '
    function fail(msg) { print FILENAME ":" NR ": " msg ": " $0; bad = 1; exit 1 }
    /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* / { next }
    /^# TYPE / {
        if (NF != 4 || $3 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/ || $4 !~ /^(counter|gauge|histogram|summary|untyped)$/) fail("bad TYPE")
        if ($3 in type) fail("family typed twice")
        type[$3] = $4; next
    }
    /^#/ { fail("comment that is neither HELP nor TYPE") }
    {
        if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? [-+]?([0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)$/)
            fail("not a sample")
        name = $0; sub(/[{ ].*/, "", name)
        fam = name
        if (!(fam in type)) { fam = name; sub(/_(bucket|sum|count)$/, "", fam)
            if (!(fam in type) || type[fam] != "histogram") fail("sample before its # TYPE") }
        if (type[fam] == "counter" && name !~ /_total$/) fail("counter not ending in _total")
        if (name ~ /_bucket$/ && $0 ~ /le="\+Inf"/) { key = $0; sub(/,?le="\+Inf"/, "", key); sub(/_bucket/, "_count", key); sub(/ [^ ]*$/, "", key); sub(/\{\}/, "", key); inf[key] = $NF }
        if (name ~ /_count$/ && type[fam] == "histogram") { key = $0; sub(/ [^ ]*$/, "", key); cnt[key] = $NF }
        n++
    }
    END { if (bad) exit 1
          for (k in inf) if (inf[k] != cnt[k]) { print FILENAME ": +Inf bucket of " k " is " inf[k] ", _count " cnt[k]; exit 1 }
          if (n == 0) { print FILENAME ": no samples"; exit 1 } }' "$1"
}

# value FILE SERIES -> the sample's value ("0" when the series is absent)
value() { awk -v s="$2" '$1 == s { v = $2 } END { print (v == "" ? 0 : v + 0) }' "$1"; }

for svc in provider dbmon hman distmgr; do
    e2e_check "$svc /metrics answers 200 without a token" scrape "$svc" "$svc.before"
    e2e_check "$svc /metrics parses as Prometheus text" prom_parse "$M/$svc.before.txt"
    e2e_eq "$svc /metrics says dpfleet_up" 1 "$(value "$M/$svc.before.txt" "dpfleet_up{service=\"$svc\"}")"
done
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$DPFLEET_API/metrics")
e2e_check "the API port serves no /metrics without a token (got $code)" test "$code" != 200
D=$M/distmgr.before.txt
e2e_check "distmgr shows its dp.ins consumer's pending count" \
    grep -qE '^dpfleet_jetstream_consumer_pending\{stream="DPF_EVENTS",consumer="distmgr-ins"\} [0-9]+$' "$D"
e2e_check "distmgr shows its dp.ins consumer's ack pending count" \
    grep -qE '^dpfleet_jetstream_consumer_ack_pending\{stream="DPF_EVENTS",consumer="distmgr-ins"\} [0-9]+$' "$D"
e2e_check "hman shows its consumer" \
    grep -qE '^dpfleet_jetstream_consumer_pending\{stream="DPF_EVENTS",consumer="hman"\} [0-9]+$' "$M/hman.before.txt"
e2e_eq "distmgr shows the install pool's limit (DPUpgradeThreadLimit)" 50 \
    "$(value "$D" 'dpfleet_distmgr_threads_limit{pool="install"}')"
inst0=$(value "$D" 'dpfleet_dp_installs_total{result="ok"}')
post0=$(value "$M/provider.before.txt" 'dpfleet_http_requests_total{method="POST",route="/v1/distributionpoints",code="201"}')
e2e_eq "no install counted before any DP" 0 "$inst0"

# the work: three DPs through the API
for dp in $DP1 $DP2 $DP3; do
    code=$(api POST /v1/distributionpoints "{\"serverName\":\"$dp\",\"siteCode\":\"PS1\",\"description\":\"metrics\"}")
    e2e_eq "POST $dp is 201" 201 "$code"
done
e2e_wait_sql "the three DPs reach Installed" \
    "select count(*) from distribution_points where install_state='Installed'" 3 120
e2e_wait_sql "one 2399 per DP" "select count(distinct istr[1]) from status_messages where msg_id=2399" 3 30
sleep 2 # the last ack after the commit

for svc in provider dbmon hman distmgr; do
    e2e_check "$svc /metrics answers after the work" scrape "$svc" "$svc.after"
    e2e_check "$svc /metrics still parses" prom_parse "$M/$svc.after.txt"
done
D=$M/distmgr.after.txt
H=$M/hman.after.txt
P=$M/provider.after.txt
e2e_eq "distmgr's install counter rose by exactly the 3 DPs installed" 3 \
    "$(( $(value "$D" 'dpfleet_dp_installs_total{result="ok"}') - inst0 ))"
e2e_eq "no failed install counted" 0 "$(value "$D" 'dpfleet_dp_installs_total{result="failed"}')"
e2e_eq "the provider counted the 3 POST /v1/distributionpoints 201s by route pattern" 3 \
    "$(( $(value "$P" 'dpfleet_http_requests_total{method="POST",route="/v1/distributionpoints",code="201"}') - post0 ))"
e2e_check "no provider series names a DP (routes are patterns)" bash -c "! grep -q CONTOSO '$P'"
e2e_check "the provider's latency histogram counted the POSTs" \
    test "$(value "$P" 'dpfleet_http_request_duration_seconds_count{method="POST",route="/v1/distributionpoints"}')" -ge 3
n=$(value "$D" 'dpfleet_events_received_total{subject="dp.ins"}')
e2e_check "distmgr received dp.ins events ($n >= 3)" test "$n" -ge 3
n=$(value "$D" 'dpfleet_events_acked_total{subject="dp.ins"}')
e2e_check "distmgr acked dp.ins events ($n >= 3)" test "$n" -ge 3
e2e_eq "every install_files step answered ok, one per DP" 3 \
    "$(value "$D" 'dpfleet_agent_steps_total{step="install_files",result="ok"}')"
n=$(value "$H" 'dpfleet_hman_change_duration_seconds_count{result="ok"}')
e2e_check "hman's change histogram counted the changes ($n >= 3)" test "$n" -ge 3
n=$(value "$H" 'dpfleet_events_acked_total{subject="sitecontrol.changed"}')
e2e_check "hman acked its site control changes ($n >= 3)" test "$n" -ge 3
e2e_eq "nothing left pending for distmgr-ins" 0 \
    "$(value "$D" 'dpfleet_jetstream_consumer_pending{stream="DPF_EVENTS",consumer="distmgr-ins"}')"
e2e_check "dpfleet_up still 1 and uptime grew" \
    awk '$1 ~ /^dpfleet_uptime_seconds/ && $2 > 0 { ok = 1 } END { exit !ok }' "$D"

# a package processed into the content library counts once
SRC=$DPFLEET_SOURCES/metricsapp
mkdir -p "$SRC" && echo "payload" >"$SRC/setup.txt"
code=$(api POST /v1/packages "{\"name\":\"MetricsApp\",\"description\":\"e2e\",\"sourcePath\":\"$SRC\"}")
e2e_eq "POST /v1/packages is 201" 201 "$code"
e2e_wait_sql "2301: the package version is processed" \
    "select count(*) from status_messages where msg_id=2301" 1 60
for _ in $(seq 1 20); do # the counter moves just after the commit 2301 is in
    scrape distmgr distmgr.pkg || e2e_bad "distmgr /metrics after the package"
    [ "$(value "$M/distmgr.pkg.txt" 'dpfleet_packages_processed_total{result="ok"}')" = 0 ] || break
    sleep 0.25
done
e2e_eq "distmgr's package counter rose by exactly the one package processed" 1 \
    "$(value "$M/distmgr.pkg.txt" 'dpfleet_packages_processed_total{result="ok"}')"

# the package sent to the three DPs counts three distributions
d0=$(value "$M/distmgr.pkg.txt" 'dpfleet_distributions_total{result="ok"}')
PKG=$(api_body | sed -n 's/.*"packageId" *: *"\([^"]*\)".*/\1/p')
code=$(api POST "/v1/packages/$PKG/distribute" "{\"distributionPoints\":[\"$DP1\",\"$DP2\",\"$DP3\"]}")
e2e_eq "distribute $PKG to the three DPs is 202" 202 "$code"
e2e_wait_sql "one 2330 of $PKG per DP" \
    "select count(*) from status_messages where msg_id=2330 and istr[1]='$PKG'" 3 60
n2330=$(sql "select count(*) from status_messages where msg_id=2330")
for _ in $(seq 1 20); do # counted just after the commit that wrote 2330
    scrape distmgr distmgr.dist || e2e_bad "distmgr /metrics after the distribution"
    [ "$(value "$M/distmgr.dist.txt" 'dpfleet_distributions_total{result="ok"}')" -lt "$n2330" ] || break
    sleep 0.25
done
e2e_check "the distribution counter rose by at least the 3 DPs" \
    test "$(value "$M/distmgr.dist.txt" 'dpfleet_distributions_total{result="ok"}')" -ge $((d0 + 3))
e2e_eq "distmgr's distribution counter equals the 2330s raised (one per package sent to a DP)" \
    "$n2330" "$(value "$M/distmgr.dist.txt" 'dpfleet_distributions_total{result="ok"}')"
e2e_eq "no failed distribution counted" 0 \
    "$(value "$M/distmgr.dist.txt" 'dpfleet_distributions_total{result="failed"}')"

# SIGTERM: hman drains and says so; back with JSON lines
L=$DPFLEET_STACK/logs
"$STACK_CMD" stop hman >/dev/null 2>&1 || e2e_bad "scripts/stack stop hman"
e2e_check "hman logged its drain on SIGTERM" grep -q "Stopping: finishing the site control change in hand" "$L/hman.log"
e2e_check "hman stopped cleanly" grep -q "Stopped" "$L/hman.log"
lines=$(wc -l <"$L/hman.log")
DPFLEET_LOG_FORMAT=json "$STACK_CMD" start hman >/dev/null 2>&1 || e2e_bad "scripts/stack start hman"
# distmgr too: its job lines name the DP they are about
"$STACK_CMD" stop distmgr >/dev/null 2>&1 || e2e_bad "scripts/stack stop distmgr"
dlines=$(wc -l <"$L/distmgr.log")
DPFLEET_LOG_FORMAT=json "$STACK_CMD" start distmgr >/dev/null 2>&1 || e2e_bad "scripts/stack start distmgr"
code=$(api POST /v1/distributionpoints "{\"serverName\":\"$DP4\",\"siteCode\":\"PS1\",\"description\":\"json\"}")
e2e_eq "POST $DP4 is 201" 201 "$code"
corr=$(api_body | sed -n 's/.*"correlationId" *: *"\([^"]*\)".*/\1/p')
e2e_wait_sql "$DP4 reaches Installed" \
    "select count(*) from distribution_points where install_state='Installed'" 4 120
tail -n +"$((lines + 1))" "$L/hman.log" >"$M/hman.json.log"
e2e_check "hman's new lines are JSON objects with time, level, component, thread, message" \
    awk '!/^\{"time":"[0-9T:.-]+Z","level":"(debug|info|warn|error)","component":"SMS_HIERARCHY_MANAGER","thread":[0-9]+,.*"message":".*"\}$/ { bad = 1 } END { exit bad || NR == 0 }' "$M/hman.json.log"
e2e_check "a JSON line carries $DP4's correlation id" grep -qF "\"correlationId\":\"$corr\"" "$M/hman.json.log"
tail -n +"$((dlines + 1))" "$L/distmgr.log" >"$M/distmgr.json.log"
dpid4=$(sql "select dpid from distribution_points where server_name = '$DP4'")
e2e_check "distmgr's JSON line for $DP4's install_files step carries its correlation id and dpid $dpid4" \
    grep -qE "\"correlationId\":\"$corr\",\"dpid\":$dpid4,\"message\":\"step install_files on $DP4 " \
    "$M/distmgr.json.log"
e2e_check "distmgr's lines outside a DP's work carry no dpid" \
    bash -c "grep -q '\"message\":\"Pulling ' '$M/distmgr.json.log' &&
             ! grep -q '\"dpid\":[0-9]*,\"message\":\"Pulling ' '$M/distmgr.json.log'"

e2e_finish
