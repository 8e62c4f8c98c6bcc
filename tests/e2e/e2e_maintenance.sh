#!/usr/bin/env bash
# End to end, issue 7 (seed 000): a DP put in maintenance mode through both
# APIs shows the source's five behaviours (no content distributed to it, not
# returned by content location, still upgraded by a site reset, read-only
# properties, content validation still runs), dpfleet refuses to leave a
# boundary group without a DP unless forced, content location follows
# boundary groups, neighbors and the site default, and content validation
# finds a deleted and a corrupted file, which a redistribute repairs.
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

DP1=PS1DP1.CONTOSO.COM   # Branch; goes into maintenance mode
DP2=PS1DP2.CONTOSO.COM   # Branch
DP3=PS1DP3.CONTOSO.COM   # Neighbor group
export DPFLEET_CONTENT_RETRY_DELAY_SECONDS=2 DPFLEET_RECONCILE_INTERVAL_SECONDS=3
e2e_stack_up --agents "$DP1,$DP2,$DP3"
BIN=$DPFLEET_BUILD
DPCTL=$BIN/dpctl/dpctl
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
nal() { sql "select nal_path from distribution_points where server_name='$1'"; }
msgs() { sql "select count(*) from status_messages where msg_id=$1 and id > ${2:-0}"; }
locate() { # package client [minutes] -> server names in order
    api GET "/v1/contentlocation?packageId=$1&clientAddress=$2&waitedMinutes=${3:-0}" >/dev/null
    api_body | json "','.join(x['serverName'] for x in d['locations'])"
}

# ---- boundary groups: a branch (subnet + IPv6), a neighbor (range), the site default
e2e_eq "Branch group created" 201 "$(api POST /v1/boundarygroups \
    '{"name":"Branch","boundaries":["10.1.0.0/16","2001:db8:1::/48"]}')"
e2e_eq "Neighbor group created" 201 "$(api POST /v1/boundarygroups \
    '{"name":"Neighbor","boundaries":["10.2.0.1-10.2.0.100"]}')"
e2e_eq "Branch falls back to Neighbor after 30 minutes" 200 "$(api PATCH /v1/boundarygroups/Branch \
    '{"neighbors":[{"name":"Neighbor","fallbackMinutes":30}]}')"
"$DPCTL" dp add "$DP1" --site PS1 --boundary-group Branch >/dev/null
"$DPCTL" dp add "$DP2" --site PS1 --boundary-group Branch >/dev/null
"$DPCTL" dp add "$DP3" --site PS1 --boundary-group Neighbor \
    --boundary-group 'Default-Site-Boundary-Group<PS1>' >/dev/null
e2e_wait_sql "three DPs installed" \
    "select count(*) from distribution_points where install_state='Installed' and content_base <> ''" 3 60

SRC=$DPFLEET_SOURCES/tools
mkdir -p "$SRC/bin"
head -c 200000 /dev/urandom >"$SRC/bin/tool.bin"
echo "tools v1" >"$SRC/readme.txt"
api POST /v1/packages "{\"name\":\"Tools\",\"sourcePath\":\"$SRC\"}" >/dev/null
PKG=$(api_body | json 'd["packageId"]')
e2e_wait_sql "package processed" "select state from packages where package_id='$PKG'" Ready 30
api POST "/v1/packages/$PKG/distribute" "{\"distributionPoints\":[\"$DP1\",\"$DP2\",\"$DP3\"]}" >/dev/null
e2e_wait_sql "installed on the three DPs" \
    "select count(*) from dp_packages where package_id='$PKG' and state='Installed'" 3 60

# ---- content location
e2e_eq "a client in Branch's subnet gets DP1 and DP2" "$DP1,$DP2" "$(locate "$PKG" 10.1.2.3)"
e2e_eq "an IPv6 client in Branch gets them too" "$DP1,$DP2" "$(locate "$PKG" 2001:db8:1::17)"
e2e_eq "a client in Neighbor's range gets DP3" "$DP3" "$(locate "$PKG" 10.2.0.50)"
e2e_eq "after 30 minutes a Branch client also gets the neighbor's DP" "$DP1,$DP2,$DP3" \
    "$(locate "$PKG" 10.1.2.3 30)"
e2e_eq "a client in no group gets nothing before 120 minutes" "" "$(locate "$PKG" 172.16.0.1 60)"
e2e_check "and is told why" grep -q "no boundary group contains" <(api_body)
e2e_eq "then the site default group's DP" "$DP3" "$(locate "$PKG" 172.16.0.1 120)"

# ---- item 3: the last DP of a group outside maintenance mode
e2e_eq "DP1 into maintenance mode through the REST API" 200 \
    "$(api POST "/v1/distributionpoints/$DP1/maintenance" '{"enabled":true}')"
e2e_eq "DP1 shows maintenanceMode" True \
    "$(api GET "/v1/distributionpoints/$DP1" >/dev/null; api_body | json 'd["maintenanceMode"]')"
e2e_eq "2394 names who did it" 1 \
    "$(sql "select count(*) from status_messages where msg_id=2394 and istr[2]='$DP1' and istr[3]='CONTOSO\\Admin'")"
e2e_eq "an audit row" 1 "$(sql "select count(*) from audit_log where class_name='SMS_DistributionPointInfo' and object like '%$DP1%'")"
e2e_check "dpctl dp list has the Maintenance mode column" \
    bash -c "'$DPCTL' dp list | head -1 | grep -qi 'maint'"
code=$(api POST "/v1/distributionpoints/$DP2/maintenance" '{"enabled":true}')
e2e_eq "DP2, the last Branch DP outside maintenance mode, is refused" 409 "$code"
e2e_check "the refusal names the group and the package" \
    bash -c "grep -q Branch /tmp/e2e_body.$$ && grep -q '$PKG' /tmp/e2e_body.$$"
e2e_eq "nothing changed" f "$(sql "select maintenance_mode from distribution_points where server_name='$DP2'")"
e2e_eq "with force it proceeds" 200 \
    "$(api POST "/v1/distributionpoints/$DP2/maintenance" '{"enabled":true,"force":true}')"
e2e_eq "and warns with 2396" 1 "$(sql "select count(*) from status_messages where msg_id=2396 and severity='W'")"
e2e_eq "a Branch client now gets no DP" "" "$(locate "$PKG" 10.1.2.3)"
e2e_check "and is told they are in maintenance mode" grep -q "maintenance" <(api_body)
e2e_eq "DP2 out of maintenance mode" 200 "$(api POST "/v1/distributionpoints/$DP2/maintenance" '{"enabled":false}')"

# ---- behaviour 2: content location never returns DP1
e2e_eq "content location leaves DP1 out" "$DP2" "$(locate "$PKG" 10.1.2.3)"

# ---- behaviour 4: read-only properties
crc=$(sql "select dp_crc from distribution_points where server_name='$DP1'")
n3306=$(msgs 3306)
e2e_eq "PATCH description is 409" 409 "$(api PATCH "/v1/distributionpoints/$DP1" '{"description":"x"}')"
e2e_check "naming maintenance mode" grep -qi "maintenance mode" <(api_body)
e2e_eq "PATCH boundary groups is 409" 409 "$(api PATCH "/v1/distributionpoints/$DP1" '{"boundaryGroups":["Neighbor"]}')"
e2e_eq "PATCH pull sources is 409" 409 \
    "$(api PATCH "/v1/distributionpoints/$DP1" "{\"pullDP\":{\"sources\":[{\"serverName\":\"$DP2\",\"priority\":1}]}}")"
e2e_eq "PATCH validation schedule is 409" 409 \
    "$(api PATCH "/v1/distributionpoints/$DP1" '{"contentValidationIntervalHours":24}')"
sleep 1
e2e_eq "the CRC is unchanged" "$crc" "$(sql "select dp_crc from distribution_points where server_name='$DP1'")"
e2e_eq "no site control change (no 3306)" "$n3306" "$(msgs 3306)"

# ---- behaviour 1: no content is distributed to it; it follows after maintenance mode
echo "tools v2" >"$SRC/readme.txt"
api POST "/v1/packages/$PKG/update" '{}' >/dev/null
e2e_wait_sql "version 2 reaches DP2 and DP3" \
    "select count(*) from dp_packages where package_id='$PKG' and installed_version=2" 2 60
e2e_wait_sql "DP1 waits: WaitingMaintenance" \
    "select x.state from dp_packages x join distribution_points d using (dpid) where package_id='$PKG' and server_name='$DP1'" \
    WaitingMaintenance 30
before=$(sql "select coalesce(max(id),0) from status_messages")
code=$(api POST /v1/SetDPMaintenanceMode "{\"NALPath\":$(nal "$DP1" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))'),\"Mode\":0}")
e2e_eq "SetDPMaintenanceMode Mode 0 answers 200" 200 "$code"
e2e_eq "with ReturnValue 0" 0 "$(api_body | json 'd["ReturnValue"]')"
e2e_eq "2395 says it left maintenance mode" 1 "$(msgs 2395 "$before")"
e2e_wait_sql "version 2 follows to DP1 by itself" \
    "select x.state||x.installed_version from dp_packages x join distribution_points d using (dpid) where package_id='$PKG' and server_name='$DP1'" \
    Installed2 60

# ---- behaviour 3: a site reset still upgrades a DP in maintenance mode
code=$(api POST /v1/SetDPMaintenanceMode "{\"NALPath\":$(nal "$DP1" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))'),\"Mode\":1}")
e2e_eq "SetDPMaintenanceMode Mode 1 answers 200" 200 "$code"
before=$(sql "select coalesce(max(id),0) from status_messages")
e2e_eq "site reset is accepted" 200 "$(api POST /v1/sites/PS1/reset '{}')"
e2e_wait_sql "DP1 is upgraded: a new 2399" \
    "select count(*) from status_messages where msg_id=2399 and istr[2]='$DP1' and id > $before" 1 60
e2e_eq "and stays in maintenance mode" t "$(sql "select maintenance_mode from distribution_points where server_name='$DP1'")"

# ---- behaviour 5: content validation runs in maintenance mode
before=$(sql "select coalesce(max(id),0) from status_messages")
e2e_eq "validate DP1 is 202" 202 "$(api POST "/v1/distributionpoints/$DP1/validate" '{}')"
e2e_wait_sql "2380 then 2384 for each package DP1 holds" \
    "select (select count(*) from status_messages where msg_id=2380 and id > $before)||'/'||(select count(*) from status_messages where msg_id=2384 and id > $before)" \
    "1/$(sql "select count(*) from dp_packages x join distribution_points d using (dpid) where server_name='$DP1' and x.state='Installed'")" 60

# ---- content validation finds a deleted and a corrupted file on DP2
lib=$DPFLEET_VAR/$DP2/SCCMContentLib\$/FileLib
sha_bin=$(sha256sum <"$SRC/bin/tool.bin" | cut -d' ' -f1)
sha_readme=$(sha256sum <"$SRC/readme.txt" | cut -d' ' -f1)
rm -f "$lib/${sha_bin:0:4}/$sha_bin"
printf 'tools vX\n' >"$lib/${sha_readme:0:4}/$sha_readme"
before=$(sql "select coalesce(max(id),0) from status_messages")
"$DPCTL" dp validate "$DP2" >/dev/null || e2e_bad "dpctl dp validate"
e2e_wait_sql "2383 for the package" \
    "select count(*) from status_messages where msg_id=2383 and istr[1]='$PKG' and id > $before" 1 60
e2e_check "2383 names both files" bash -c \
    "psql '$DATABASE_URL' -XAtq -c \"select istr[3] from status_messages where msg_id=2383 and id > $before\" | grep -q 'bin/tool.bin' && psql '$DATABASE_URL' -XAtq -c \"select istr[3] from status_messages where msg_id=2383 and id > $before\" | grep -q 'readme.txt'"
e2e_eq "the package is ValidationFailed on DP2" ValidationFailed \
    "$(sql "select x.state from dp_packages x join distribution_points d using (dpid) where package_id='$PKG' and server_name='$DP2'")"
e2e_eq "content location no longer returns DP2 (nor DP1, in maintenance)" "" "$(locate "$PKG" 10.1.2.3)"
api POST "/v1/packages/$PKG/redistribute" "{\"distributionPoints\":[\"$DP2\"]}" >/dev/null
e2e_wait_sql "redistribute puts it back to Installed" \
    "select x.state from dp_packages x join distribution_points d using (dpid) where package_id='$PKG' and server_name='$DP2'" Installed 60
url=$(sql "select content_base from distribution_points where server_name='$DP2'")/SMS_DP_SMSPKG\$/$PKG
e2e_eq "with correct bytes" "$sha_bin" "$(curl -sSf "$url/bin/tool.bin" | sha256sum | cut -d' ' -f1)"
before=$(sql "select coalesce(max(id),0) from status_messages")
"$DPCTL" dp validate "$DP2" >/dev/null
e2e_wait_sql "a second validation reports 2384 for it" \
    "select count(*) from status_messages where msg_id=2384 and istr[1]='$PKG' and id > $before" 1 60

# ---- the schedule: a DP whose last validation is older than its interval is validated
before=$(sql "select coalesce(max(id),0) from status_messages")
e2e_eq "DP3 has the default schedule (168 h)" 168 \
    "$(api GET "/v1/distributionpoints/$DP3" >/dev/null; api_body | json 'd["contentValidationIntervalHours"]')"
sql "update distribution_points set last_validation_at = now() - interval '169 hours' where server_name='$DP3'"
e2e_wait_sql "distmgr starts the due validation of DP3 by itself (2380)" \
    "select count(*) from status_messages where msg_id=2380 and istr[2]='$DP3' and id > $before" 1 30
e2e_wait_sql "and records it" \
    "select last_validation_at > now() - interval '1 minute' and validation_requested_at is null from distribution_points where server_name='$DP3'" t 30

# ---- bad input: a clear 4xx and nothing changed
rows=$(sql "select count(*) from boundaries")||true
e2e_eq "unknown NAL path" 404 "$(api POST /v1/SetDPMaintenanceMode '{"NALPath":"nope","Mode":1}')"
e2e_check "ReturnValue is not 0" bash -c "[ \"\$(python3 -c 'import json; print(json.load(open(\"/tmp/e2e_body.$$\"))[\"ReturnValue\"])')\" != 0 ]"
e2e_eq "Mode 2" 400 "$(api POST /v1/SetDPMaintenanceMode "{\"NALPath\":\"x\",\"Mode\":2}")"
e2e_eq "enabled \"yes\"" 400 "$(api POST "/v1/distributionpoints/$DP2/maintenance" '{"enabled":"yes"}')"
e2e_eq "unknown server" 404 "$(api POST /v1/distributionpoints/NOPE.CONTOSO.COM/maintenance '{"enabled":true}')"
e2e_eq "malformed CIDR" 400 "$(api POST /v1/boundarygroups '{"name":"Bad","boundaries":["10.1.2.3/40"]}')"
e2e_eq "malformed range" 400 "$(api POST /v1/boundarygroups '{"name":"Bad","boundaries":["10.0.0.9-10.0.0.1"]}')"
e2e_eq "clientAddress not an address" 400 "$(api GET "/v1/contentlocation?packageId=$PKG&clientAddress=banana")"
e2e_eq "unknown package" 404 "$(api GET "/v1/contentlocation?packageId=PS1FFFFF&clientAddress=10.1.2.3")"
e2e_eq "a group as its own neighbor" 400 \
    "$(api PATCH /v1/boundarygroups/Branch '{"neighbors":[{"name":"Branch","fallbackMinutes":5}]}')"
e2e_eq "no boundary was added" "$rows" "$(sql "select count(*) from boundaries")"
e2e_eq "DP2 is still out of maintenance mode" f "$(sql "select maintenance_mode from distribution_points where server_name='$DP2'")"

e2e_finish
