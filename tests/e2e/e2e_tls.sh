#!/usr/bin/env bash
# End to end, issue 9 item 3: the API over HTTPS. A stack brought up with
# --tls serves only HTTPS with a certificate its own CA signed for 127.0.0.1
# and localhost. dpctl and curl given that CA work; without it, or over plain
# http://, they fail with a clear error; a certificate made for another host
# name is refused (host name verification), by dpctl and curl alike; the
# provider refuses to start with a certificate but no key, with a garbage
# certificate and with a key of another certificate, saying so in its log,
# and warns about a key file every user can read.
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"
. "$E2E_ROOT/scripts/lib.sh"

DP1=PS1DP1.CONTOSO.COM
e2e_stack_up --tls --agents "$DP1"
BIN=$DPFLEET_BUILD
DPCTL=$BIN/dpctl/dpctl
PROVIDER=$BIN/services/provider/provider
TLS=$DPFLEET_STACK/tls
WORK=$DPFLEET_STACK/e2e_tls
mkdir -p "$WORK"
PORT=${DPFLEET_API##*:}
# every API call will need the stack's token (issue 9 item 1); harmless before
AUTH=(-H "Authorization: Bearer ${DPFLEET_TOKEN:-none}")

# ---- the stack serves HTTPS
e2e_eq "DPFLEET_API is an https URL" "https://127.0.0.1:$PORT" "$DPFLEET_API"
e2e_check "DPFLEET_CA_FILE is the stack's CA" test "$DPFLEET_CA_FILE" = "$TLS/ca.pem" -a -s "$TLS/ca.pem"
e2e_check "the CA key is not left behind" test ! -e "$TLS/ca.key"
e2e_eq "the server key is readable by its owner only" 600 "$(stat -c %a "$TLS/server.key")"
e2e_check "the provider logs 'listening on https://127.0.0.1:$PORT'" \
    grep -q "listening on https://127.0.0.1:$PORT " "$DPFLEET_STACK/logs/provider.log"
e2e_check "and no 'not encrypted' warning" \
    bash -c "! grep -q 'not encrypted' '$DPFLEET_STACK/logs/provider.log'"

# ---- dpctl with the CA (DPFLEET_CA_FILE from the stack, or --cacert)
e2e_check "dpctl dp add over https" "$DPCTL" dp add "$DP1" --site PS1
out=$("$DPCTL" dp list 2>&1)
e2e_check "dpctl dp list over https lists the DP" grep -q "$DP1" <<<"$out"
out=$(env -u DPFLEET_CA_FILE "$DPCTL" --cacert "$TLS/ca.pem" dp show "$DP1" 2>&1)
e2e_check "dpctl --cacert FILE works too" grep -q "$DP1" <<<"$out"

# ---- dpctl without the CA: refused, saying why
out=$(env -u DPFLEET_CA_FILE "$DPCTL" dp list 2>&1); rc=$?
e2e_eq "dpctl without the CA exits 3" 3 "$rc"
e2e_check "and names the URL and the certificate problem" \
    grep -q "TLS connection to the API at $DPFLEET_API/v1/distributionpoints.*certificate" <<<"$out"
echo "    dpctl said: $out"
out=$(env -u DPFLEET_CA_FILE "$DPCTL" --cacert /nonexistent/ca.pem dp list 2>&1); rc=$?
e2e_eq "dpctl with an unreadable CA file exits 2" 2 "$rc"
e2e_check "naming the file" grep -q "cannot read the CA file /nonexistent/ca.pem" <<<"$out"

# ---- curl
code=$(curl -sS -o "$WORK/body" -w '%{http_code}' --cacert "$TLS/ca.pem" "${AUTH[@]}" \
    "$DPFLEET_API/v1/distributionpoints")
e2e_eq "curl --cacert lists the DPs (200)" 200 "$code"
e2e_check "with the DP in the body" grep -q "$DP1" "$WORK/body"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$TLS/ca.pem" "https://localhost:$PORT/healthz")
e2e_eq "https://localhost:PORT is in the certificate too" 200 "$code"
curl -sS -o /dev/null "${AUTH[@]}" "$DPFLEET_API/v1/distributionpoints" 2>"$WORK/err"; rc=$?
e2e_eq "curl without the CA: certificate problem (exit 60)" 60 "$rc"
code=$(curl -sS -o /dev/null -w '%{http_code}' "${AUTH[@]}" "http://127.0.0.1:$PORT/v1/distributionpoints" \
    2>"$WORK/err"); rc=$?
e2e_check "plain http:// to the port gets no HTTP answer (curl exit $rc, status $code)" \
    test "$rc" -ne 0 -a "$code" = 000
# SECLEVEL=0: curl itself would offer TLS 1.1 (OpenSSL 3 refuses it by default)
curl -sS -o /dev/null --cacert "$TLS/ca.pem" --tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT@SECLEVEL=0' \
    "$DPFLEET_API/healthz" 2>/dev/null
e2e_check "the server refuses TLS 1.1" test $? -ne 0
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$TLS/ca.pem" --tlsv1.2 --tls-max 1.2 "$DPFLEET_API/healthz")
e2e_eq "and accepts TLS 1.2" 200 "$code"

# ---- host name verification
curl -sS -o /dev/null --cacert "$TLS/ca.pem" --resolve "dp.example.org:$PORT:127.0.0.1" \
    "https://dp.example.org:$PORT/healthz" 2>"$WORK/err"; rc=$?
e2e_eq "curl refuses the stack's certificate for another host name (exit 60)" 60 "$rc"
e2e_check "because the name does not match" grep -q "subject name" "$WORK/err"
# a provider with a certificate made (by another CA) for other.example only
(cd "$WORK" && umask 077 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=other-ca \
        -keyout other-ca.key -out other-ca.pem &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other.example \
        -keyout other.key -out other.csr &&
    openssl x509 -req -in other.csr -CA other-ca.pem -CAkey other-ca.key -days 2 -set_serial 7 \
        -extfile <(echo subjectAltName=DNS:other.example) -out other.pem) >"$WORK/openssl.log" 2>&1 \
    || { cat "$WORK/openssl.log"; e2e_bad "openssl could not make the other certificate"; }
P2=$(dpf_free_port)
DPFLEET_LISTEN=127.0.0.1:$P2 DPFLEET_TLS_CERT=$WORK/other.pem DPFLEET_TLS_KEY=$WORK/other.key \
    "$PROVIDER" >"$WORK/other.log" 2>&1 &
P2PID=$!
e2e_check "a provider with the other.example certificate starts" \
    dpf_wait_for "curl -fsS --cacert '$WORK/other-ca.pem' --resolve other.example:$P2:127.0.0.1 https://other.example:$P2/healthz" 20
out=$(DPFLEET_CA_FILE=$WORK/other-ca.pem "$DPCTL" --api "https://127.0.0.1:$P2" dp list 2>&1); rc=$?
e2e_eq "dpctl trusting its CA still refuses it at 127.0.0.1 (exit 3)" 3 "$rc"
e2e_check "saying the host name does not match" grep -q "127.0.0.1.*subject name\|subject name.*127.0.0.1" <<<"$out"
echo "    dpctl said: $out"
out=$("$DPCTL" --api "https://127.0.0.1:$P2" dp list 2>&1); rc=$?
e2e_eq "dpctl with the stack's CA refuses that server too (exit 3)" 3 "$rc"
kill "$P2PID" 2>/dev/null; wait "$P2PID" 2>/dev/null

# ---- the provider refuses bad TLS settings
refuses() { # what, log pattern, then environment assignments
    local what=$1 pat=$2 log port rc
    shift 2
    port=$(dpf_free_port)
    log=$WORK/refused.$RANDOM.log
    env -u DPFLEET_TLS_CERT -u DPFLEET_TLS_KEY DPFLEET_LISTEN=127.0.0.1:$port "$@" \
        timeout 20 "$PROVIDER" >"$log" 2>&1
    rc=$?
    e2e_check "provider with $what exits non-zero (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
    if grep -q "$pat" "$log"; then e2e_ok "and its log says: $(grep -m1 "$pat" "$log" | sed "s/^[^]]*] //")"
    else e2e_bad "its log lacks '$pat': $(cat "$log")"; fi
    e2e_check "and it does not listen" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
}
printf 'this is not a certificate\n' >"$WORK/garbage.pem"
refuses "a certificate but no key" "DPFLEET_TLS_CERT (--tls-cert) is set but DPFLEET_TLS_KEY" \
    DPFLEET_TLS_CERT="$TLS/server.pem"
refuses "a key but no certificate" "DPFLEET_TLS_KEY (--tls-key) is set but DPFLEET_TLS_CERT" \
    DPFLEET_TLS_KEY="$TLS/server.key"
refuses "a garbage certificate" "file $WORK/garbage.pem is not a PEM certificate" \
    DPFLEET_TLS_CERT="$WORK/garbage.pem" DPFLEET_TLS_KEY="$TLS/server.key"
refuses "a missing key file" "cannot read the TLS key file $WORK/nope.key" \
    DPFLEET_TLS_CERT="$TLS/server.pem" DPFLEET_TLS_KEY="$WORK/nope.key"
refuses "the key of another certificate" "private key in $WORK/other.key does not belong" \
    DPFLEET_TLS_CERT="$TLS/server.pem" DPFLEET_TLS_KEY="$WORK/other.key"

# ---- a key file every user can read: served, with a warning
cp "$TLS/server.key" "$WORK/open.key" && chmod 644 "$WORK/open.key"
P3=$(dpf_free_port)
DPFLEET_LISTEN=127.0.0.1:$P3 DPFLEET_TLS_CERT=$TLS/server.pem DPFLEET_TLS_KEY=$WORK/open.key \
    "$PROVIDER" >"$WORK/open.log" 2>&1 &
P3PID=$!
e2e_check "a provider with a world-readable key still serves" \
    dpf_wait_for "curl -fsS --cacert '$TLS/ca.pem' https://127.0.0.1:$P3/healthz" 20
e2e_check "and warns about the key file" grep -q "W .*TLS key file $WORK/open.key is readable by every user" "$WORK/open.log"
kill "$P3PID" 2>/dev/null; wait "$P3PID" 2>/dev/null

# ---- no private key in any log
e2e_check "no private key in any log" \
    bash -c "! grep -rq 'PRIVATE KEY' '$DPFLEET_STACK/logs' '$WORK'/*.log"

e2e_finish
