#!/usr/bin/env bash
# End to end, issue 9 item 7 and its check "a scan of every log file written
# by the test suite finds no token, password or private key". A stack (with
# NATS identities and HTTPS) does a little of everything: a DP is added and
# installed through its host's own NATS credential, a token is created with
# dpctl and used, a package is made and distributed, a login with a wrong
# token and one with a revoked token fail, a service is given a DATABASE_URL
# with a password. Then every log file of the stack (services, agents' host
# logs, nats-server, PostgreSQL, the set-up's openssl) and ctest's log of
# this run are searched for: the administrator's token, the created token's
# secret, anything of the form of a token ("dpf_" + 43 base64url), private
# key blocks, the body of the TLS key, NATS nkey seeds (SU/SA/SO...),
# passwords in URLs ("://user:pass@"). Also: --help of every binary prints
# no secret value although the secret variables are set, and every secret
# file the stack made is mode 0600.
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

DP1=PS1SEC1.CONTOSO.COM
e2e_stack_up --tls --agents "$DP1"
BIN=$DPFLEET_BUILD
DPCTL=$BIN/dpctl/dpctl
L=$DPFLEET_STACK/logs
W=$DPFLEET_STACK/e2e_secrets
mkdir -p "$W"
ADMIN=$DPFLEET_TOKEN
CURL=(curl -sS --cacert "$DPFLEET_CA_FILE")
DBPASS=Pw4e2eSecrets-$RANDOM$RANDOM

# ---- a little of everything
"$DPCTL" dp add "$DP1" --site PS1 --description "secrets test" >/dev/null || e2e_bad "dpctl dp add"
e2e_wait_sql "$DP1 is installed" \
    "select count(*) from distribution_points where server_name='$DP1' and install_state='Installed'" 1 90
SECRET=$("$DPCTL" token create --user 'CONTOSO\Operator' --role 'Application Administrator' 2>"$W/create.err")
e2e_check "dpctl token create prints a secret" grep -qE '^dpf_[A-Za-z0-9_-]{43}$' <<<"$SECRET"
TID=$(grep -oE 'Token [0-9]+' "$W/create.err" | grep -oE '[0-9]+' | head -1)
mkdir -p "$DPFLEET_SOURCES/secrets-app"
echo "content" >"$DPFLEET_SOURCES/secrets-app/a.txt"
code=$(DPFLEET_TOKEN=$SECRET "${CURL[@]}" -o "$W/pkg.json" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $SECRET" -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"Secrets\",\"sourcePath\":\"$DPFLEET_SOURCES/secrets-app\"}" \
    "$DPFLEET_API/v1/packages")
e2e_eq "the created token makes a package (201)" 201 "$code"
PKG=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packageId"])' "$W/pkg.json" 2>/dev/null)
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $SECRET" \
    -H 'Content-Type: application/json' --data-binary "{\"distributionPoints\":[\"$DP1\"]}" \
    "$DPFLEET_API/v1/packages/$PKG/distribute")
e2e_eq "and distributes it (202)" 202 "$code"
e2e_wait_sql "the package reaches $DP1" \
    "select count(*) from dp_packages where package_id='$PKG' and state='Installed'" 1 90
WRONG=dpf_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | head -c 43)
code=$("${CURL[@]}" -o "$W/wrong.json" -w '%{http_code}' -H "Authorization: Bearer $WRONG" \
    "$DPFLEET_API/v1/distributionpoints")
e2e_eq "a wrong token is refused (401)" 401 "$code"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${ADMIN}x" \
    "$DPFLEET_API/v1/distributionpoints")
e2e_eq "a malformed token (the admin's with one more letter) is refused (401)" 401 "$code"
out=$(DPFLEET_TOKEN=$WRONG "$DPCTL" dp list 2>&1); rc=$?
e2e_check "dpctl with a wrong token fails (exit $rc: $(head -c 120 <<<"$out"))" test "$rc" -ne 0
e2e_check "and does not echo the token" bash -c "! grep -qF -- '$WRONG' <<<\"\$1\"" _ "$out"
e2e_check "no answer echoes the wrong token" bash -c "! grep -qF -- '$WRONG' '$W/wrong.json'"
"$DPCTL" token revoke "$TID" >/dev/null 2>&1 || e2e_bad "dpctl token revoke $TID"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SECRET" \
    "$DPFLEET_API/v1/packages")
e2e_eq "the revoked token is refused (401)" 401 "$code"
# a service given a DATABASE_URL with a password it cannot use (nobody listens
# on port 1): the error must not show the password
DATABASE_URL="postgresql://dpfleet:$DBPASS@127.0.0.1:1/dpfleet" DPFLEET_MIGRATIONS=$E2E_ROOT/db \
    timeout 20 "$BIN/services/dbmon/dbmon" --migrate-only >>"$L/dbmon-badurl.log" 2>&1
e2e_check "dbmon with an unusable DATABASE_URL logged something" test -s "$L/dbmon-badurl.log"

e2e_stop_and_check # every service flushes and closes its log

# ---- what to look for
pats=$W/patterns
: >"$pats"
printf '%s\n' "$ADMIN" "$SECRET" "$WRONG" "$DBPASS" >>"$pats"
# the seeds of every NATS credential and the body of every private key the
# stack holds: their own text must appear nowhere
for f in $(find "$DPFLEET_STACK" "$DPFLEET_VAR" -type f \( -name '*.creds' -o -name '*.nk' -o -name '*.key' \
        -o -name '*.seed' -o -name 'nats.auth' \) 2>/dev/null); do
    grep -oE 'S[OAU][A-Z2-7]{54,}' "$f" >>"$pats"
    sed -n '/-----BEGIN .*PRIVATE KEY-----/,/-----END/p' "$f" | grep -v -- '-----' | grep -E '.{40,}' >>"$pats"
    sed -n 's/^password=//p' "$f" >>"$pats"
done
sort -u "$pats" | grep -v '^$' >"$pats.u"
e2e_check "there is something to look for (tokens, seeds, the TLS key)" test "$(wc -l <"$pats.u")" -ge 5
GENERIC='dpf_[A-Za-z0-9_-]{43}|-----BEGIN [A-Z ]*(PRIVATE KEY|SEED)-----|(^|[^A-Z2-7])S[OAU]A[A-Z2-7]{50,}|[a-zA-Z][a-zA-Z0-9+.-]*://[^/@[:space:]:"]+:[^/@[:space:]"]+@'

# every log file of the stack, the database's and ctest's (the output of
# every test run so far in this build)
logs=$W/logs
{
    find "$DPFLEET_STACK" "$DPFLEET_VAR" -type f \( -name '*.log' -o -name '*.log.*' -o -name '*.txt' \) \
        ! -path "$W/*" ! -path "$DPFLEET_SOURCES/*" ! -path "$DPFLEET_STACK/contentlib/*" 2>/dev/null
    [ -f "$DPFLEET_STACK/pg.dir" ] && find "$(cat "$DPFLEET_STACK/pg.dir")" -maxdepth 3 -name '*.log' 2>/dev/null
    find "$BIN/Testing/Temporary" -name 'LastTest*.log' 2>/dev/null
} | sort -u >"$logs"
for want in /logs/provider.log /logs/distmgr.log /logs/hman.log /logs/dbmon.log /logs/dpagent \
            /nats.log /server.log; do
    e2e_check "the scan covers $want" grep -qF -- "$want" "$logs"
done
e2e_check "the scan covers the agent's host log (smsdpprov.log)" grep -qi 'smsdpprov' "$logs"
echo "    scanning $(wc -l <"$logs") log files, $(cat $(cat "$logs") 2>/dev/null | wc -l) lines"
# A hit is reported by file, line and kind, never with its text: this
# test's own output ends up in ctest's log, which the next run scans.
hits=0
while read -r f; do
    h=$(grep -nF -f "$pats.u" "$f" 2>/dev/null | cut -d: -f1 | head -5 | tr '\n' ' ')
    g=$(grep -noE "$GENERIC" "$f" 2>/dev/null | sed -E 's/^([0-9]+):(dpf_).*/\1 (a token)/;
        s/^([0-9]+):-----BEGIN.*/\1 (a private key)/; s/^([0-9]+):.*:\/\/.*/\1 (a password in a URL)/;
        s/^([0-9]+):.*S[OAU]A.*/\1 (an nkey seed)/' | head -5 | tr '\n' ' ')
    if [ -n "$h$g" ]; then
        hits=$((hits + 1))
        e2e_bad "secret material in $f: ${h:+lines $h(a secret of this stack) }$g"
    fi
done <"$logs"
[ $hits -eq 0 ] && e2e_ok "no token, seed, private key or password in any of the $(wc -l <"$logs") log files"

# ---- --help never shows a secret value, even with every secret variable set
for b in services/provider/provider services/dbmon/dbmon services/hman/hman \
         services/distmgr/distmgr services/dpagent/dpagent dpctl/dpctl tools/natsauth/dpf-natsauth; do
    [ -x "$BIN/$b" ] || { e2e_bad "$b is not built"; continue; }
    out=$(DPFLEET_TOKEN=$SECRET NATS_USER=someone NATS_PASS=$DBPASS \
          DATABASE_URL="postgresql://dpfleet:$DBPASS@127.0.0.1:5432/x" \
          NATS_URL="nats://someone:$DBPASS@127.0.0.1:4222" timeout 10 "$BIN/$b" --help 2>&1)
    if grep -qF -e "$SECRET" -e "$DBPASS" <<<"$out"; then
        e2e_bad "$(basename "$b") --help shows a secret value"
    else
        e2e_ok "$(basename "$b") --help shows no secret value ($(wc -l <<<"$out") lines)"
    fi
done

# ---- secret files are the owner's only
n=0 bad=0
for f in "$DPFLEET_STACK/admin.token" "$DPFLEET_STACK/env" \
         $(find "$DPFLEET_STACK" "$DPFLEET_VAR" -type f \( -name '*.creds' -o -name '*.key' -o -name '*.nk' \
           -o -name '*.seed' -o -name 'nats.auth' \) 2>/dev/null); do
    [ -e "$f" ] || continue
    n=$((n + 1))
    mode=$(stat -c %a "$f")
    [ "$mode" = 600 ] || [ "$mode" = 400 ] || { bad=1; e2e_bad "$f is mode $mode, not 600"; }
done
e2e_check "admin.token, the NATS credentials and the TLS key are among them ($n files)" test "$n" -ge 4
[ $bad -eq 0 ] && e2e_ok "every one of the $n secret files is mode 600"

e2e_finish
