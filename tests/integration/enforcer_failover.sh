#!/bin/bash
# enforcer_failover.sh: a failover in the middle of a KSK rollover (kill -9
# of the leader between ds-submit and ds-seen) continues the rollover on
# the new leader without a step lost or repeated.
#
# Three tandemd nodes (SoftHSM tokens, all with the same TANDEM_FAKE_TIME;
# the enforcer's time is max(clock, the last committed ENFORCE time)), one
# zone under a policy with KSK 180 days / ZSK one year (NSEC).  The test is
# the parent (as in enforcer_daemon.sh, tests/integration/rollover_lib.sh)
# and judges every step the same way (tandem-signzone --ledger on the node
# that answers, ldns-verify-zone/dnssec-verify/kzonecheck with the DS set
# the parent holds).  On day 5-6 `key rollover -t KSK`; when the new KSK's
# DS has been ds-submit'ed (ds-seen not yet given), the record states are
# saved and the leader is killed with SIGKILL.  Then:
#   - a new leader is elected among the two others;
#   - `key list -d --json` through a FOLLOWER (forwarded) gives exactly the
#     saved states (nothing lost, nothing applied twice);
#   - ds-seen (and the rest of the rollover: ds-retract, ds-gone, time leap)
#     goes through the follower's CLI until the old KSK is hidden in every
#     record and its DS is gone;
#   - after every step each record of each key (DS, DNSKEY, RRSIG-DNSKEY,
#     RRSIG) only moves forward in hidden -> rumoured -> omnipresent ->
#     unretentive -> hidden, and ds_at_parent forward in unsubmitted ->
#     submit -> submitted -> seen -> retract -> retracted (no step
#     repeated, none undone);
#   - the zone, signed with the NEW leader's state.db and token, validates
#     with the new DS only (and not with the old one: the canary).
set -u
: "${TDM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TDM_SRCDIR/tests/integration/cluster_lib.sh"
. "$TDM_SRCDIR/tests/integration/lib.sh"
. "$TDM_SRCDIR/tests/integration/rollover_lib.sh"
enf_prologue enforcer_failover
sample=all

CL_SOFTHSM=1 cl_init 3 || exit 99
tmp=$CL_DIR/test
mkdir -p "$tmp/cache" "$tmp/zones"
JUDGE_LOG=$tmp/judge.log
T0=$(( 1893456000 + RANDOM * 2 ))
END2=$(( T0 + 400 * DAY ))
ZONE=failover.test
declare -A TWO_YEARS=()
{
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	echo '<KASP>'
	policy_xml ksk nsec "$(key_xml KSK 13 0 P180D; key_xml ZSK 13 0 P1Y)"
	echo '</KASP>'
} >"$CL_DIR/kasp.xml"
make_zone "$ZONE"

for i in 1 2 3; do TANDEM_FAKE_TIME=$T0 cl_start "$i"; done
leader=$(cl_wait_leader 30) || cl_fail "no leader"
ENF_NODE=$leader
ENF="$enforcer -c $(cl_conf "$leader")"
enf_wait_ready "$leader" || cl_fail "node $leader is not ready"
# Every node must hold the cluster KEK before the leader is killed: the new
# leader's token unwraps the keys (tandem-signzone --ledger, pool keys).
# Under the sanitizers the NODE_ADD hand-over can take seconds.
for i in 1 2 3; do
	[ "$i" = "$leader" ] && continue
	for _ in $(seq 600); do grep -q "cluster KEK received" "$CL_DIR/n$i/log" && break; sleep 0.05; done
	grep -q "cluster KEK received" "$CL_DIR/n$i/log" || cl_fail "node $i never received the cluster KEK"
done
$ENF policy import >/dev/null || cl_fail "policy import"
$ENF zone add -z "$ZONE" -p ksk >/dev/null || cl_fail "zone add"
sleep 0.5
enf_wait_pool || cl_fail "pool keys not generated"

# states: key -> positions in the cycle, checked after every step.
echo '{}' >"$tmp/pos.json"
monotone() { # LABEL: every record of every key moved forward only
	"$TDM_PYTHON" - "$tmp/keys.json" "$tmp/pos.json" "$1" <<'EOP'
import json, sys
keys, pos_file, label = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
pos = json.load(open(pos_file))
cyc = ["hidden", "rumoured", "omnipresent", "unretentive"]
dsq = ["unsubmitted", "submit", "submitted", "seen", "retract", "retracted", "gone"]
bad = 0
for k in keys:
    p = pos.setdefault(k["key"], {})
    for r in ("ds", "dnskey", "rrsig_dnskey", "rrsig"):
        s = cyc.index(k[r]); old = p.get(r, 0)
        new = old
        while new % 4 != s:
            new += 1
        if new > 4:
            print("FAIL %s: key %s (%s %d) %s went past a full cycle (%s, position %d -> %d)"
                  % (label, k["key"], k["keytype"], k["keytag"], r, k[r], old, new)); bad += 1
        p[r] = new
    d = dsq.index(k["ds_at_parent"]); old = p.get("ds_at_parent", 0)
    if d == 0 and old >= 5:
        d = 6  # ds-gone: the enforcer forgets the DS (unsubmitted again), for good
    if d < old:
        print("FAIL %s: key %s (%s %d) ds_at_parent went back: %s -> %s"
              % (label, k["key"], k["keytype"], k["keytag"], dsq[old], k["ds_at_parent"])); bad += 1
    p["ds_at_parent"] = max(d, old)
json.dump(pos, open(pos_file, "w"))
sys.exit(1 if bad else 0)
EOP
}
# The cycle check above lets a record go hidden -> ... -> hidden once; a
# record that moved back (e.g. omnipresent -> rumoured) needs a second
# cycle and is reported.
mono_fail=0
step() { # after every enforcer step: parent, monotonicity, judge
	enf_parent "$now" || cl_fail "parent step at $now"
	monotone "day $(day "$now")" || mono_fail=$((mono_fail + 1))
	enf_check_zone "$ZONE" "$now"
}

now=$T0 steps=0 checked=0 skipped=0 failed=0
t_roll=$(( T0 + 5 * DAY + RANDOM * 2 ))
rolled= killed= new_ksk=
while :; do
	step
	if [ -z "$rolled" ] && [ "$now" -ge "$t_roll" ]; then
		$ENF key rollover -z "$ZONE" -t KSK >/dev/null || cl_fail "key rollover -t KSK"
		echo "     day $(day "$now"): key rollover -z $ZONE -t KSK"
		rolled=1; $ENF enforce -z "$ZONE" >/dev/null
		continue
	fi
	# The new KSK's DS was submitted, not yet seen: fail the leader over.
	if [ -n "$rolled" ] && [ -z "$killed" ] && grep -q " seen $ZONE " "$tmp/pending"; then
		new_ksk=$(awk -v z="$ZONE" '$2 == "seen" && $3 == z { print $4 }' "$tmp/pending")
		old_ksk=$(awk -v n="$new_ksk" '$3 == "KSK" && $2 != n { print $2 }' "$tmp/keys.txt")
		cp "$tmp/keys.json" "$tmp/before.json"
		echo "     day $(day "$now"): DS of the new KSK ${ID[$new_ksk]} submitted; kill -9 of the leader, node $leader"
		cl_kill "$leader" KILL
		follower=
		for i in 1 2 3; do [ "$i" = "$leader" ] || { follower=$i; break; }; done
		newl=0
		for _ in $(seq 1 300); do
			newl=$(cl_leader_from "$follower")
			[ "$newl" != 0 ] && [ "$newl" != "$leader" ] && break
			sleep 0.1
		done
		[ "$newl" != 0 ] && [ "$newl" != "$leader" ] || cl_fail "no new leader after the kill"
		for i in 1 2 3; do [ "$i" != "$leader" ] && [ "$i" != "$newl" ] && follower=$i; done
		echo "     new leader node $newl; the CLI now talks to follower node $follower"
		ENF="$enforcer -c $(cl_conf "$follower")"
		ENF_NODE=$newl
		ENF_SYNC_FOLLOWER=$follower
		enf_wait_pool >/dev/null
		enf_sync || cl_fail "the follower did not catch up with the new leader"
		$ENF --json key list -d -a >"$tmp/after.json" || cl_fail "key list through the follower"
		if ! "$TDM_PYTHON" - "$tmp/before.json" "$tmp/after.json" <<'EOP'
import json, sys
rec = ("keytype", "ds", "ds_since", "dnskey", "dnskey_since", "rrsig_dnskey", "rrsig_dnskey_since",
       "rrsig", "rrsig_since", "ds_at_parent", "ds_at_parent_since", "goal")
b = {k["key"]: [k[r] for r in rec] for k in json.load(open(sys.argv[1]))}
a = {k["key"]: [k[r] for r in rec] for k in json.load(open(sys.argv[2]))}
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            print("  key %s: before %s\n  %*s after  %s" % (k, b.get(k), len(k), "", a.get(k)))
    sys.exit(1)
EOP
		then
			cl_fail "record states differ after the failover"
		fi
		echo "ok   the record states after the failover equal those before ($(grep -o '"key"' "$tmp/after.json" | wc -l) keys)"
		killed=1
		continue
	fi
	if [ -n "$killed" ] && awk -v o="$old_ksk" '$2 == o && $8 == "hidden" && $9 == "hidden" && $10 == "hidden" { f = 1 } END { exit !f }' "$tmp/keys.txt" &&
	   ! grep -q " $old_ksk " "$tmp/pending" && ! grep -q "$old_ksk" <<<"${DSSET[$ZONE]}"; then
		echo "ok   day $(day "$now"): the old KSK ${ID[$old_ksk]} is hidden in every record and its DS is gone"
		break
	fi
	[ "$now" -lt "$END2" ] || cl_fail "the rollover did not complete by day 400"
	enf_leap "$now" $([ -n "$rolled" ] || echo "$t_roll") || cl_fail "time leap after $now"
	now=$LEAP_NOW
	steps=$((steps + 1))
done

# The zone as the new leader signs it validates with the new DS only.
zone=$ZONE
read -r ds pub ks zs <"$tmp/$ZONE/last"
[ "$ds" = "$new_ksk" ] || { echo "FAIL: the parent holds $(ids "$ds"), not the new KSK's DS"; failed=$((failed + 1)); }
words=$(judge "$tmp/$ZONE/signed.zone" "${LAST_T[$ZONE]}" "$old_ksk" "$pub" "$ks" "$zs")
case $words in
*"ldns[13]=FAIL"*) echo "ok   canary: the old KSK's DS no longer validates the zone" ;;
*) echo "FAIL canary: the old KSK's DS still validates the zone ($words)"; failed=$((failed + 1)) ;;
esac
echo "enforcer_failover: TDM_SEED=$seed; $steps time leaps, $checked zone states validated, $failed failed, $mono_fail steps with a record moving back, $(( $(date +%s) - started )) s"
for l in "${fail_lines[@]}"; do echo "FAILED: $l"; done
[ -n "$killed" ] && [ $failed = 0 ] && [ $mono_fail = 0 ]
