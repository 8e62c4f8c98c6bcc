#!/usr/bin/env bash
# End to end, issue 9 item 4: TLS for NATS. A stack brought up with
# --nats-tls runs nats-server with a tls block (a certificate for localhost
# and 127.0.0.1 signed by a CA the stack made) and every client connects
# with tls:// and that CA (DPFLEET_NATS_CA):
#   1. every service connects over TLS and says so; a DP is added, distmgr
#      issues its host's credential, the agent serves the host with it over
#      TLS and the DP is installed (3306, 2399, also seen by dpctl statmsg
#      watch over TLS); removing it revokes the credential (distmgr's system
#      account connection is TLS too)
#   2. a client without the CA, with another CA, expecting another host
#      name, or speaking plain NATS is refused, and nothing it sends is taken
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"
. "$E2E_ROOT/scripts/lib.sh"

DP1=PS1NTLS1.CONTOSO.COM
e2e_stack_up --nats-tls
L=$DPFLEET_STACK/logs
DPCTL=$DPFLEET_BUILD/dpctl/dpctl
WORK=$DPFLEET_STACK/e2e_nats_tls
mkdir -p "$WORK"
PORT=${NATS_URL##*:}

# ---- the server and the services
e2e_eq "NATS_URL is a tls:// URL with a name the certificate carries" "tls://localhost:$PORT" "$NATS_URL"
e2e_check "DPFLEET_NATS_CA is the stack's NATS CA" test "$DPFLEET_NATS_CA" = "$DPFLEET_STACK/nats-tls/ca.pem" -a -s "$DPFLEET_NATS_CA"
e2e_check "the CA key is not left behind" test ! -e "$DPFLEET_STACK/nats-tls/ca.key"
e2e_eq "nats-server's key is readable by its owner only" 600 "$(stat -c %a "$DPFLEET_STACK/nats-tls/server.key")"
e2e_check "nats.conf has the tls block" grep -q "cert_file: \"$DPFLEET_STACK/nats-tls/server.pem\"" \
    "$DPFLEET_STACK/natsauth/nats.conf"
e2e_check "nats-server requires TLS of every client" grep -q "TLS required for client connections" "$DPFLEET_STACK/nats.log"
for svc in dbmon hman distmgr; do
    e2e_check "$svc connected over TLS, the certificate verified" dpf_wait_for \
        "grep -q 'Connected to NATS at tls://localhost:$PORT as .*(TLS, server certificate verified)' '$L/$svc.log'" 20
done

# ---- 1. a DP installed over TLS, its host on its own credential
"$DPCTL" statmsg watch >"$WORK/watch.out" 2>"$WORK/watch.err" &
WATCH=$!
sleep 1
e2e_check "dpctl statmsg watch connects with the CA" kill -0 "$WATCH"
"$DPCTL" dp add "$DP1" --site PS1 --description "NATS TLS test" >/dev/null || e2e_bad "dpctl dp add $DP1"
e2e_check "distmgr issued $DP1's credential" \
    dpf_wait_for "test -f '$DPFLEET_STACK/agent-creds/$DP1.creds'" 60
mkdir -p "$DPFLEET_VAR/$DP1/etc"
install -m 0600 "$DPFLEET_STACK/agent-creds/$DP1.creds" "$DPFLEET_VAR/$DP1/etc/nats.creds"
"$E2E_ROOT/scripts/stack" agents-add "$DP1" || e2e_bad "agents-add $DP1"
e2e_wait_sql "$DP1 is installed" \
    "select count(*) from distribution_points where server_name='$DP1' and install_state='Installed'" 1 90
e2e_check "the agent served $DP1 with its own credential" \
    grep -qF "$DP1: connected with the host's own NATS credential" "$L"/dpagent-*.log
e2e_check "over TLS" grep -q "Connected to NATS at tls://localhost:$PORT as dpagent $DP1 (TLS" "$L"/dpagent-*.log
e2e_wait_sql "hman raised 3306" "select count(*) > 0 from status_messages where msg_id=3306" t 30
e2e_eq "distmgr raised 2399 for $DP1" 1 \
    "$(sql "select count(*) from status_messages where msg_id=2399 and istr[2]='$DP1'")"
e2e_check "dpctl statmsg watch saw the 2399 over TLS" \
    dpf_wait_for "grep 'ID=2399' '$WORK/watch.out' | grep -qF 'ISTR1=\"$DP1\"'" 15
kill "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null

# ---- 2. clients that are refused
no_connect() { # what, expected stderr pattern, then env assignments for dpctl statmsg watch
    local what=$1 pat=$2 rc
    shift 2
    env "$@" timeout 15 "$DPCTL" statmsg watch >"$WORK/out" 2>"$WORK/err"
    rc=$?
    e2e_eq "$what: refused (dpctl exit 3)" 3 "$rc"
    if grep -q "$pat" "$WORK/err"; then e2e_ok "    saying: $(grep -m1 "$pat" "$WORK/err" | sed 's/^.*[]] //')"
    else e2e_bad "    its error lacks '$pat': $(cat "$WORK/err")"; fi
}
no_connect "tls:// without a CA" "DPFLEET_NATS_CA is not set" -u DPFLEET_NATS_CA
no_connect "plain nats:// without a CA (the server demands TLS, the client trusts nothing)" \
    "SSL\|certificate" -u DPFLEET_NATS_CA NATS_URL="nats://127.0.0.1:$PORT"
(cd "$WORK" && umask 077 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=other-ca \
        -keyout other-ca.key -out other-ca.pem) >"$WORK/openssl.log" 2>&1 \
    || e2e_bad "openssl could not make another CA: $(cat "$WORK/openssl.log")"
no_connect "trusting another CA" "certificate verify failed\|unable to get local issuer" \
    DPFLEET_NATS_CA="$WORK/other-ca.pem"
no_connect "expecting another host name" "SSL\|hostname\|certificate" DPFLEET_NATS_TLS_HOSTNAME=nats.example.org
no_connect "an unreadable CA file" "cannot load the NATS CA file $WORK/nope.pem" DPFLEET_NATS_CA="$WORK/nope.pem"
# a plain client (no TLS library at all) that publishes a removal event; in
# a subshell that ignores SIGPIPE: the server hangs up on it
( trap '' PIPE
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
  IFS= read -r -t 5 info <&3
  printf '%s\n' "$info" >"$WORK/plain.info"
  printf 'CONNECT {"verbose":false}\r\nPUB dp.dpn.1 0\r\n\r\nPING\r\n' >&3
  timeout 5 cat <&3 >"$WORK/plain.reply"
  exit 0 ) 2>/dev/null
e2e_check "the server's greeting says TLS is required" grep -q '"tls_required":true' "$WORK/plain.info"
e2e_check "a plain client gets no PONG" bash -c "! grep -aq PONG '$WORK/plain.reply'"
e2e_check "and nats-server logged the failed TLS handshake" grep -q "TLS handshake error" "$DPFLEET_STACK/nats.log"

# ---- removal: the credential is revoked through the system account, over TLS
"$DPCTL" dp remove "$DP1" >/dev/null || e2e_bad "dpctl dp remove $DP1"
e2e_wait_sql "$DP1 is removed" "select count(*) from distribution_points where server_name='$DP1'" 0 90
e2e_check "distmgr revoked $DP1's credential" \
    dpf_wait_for "grep -qE 'DPID [0-9]+: revoked agent NATS credential of $DP1 \\(user U' '$L/distmgr.log'" 30
e2e_check "no private key in any log" bash -c "! grep -rq 'PRIVATE KEY' '$L' '$DPFLEET_STACK/nats.log'"
e2e_finish
