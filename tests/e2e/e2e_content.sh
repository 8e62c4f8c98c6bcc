#!/usr/bin/env bash
# End to end, issue 6: a package made from a source directory is processed
# into the site content library, distributed to two standard DPs and one
# pull DP, downloaded from each DP's contentUrl with the source's SHA-256,
# stored once per hash on each DP, updated (only the changed file travels),
# removed from one DP while the others keep serving, and deleted. Bad input
# is refused and changes nothing.
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

DP1=PS1DP1.CONTOSO.COM   # standard
DP2=PS1DP2.CONTOSO.COM   # standard
DP3=PS1DP3.CONTOSO.COM   # pull DP: sources DP4 (never holds the package), then DP1
DP4=PS1DP4.CONTOSO.COM   # standard, not a target
DP5=PS1DP5.CONTOSO.COM   # no agent: its removal never finishes
export DPFLEET_CONTENT_RETRY_DELAY_SECONDS=2
e2e_stack_up --agents "$DP1,$DP2,$DP3,$DP4"
BIN=$DPFLEET_BUILD
DPCTL=$BIN/dpctl/dpctl
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

for dp in $DP1 $DP2 $DP4; do "$DPCTL" dp add "$dp" --site PS1 >/dev/null || e2e_bad "dp add $dp"; done
e2e_wait_sql "the source DPs are installed" \
    "select count(*) from distribution_points where install_state='Installed'" 3 60
"$DPCTL" dp add "$DP3" --site PS1 --pull-source "$DP4:1" --pull-source "$DP1:2" >/dev/null \
    || e2e_bad "dp add $DP3"
e2e_wait_sql "the pull DP is installed" \
    "select install_state from distribution_points where server_name='$DP3'" Installed 60
e2e_wait_sql "each DP's content server is recorded" \
    "select count(*) from distribution_points where content_base like 'http://%'" 4 60

# ---- the source: nested directories, an empty file, two identical files
SRC=$DPFLEET_SOURCES/app
mkdir -p "$SRC/bin/x64" "$SRC/docs/en-us"
head -c 3145728 /dev/urandom >"$SRC/bin/x64/setup.bin"
head -c 100000 /dev/urandom >"$SRC/bin/same-a.dat"
cp "$SRC/bin/same-a.dat" "$SRC/docs/en-us/same-b.dat"
: >"$SRC/docs/empty.txt"
echo "readme v1" >"$SRC/readme.txt"

code=$(api POST /v1/packages "{\"name\":\"App\",\"description\":\"e2e\",\"sourcePath\":\"$SRC\"}")
e2e_eq "POST /v1/packages is 201" 201 "$code"
PKG=$(api_body | json 'd["packageId"]')
e2e_check "package id has the source's form ($PKG)" grep -qE '^PS1[0-9A-F]{5}$' <<<"$PKG"
e2e_wait_sql "2301: version 1 processed" \
    "select count(*) from status_messages where msg_id=2301 and istr[1]='$PKG' and istr[3]='1'" 1 30
e2e_eq "5 files recorded for version 1" 5 \
    "$(sql "select count(*) from package_files where package_id='$PKG' and version=1")"

code=$(api POST "/v1/packages/$PKG/distribute" "{\"distributionPoints\":[\"$DP1\",\"$DP2\",\"$DP3\"]}")
e2e_eq "distribute is 202" 202 "$code"
e2e_wait_sql "installed on the three DPs" \
    "select count(*) from dp_packages where package_id='$PKG' and state='Installed' and installed_version=1" 3 90
e2e_eq "one 2330 per DP" 3 \
    "$(sql "select count(distinct istr[2]) from status_messages where msg_id=2330 and istr[1]='$PKG'")"
e2e_eq "no DP got a second 2330 for version 1" 3 \
    "$(sql "select count(*) from status_messages where msg_id=2330 and istr[1]='$PKG' and istr[3]='1'")"
e2e_check "the pull DP tried $DP4 first, which lacks the package" \
    grep -q "PullDP: failed to download $PKG file .* from $DP4" "$DPFLEET_STACK"/logs/dpagent*.log
e2e_check "then downloaded from $DP1" \
    grep -q "PullDP: downloaded $PKG file .* from $DP1" "$DPFLEET_STACK"/logs/dpagent*.log

# ---- every file from every DP's contentUrl has the source's SHA-256
check_downloads() { # label
    local dp url f want got bad=0
    api GET "/v1/packages/$PKG" >/dev/null
    for dp in $DP1 $DP2 $DP3; do
        url=$(api_body | json "[x['contentUrl'] for x in d['distributionPoints'] if x['serverName']=='$dp'][0]")
        for f in bin/x64/setup.bin bin/same-a.dat docs/en-us/same-b.dat docs/empty.txt readme.txt; do
            want=$(sha256sum <"$SRC/$f" | cut -d' ' -f1)
            got=$(curl -sSf "$url/$f" | sha256sum | cut -d' ' -f1)
            [ "$want" = "$got" ] || { bad=1; echo "  $dp $f: $got != $want"; }
        done
    done
    e2e_eq "$1: every file from every DP has the source's SHA-256" 0 "$bad"
}
check_downloads "version 1"
dup=$(sha256sum <"$SRC/bin/same-a.dat" | cut -d' ' -f1)
for dp in $DP1 $DP3; do
    e2e_eq "$dp FileLib holds the duplicated bytes once" 1 \
        "$(find "$DPFLEET_VAR/$dp/SCCMContentLib\$/FileLib" -type f -name "$dup" | wc -l)"
done
e2e_eq "$DP1 FileLib holds 4 distinct files" 4 \
    "$(find "$DPFLEET_VAR/$DP1/SCCMContentLib\$/FileLib" -type f -not -path '*/.partial/*' | wc -l)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(api GET "/v1/packages/$PKG" >/dev/null; api_body | json "d['distributionPoints'][0]['contentUrl']")/nope.txt")
e2e_eq "a file the package does not have is 404" 404 "$code"

# ---- update: one file changes, only it travels
echo "readme v2" >"$SRC/readme.txt"
code=$(api POST "/v1/packages/$PKG/update" '{}')
e2e_eq "update is 202" 202 "$code"
e2e_wait_sql "version 2 installed on the three DPs" \
    "select count(*) from dp_packages where package_id='$PKG' and state='Installed' and installed_version=2" 3 90
e2e_eq "the two standard DPs got one file of 10 bytes" "1|10,1|10" \
    "$(sql "select string_agg(files_sent || '|' || bytes_sent, ',' order by dpid) from dp_packages d join distribution_points p using (dpid) where package_id='$PKG' and not p.is_pull_dp")"
e2e_eq "the pull DP downloaded one file" 1 \
    "$(sql "select files_sent from dp_packages d join distribution_points p using (dpid) where package_id='$PKG' and p.is_pull_dp")"
check_downloads "version 2"
old=$(echo "readme v1" | sha256sum | cut -d' ' -f1)
e2e_eq "the old readme left $DP1's FileLib" 0 \
    "$(find "$DPFLEET_VAR/$DP1/SCCMContentLib\$/FileLib" -type f -name "$old" | wc -l)"

# ---- removal from one DP leaves the others serving
code=$(api DELETE "/v1/packages/$PKG/distributionpoints/$DP2")
e2e_eq "remove from $DP2 is 202" 202 "$code"
e2e_wait_sql "$DP2 no longer holds the package" \
    "select count(*) from dp_packages d join distribution_points p using (dpid) where package_id='$PKG' and server_name='$DP2'" 0 60
url2=$(sql "select content_base from distribution_points where server_name='$DP2'")/SMS_DP_SMSPKG\$/$PKG
url1=$(sql "select content_base from distribution_points where server_name='$DP1'")/SMS_DP_SMSPKG\$/$PKG
e2e_eq "$DP2 answers 404 for the package" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$url2/readme.txt")"
e2e_eq "$DP1 still serves it" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$url1/readme.txt")"
e2e_eq "$DP2 FileLib is empty again" 0 \
    "$(find "$DPFLEET_VAR/$DP2/SCCMContentLib\$/FileLib" -type f | wc -l)"

# ---- a DP added later to a boundary group the package was sent to gets it too
GROUP="PS1 Assignment And Content"
code=$(api POST "/v1/packages/$PKG/distribute" "{\"boundaryGroups\":[\"$GROUP\"]}")
e2e_eq "distribute to the (empty) group '$GROUP' is 202" 202 "$code"
"$DPCTL" dp set "$DP4" --boundary-group "$GROUP" >/dev/null || e2e_bad "dp set $DP4"
e2e_wait_sql "$DP4, added to the group afterwards, gets the package" \
    "select x.state||x.installed_version from dp_packages x join distribution_points d using (dpid) where package_id='$PKG' and server_name='$DP4'" \
    Installed2 90
code=$(api DELETE "/v1/packages/$PKG/distributionpoints/$DP4")
e2e_wait_sql "and gives it back when removed from it" \
    "select count(*) from dp_packages x join distribution_points d using (dpid) where package_id='$PKG' and server_name='$DP4'" 0 60

# ---- bad input changes nothing
before=$(sql "select count(*) from packages")||true
e2e_eq "sourcePath outside the roots is 400" 400 "$(api POST /v1/packages '{"name":"X","sourcePath":"/etc"}')"
e2e_eq "../ in sourcePath is 400" 400 "$(api POST /v1/packages "{\"name\":\"Y\",\"sourcePath\":\"$SRC/../../../../etc\"}")"
e2e_eq "a missing source is 400" 400 "$(api POST /v1/packages "{\"name\":\"Z\",\"sourcePath\":\"$DPFLEET_SOURCES/none\"}")"
e2e_eq "wrong types are 400" 400 "$(api POST /v1/packages '{"name":5,"sourcePath":true}')"
e2e_eq "unknown package is 404" 404 "$(api POST /v1/packages/PS1FFFFF/distribute "{\"distributionPoints\":[\"$DP1\"]}")"
e2e_eq "unknown DP is 404" 404 "$(api POST "/v1/packages/$PKG/distribute" '{"distributionPoints":["NOPE.CONTOSO.COM"]}')"
e2e_eq "empty distributionPoints is 400" 400 "$(api POST "/v1/packages/$PKG/distribute" '{"distributionPoints":[]}')"
head -c 10485760 /dev/zero | tr '\0' 'a' >"$DPFLEET_STACK/big.json"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $DPFLEET_TOKEN" \
    --data-binary @"$DPFLEET_STACK/big.json" "$DPFLEET_API/v1/packages")
e2e_eq "a 10 MB body is 413" 413 "$code"
"$DPCTL" dp add "$DP5" --site PS1 >/dev/null
e2e_wait_sql "$DP5 (no agent) failed to install" \
    "select install_state from distribution_points where server_name='$DP5'" Failed 60
api DELETE "/v1/distributionpoints/$DP5" >/dev/null
e2e_wait_sql "$DP5 is being removed" "select action from distribution_points where server_name='$DP5'" 3 30
e2e_eq "distribute to a DP being removed is 409" 409 \
    "$(api POST "/v1/packages/$PKG/distribute" "{\"distributionPoints\":[\"$DP5\"]}")"
e2e_eq "no package was added by bad input" "$before" "$(sql "select count(*) from packages")"
e2e_eq "no DP row was added by bad input" 2 "$(sql "select count(*) from dp_packages where package_id='$PKG'")"

# ---- garbage on pkg.changed is reported and does not block the queue
"$E2E_JSPUB" pkg.changed.999 "$(printf '\xff\xff garbage')" || e2e_bad "publish garbage"
e2e_wait_sql "garbage on pkg.changed raises 9901" \
    "select count(*) from status_messages where msg_id=9901 and istr[1]='pkg.changed.999'" 1 30

# ---- delete: content leaves every DP, then the package goes
code=$(api DELETE "/v1/packages/$PKG")
e2e_eq "DELETE package is 202" 202 "$code"
e2e_wait_sql "the package is gone" "select count(*) from packages where package_id='$PKG'" 0 60
e2e_eq "2335 says it was deleted" 1 \
    "$(sql "select count(*) from status_messages where msg_id=2335 and istr[1]='$PKG'")"
for dp in $DP1 $DP3; do
    e2e_eq "$dp FileLib is empty" 0 "$(find "$DPFLEET_VAR/$dp/SCCMContentLib\$/FileLib" -type f | wc -l)"
done
e2e_eq "$DP1 answers 404 after the delete" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$url1/readme.txt")"

e2e_finish
