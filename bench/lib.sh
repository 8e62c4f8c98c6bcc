# shellcheck shell=bash
# Shared shell functions of bench/install, bench/reset and bench/remove.
# Sourced, not run. Each benchmark starts its own stack (scripts/stack up)
# in a fresh $DPFLEET_STACK and stops it on any exit (trap), even a failure
# or Ctrl-C. BENCH_KEEP_LOGS=DIR copies the services' logs to DIR first.
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$BENCH_ROOT/scripts/lib.sh"

BENCH_STACK_UP=0

bench_host() { printf 'BDP%04d.BENCH.CONTOSO.COM' "$1"; }

q() { psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

now_ms() { date +%s%3N; }

bench_down() {
    [ "$BENCH_STACK_UP" -eq 1 ] || return 0
    if [ -n "${BENCH_KEEP_LOGS:-}" ] && [ -d "$DPFLEET_STACK/logs" ]; then
        mkdir -p "$BENCH_KEEP_LOGS" && cp -r "$DPFLEET_STACK/logs/." "$BENCH_KEEP_LOGS/" \
            && dpf_log "logs kept in $BENCH_KEEP_LOGS"
    fi
    # each service takes a second or two to be seen gone: stop them all at once
    local f
    for f in "$DPFLEET_STACK"/pids/*.pid; do
        [ -e "$f" ] && { "$BENCH_ROOT/scripts/stack" stop "$(basename "$f" .pid)" >/dev/null 2>&1 & }
    done
    wait
    "$BENCH_ROOT/scripts/stack" down >/dev/null 2>&1 || true
    BENCH_STACK_UP=0
}

# BENCH_PG_STATS=1: PostgreSQL loads pg_stat_statements (DPFLEET_PG_OPTIONS,
# read by scripts/lib.sh); bench_pg_stats_mark starts a window and
# bench_pg_stats_print prints the statements that took the database's time
# since, most first: where to look when a figure is over its target.
if [ "${BENCH_PG_STATS:-0}" = 1 ]; then
    export DPFLEET_PG_OPTIONS="${DPFLEET_PG_OPTIONS:-} -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
fi

bench_pg_stats_mark() {
    [ "${BENCH_PG_STATS:-0}" = 1 ] || return 0
    q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
    q "SELECT pg_stat_statements_reset()" >/dev/null
}

bench_pg_stats_print() {
    [ "${BENCH_PG_STATS:-0}" = 1 ] || return 0
    echo "  database time by statement ($1), top ${BENCH_PG_STATS_TOP:-15}:"
    psql "$DATABASE_URL" -XAq -F $'\t' -v ON_ERROR_STOP=1 -c "
        SELECT round(total_exec_time)::bigint AS ms, calls,
               round((total_exec_time / greatest(calls, 1))::numeric, 3) AS ms_per_call, rows,
               left(regexp_replace(query, '\s+', ' ', 'g'), 150) AS statement
        FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT ${BENCH_PG_STATS_TOP:-15}" \
        | sed 's/^/    /'
}

bench_on_exit() {
    local rc=$?
    trap - EXIT INT TERM
    if [ $rc -ne 0 ] && [ "$BENCH_STACK_UP" -eq 1 ]; then
        dpf_log "benchmark failed; last service log lines:"
        tail -n 15 "$DPFLEET_STACK"/logs/*.log >&2 2>/dev/null || true
    fi
    bench_down
    exit $rc
}

# Installs what is missing and builds once (DPFLEET_BUILD picks the build
# directory; BENCH_NO_BUILD=1 skips the build). Sets the cleanup trap.
bench_prepare() {
    trap bench_on_exit EXIT
    trap 'exit 130' INT TERM
    dpf_install_deps
    if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then dpf_build >/dev/null; fi
    [ -x "$DPF_BUILD/services/distmgr/distmgr" ] || dpf_die "no build in $DPF_BUILD"
    BENCH_COMMIT=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
    git -C "$BENCH_ROOT" diff --quiet HEAD -- lib services db 2>/dev/null || BENCH_COMMIT+=" + uncommitted edits"
}

# bench_stack_up N PROCS: a fresh stack whose N simulated hosts are served by
# PROCS dpagent processes, host i by process (i - 1) % PROCS, so that DPs
# handled at the same time (consecutive DPIDs) are spread over the processes.
# The services take their settings from the environment
# (DPFLEET_STEP_DELAY_MS, DPFLEET_AGENT_WORKERS, thread limits, ...).
bench_stack_up() {
    local n=$1 procs=$2 p i out list
    [ "$procs" -ge 1 ] && [ "$procs" -le "$n" ] || dpf_die "agent processes must be 1..$n"
    export DPFLEET_STACK
    DPFLEET_STACK=$(mktemp -d /tmp/dpfleet-bench.XXXXXX)
    BENCH_STACK_UP=1
    for p in $(seq 1 "$procs"); do
        list=""
        for i in $(seq "$p" "$procs" "$n"); do list+="$(bench_host "$i"),"; done
        list=${list%,}
        if [ "$p" -eq 1 ]; then
            # a free port picked by scripts/lib.sh may be taken by another
            # program before our server binds it: try again on another
            local try
            for try in 1 2 3; do
                out=$("$BENCH_ROOT/scripts/stack" up --no-build --agents "$list") && break
                "$BENCH_ROOT/scripts/stack" down >/dev/null 2>&1 || true
                [ "$try" -lt 3 ] || dpf_die "scripts/stack up failed 3 times"
                dpf_log "scripts/stack up failed; trying again"
            done
            eval "$out"
        else
            "$BENCH_ROOT/scripts/stack" agents-add "$list" || dpf_die "scripts/stack agents-add failed"
        fi
    done
    # scripts/stack does not wait for the agents: a DP whose agent is not yet
    # subscribed fails its first step and is retried a minute later, which
    # would be measured. Each agent logs "serving agent.<FQDN>.step" once its
    # subscription is live at the server.
    local serving=0 t
    for t in $(seq 1 300); do
        serving=$(cat "$DPFLEET_STACK"/logs/dpagent*.log | grep -c ': serving agent\.' || true)
        [ "$serving" -ge "$n" ] && return 0
        sleep 0.2
    done
    dpf_die "only $serving of $n simulated hosts are served after 60 s"
}

# bench_add_api N: POST /v1/distributionpoints for hosts 1..N, one after
# another; writes "FQDN call-time-ms" lines to $DPFLEET_STACK/calls.txt.
bench_add_api() {
    local n=$1 i h t code
    : >"$DPFLEET_STACK/calls.txt"
    for i in $(seq 1 "$n"); do
        h=$(bench_host "$i")
        t=$(now_ms)
        code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
            -H "Authorization: Bearer $DPFLEET_TOKEN" \
            --data "{\"serverName\":\"$h\",\"siteCode\":\"PS1\",\"description\":\"bench\"}" \
            "$DPFLEET_API/v1/distributionpoints")
        [ "$code" = 201 ] || dpf_die "POST $h returned $code"
        echo "$h $t" >>"$DPFLEET_STACK/calls.txt"
    done
}

# bench_add_sql N: the site control rows of hosts 1..N written directly, with
# the statements of services/provider/store_dp.c (site system role, DP role,
# its eight properties, then one site_control bump), in one transaction: one
# site control change that hman turns into N new DPs for distmgr to install.
bench_add_sql() {
    local n=$1
    q "BEGIN;
       SELECT set_config('dpfleet.correlation_id', 'bench-sql-insert', true);
       CREATE TEMP TABLE bench_dp ON COMMIT DROP AS
         SELECT h AS server, '[\"Display=\\\\' || h || '\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\' || h || '\\' AS nal
           FROM (SELECT format('BDP%s.BENCH.CONTOSO.COM', lpad(i::text, 4, '0')) AS h
                   FROM generate_series(1, $n) i) s;
       INSERT INTO site_system_roles (site_code, role_name, nal_path, server_name)
         SELECT 'PS1', 'SMS Site System', nal, server FROM bench_dp
         ON CONFLICT (site_code, role_name, nal_path) DO NOTHING;
       WITH r AS (INSERT INTO site_system_roles (site_code, role_name, nal_path, server_name)
                  SELECT 'PS1', 'SMS Distribution Point', nal, server FROM bench_dp RETURNING id)
       INSERT INTO site_system_role_props (role_id, name, value1, value3)
         SELECT r.id, p.name, p.v1, p.v3 FROM r,
           (VALUES ('Description', 'bench', 0), ('DPDrive', '', 0), ('IsPXE', '', 0),
                   ('IsPullDP', '', 0), ('Priority', '', 200), ('MinFreeSpace', '', 50),
                   ('TransferRate', '', 0), ('SslState', '', 0)) AS p(name, v1, v3);
       UPDATE site_control SET serial = serial + 1, updated_at = now() WHERE site_code = 'PS1';
       COMMIT;" >/dev/null || dpf_die "inserting the site control rows failed"
}

# bench_wait_2399 N AFTER_ID SECONDS: waits until N distinct DPs have a 2399
# with a status_messages id above AFTER_ID.
bench_wait_2399() {
    local n=$1 after=$2 secs=$3 got=0 deadline
    deadline=$(( $(date +%s) + secs ))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        # the plain count first: the distinct one reads every message's
        # strings, which at 5,000 DPs costs the database what it is measuring
        got=$(q "SELECT count(*) FROM status_messages WHERE msg_id = 2399 AND id > $after")
        if [ "$got" -ge "$n" ]; then
            got=$(q "SELECT count(DISTINCT istr[2]) FROM status_messages WHERE msg_id = 2399 AND id > $after")
            [ "$got" -ge "$n" ] && return 0
        fi
        sleep 0.5
    done
    dpf_die "only $got of $n DPs reached 2399 in $secs s"
}

# bench_wait_quiet SECONDS: until distmgr is idle: no status message and fewer than
# 10 lines in its log for 3 s. After an install or a reset distmgr sends the
# client packages to every DP it touched (2330s) and checks them again on
# each DP's ready event, which loads the machine for a while after the last
# 2399. Prints the ms since the epoch when the activity ended.
bench_wait_quiet() {
    local end=$(( $(date +%s) + $1 )) last=-1 cur lines lines0 still=0 t_end
    lines0=$(wc -l <"$DPFLEET_STACK/logs/distmgr.log")
    t_end=$(now_ms)
    while [ "$(date +%s)" -lt "$end" ]; do
        sleep 0.5
        cur=$(bench_max_statmsg_id)
        lines=$(wc -l <"$DPFLEET_STACK/logs/distmgr.log")
        if [ "$cur" = "$last" ] && [ $((lines - lines0)) -lt 10 ]; then
            still=$((still + 1))
        else
            still=0 last=$cur lines0=$lines t_end=$(now_ms)
        fi
        [ "$still" -ge 6 ] && { echo "$t_end"; return 0; }
    done
    dpf_die "distmgr is still busy after $1 s"
}
bench_max_statmsg_id() { q "SELECT coalesce(max(id), 0) FROM status_messages"; }

# bench_header TITLE "setting=value ..." : the first lines of every table.
bench_header() {
    local mem load
    mem=$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    echo
    echo "$1"
    echo "  date      $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "  machine   $(nproc) cores, $mem memory, load average at end $load"
    echo "  commit    ${BENCH_COMMIT:-?} (at the start), build $DPF_BUILD"
    echo "  settings  $2"
}

# The peak resident memory (VmHWM) of each service of the stack.
bench_rss_table() {
    local f name kb
    printf '  %-24s %14s\n' service "peak RSS (MB)"
    for f in "$DPFLEET_STACK"/pids/*.pid; do
        name=$(basename "$f" .pid)
        kb=$(awk '/VmHWM/ {print $2}' "/proc/$(cat "$f")/status" 2>/dev/null || true)
        [ -n "$kb" ] || kb=0
        printf '  %-24s %14.1f\n' "$name" "$(awk -v k="$kb" 'BEGIN {print k / 1024}')"
    done
}

# bench_install_pkgs PKG...: installs the Debian packages among PKG that are
# missing (as dpf_install_deps does for the project's own list).
bench_install_pkgs() {
    DPF_PACKAGES="$*" dpf_install_deps
}

# bench_pct P: the P-th percentile (nearest rank) of the numbers on stdin.
bench_pct() {
    sort -n | awk -v p="$1" '{v[NR] = $1} END {i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; print v[i]}'
}
