#!/usr/bin/env bash
# End to end, issue 11 item 1: the rows each component writes to
# trace_events on a real stack (every service, a real dpagent), read with
# SQL as `dpctl trace` reads them. One DP added through the API: the
# provider's action, dbmon's publishes, hman's insert and distmgr's install
# steps, all under the request's correlation id, the steps carrying the real
# agent's lines. A package distributed (one transfer step), the DP
# validated (a step per package and the end), the package updated while the
# DP is in maintenance mode (a 'waiting' row), and the DP removed (the
# removal steps in the source's order).
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

DP1=PS1TRACE1.CONTOSO.COM
e2e_stack_up --agents "$DP1"
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
corr() { api_body | json 'd["correlationId"]'; }
# the rows of a correlation id: "component|step|result" in time order
rows() {
    sql "select string_agg(component || '|' || step || '|' || result, ',' order by at, id)
         from trace_events where correlation_id = '$1' $2"
}

# ---- a DP added: the whole chain under one id
code=$(api POST /v1/distributionpoints "{\"serverName\":\"$DP1\",\"siteCode\":\"PS1\"}")
e2e_eq "POST /v1/distributionpoints is 201" 201 "$code"
ADD=$(corr)
e2e_wait_sql "the DP is installed" \
    "select install_state from distribution_points where server_name='$DP1'" Installed 60
e2e_wait_sql "no step of the install is still running" \
    "select count(*) from trace_events where correlation_id='$ADD' and result='running'" 0 10
e2e_eq "the provider's action" "SMS Provider|DP add|info" \
    "$(rows "$ADD" "and component = 'SMS Provider'")"
e2e_eq "dbmon published the site control change, then the DP's install" "change,install" \
    "$(sql "select string_agg(job, ',' order by at, id) from trace_events where correlation_id='$ADD'
            and component='SMSDBMON' and step='publish' and job <> 'distribute'")"
e2e_check "and the client packages the new DP gets" test \
    "$(sql "select count(*) from trace_events where correlation_id='$ADD' and component='SMSDBMON'
            and job='distribute' and message like '%SND: published pkg.changed.%'")" -ge 1
e2e_eq "hman inserted the DP" "HMAN|Inserted DP|info" "$(rows "$ADD" "and component = 'HMAN'")"
e2e_eq "distmgr's install steps in order, each ok" \
    "install_files|ok,create_shares|ok,enable_http|ok,register_provider|ok,configure_vdirs|ok,write_settings|ok,configure_pxe|ok" \
    "$(sql "select string_agg(step || '|' || result, ',' order by at, id) from trace_events
            where correlation_id='$ADD' and component='DistMgr' and job='install'")"
e2e_eq "the components in the order of the flow" "SMS Provider,SMSDBMON,HMAN,SMSDBMON,DistMgr" \
    "$(sql "select string_agg(component, ',' order by first) from (select component, min(at) as first
            from trace_events where correlation_id='$ADD' group by component, component = 'SMSDBMON'
            and step = 'publish' and job = 'install') c")"
e2e_eq "every install step carries the agent's lines" 0 \
    "$(sql "select count(*) from trace_events where correlation_id='$ADD' and component='DistMgr'
            and job='install' and cardinality(agent_lines) = 0")"
e2e_check "the share step's lines are what the host's smsdpprov.log says" \
    grep -qF "$(sql "select agent_lines[1] from trace_events where correlation_id='$ADD' and step='create_shares'")" \
    "$DPFLEET_VAR/$DP1/SMS_DP\$/sms/logs/smsdpprov.log"
e2e_eq "every row names the DP" 0 \
    "$(sql "select count(*) from trace_events where correlation_id='$ADD' and component <> 'SMSDBMON'
            and server_name <> '$DP1'")"

# ---- a package distributed: one transfer step on the DP
SRC=$DPFLEET_SOURCES/tr
mkdir -p "$SRC"
echo "trace v1" >"$SRC/readme.txt"
head -c 20000 /dev/urandom >"$SRC/data.bin"
code=$(api POST /v1/packages "{\"name\":\"Trace\",\"sourcePath\":\"$SRC\"}")
e2e_eq "POST /v1/packages is 201" 201 "$code"
PKG=$(api_body | json 'd["packageId"]')
e2e_wait_sql "the package is processed" \
    "select count(*) from status_messages where msg_id=2301 and istr[1]='$PKG'" 1 30
code=$(api POST "/v1/packages/$PKG/distribute" "{\"distributionPoints\":[\"$DP1\"]}")
e2e_eq "distribute is 202" 202 "$code"
DIST=$(corr)
e2e_wait_sql "installed on the DP" \
    "select state from dp_packages where package_id='$PKG'" Installed 60
e2e_wait_sql "the transfer is one step, ok, with what was sent" \
    "select step || '|' || result || '|' || message from trace_events where correlation_id='$DIST'
     and component='DistMgr' and job='distribute'" "package $PKG version 1|ok|2 files sent, 20009 bytes" 10
e2e_eq "and the provider's action" "SMS Provider|package distribute|info" \
    "$(rows "$DIST" "and component = 'SMS Provider'")"

# ---- content validation: one step per package, then the end
code=$(api POST "/v1/distributionpoints/$DP1/validate" '{}')
e2e_eq "validate is 202" 202 "$code"
VAL=$(corr)
HELD=$(sql "select count(*) from dp_packages x join distribution_points d using (dpid)
            where server_name='$DP1' and x.state='Installed'")
e2e_wait_sql "the validation ends on the timeline" \
    "select step || '|' || result || '|' || message from trace_events where correlation_id='$VAL'
     and component='DistMgr' and job='validate' order by at desc, id desc limit 1" \
    "validation finished|ok|Verified: $HELD packages" 60
e2e_eq "one ok step per package the DP holds, $PKG among them" "$HELD/$HELD/1" \
    "$(sql "select count(*) || '/' || count(*) filter (where result='ok') || '/' ||
            count(*) filter (where step='validate package $PKG') from trace_events
            where correlation_id='$VAL' and step like 'validate package %'")"

# ---- maintenance mode: the package's next version waits
code=$(api POST "/v1/distributionpoints/$DP1/maintenance" '{"enabled":true,"force":true}')
e2e_eq "maintenance mode on is 200" 200 "$code"
echo "trace v2" >"$SRC/readme.txt"
code=$(api POST "/v1/packages/$PKG/update" '{}')
e2e_eq "update is 202" 202 "$code"
UPD=$(corr)
e2e_wait_sql "the DP waits, and says why" \
    "select result || '|' || message from trace_events where correlation_id='$UPD'
     and component='DistMgr' and server_name='$DP1'" \
    "waiting|the DP is in maintenance mode; package $PKG waits until it is turned off" 60
code=$(api POST "/v1/distributionpoints/$DP1/maintenance" '{"enabled":false}')
e2e_eq "maintenance mode off is 200" 200 "$code"

# ---- removal: the steps in the source's order
code=$(api DELETE "/v1/distributionpoints/$DP1")
e2e_eq "DELETE is 2xx" 2 "${code:0:1}"
DEL=$(corr)
e2e_wait_sql "the DP is gone" "select count(*) from distribution_points where server_name='$DP1'" 0 60
e2e_wait_sql "the removal steps, in order, each ok" \
    "select string_agg(step || '|' || result, ',' order by at, id) from trace_events
     where correlation_id='$DEL' and component='DistMgr' and job='remove' and step <> 'wait'" \
    "remove_pxe|ok,remove_tasks|ok,remove_pulldp|ok,unregister_provider|ok,remove_shares|ok,remove_vdirs|ok,remove_settings|ok" 10
# version 2 follows the DP out of maintenance mode: a removal that meets its
# transfer waits for it, and says so
e2e_eq "a wait before the removal, if any, says why" 0 \
    "$(sql "select count(*) from trace_events where correlation_id='$DEL' and step='wait'
            and (result <> 'waiting' or message = '' or at > (select min(at) from trace_events
            where correlation_id='$DEL' and step='remove_pxe'))")"
e2e_eq "hman marked it deleted first" "HMAN|Marked DP deleted|info" \
    "$(rows "$DEL" "and component = 'HMAN'")"

e2e_finish
