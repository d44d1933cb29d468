#!/bin/bash
# enforcer_rollover.sh: rollovers planned by the enforcer core never make
# the zone bogus, as the REAL signer signs it and REAL validators judge it.
#
# For each scenario, rollover_driver (tests/integration/rollover_driver.c)
# steps the enforcer through simulated time with a simulated parent (DS
# requests applied after the RegistrationDelay plus a random extra, ds-seen
# and ds-gone reported after the parent's PropagationDelay plus a random
# extra) and writes the signconf of every step, whose Locators are CKA_IDs
# of keys generated in a private SoftHSM2 token.  Then, for each validated
# step, at its time T and again at the midpoint M before the next step:
#
#   - tandem-signzone --now T (then M) signs examples/zones/example.com.zone,
#     re-using its previous output (signature reuse is exercised);
#   - ldns-verify-zone -t T, once per algorithm of the parent's DS RRset,
#     with -k the DS records of that algorithm the parent publishes then
#     (derived with tandem-hsmutil dnskey + ldns-key2ds): one of them must
#     lead to a signed DNSKEY RRset and the whole zone must verify; without
#     a DS at the parent (insecure) the zone is verified on its own;
#   - dnssec-verify -o ZONE (-z while a CSK signs) with its wall clock set
#     to T (fake_now.so; it has no time option, and libfaketime hangs in
#     BIND's jemalloc);
#   - kzonecheck -o ZONE -d on -t T (Knot 3.2 refuses any zone with two
#     CSKs published: during a CSK rollover its one finding "no valid
#     signature for a record" is reported as knot=skipped(csk) and counted);
#   - the DNSKEY RRset holds exactly the keys the signconf publishes, and the
#     DNSKEY RRset and the SOA are signed by exactly the keys it says.
# Any failure names scenario, step, time and the validator's words.
#
# Scenarios: ZSK 30 days / KSK 180 days over two years (NSEC3); CSK over two
# years (NSEC); algorithm rollover 8 -> 13; emergency ZSK (and KSK)
# rollovers.  The two-year scenarios are sampled: every step of the first
# and last 60 days, and in between every step where the parent's DS set or
# the keys signing the DNSKEY RRset change plus a random 1 in 4 of the
# others (TDM_ROLLOVER_SAMPLE=all checks every step, =N 1 in N).  The seed (TDM_SEED, random when unset) picks the start time,
# the parent's delays, the NSEC3 salt, the moments of the policy change and
# the emergency rollovers, and which steps are sampled; rerun with the
# printed TDM_SEED to replay.  TDM_SCENARIOS narrows the run ("zsk30-ksk180
# csk algorithm-8-13 emergency mutant").
#
# The checks must be able to fail: the scenario "mutant" runs a broken
# enforcer (rollover_driver --mutate withdraws a retiring KSK's DNSKEY while
# its DS is still at the parent) and passes only if that is caught; then
# canaries judge the last signed zone 30 days after its midpoint (every
# validator must refuse it) and with the DS of a key the zone does not have
# (ldns-verify-zone must refuse it).
set -u
: "${TDM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TDM_SRCDIR/tests/lib/softhsm.sh"
. "$TDM_SRCDIR/tests/integration/lib.sh"
. "$TDM_SRCDIR/tests/integration/rollover_lib.sh"
tdm_require_bins tandem-signzone tandem-hsmutil
signzone=$(tdm_bin tandem-signzone)
hsmutil=$(tdm_bin tandem-hsmutil)
driver=$TDM_BUILDDIR/tests/integration/rollover_driver
fakenow=$TDM_BUILDDIR/tests/integration/fake_now.so
for f in "$driver" "$fakenow"; do
	[ -e "$f" ] || { echo "ERROR: $f is not built (make check builds it)"; exit 99; }
done
for t in ldns-verify-zone ldns-key2ds dnssec-verify kzonecheck; do
	command -v "$t" >/dev/null || { echo "ERROR: $t is not installed"; exit 99; }
done

seed=${TDM_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed
echo "enforcer_rollover: TDM_SEED=$seed (replay: TDM_SEED=$seed $0)"
started=$(date +%s)

tmp=$(tdm_tmpdir)
trap 'rm -rf "$tmp"' EXIT
tdm_softhsm_token "$tmp" rollover 1234 5678 >/dev/null || { echo "ERROR: no token"; exit 99; }
tdm_write_conf "$tmp/conf.xml" "$tmp" rollover 1234
zone=example.com
unsigned=$TDM_SRCDIR/examples/zones/$zone.zone
DAY=86400
# 2030-01-01 plus up to a day: a fixed era, a seeded time of day.
T0=$(( 1893456000 + RANDOM * 2 ))
pool=$tmp/pool
: >"$pool"
mkdir -p "$tmp/cache"

# write_kasp FILE DENIAL KEYS_XML: one policy with the timing the enforcer
# unit tests use (zone propagation 12 h, key TTL 1 h, MaxZoneTTL 1 day,
# parent: DS TTL 1 h, propagation 2 h, registration 1 h).
write_kasp() {
	local denial
	case $2 in
	nsec) denial='<NSEC/>' ;;
	nsec3) denial='<NSEC3><Resalt>P100D</Resalt><Hash><Algorithm>1</Algorithm><Iterations>0</Iterations><Salt length="4"/></Hash></NSEC3>' ;;
	esac
	cat >"$1" <<EOK
<?xml version="1.0" encoding="UTF-8"?>
<KASP><Policy name="rollover"><Description>enforcer_rollover.sh</Description>
<Signatures><Resign>PT2H</Resign><Refresh>P3D</Refresh>
<Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>
<Jitter>PT12H</Jitter><InceptionOffset>PT3600S</InceptionOffset><MaxZoneTTL>P1D</MaxZoneTTL></Signatures>
<Denial>$denial</Denial>
<Keys><TTL>PT3600S</TTL><RetireSafety>PT3600S</RetireSafety><PublishSafety>PT3600S</PublishSafety><Purge>P14D</Purge>
$3
</Keys>
<Zone><PropagationDelay>PT12H</PropagationDelay><SOA><TTL>PT3600S</TTL><Minimum>PT300S</Minimum><Serial>unixtime</Serial></SOA></Zone>
<Parent><PropagationDelay>PT2H</PropagationDelay><DS><TTL>PT3600S</TTL></DS><SOA><TTL>PT172800S</TTL><Minimum>PT10800S</Minimum></SOA><RegistrationDelay>PT1H</RegistrationDelay></Parent>
</Policy></KASP>
EOK
}

# fill_pool: generate keys until the pool holds what `rollover_driver
# --count-keys` says the run needs ("ALG BITS N" lines on stdin).
fill_pool() {
	local alg bits n have id
	while read -r alg bits n; do
		have=$(awk -v a="$alg" -v b="$bits" '$1 == a && (b == 0 || $2 == b)' "$pool" | wc -l)
		while [ "$have" -lt "$n" ]; do
			case $alg in
			5|7|8|10) id=$(quick tdm_keygen "$tmp/conf.xml" "$alg" "$bits") ;;
			*) id=$(quick tdm_keygen "$tmp/conf.xml" "$alg") ;;
			esac || { echo "ERROR: key generation, algorithm $alg bits $bits"; exit 99; }
			printf '%s %s %s\n' "$alg" "$bits" "$id" >>"$pool"
			have=$((have + 1))
		done
	done
}

# key_info LOCATOR FLAGS ALG: cache/LOC.FLAGS.{dnskey,ds,tag} from the HSM.
key_info() {
	local c=$tmp/cache/$1.$2
	[ -f "$c.tag" ] && return 0
	quick "$hsmutil" -c "$tmp/conf.xml" dnskey "$1" "$zone" "$2" "$3" >"$c.dnskey" ||
		{ echo "ERROR: tandem-hsmutil dnskey $1"; return 1; }
	sed -n 's/.*id = \([0-9]*\).*/\1/p' "$c.dnskey" >"$c.tag"
	if [ "$2" = 257 ]; then
		ldns-key2ds -n -2 "$c.dnskey" >"$c.ds" || { echo "ERROR: ldns-key2ds $1"; return 1; }
	fi
}

declare -A ALG FLAGS ID
load_keys() {
	local loc id role alg bits
	ALG=() FLAGS=() ID=()
	while read -r loc id role alg bits; do
		ALG[$loc]=$alg ID[$loc]=$id
		[ "$role" = ZSK ] && FLAGS[$loc]=256 || FLAGS[$loc]=257
		key_info "$loc" "${FLAGS[$loc]}" "$alg" || exit 99
	done <"$1"
}

JUDGE_LOG=$tmp/judge.log

# sign SIGNCONF T OUT LOG [full]
sign() {
	local q=quick
	[ "${5:-}" = full ] && q=
	(cd "$TDM_SRCDIR/examples/zones" &&
	 $q "$signzone" -c "$tmp/conf.xml" -s "$1" -z "$zone" --now "$2" --workers 1 "$zone.zone" "$3") >"$4" 2>&1
}

day() { awk -v t="$1" -v t0="$T0" 'BEGIN { printf "%.2f", (t - t0) / 86400 }'; }

total_steps=0 total_checked=0 total_fail=0 total_reused=0 total_made=0 total_skips=0
fail_lines=()

# scenario NAME DAYS DENIAL KASP [driver options...]
scenario() {
	local name=$1 days=$2 denial=$3 kasp=$4
	shift 4
	local dir=$tmp/$name salt='' end n=0 checked=0 skipped=0 failed=0 sample
	local i t mid sc ds pub ks zs what when at words words_t='' log made reused mode
	mkdir -p "$dir"
	[ "$denial" = nsec3 ] && salt=$(printf '%04x%04x' $RANDOM $RANDOM)
	local args=(--kasp "$kasp" --zone "$zone" --out "$dir" --start "$T0" --days "$days"
		    --seed "$seed" --salt "$salt" "$@")
	"$driver" "${args[@]}" --count-keys >"$dir/needs" || { echo "FAIL $name: rollover_driver --count-keys"; total_fail=$((total_fail + 1)); return; }
	fill_pool <"$dir/needs"
	if ! "$driver" "${args[@]}" --keys "$pool" 2>"$dir/driver.log"; then
		cat "$dir/driver.log"
		echo "FAIL $name: rollover_driver"
		total_fail=$((total_fail + 1))
		return
	fi
	load_keys "$dir/keys"
	end=$(( T0 + days * DAY ))
	sample=${TDM_ROLLOVER_SAMPLE:-4}
	[ "$days" -le 200 ] && sample=all
	echo "== $name: $(sed 's/^rollover_driver: //' "$dir/driver.log")"
	[ "$sample" = all ] || echo "   sampled: every step of days 0-60 and $((days - 60))-$days; in between, every step where the DS set or the DNSKEY signers change and a random 1 in $sample of the others"
	local prev_ds='' prev_ks='' same
	while read -r i t mid sc ds pub ks zs what; do
		n=$((n + 1))
		[ "$ds" = "$prev_ds" ] && [ "$ks" = "$prev_ks" ] && same=yes || same=no
		prev_ds=$ds prev_ks=$ks
		if [ "$sample" != all ] && [ "$t" -ge $((T0 + 60 * DAY)) ] && [ "$t" -le $((end - 60 * DAY)) ] &&
		   [ $same = yes ] && [ $((RANDOM % sample)) != 0 ]; then
			skipped=$((skipped + 1))
			continue
		fi
		checked=$((checked + 1))
		for when in T M; do
			[ $when = T ] && at=$t || at=$mid
			log=$dir/sign.log
			mode=quick
			[ "$checked$when" = 1T ] && mode=full
			if ! sign "$sc" "$at" "$dir/signed.zone" "$log" "$mode"; then
				words="tandem-signzone failed"
				cp "$log" "$JUDGE_LOG"
			elif words=$(judge "$dir/signed.zone" "$at" "$ds" "$pub" "$ks" "$zs"); then
				made=$(sed -n 's/.* \([0-9]*\) signatures made.*/\1/p' "$log" | tail -n1)
				reused=$(sed -n 's/.* \([0-9]*\) signatures reused.*/\1/p' "$log" | tail -n1)
				total_made=$((total_made + ${made:-0})); total_reused=$((total_reused + ${reused:-0}))
				case $words in *skipped*) total_skips=$((total_skips + 1)) ;; esac
				if [ $when = T ]; then
					words_t=$words
				else
					echo "ok   $name step $i day $(day "$t") DS=$(ids "$ds") DNSKEY=$(ids "$pub") KSK=$(ids "$ks") ZSK=$(ids "$zs")"
					echo "       at T: $words_t; at +$(awk -v d="$((mid - t))" 'BEGIN { printf "%.2f", d / 86400 }') d: $words"
				fi
				continue
			fi
			failed=$((failed + 1))
			[ "$mutant" = yes ] || fail_lines+=("$name step $i at $when=$at (day $(day "$at")): $words")
			echo "$([ "$mutant" = yes ] && echo "CAUGHT" || echo "FAIL") $name step $i at $([ $when = T ] && echo "the step" || echo "the midpoint") $at = $(date -u -d "@$at" '+%F %T') UTC (day $(day "$at")): $words"
			echo "     step: DS at parent $(ids "$ds"); signconf publishes $(ids "$pub"), DNSKEY signers $(ids "$ks"), data signers $(ids "$zs")"
			echo "     enforcer: $what"
			grep -v '^$' "$JUDGE_LOG" | head -n 40 | sed 's/^/     | /'
		done
	done <"$dir/steps"
	# The last output holds exactly the input's data.
	if [ "$mutant" != yes ] && ! tdm_compare "$zone" "$denial" "$unsigned" "$dir/signed.zone" >"$dir/compare.log" 2>&1; then
		failed=$((failed + 1))
		fail_lines+=("$name: zone_compare: $(tail -n1 "$dir/compare.log")")
		echo "FAIL $name: zone_compare on the last output: $(tail -n1 "$dir/compare.log")"
	fi
	echo "   $name: $n steps, $checked validated at the step and at the midpoint, $skipped skipped by sampling, $failed failed"
	if [ "$mutant" = yes ]; then
		if [ $failed = 0 ]; then
			echo "FAIL $name: the mutated signconfs went through every check"
			total_fail=$((total_fail + 1))
		else
			echo "ok   $name: the mutated signconfs were caught $failed times"
		fi
		return
	fi
	total_steps=$((total_steps + n)); total_checked=$((total_checked + checked))
	total_fail=$((total_fail + failed))
	last_dir=$dir
}

scenarios=${TDM_SCENARIOS:-zsk30-ksk180 csk algorithm-8-13 emergency mutant}
last_dir=
for s in $scenarios; do
	mutant=no
	case $s in
	zsk30-ksk180)
		write_kasp "$tmp/$s.xml" nsec3 "$(key_xml KSK 13 0 P180D; key_xml ZSK 13 0 P30D)"
		scenario "$s" 730 nsec3 "$tmp/$s.xml" ;;
	csk)
		write_kasp "$tmp/$s.xml" nsec "$(key_xml CSK 13 0 P90D)"
		scenario "$s" 730 nsec "$tmp/$s.xml" ;;
	algorithm-8-13)
		# RSA/SHA-256 keys, then the policy changes to ECDSA P-256 on
		# day 40 to 45 (in the middle of a ZSK rollover or not).
		write_kasp "$tmp/$s-8.xml" nsec3 "$(key_xml KSK 8 2048 P180D; key_xml ZSK 8 1024 P30D)"
		write_kasp "$tmp/$s-13.xml" nsec3 "$(key_xml KSK 13 0 P180D; key_xml ZSK 13 0 P30D)"
		scenario "$s" 150 nsec3 "$tmp/$s-8.xml" \
			--policy-at $(( 40 * DAY + RANDOM * 13 )) "$tmp/$s-13.xml" ;;
	emergency)
		# `key rollover -t ZSK` on day 10 to 15, again one to two days
		# later (during the first emergency rollover), then -t KSK on
		# day 50 to 55.
		write_kasp "$tmp/$s.xml" nsec "$(key_xml KSK 13 0 P180D; key_xml ZSK 13 0 P30D)"
		r1=$(( 10 * DAY + RANDOM * 13 ))
		scenario "$s" 120 nsec "$tmp/$s.xml" \
			--roll-at "$r1" ZSK --roll-at $(( r1 + DAY + RANDOM * 2 )) ZSK \
			--roll-at $(( 50 * DAY + RANDOM * 13 )) KSK ;;
	mutant)
		# A broken enforcer must not pass: rollover_driver --mutate
		# withdraws a retiring KSK's DNSKEY at once (its DS is still at
		# the parent) in a `key rollover -t KSK` on day 2 to 3.
		mutant=yes
		write_kasp "$tmp/$s.xml" nsec "$(key_xml KSK 13 0 P180D; key_xml ZSK 13 0 P30D)"
		scenario "$s" 6 nsec "$tmp/$s.xml" --mutate --roll-at $(( 2 * DAY + RANDOM * 2 )) KSK ;;
	*) echo "ERROR: unknown scenario $s"; exit 99 ;;
	esac
done

# Canaries: the same checks refuse what they must refuse.
canary_fail=0
if [ -n "$last_dir" ] && [ -f "$last_dir/signed.zone" ]; then
	load_keys "$last_dir/keys"
	read -r i t mid sc ds pub ks zs what < <(tail -n1 "$last_dir/steps")
	late=$(( mid + 30 * DAY ))
	words=$(judge "$last_dir/signed.zone" "$late" "$ds" "$pub" "$ks" "$zs")
	knot_canary="knot"
	for v in ldns bind knot; do
		case $words in
		*"$v=FAIL"*|*"${v}["*"]=FAIL"*) ;;
		*"knot=skipped(csk)"*) knot_canary="(knot skipped: two CSKs published)" ;;
		*) echo "FAIL canary: $v does not refuse signatures that expired two weeks ago ($words)"; canary_fail=$((canary_fail + 1)) ;;
		esac
	done
	# A DS for a key the zone does not have (a new key, outside the pool).
	stranger=$(tdm_keygen "$tmp/conf.xml" 13) || { echo "ERROR: key generation"; exit 99; }
	key_info "$stranger" 257 13 && ALG[$stranger]=13 FLAGS[$stranger]=257 ID[$stranger]=stranger
	words=$(judge "$last_dir/signed.zone" "$mid" "$stranger" "$pub" "$ks" "$zs")
	case $words in
	*"ldns[13]=FAIL"*) ;;
	*) echo "FAIL canary: ldns-verify-zone accepts a trust anchor of a key the zone does not have ($words)"; canary_fail=$((canary_fail + 1)) ;;
	esac
	[ $canary_fail = 0 ] && echo "ok   canaries: expired signatures refused by ldns, bind and $knot_canary; a foreign DS refused by ldns"
else
	echo "FAIL canary: no signed zone to test"
	canary_fail=1
fi

echo "enforcer_rollover: TDM_SEED=$seed; $total_steps steps, $total_checked validated (at the step and at the midpoint), $total_skips of those $((2 * total_checked)) verdicts without kzonecheck (CSK rollover, Knot 3.2), $total_made signatures made, $total_reused reused, $(( $(date +%s) - started )) s"
if [ "$total_reused" -eq 0 ]; then
	echo "FAIL: no signature was ever reused"
	total_fail=$((total_fail + 1))
fi
for l in "${fail_lines[@]}"; do echo "FAILED: $l"; done
[ $total_fail -eq 0 ] && [ $canary_fail -eq 0 ]
