#!/usr/bin/env bash
# End to end: three DPs added through the API are installed on their hosts,
# through provider -> PostgreSQL -> dbmon -> hman -> dbmon -> distmgr -> dpagent,
# with the source's status messages (seed 004, "DP installation" steps 1-10).
set -uo pipefail
. "$(dirname "$0")/e2e_lib.sh"

DP1=PS1DP1.CONTOSO.COM   # PXE
DP2=PS1DP2.CONTOSO.COM   # two boundary groups
DP3=PS1DP3.CONTOSO.COM   # plain
DP4=PS1DP4.CONTOSO.COM   # added after garbage was published
e2e_stack_up --agents "$DP1,$DP2,$DP3,$DP4"
BIN=$DPFLEET_BUILD
nal() { echo "[\"Display=\\\\$1\\\"]MSWNET:[\"SMS_SITE=PS1\"]\\\\$1\\"; }

# Watch the status message stream the way an administrator would.
"$BIN/dpctl/dpctl" statmsg watch >"$DPFLEET_STACK/watch.out" 2>"$DPFLEET_STACK/watch.err" &
sleep 1

code=$(api POST /v1/distributionpoints "{\"serverName\":\"$DP1\",\"siteCode\":\"PS1\",\"description\":\"PS1 PXE DP\",\"enablePXE\":true}")
e2e_eq "POST $DP1 is 201" 201 "$code"
corr1=$(api_body | sed -n 's/.*"correlationId" *: *"\([^"]*\)".*/\1/p')
code=$(api POST /v1/distributionpoints "{\"serverName\":\"$DP2\",\"siteCode\":\"PS1\",\"description\":\"it's; DROP TABLE sites;--\",\"boundaryGroups\":[\"PS1 Assignment And Content\",\"PS1 Branch Offices\"]}")
e2e_eq "POST $DP2 is 201" 201 "$code"
code=$("$BIN/dpctl/dpctl" dp add "$DP3" --site PS1 --description "PS1 Standard DP" >/dev/null 2>&1; echo $?)
e2e_eq "dpctl dp add $DP3 succeeds" 0 "$code"

e2e_wait_sql "all three DPs reach Installed" \
    "select count(*) from distribution_points where install_state='Installed'" 3 90

# DistributionPoints rows as HMAN wrote them.
e2e_eq "three DistributionPoints rows" 3 "$(sql "select count(*) from distribution_points")"
e2e_eq "NAL path of $DP1 is built as in the source" "$(nal $DP1)" \
    "$(sql "select nal_path from distribution_points where server_name='$DP1'")"
e2e_eq "every CRC is upper-case hex" 3 \
    "$(sql "select count(*) from distribution_points where dp_crc ~ '^[0-9A-F]{1,8}\$'")"
e2e_eq "installed_crc equals dp_crc" 3 \
    "$(sql "select count(*) from distribution_points where installed_crc = dp_crc")"
e2e_eq "$DP1 is PXE" t "$(sql "select is_pxe from distribution_points where server_name='$DP1'")"
e2e_eq "description with SQL metacharacters stored literally" "it's; DROP TABLE sites;--" \
    "$(sql "select description from distribution_points where server_name='$DP2'")"
e2e_eq "sites table still there" 1 "$(sql "select count(*) from sites")"
e2e_eq "$DP2 is in two boundary groups" 2 \
    "$(sql "select count(*) from boundary_group_members where server_name='$DP2'")"
e2e_eq "each DP got the four default client packages" 12 "$(sql "select count(*) from dp_packages")"
e2e_eq "each DP has a certificate" 3 "$(sql "select count(*) from dp_certificates")"
e2e_eq "the correlation id reached the audit log" 1 \
    "$(sql "select count(*) from audit_log where correlation_id='$corr1' and class_name='SMS_SCI_SysResUse'")"

# Status messages: one 3306 per site control change, one 2399 per DP.
e2e_wait_sql "one 3306 per site control change (3)" \
    "select count(*) from status_messages where msg_id=3306" 3 30
e2e_eq "one 2399 per DP in the database" 3 \
    "$(sql "select count(distinct istr[1]) from status_messages where msg_id=2399")"
sleep 1
for dp in $DP1 $DP2 $DP3; do
    n=$(grep 'ID=2399' "$DPFLEET_STACK/watch.out" | grep -cF "ISTR1=\"$dp\"")
    e2e_eq "one 2399 for $dp on the stream" 1 "$n"
done
e2e_check "2399 carries the NAL path as ISTR0 and AID0=404" \
    grep -qF "ISTR0=\"$(nal $DP1)\"" "$DPFLEET_STACK/watch.out"
e2e_check "2399 has NUMATTRS=1 AID0=404" grep -q 'NUMATTRS=1 AID0=404' "$DPFLEET_STACK/watch.out"

# Logs read like the source's.
L=$DPFLEET_STACK/logs
e2e_check "provider logs the FQDN check" grep -qF "INFO: '$DP1' is a valid FQDN." "$L/provider.log"
e2e_check "dbmon logs RCV for the site control change" grep -q "RCV: UPDATE on SiteControl for SiteControl_AddUpd_HMAN" "$L/dbmon.log"
e2e_check "dbmon logs RCV for the DP insert" grep -q "RCV: INSERT on DistributionPoints for DistributionPoints_Ins" "$L/dbmon.log"
e2e_check "dbmon logs SND" grep -q "SND:" "$L/dbmon.log"
e2e_check "hman logs Inserted DP with CRC" grep -qF "Inserted DP $(nal $DP1). CRC:" "$L/hman.log"
e2e_check "hman logs the client packages" grep -q "Successfully added client package (ID=CS100002)" "$L/hman.log"
e2e_check "distmgr logs the thread pool line" grep -qE "Upgrading DP with ID [0-9]+\. Thread 0x[0-9a-f]+\. Used [0-9]+ threads out of 50\." "$L/distmgr.log"
e2e_check "distmgr logs Processing n.INS" grep -qE "Processing [0-9]+\.INS" "$L/distmgr.log"
e2e_check "distmgr logs ConfigurePXE" grep -q "ConfigurePXE" "$L/distmgr.log"
e2e_check "the correlation id is in every service's log" \
    bash -c "grep -qF '$corr1' '$L/provider.log' && grep -qF '$corr1' '$L/dbmon.log' && grep -qF '$corr1' '$L/hman.log' && grep -qF '$corr1' '$L/distmgr.log'"

# Each agent root laid out as the install steps say.
for dp in $DP1 $DP2 $DP3; do
    r=$DPFLEET_VAR/$dp
    e2e_check "$dp: component files in SMS_DP\$/sms/bin" bash -c "ls '$r/SMS_DP\$/sms/bin' | grep -q ."
    e2e_check "$dp: content library" test -d "$r/SCCMContentLib\$/PkgLib" -a -d "$r/SCCMContentLib\$/DataLib" -a -d "$r/SCCMContentLib\$/FileLib"
    e2e_check "$dp: SMSSIG\$" test -d "$r/SMSSIG\$"
    e2e_check "$dp: settings file names its NAL path" grep -qF "$(nal $dp)" "$r/etc/dp.conf"
    e2e_check "$dp: virtual directories" grep -q 'SMS_DP_SMSPKG\$' "$r/etc/vdirs.conf"
done
e2e_check "$DP1 (PXE) has the RemoteInstall tree" test -d "$DPFLEET_VAR/$DP1/RemoteInstall/SMSBoot"
e2e_check "$DP1 (PXE) has its TFTP configuration" test -f "$DPFLEET_VAR/$DP1/etc/tftp.conf"
e2e_check "$DP3 (no PXE) has no RemoteInstall tree" test ! -e "$DPFLEET_VAR/$DP3/RemoteInstall"

# A second, identical site control change: Will not update, no new install.
ins_before=$(grep -cE "Processing [0-9]+\.INS" "$L/distmgr.log")
hman_lines=$(wc -l <"$L/hman.log")
sql "update site_control set serial = serial + 1 where site_code = 'PS1'" >/dev/null
e2e_wait_sql "the identical change is processed (fourth 3306)" \
    "select count(*) from status_messages where msg_id=3306" 4 30
e2e_eq "hman sums up the unchanged DPs in one line" 1 \
    "$(tail -n +$((hman_lines + 1)) "$L/hman.log" | grep -c "Will not update 3 DPs of site PS1 (unchanged)")"
e2e_eq "and no Inserted/Updated DP" 0 \
    "$(tail -n +$((hman_lines + 1)) "$L/hman.log" | grep -cE "(Inserted|Updated) DP")"
sleep 3
e2e_eq "no new install after the identical change" "$ins_before" "$(grep -cE "Processing [0-9]+\.INS" "$L/distmgr.log")"
e2e_eq "still one 2399 per DP" 3 "$(sql "select count(*) from status_messages where msg_id=2399")"

# Bad input over the API changes nothing.
before=$(sql "select count(*) from site_system_roles")
e2e_eq "malformed JSON is 400" 400 "$(api POST /v1/distributionpoints '{"serverName":')"
e2e_eq "invalid FQDN is 400" 400 "$(api POST /v1/distributionpoints '{"serverName":"bad_name","siteCode":"PS1"}')"
e2e_eq "unknown site is rejected" 400 "$(api POST /v1/distributionpoints "{\"serverName\":\"X.CONTOSO.COM\",\"siteCode\":\"ZZ9\"}")"
e2e_eq "an existing DP is 409" 409 "$(api POST /v1/distributionpoints "{\"serverName\":\"$DP1\",\"siteCode\":\"PS1\"}")"
e2e_eq "bad input changed nothing" "$before" "$(sql "select count(*) from site_system_roles")"

# Garbage on the bus is terminated and reported; the services go on working.
"$E2E_JSPUB" sitecontrol.changed.PS1 "not a protobuf at all" || e2e_bad "publish garbage"
"$E2E_JSPUB" dp.ins.999 "$(printf '\xff\xff\xff\xff garbage')" || e2e_bad "publish garbage"
"$E2E_JSPUB" dp.dpn.999 "$(printf '\x08\x96\x01\x12\xff')" || e2e_bad "publish garbage"
e2e_wait_sql "garbage on each of the three subjects raises 9901" \
    "select count(*) from status_messages where msg_id=9901" 3 30
e2e_eq "each 9901 names its subject" 3 \
    "$(sql "select count(distinct istr[1]) from status_messages where msg_id=9901")"
code=$(api POST /v1/distributionpoints "{\"serverName\":\"$DP4\",\"siteCode\":\"PS1\"}")
e2e_eq "POST $DP4 after the garbage is 201" 201 "$code"
e2e_wait_sql "$DP4 is installed after the garbage" \
    "select install_state from distribution_points where server_name='$DP4'" Installed 60

e2e_finish
