#!/bin/bash
# enforcer_daemon.sh: tandemd's enforcer (leader, one real node) driven
# through simulated years with `time leap` never makes a zone bogus, as
# tandem-signzone --ledger signs it from the node's own signconf and ledger
# and ldns-verify-zone, dnssec-verify and kzonecheck judge it (the judges of
# tests/integration/rollover_lib.sh, as in enforcer_rollover.sh).
#
# One tandemd (SoftHSM token, TANDEM_FAKE_TIME), one kasp.xml with four
# policies, one zone each, on one simulated timeline:
#   zsk30.test   KSK 180 days, ZSK 30 days, NSEC3, two years;
#   csk.test     CSK 90 days, NSEC, two years;
#   alg.test     RSA/SHA-256 KSK and ZSK, then on day 40-45 the policy is
#                changed to ECDSA P-256 (`policy import` of a changed
#                kasp.xml): an algorithm rollover 8 -> 13; checked 150 days;
#   emerg.test   KSK 180 / ZSK 30 days, NSEC; `key rollover -t ZSK` on day
#                10-15 (mid-life), again one to two days later; 120 days.
# The parent: when a key's ds_at_parent says "submit" (`key list --json`),
# the test runs `key ds-submit -z Z -x TAG`; the parent publishes the DS a
# RegistrationDelay later (the test leaps there with `time leap -t` if no
# enforcer step comes first) and the test says `key ds-seen`; the same for
# "retract" -> ds-retract ... ds-gone.  The trust anchor of every check is
# the DS set the parent holds at that moment (none: the zone is judged as
# insecure).
#
# What is checked: at every step where a zone's signconf or its DS set
# changed, the zone is signed at the new time T and judged (validators,
# and the DNSKEY RRset and signers against the signconf); then the same
# zone is re-signed with the PREVIOUS signconf at T - 1 min and judged with
# the previous DS set (the last moment of the old state).  Sampling of the
# two-year zones: every change of days 0-60 and of the last 60 days, every
# change of the DS set or of the keys signing the DNSKEY RRset, and a
# random 1 in TDM_ENFORCER_SAMPLE (default 3; "all" checks every change)
# of the others.  TDM_SEED replays the random choices.
#
# The checks must be able to fail: the canary judges the last zsk30.test
# output with the DS of csk.test's key as trust anchor (ldns-verify-zone
# must refuse it) and 30 days after its last signing (every validator must
# refuse expired signatures); tandem-signzone --ledger with a fresh token
# (no cluster KEK) must refuse to sign.
set -u
: "${TDM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TDM_SRCDIR/tests/integration/cluster_lib.sh"
. "$TDM_SRCDIR/tests/integration/lib.sh"
. "$TDM_SRCDIR/tests/integration/rollover_lib.sh"
enf_prologue enforcer_daemon
sample=${TDM_ENFORCER_SAMPLE:-3}

CL_SOFTHSM=1 cl_init 1 || exit 99
ENF_NODE=1
ENF="$enforcer -c $(cl_conf 1)"
tmp=$CL_DIR/test
mkdir -p "$tmp/cache" "$tmp/zones"
JUDGE_LOG=$tmp/judge.log
# 2030-01-01 plus up to a day.
T0=$(( 1893456000 + RANDOM * 2 ))
END2=$(( T0 + 730 * DAY ))

ZONES="zsk30.test csk.test alg.test emerg.test"
declare -A POLICY=([zsk30.test]=zsk30 [csk.test]=csk [alg.test]=alg [emerg.test]=emerg)
declare -A DENIAL=([zsk30.test]=nsec3 [csk.test]=nsec [alg.test]=nsec3 [emerg.test]=nsec)
declare -A UNTIL=([zsk30.test]=$END2 [csk.test]=$END2 [alg.test]=$(( T0 + 150 * DAY ))
		  [emerg.test]=$(( T0 + 120 * DAY )))
declare -A TWO_YEARS=([zsk30.test]=1 [csk.test]=1)

write_policies() { # FILE ALG_POLICY_KEYS
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		echo '<KASP>'
		policy_xml zsk30 nsec3 "$(key_xml KSK 13 0 P180D; key_xml ZSK 13 0 P30D)"
		policy_xml csk nsec "$(key_xml CSK 13 0 P90D)"
		policy_xml alg nsec3 "$2"
		policy_xml emerg nsec "$(key_xml KSK 13 0 P180D; key_xml ZSK 13 0 P30D)"
		echo '</KASP>'
	} >"$1"
}
write_policies "$CL_DIR/kasp.xml" "$(key_xml KSK 8 2048 P180D; key_xml ZSK 8 1024 P30D)"
for z in $ZONES; do make_zone "$z"; done

TANDEM_FAKE_TIME=$T0 cl_start 1
enf_wait_ready 1 || cl_fail "tandemd did not become leader"
$ENF policy import >/dev/null || cl_fail "policy import"
# One zone at a time, each after the pool keys of the one before are made:
# two pool generations at once crash tandemd (SIGSEGV in pool.c gen_work,
# hsm_key_dnskey_rdata's error path; reported to the lead).
for z in $ZONES; do
	$ENF zone add -z "$z" -p "${POLICY[$z]}" >/dev/null || cl_fail "zone add $z"
	sleep 0.5
	enf_wait_pool || cl_fail "pool keys for $z not generated in 60 s"
done

# Scripted events.
t_alg=$(( T0 + 40 * DAY + RANDOM * 13 ))
t_em1=$(( T0 + 10 * DAY + RANDOM * 13 ))
t_em2=$(( t_em1 + DAY + RANDOM * 2 ))
done_alg= done_em1= done_em2=

now=$T0 steps=0 checked=0 skipped=0 failed=0
while :; do
	enf_parent "$now" || cl_fail "parent step at $now"
	for z in $ZONES; do
		[ "$now" -le "${UNTIL[$z]}" ] || continue
		enf_check_zone "$z" "$now"
	done
	# Scripted operator actions (then the enforcer runs at once).
	if [ -z "$done_alg" ] && [ "$now" -ge "$t_alg" ]; then
		write_policies "$CL_DIR/kasp.xml" "$(key_xml KSK 13 0 P180D; key_xml ZSK 13 0 P30D)"
		$ENF policy import >/dev/null || cl_fail "policy import (algorithm 13)"
		echo "     day $(day "$now"): policy alg changed to algorithm 13 (policy import)"
		done_alg=1; $ENF enforce >/dev/null; continue
	fi
	for e in em1 em2; do
		eval "te=\$t_$e; de=\$done_$e"
		if [ -z "$de" ] && [ "$now" -ge "$te" ]; then
			$ENF key rollover -z emerg.test -t ZSK >/dev/null || cl_fail "key rollover emerg.test"
			echo "     day $(day "$now"): key rollover -z emerg.test -t ZSK"
			eval "done_$e=1"; $ENF enforce >/dev/null; continue 2
		fi
	done
	for z in alg.test emerg.test; do
		if [ "$now" -gt "${UNTIL[$z]}" ] && [ -z "${GONE[$z]:-}" ]; then
			$ENF zone delete -z "$z" >/dev/null || cl_fail "zone delete $z"
			GONE[$z]=1
		fi
	done
	[ "$now" -lt "$END2" ] || break
	enf_leap "$now" $([ -n "$done_alg" ] || echo "$t_alg") $([ -n "$done_em1" ] || echo "$t_em1") \
		$([ -n "$done_em2" ] || echo "$t_em2") || cl_fail "time leap after $now"
	now=$LEAP_NOW
	steps=$((steps + 1))
	[ "$steps" -lt 2000 ] || cl_fail "more than 2000 steps"
done

# Canaries.
canary_fail=0
zone=zsk30.test
f=$tmp/zsk30.test/signed.zone
read -r ds pub ks zs <"$tmp/zsk30.test/last"
words=$(judge "$f" "$(( LAST_T[$zone] + 30 * DAY ))" "$ds" "$pub" "$ks" "$zs")
for v in ldns bind knot; do
	case $words in
	*"$v=FAIL"*|*"${v}["*"]=FAIL"*) ;;
	*) echo "FAIL canary: $v does not refuse signatures expired for weeks ($words)"; canary_fail=$((canary_fail + 1)) ;;
	esac
done
stranger=$(enf_ksk_of csk.test)
words=$(judge "$f" "${LAST_T[$zone]}" "$stranger" "$pub" "$ks" "$zs")
case $words in
*"ldns[13]=FAIL"*) ;;
*) echo "FAIL canary: a DS of csk.test's key validates zsk30.test ($words)"; canary_fail=$((canary_fail + 1)) ;;
esac
# tandem-signzone --ledger with a token that lacks the cluster KEK must
# refuse (and name the key), not sign.
mkdir -p "$tmp/foreign/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
	"$tmp/foreign" >"$tmp/foreign/softhsm2.conf"
SOFTHSM2_CONF="$tmp/foreign/softhsm2.conf" softhsm2-util --init-token --free --label node1 \
	--pin 1234 --so-pin 5678 >/dev/null || { echo "ERROR: softhsm2-util"; exit 99; }
sc=$(awk -v z=zsk30.test '$1 == z { print $2 }' "$tmp/signconf.paths")
[ -n "$sc" ] || sc=$CL_DIR/n1/data/signconf/zsk30.test.xml
if out=$(cd "$tmp/zones" && SOFTHSM2_CONF="$tmp/foreign/softhsm2.conf" "$signzone" -c "$(cl_conf 1)" \
		-s "$sc" --ledger "$CL_DIR/n1/data/state.db" --now "${LAST_T[$zone]}" --workers 1 \
		zsk30.test.zone "$tmp/foreign/signed.zone" 2>&1); then
	echo "FAIL canary: tandem-signzone --ledger signed with a token without the cluster KEK"
	canary_fail=$((canary_fail + 1))
else
	case $out in
	*"ledger key "*) ;;
	*) echo "FAIL canary: tandem-signzone --ledger without the KEK: unexpected message: $out"
	   canary_fail=$((canary_fail + 1)) ;;
	esac
fi
[ $canary_fail = 0 ] && echo "ok   canaries: expired signatures refused by ldns, bind and knot; another zone's DS refused by ldns; a token without the cluster KEK refused by tandem-signzone --ledger"

for z in zsk30.test csk.test; do
	if ! tdm_compare "$z" "${DENIAL[$z]}" "$tmp/zones/$z.zone" "$tmp/$z/signed.zone" >"$tmp/compare.log" 2>&1; then
		echo "FAIL $z: zone_compare on the last output: $(tail -n1 "$tmp/compare.log")"
		failed=$((failed + 1))
	fi
done
echo "enforcer_daemon: TDM_SEED=$seed; $steps time leaps, $checked zone states validated (at the step and just before the next), $skipped skipped by sampling, $failed failed, $ENF_SUBMITS DS submitted, $ENF_GONES withdrawn, $(( $(date +%s) - started )) s"
for l in "${fail_lines[@]}"; do echo "FAILED: $l"; done
[ $failed = 0 ] && [ $canary_fail = 0 ] && [ "$ENF_SUBMITS" -gt 0 ] && [ "$ENF_GONES" -gt 0 ]
