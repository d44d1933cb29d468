#!/bin/bash
# signzone_validators.sh: sign every example zone with tandem-signzone, for
# each denial mode (NSEC, NSEC3, NSEC3 opt-out) and each algorithm (8, 10,
# 13, 14, 15), and require of every output:
#   - ldns-verify-zone, dnssec-verify -o ZONE and kzonecheck -o ZONE -d on
#     accept it (kzonecheck's refusal of data below a DNAME excepted, see
#     lib.sh), and
#   - zone_compare.py finds exactly the input's data, the SOA the signconf
#     asks for, and the denial mode that was asked for.
# The NSEC3 salt and iterations and the serial policy of each case are drawn
# from a seed (TDM_SEED, random when unset) and printed with the case;
# rerun with the printed TDM_SEED to replay.  TDM_ZONES / TDM_ALGORITHMS
# narrow the run (space-separated).
set -u
: "${TDM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TDM_SRCDIR/tests/lib/softhsm.sh"
. "$TDM_SRCDIR/tests/integration/lib.sh"
tdm_require_bins tandem-signzone tandem-hsmutil
signzone=$(tdm_bin tandem-signzone)

seed=${TDM_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed
echo "signzone_validators: TDM_SEED=$seed (replay: TDM_SEED=$seed $0)"

tmp=$(tdm_tmpdir)
trap 'rm -rf "$tmp"' EXIT
tdm_softhsm_token "$tmp" validators 1234 5678 || { echo "ERROR: no token"; exit 99; }
tdm_write_conf "$tmp/conf.xml" "$tmp" validators 1234

algs=${TDM_ALGORITHMS:-8 10 13 14 15}
zones=${TDM_ZONES:-$(cd "$TDM_SRCDIR/examples/zones" && ls *.zone | sed 's/\.zone$//')}
declare -A KSK ZSK
for a in $algs; do
	# RSA keys of 1024 bits keep the run short; size is not under test here.
	case $a in 8|10) bits=1024 ;; *) bits= ;; esac
	KSK[$a]=$(tdm_keygen "$tmp/conf.xml" "$a" $bits) || { echo "ERROR: KSK generation, algorithm $a"; exit 99; }
	ZSK[$a]=$(tdm_keygen "$tmp/conf.xml" "$a" $bits) || { echo "ERROR: ZSK generation, algorithm $a"; exit 99; }
done

pass=0 fail=0
serials=(counter datecounter unixtime keep)
for z in $zones; do
	for d in nsec nsec3 nsec3-optout; do
		for a in $algs; do
			serial=${serials[RANDOM % 4]}
			salt= iter=0
			if [ $((RANDOM % 2)) = 1 ]; then
				salt=$(printf '%04x%04x' $RANDOM $RANDOM | cut -c1-$(( (RANDOM % 4 + 1) * 2 )))
				iter=$((RANDOM % 11))
			fi
			case=$z/$d/$a
			[ "$d" = nsec ] && variant="serial=$serial" || variant="serial=$serial salt=${salt:--} iterations=$iter"
			sc=$tmp/$z.$d.$a.signconf
			out=$tmp/$z.$d.$a.signed
			log=$tmp/$z.$d.$a.log
			"$TDM_SRCDIR/examples/signconf/render-signconf.sh" "$z" "$d" "$a" \
				"${KSK[$a]}" "${ZSK[$a]}" "$serial" "$salt" "$iter" >"$sc"
			why=
			if ! (cd "$TDM_SRCDIR/examples/zones" &&
			      "$signzone" -c "$tmp/conf.xml" -s "$sc" -z "$z" "$z.zone" "$out") >"$log" 2>&1; then
				why="tandem-signzone failed"
			else
				words=$(tdm_validate "$z" "$out") || why="validators: $words"
				tdm_validator_log >>"$log"
				keep=
				[ "$serial" = keep ] && keep="--serial keep"
				# shellcheck disable=SC2086
				if ! tdm_compare "$z" "$d" "$TDM_SRCDIR/examples/zones/$z.zone" "$out" $keep >>"$log" 2>&1; then
					why="${why:+$why; }zone_compare: $(tail -n1 "$log")"
				fi
			fi
			if [ -z "$why" ]; then
				pass=$((pass + 1))
				echo "ok   $case ($variant) $words"
			else
				fail=$((fail + 1))
				echo "FAIL $case ($variant): $why"
				sed 's/^/     | /' "$log" | head -n 60
			fi
		done
	done
done

echo "signzone_validators: TDM_SEED=$seed"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
