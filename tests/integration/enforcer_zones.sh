#!/bin/bash
# enforcer_zones.sh: policies and zones through ONE real tandemd and
# tandem-enforcer (the ods-enforcer grammar), with a SoftHSM token:
#
#   1. policy import; a kasp.xml that is not well-formed, and one whose
#      policy the enforcer refuses, change nothing and name what is wrong;
#   2. pool fill; zonelist import of 2,000 zones (half ShareKeys, half own keys): every
#      zone ends with a signconf naming keys, the shared zones all name the
#      same KSK, the others each their own (none lost, none shared wrongly);
#   3. zonelist export, imported again, changes nothing (and update all); a zonelist naming an
#      unknown policy, or not well-formed, imports nothing;
#   4. zone add is enforced at once (signconf within 2 s), a second add of
#      the same zone is refused, zone delete removes it, zone set-policy to
#      another algorithm starts an algorithm rollover in its signconf;
#   5. <Capacity>: with the repository full, a new zone waits for keys and
#      the log says why; <RequireBackup/>: a new zone waits until
#      `backup prepare` + `backup commit`, then gets its keys;
#   6. <DelegationSignerSubmitCommand> gets the KSK's DNSKEY when its DS is
#      due (time leap) and, as it succeeds, the DS becomes "submitted";
#      <RolloverNotification> announces the coming rollovers in the log;
#   7. key import of an extractable token key as a zone's active KSK.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
ENF_BIN=$(cl_bin tandem-enforcer) || exit 99
CL_SOFTHSM=1 cl_init 1
trap cl_cleanup EXIT
D=$CL_DIR
N=${TDM_ENFORCER_ZONES:-2000}
enf() { "$ENF_BIN" -c "$(cl_conf 1)" "$@"; }
fail() { cl_fail "$@"; }

start_node() {
	TANDEM_FAKE_TIME=2027-01-01-00:00:00 cl_start 1
	cl_wait_leader 30 >/dev/null || fail "no leader"
	for _ in $(seq 100); do enf running >/dev/null 2>&1 && return 0; sleep 0.1; done
	fail "tandemd does not answer"
}

# wait_idle: the enforcer has no job queued (and none waits for keys unless $1=any)
wait_idle() {
	local q
	for _ in $(seq 600); do
		q=$(enf --json queue) || true
		if printf '%s' "$q" | "$CL_PY" -c 'import json,sys
o=json.load(sys.stdin)
sys.exit(0 if o["jobs"] == 0 and o["keys_generating"] == 0 and (o["waiting_for_keys"] == 0 or sys.argv[1] == "any") else 1)' "${1:-}"; then
			return 0
		fi
		sleep 0.1
	done
	fail "the enforcer did not settle: $q"
}

signconf_of() { echo "$D/sc/$1.xml"; }
# locators ZONE ROLE-FLAG: the Locators of the keys with <KSK/> (or <ZSK/>)
locators() {
	"$CL_PY" - "$1" "$2" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
print(" ".join(sorted(m.group(1) for k in re.findall(r"<Key>.*?</Key>", t, re.S)
                 if "<%s/>" % sys.argv[2] in k for m in [re.search(r"<Locator>(\w+)</Locator>", k)])))
PY
}

# The example policies plus "shared" (ShareKeys).
"$CL_PY" - "$TDM_SRCDIR/examples/kasp.xml" "$D/kasp.xml" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
pol = re.search(r"(\t<Policy name=\"default\">.*?</Policy>\n)", src, re.S).group(1)
shared = pol.replace('name="default"', 'name="shared"').replace("<Keys>", "<Keys>\n\t\t\t<ShareKeys/>", 1)
open(sys.argv[2], "w").write(src.replace("</KASP>", shared + "</KASP>"))
PY
start_node

# 1. policies
enf policy import >"$D/out" 2>&1 || fail "policy import: $(cat "$D/out")"
grep -q "Created policy shared" "$D/out" || fail "policy import did not create shared: $(cat "$D/out")"
enf policy list >"$D/policies" || fail "policy list"
cp "$D/kasp.xml" "$D/kasp.good"
printf '<?xml version="1.0"?>\n<KASP>\n<Policy name="broken">\n</KASP>\n' >"$D/kasp.xml"
enf policy import >"$D/out" 2>&1 && fail "a kasp.xml that is not well-formed was imported"
grep -q "kasp.xml:[0-9]" "$D/out" || fail "no file:line in the refusal: $(cat "$D/out")"
sed 's|<Lifetime>P30D</Lifetime>|<Lifetime>PT1M</Lifetime>|' "$D/kasp.good" >"$D/kasp.xml"
if ! cmp -s "$D/kasp.xml" "$D/kasp.good"; then
	enf policy import >"$D/out" 2>&1 && fail "a policy with a 1-minute key lifetime was imported"
	grep -q "nothing imported" "$D/out" || fail "refusal does not say nothing was imported: $(cat "$D/out")"
fi
enf policy list | cmp -s - "$D/policies" || fail "a refused import changed the policies"
cp "$D/kasp.good" "$D/kasp.xml"

# pool fill: keys ready before the bulk import
enf pool fill -g 13 -n 40 >"$D/out" 2>&1 || fail "pool fill: $(cat "$D/out")"
pool=$(enf --json pool list | "$CL_PY" -c 'import json,sys
print(sum(p["keys"] for p in json.load(sys.stdin)["pools"] if p["algorithm"] == 13))')
[ "$pool" -ge 40 ] || fail "pool fill -n 40: the pool holds $pool keys"
enf pool fill -g 8 -n 1 >"$D/out" 2>&1 && fail "pool fill without bits for RSA succeeded"
# Two pools filled at once: one batch generates at a time (two worker
# threads in one HSM context crashed tandemd).
enf pool fill -g 8 -b 1024 -n 6 >"$D/out.rsa" 2>&1 &
rsa_pid=$!
enf pool fill -g 13 -n 80 >"$D/out" 2>&1 || fail "pool fill beside another: $(cat "$D/out")"
wait "$rsa_pid" || fail "RSA pool fill beside another: $(cat "$D/out.rsa")"
cl_running 1 || fail "tandemd died filling two pools at once"

# 2. bulk import: half shared, half own keys
"$CL_PY" - "$N" "$D" <<'PY'
import sys
n, d = int(sys.argv[1]), sys.argv[2]
with open(d + "/zonelist.xml", "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<ZoneList>\n')
    for i in range(n):
        z = "z%05d.example" % i
        p = "shared" if i % 2 == 0 else "default"
        f.write('\t<Zone name="%s">\n\t\t<Policy>%s</Policy>\n\t\t<SignerConfiguration>%s/sc/%s.xml</SignerConfiguration>\n'
                '\t\t<Adapters><Input><File>%s/in/%s</File></Input><Output><File>%s/out/%s</File></Output></Adapters>\n\t</Zone>\n'
                % (z, p, d, z, d, z, d, z))
    f.write("</ZoneList>\n")
PY
enf zonelist import >"$D/out" 2>&1 || fail "zonelist import: $(cat "$D/out")"
grep -q "$N added" "$D/out" || fail "zonelist import: $(cat "$D/out")"
wait_idle
have=$(ls "$D/sc" | wc -l)
[ "$have" = "$N" ] || fail "$have of $N zones have a signconf"
ksk_shared=
for i in 0 2 4 $((N - 2)); do
	z=$(printf 'z%05d.example' "$i")
	k=$(locators "$(signconf_of "$z")" KSK)
	[ -n "$k" ] || fail "$z: no KSK in its signconf"
	[ -z "$ksk_shared" ] && ksk_shared=$k
	[ "$k" = "$ksk_shared" ] || fail "$z: KSK $k, the other shared zones have $ksk_shared"
done
k1=$(locators "$(signconf_of z00001.example)" KSK)
k3=$(locators "$(signconf_of z00003.example)" KSK)
[ -n "$k1" ] && [ "$k1" != "$k3" ] && [ "$k1" != "$ksk_shared" ] ||
	fail "zones with their own keys share a KSK ($k1 / $k3 / $ksk_shared)"
grep -c "<Key>" "$(signconf_of z00001.example)" | grep -qx 2 || fail "z00001: not 2 keys in its signconf"

# 3. export and import again: nothing changes; bad zonelists import nothing
enf zonelist export -f "$D/exported.xml" >/dev/null || fail "zonelist export"
[ "$(grep -c '<Zone ' "$D/exported.xml")" = "$N" ] || fail "export does not hold $N zones"
enf zonelist import -f "$D/exported.xml" >"$D/out" 2>&1 || fail "re-import: $(cat "$D/out")"
grep -q "0 added, 0 updated, 0 deleted, $N unchanged" "$D/out" || fail "re-import changed something: $(cat "$D/out")"
sed '0,/<Policy>default</s//<Policy>nosuch</' "$D/exported.xml" >"$D/badpolicy.xml"
sed -i 's|<Zone name="z00001.example">|<Zone name="new.example"><Policy>nosuch</Policy><SignerConfiguration>x</SignerConfiguration><Adapters><Input><File>x</File></Input><Output><File>x</File></Output></Adapters></Zone>\n&|' "$D/badpolicy.xml"
enf zonelist import -f "$D/badpolicy.xml" >"$D/out" 2>&1 && fail "a zonelist with an unknown policy was imported"
grep -q "nosuch" "$D/out" && grep -q "nothing imported" "$D/out" || fail "refusal: $(cat "$D/out")"
head -c 500 "$D/exported.xml" >"$D/truncated.xml"
enf zonelist import -f "$D/truncated.xml" >"$D/out" 2>&1 && fail "a truncated zonelist was imported"
[ "$(enf --json zone list | "$CL_PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')" = "$N" ] ||
	fail "refused imports changed the zone count"

# update all = policy import + zonelist import of the conf.xml files: nothing new
enf update all >"$D/out" 2>&1 || fail "update all: $(cat "$D/out")"
grep -q "Policy shared unchanged" "$D/out" && grep -q "0 added, 0 updated, 0 deleted, $N unchanged" "$D/out" ||
	fail "update all: $(cat "$D/out")"

# 4. single zones
start_ms=$(($(date +%s%N) / 1000000))
enf zone add -z added.example -p default -s "$D/sc/added.example.xml" >"$D/out" 2>&1 || fail "zone add: $(cat "$D/out")"
while [ ! -s "$D/sc/added.example.xml" ]; do
	[ $(($(date +%s%N) / 1000000 - start_ms)) -lt 2000 ] || fail "zone add: no signconf within 2 s"
	sleep 0.01
done
enf zone add -z added.example >"$D/out" 2>&1 && fail "the same zone was added twice"
grep -q "already exists" "$D/out" || fail "second add: $(cat "$D/out")"
# To an RSA policy: an algorithm rollover starts, the new keys are published.
enf zone set-policy -z added.example -p rsa-nsec >/dev/null || fail "zone set-policy"
wait_idle
grep -q "<Algorithm>8</Algorithm>" "$D/sc/added.example.xml" ||
	fail "set-policy: the signconf does not publish the RSA keys of the new policy"
grep -q "<Algorithm>13</Algorithm>" "$D/sc/added.example.xml" ||
	fail "set-policy: the old algorithm was dropped at once (an algorithm rollover keeps it until safe)"
enf zone delete -z added.example >/dev/null || fail "zone delete"
enf zone list | grep -q "added.example" && fail "a deleted zone is still listed"
enf zone delete -z added.example >"$D/out" 2>&1 && fail "deleting a missing zone succeeded"

# 5. Capacity, then RequireBackup (conf.xml edited, tandemd restarted)
cl_stop 1
keys=$("$CL_PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM keys").fetchone()[0])' "$D/n1/data/state.db")
sed -i "s|</PIN>|</PIN><Capacity>$keys</Capacity>|" "$(cl_conf 1)"
start_node
wait_idle any
# Drain the pool: each zone of "default" takes two keys, none can be made.
waiting=0
for i in $(seq 40); do
	enf zone add -z "full$i.example" -p default >/dev/null || fail "zone add (full repository)"
	wait_idle any
	waiting=$(enf --json queue | "$CL_PY" -c 'import json,sys; print(json.load(sys.stdin)["waiting_for_keys"])')
	[ "$waiting" -ge 1 ] && break
done
[ "$waiting" -ge 1 ] || fail "with the repository at its Capacity, no zone waits for keys"
grep -q "repository SoftHSM is full" "$D/n1/log" || fail "no 'repository is full' message in the log"
cl_stop 1
sed -i "s|<Capacity>$keys</Capacity>|<RequireBackup/>|" "$(cl_conf 1)"
start_node
wait_idle any
enf zone add -z backup.example -p default -s "$D/sc/backup.example.xml" >/dev/null || fail "zone add (RequireBackup)"
sleep 1
[ -e "$D/sc/backup.example.xml" ] && fail "a zone got keys that were never backed up"
grep -q "RequireBackup" "$D/n1/log" || fail "no RequireBackup message in the log"
enf backup prepare >/dev/null || fail "backup prepare"
enf backup commit >/dev/null || fail "backup commit"
for _ in $(seq 100); do [ -s "$D/sc/backup.example.xml" ] && break; sleep 0.1; done
[ -s "$D/sc/backup.example.xml" ] || fail "backup commit did not release the keys"
# 6. DelegationSignerSubmitCommand: run with the KSK's DNSKEY on its stdin;
#    its success marks the DS submitted (as key ds-submit).
cl_stop 1
printf '#!/bin/sh\ncat >>"%s/ds-submitted.txt"\n' "$D" >"$D/ds-submit.sh"
chmod +x "$D/ds-submit.sh"
sed -i -e "s|<RequireBackup/>||" \
	-e "s|</Datastore>|</Datastore><DelegationSignerSubmitCommand>$D/ds-submit.sh</DelegationSignerSubmitCommand><RolloverNotification>P400D</RolloverNotification>|" "$(cl_conf 1)"
start_node
wait_idle any
enf zone add -z ds.example -p default >/dev/null || fail "zone add ds.example"
wait_idle any
for _ in $(seq 12); do
	grep -q "^ds.example.*DNSKEY.*257 3 13 " "$D/ds-submitted.txt" 2>/dev/null && break
	enf time leap >/dev/null || fail "time leap"
	wait_idle any
done
grep -q "^ds.example.*DNSKEY.*257 3 13 " "$D/ds-submitted.txt" 2>/dev/null ||
	fail "DelegationSignerSubmitCommand never got ds.example's KSK: $(cat "$D/ds-submitted.txt" 2>&1 | head -3)"
state=
for _ in $(seq 50); do
	state=$(enf --json key list -d -z ds.example | "$CL_PY" -c 'import json,sys
print(" ".join(k["ds_at_parent"] for k in json.load(sys.stdin) if k["keytype"] == "KSK"))')
	[ "$state" = submitted ] && break
	sleep 0.1
done
[ "$state" = submitted ] || fail "after DelegationSignerSubmitCommand the KSK's DS is \"$state\", not submitted"
# A DS event the key is not eligible for is refused (exit 1) and changes nothing.
tag=$(enf --json key list -d -z ds.example | "$CL_PY" -c 'import json,sys
print(" ".join(str(k["keytag"]) for k in json.load(sys.stdin) if k["keytype"] == "KSK"))')
enf key ds-gone -z ds.example -x "$tag" >"$D/out" 2>&1 && fail "ds-gone of a submitted DS succeeded: $(cat "$D/out")"
grep -q "error:" "$D/out" || fail "ds-gone refusal without an error line: $(cat "$D/out")"
# <RolloverNotification> P400D: every automatic rollover of ds.example is announced.
grep -q "zone ds.example: the KSK .* rolls over at .*(RolloverNotification)" "$D/n1/log" ||
	fail "no RolloverNotification notice for ds.example's KSK"

# 7. key import (a migration keeps its keys): a key made in the token with
#    <AllowExtraction/> (as OpenDNSSEC's) is wrapped into the ledger and
#    taken by the zone as its active KSK, DS at the parent; the KSK the zone
#    got at zone add retires in its favour.
cl_stop 1
sed -i "s|</PIN>|</PIN><AllowExtraction/>|" "$(cl_conf 1)"
HSMUTIL=$(cl_bin tandem-hsmutil) || exit 99
old_ksk=$(SOFTHSM2_CONF="$D/n1/softhsm/softhsm2.conf" "$HSMUTIL" -c "$(cl_conf 1)" --json generate SoftHSM 13 --local |
	"$CL_PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])') || fail "tandem-hsmutil generate --local"
start_node
wait_idle any
enf zone add -z migrated.example -p default >/dev/null || fail "zone add migrated.example"
wait_idle any
enf key import -k "$old_ksk" -r SoftHSM -z migrated.example -b 256 -g 13 -e active -t KSK \
	-w 2026-06-01-00:00:00 >"$D/out" 2>&1 || fail "key import: $(cat "$D/out")"
wait_idle any
enf --json key list -d -a -z migrated.example >"$D/keys.json" || fail "key list"
"$CL_PY" - "$D/keys.json" "$old_ksk" <<'PY' || fail "key import: $(cat "$D/keys.json")"
import json, sys
keys, old = json.load(open(sys.argv[1])), sys.argv[2].lower()
imp = [k for k in keys if k["cka_id"].lower() == old]
assert len(imp) == 1, "the imported key is not in the zone"
k = imp[0]
assert k["keytype"] == "KSK" and k["ds_at_parent"] == "seen", k
others = [x for x in keys if x["keytype"] == "KSK" and x["cka_id"].lower() != old]
assert all(x.get("goal", "retire") == "retire" or x["state"] in ("retire", "dead") for x in others), others
PY
grep -q "<Locator>$old_ksk</Locator>" "$(ls "$D"/n1/data/signconf/migrated.example.xml)" ||
	fail "the signconf of migrated.example does not name the imported KSK"
enf key import -k "$old_ksk" -r SoftHSM -z migrated.example -b 256 -g 13 -e active -t KSK \
	-w 2026-06-01-00:00:00 >"$D/out" 2>&1 && fail "the same key was imported twice"

echo "PASS: $N zones imported and enforced, export/import round trip, refusals, zone add/delete/set-policy, Capacity, RequireBackup, DelegationSignerSubmitCommand, RolloverNotification, key import"
