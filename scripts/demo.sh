#!/bin/bash
# scripts/demo.sh: set everything up, then sign the example zones with a
# private SoftHSM2 token and have three validators judge the results.
#
#   1. scripts/setup.sh: Debian packages, build in build/.
#   2. demo-run/ (removed and made anew): a SoftHSM2 token of its own
#      (never the system one), conf.xml for it.
#   3. tandem-hsmutil generate: a KSK and a ZSK for each algorithm
#      8 (RSASHA256), 10 (RSASHA512), 13 (ECDSAP256), 14 (ECDSAP384),
#      15 (Ed25519).
#   4. For every zone in examples/zones/ x {NSEC, NSEC3} x algorithm: write a
#      signconf with the keys' CKA_IDs (examples/signconf/render-signconf.sh),
#      sign with tandem-signzone, and judge the output with ldns-verify-zone,
#      dnssec-verify and kzonecheck, and compare it with the input
#      (tests/integration/zone_compare.py).
#   5. Print the verdict table.
#   6. ha/quickstart: three tandemd nodes on loopback with three tokens,
#      bootstrap and joins, a key replicated wrapped under the cluster KEK,
#      `cluster-ctl status`, kill -9 of the leader, the new `status`.
#   Exit 1 if any verdict or the cluster demo failed.
#
# Options: --zones "a b" and --algorithms "13 15" narrow the run;
# --no-cluster skips step 6; --no-setup skips step 1 (uses an existing build/).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1

zones= algs="8 10 13 14 15" setup=yes cluster=yes
while [ $# -gt 0 ]; do
	case $1 in
	--zones) zones=$2; shift ;;
	--algorithms) algs=$2; shift ;;
	--no-setup) setup=no ;;
	--no-cluster) cluster=no ;;
	-h|--help) sed -n '2,24p' "$0"; exit 0 ;;
	*) echo "demo.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

if [ "$setup" = yes ]; then
	scripts/setup.sh || { echo "demo: setup failed" >&2; exit 1; }
fi

export TDM_SRCDIR=$here TDM_BUILDDIR=${TDM_BUILDDIR:-$here/build}
. "$here/tests/lib/softhsm.sh"
. "$here/tests/integration/lib.sh"

signzone=$(tdm_bin tandem-signzone) || { echo "demo: tandem-signzone is not built in $TDM_BUILDDIR" >&2; exit 1; }
hsmutil=$(tdm_bin tandem-hsmutil) || { echo "demo: tandem-hsmutil is not built in $TDM_BUILDDIR" >&2; exit 1; }

run=$here/demo-run
rm -rf "$run"
mkdir -p "$run/signconf" "$run/signed" "$run/log"
echo "demo: working in $run"

# A token of our own: SOFTHSM2_CONF points at demo-run/softhsm2.conf.
tdm_softhsm_token "$run" tandem-demo 1234 5678 || { echo "demo: cannot create the SoftHSM2 token" >&2; exit 1; }
cat >"$run/conf.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
	<RepositoryList>
		<Repository name="SoftHSM">
			<Module>$(tdm_softhsm_module)</Module>
			<TokenLabel>tandem-demo</TokenLabel>
			<PIN>1234</PIN>
		</Repository>
	</RepositoryList>
	<Common>
		<Logging><Verbosity>3</Verbosity></Logging>
		<PolicyFile>$here/examples/kasp.xml</PolicyFile>
		<ZoneListFile>$here/examples/zonelist.xml</ZoneListFile>
	</Common>
	<Enforcer>
		<Datastore><SQLite>$run/kasp.db</SQLite></Datastore>
	</Enforcer>
	<Signer>
		<WorkingDirectory>$run</WorkingDirectory>
	</Signer>
</Configuration>
EOF

# generate ALG [BITS]: a key pair in the token; prints its CKA_ID
# (tdm_keygen runs `tandem-hsmutil --json generate SoftHSM ALG BITS`).
generate() {
	tdm_keygen "$run/conf.xml" "$@" 2>>"$run/log/generate.err" || {
		cat "$run/log/generate.err" >&2; return 1; }
}

declare -A KSK ZSK
for a in $algs; do
	case $a in 8|10) kb=2048 zb=1024 ;; *) kb= zb= ;; esac
	KSK[$a]=$(generate "$a" $kb) || { echo "demo: key generation failed for algorithm $a" >&2; exit 1; }
	ZSK[$a]=$(generate "$a" $zb) || { echo "demo: key generation failed for algorithm $a" >&2; exit 1; }
	echo "demo: algorithm $a: KSK ${KSK[$a]}  ZSK ${ZSK[$a]}"
done

if [ -z "$zones" ]; then
	zones=$(cd examples/zones && ls *.zone | sed 's/\.zone$//')
fi

printf '\n%-14s %-6s %-4s %-6s %-5s %-5s %-14s %-5s %s\n' zone denial alg sign ldns bind knot data verdict
failures=0 total=0
for z in $zones; do
	for d in nsec nsec3; do
		for a in $algs; do
			total=$((total + 1))
			tag=$z.$d.$a
			examples/signconf/render-signconf.sh "$z" "$d" "$a" "${KSK[$a]}" "${ZSK[$a]}" \
				>"$run/signconf/$tag.xml"
			# Sign from inside examples/zones/ so $INCLUDE paths resolve.
			if (cd examples/zones && "$signzone" -c "$run/conf.xml" -s "$run/signconf/$tag.xml" \
				-z "$z" "$z.zone" "$run/signed/$tag") >"$run/log/$tag.sign" 2>&1; then
				sign=ok
				words=$(tdm_validate "$z" "$run/signed/$tag")
				tdm_validator_log >"$run/log/$tag.validators"
				if tdm_compare "$z" "$d" "examples/zones/$z.zone" "$run/signed/$tag" \
					>"$run/log/$tag.compare" 2>&1; then data=ok; else data=FAIL; fi
			else
				sign=FAIL words="ldns=- bind=- knot=-" data=-
			fi
			set -- $words
			verdict=PASS
			case "$sign $words $data" in *FAIL*|*-*) verdict=FAIL ;; esac
			[ $verdict = PASS ] || failures=$((failures + 1))
			printf '%-14s %-6s %-4s %-6s %-5s %-5s %-14s %-5s %s\n' "$z" "$d" "$a" "$sign" \
				"${1#ldns=}" "${2#bind=}" "${3#knot=}" "$data" "$verdict"
		done
	done
done

echo
echo "demo: signed zones in demo-run/signed/, logs in demo-run/log/ (ZONE.DENIAL.ALG.{sign,validators,compare})"
echo "demo: knot=ok(dname): kzonecheck refuses any zone with data below a DNAME; only that finding is accepted"
if [ $failures -ne 0 ]; then
	echo "demo: $failures of $total verdicts FAILED"
else
	echo "demo: all $total verdicts passed"
fi

cluster_rc=0
if [ "$cluster" = yes ]; then
	echo
	echo "=== demo: a three-node cluster (ha/quickstart)"
	ha/quickstart "$TDM_BUILDDIR" || cluster_rc=$?
	[ $cluster_rc -eq 0 ] || echo "demo: ha/quickstart FAILED (exit $cluster_rc)"
fi
[ $failures -eq 0 ] && [ $cluster_rc -eq 0 ]
