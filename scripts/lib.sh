# Shared shell functions for scripts/run, scripts/stack and scripts/test.
# Sourced, not run. Everything here works on a fresh Debian 12 machine as
# root (or with sudo) and leaves nothing behind when the caller stops.

DPF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DPF_BUILD=${DPFLEET_BUILD:-$DPF_ROOT/build}
DPF_PGBIN=${DPFLEET_PGBIN:-/usr/lib/postgresql/15/bin}

# Debian packages the build, the tests and the stack need.
DPF_PACKAGES="build-essential cmake pkg-config git ca-certificates curl openssl procps iproute2 \
libnats-dev nats-server libprotobuf-c-dev protobuf-c-compiler libpq-dev postgresql \
postgresql-client libcmocka-dev libmicrohttpd-dev libjansson-dev libssl-dev libcurl4-openssl-dev \
zlib1g-dev uuid-dev \
python3 python3-yaml"

dpf_log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
dpf_die() { dpf_log "ERROR: $*"; exit 1; }

dpf_sudo() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs whatever of DPF_PACKAGES is missing.
dpf_install_deps() {
    local missing=() p
    for p in $DPF_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    dpf_log "installing: ${missing[*]}"
    dpf_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || dpf_die "apt-get update failed"
    dpf_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2 || dpf_die "apt-get install failed"
    # Debian starts a cluster and a nats-server service on install; we run our own.
    dpf_sudo systemctl disable --now nats-server >/dev/null 2>&1 || true
}

# Configures and builds into $DPF_BUILD. Extra cmake arguments pass through.
dpf_build() {
    cmake -S "$DPF_ROOT" -B "$DPF_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >&2 \
        || dpf_die "cmake configure failed"
    cmake --build "$DPF_BUILD" -j "$(nproc)" >&2 || dpf_die "build failed"
}

dpf_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints a free loopback TCP port, outside the kernel's ephemeral range
# (ip_local_port_range, 32768-60999 by default). A port in that range can
# be taken at any moment as the local end of an outgoing connection, which
# dpf_port_busy cannot see (nothing listens on it), and a server that binds
# it later fails: e2e_fault's nats-server, started again on its ports while
# the services reconnected to everything, died with "bind: address already
# in use" and never came back (no event flowed after the outage).
dpf_free_port() {
    local p i lo=32768 hi=60999 base=10000 span
    read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    if [ "$lo" -ge 15000 ]; then span=$((lo - base))
    elif [ "$hi" -le 60000 ]; then base=$((hi + 1)) span=$((65535 - hi))
    else base=20000 span=40000; fi # no room outside it: as before
    for i in $(seq 1 200); do
        p=$((base + (RANDOM * 32768 + RANDOM) % span))
        dpf_port_busy "$p" || { echo "$p"; return 0; }
    done
    dpf_die "no free port found"
}

# waits up to $2 seconds for "$1" (a command) to succeed
dpf_wait_for() {
    local cmd=$1 secs=${2:-30} i
    for i in $(seq 1 $((secs * 10))); do
        eval "$cmd" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# PostgreSQL refuses to run as root: when we are root, it runs as the
# unprivileged system user "dpfleet". Its data lives in a directory that user
# can reach (a clone under a 0700 mktemp directory would not be).
dpf_pg_user() {
    if [ "$(id -u)" -eq 0 ]; then
        id dpfleet >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin dpfleet
        echo dpfleet
    else
        id -un
    fi
}

dpf_as_pg() {
    local u; u=$(dpf_pg_user)
    if [ "$u" = "$(id -un)" ]; then "$@"; else runuser -u "$u" -- "$@"; fi
}

# dpf_pg_start STATE_DIR -> starts PostgreSQL on a free port; writes
# STATE_DIR/pg.url and STATE_DIR/pg.dir.
dpf_pg_start() {
    local state=$1 port dir
    port=$(dpf_free_port)
    dir=$(mktemp -d /tmp/dpfleet-pg.XXXXXX)
    chmod 0755 "$dir"
    chown "$(dpf_pg_user)" "$dir" 2>/dev/null || true
    dpf_as_pg "$DPF_PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; dpf_die "initdb failed"; }
    dpf_as_pg "$DPF_PGBIN/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off ${DPFLEET_PG_OPTIONS:-}" start >/dev/null \
        || { cat "$dir/server.log" >&2; rm -rf "$dir"; dpf_die "PostgreSQL did not start"; }
    echo "$dir" >"$state/pg.dir"
    echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$state/pg.url"
    dpf_log "PostgreSQL on 127.0.0.1:$port (data $dir)"
}

dpf_pg_stop() {
    local state=$1 dir
    [ -f "$state/pg.dir" ] || return 0
    dir=$(cat "$state/pg.dir")
    dpf_as_pg "$DPF_PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir" "$state/pg.dir"
}

# dpf_nats_start STATE_DIR -> nats-server -js on a free loopback port;
# writes STATE_DIR/nats.url and STATE_DIR/nats.pid. Unless DPFLEET_NATS_AUTH
# is "off", the server runs in operator mode with dpfleet's identities
# (dpf-natsauth init STATE_DIR/natsauth): each service's credential is
# STATE_DIR/natsauth/creds/<role>.creds (see dpf_nats_creds), distmgr's
# issuer files are in STATE_DIR/natsauth/issuer.
dpf_nats_start() {
    local state=$1 port mport
    port=$(dpf_free_port)
    mport=$(dpf_free_port)
    mkdir -p "$state/nats"
    if [ "${DPFLEET_NATS_AUTH:-on}" != off ] && [ ! -f "$state/natsauth/nats.conf" ]; then
        "$DPF_BUILD/tools/natsauth/dpf-natsauth" init "$state/natsauth" >&2 \
            || dpf_die "dpf-natsauth init $state/natsauth failed"
    fi
    dpf_nats_run "$state" "$port" "$mport" >"$state/nats.log" 2>&1
    dpf_wait_for "dpf_port_busy $port" 20 || { cat "$state/nats.log" >&2; dpf_die "nats-server did not start"; }
    echo "nats://127.0.0.1:$port" >"$state/nats.url"
    dpf_log "nats-server -js on 127.0.0.1:$port$([ -f "$state/natsauth/nats.conf" ] && echo ", operator mode ($state/natsauth)")"
}

# dpf_nats_run STATE_DIR PORT MONITOR_PORT: nats-server in the background
# (output to the caller's stdout/stderr), with STATE_DIR's configuration
# if it has one; writes STATE_DIR/nats.pid.
dpf_nats_run() {
    local state=$1 port=$2 mport=$3 conf=()
    [ -f "$state/natsauth/nats.conf" ] && conf=(-c "$state/natsauth/nats.conf")
    nats-server "${conf[@]}" -js -a 127.0.0.1 -p "$port" -m "$mport" -sd "$state/nats" &
    echo $! >"$state/nats.pid"
}

# dpf_nats_creds STATE_DIR ROLE -> prints the credentials file of that role
# (lib/src/natsroles.c), or nothing when the server runs without identities.
dpf_nats_creds() {
    [ -f "$1/natsauth/creds/$2.creds" ] && echo "$1/natsauth/creds/$2.creds"
    return 0
}

dpf_kill_pidfile() {
    local f=$1 pid i
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}
