#!/bin/bash
# corruption.sh: the checks of signzone_validators.sh must FAIL on a broken
# signed zone.  Each corruption must be caught by at least one of the four
# checks (ldns-verify-zone, dnssec-verify, kzonecheck, zone_compare.py);
# the script prints which caught it, and fails if none did or if the clean
# zone is not accepted by all four.
#
# Two kinds of corruption:
#   edit    the signed output is edited after signing (zone_tool.py corrupt):
#           a signature bit flipped, a record added, removed or changed,
#           glue dropped or changed, the serial lowered;
#   resign  the signer is given other input or another signconf and its
#           (validly signed) output is judged against what was asked for:
#           a record missing, a record changed, glue missing, a lower
#           serial, NSEC where NSEC3 was asked (and NSEC3 where NSEC was).
#           The validators cannot see these; zone_compare.py must.
set -u
: "${TDM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TDM_SRCDIR/tests/lib/softhsm.sh"
. "$TDM_SRCDIR/tests/integration/lib.sh"
tdm_require_bins tandem-signzone tandem-hsmutil
signzone=$(tdm_bin tandem-signzone)

tdm_signing_setup corruption 13

zone=example.com
zdir=$tmp/zones
pass=0 fail=0

# sign DENIAL INPUT OUTPUT [SERIAL]: sign from examples/zones (for $INCLUDE).
sign() {
	"$TDM_SRCDIR/examples/signconf/render-signconf.sh" $zone "$1" $alg "$ksk" "$zsk" "${4:-keep}" \
		>"$tmp/signconf.$1.xml"
	(cd "$zdir" && "$signzone" -c "$tmp/conf.xml" -s "$tmp/signconf.$1.xml" -z $zone "$2" "$3") \
		>"$tmp/sign.log" 2>&1 || { echo "ERROR: signing $2 with $1 failed:"; cat "$tmp/sign.log"; exit 99; }
}

# judge NAME DENIAL-ASKED SIGNED [UNSIGNED]: run the four checks; print
# which ones caught the problem.  Sets $caught to their names.
judge() {
	local name=$1 denial=$2 file=$3 unsigned=${4:-$zdir/$zone.zone} words
	words=$(tdm_validate $zone "$file")
	caught=
	for w in $words; do
		case $w in *=FAIL) caught+="${w%=FAIL} " ;; esac
	done
	if ! tdm_compare $zone "$denial" "$unsigned" "$file" --serial keep >"$tmp/compare.log" 2>&1; then
		caught+="zone_compare "
	fi
}

expect_caught() {
	if [ -n "$caught" ]; then
		pass=$((pass + 1))
		echo "ok   $1: caught by: $caught"
		grep -m3 '^zone_compare: [A-Z]' "$tmp/compare.log" | sed 's/^/     | /'
	else
		fail=$((fail + 1))
		echo "FAIL $1: no check noticed"
	fi
}

# The clean zones must pass every check, or the rest proves nothing.
for d in nsec nsec3; do
	sign $d $zone.zone "$tmp/clean.$d"
	judge clean $d "$tmp/clean.$d"
	if [ -z "$caught" ]; then
		pass=$((pass + 1)); echo "ok   clean $d output passes all four checks"
	else
		fail=$((fail + 1)); echo "FAIL clean $d output rejected by: $caught"
		tdm_validator_log | head -n 40; cat "$tmp/compare.log"
	fi
done

# --- edits of the signed output
for d in nsec nsec3; do
	for m in flip-sig add-record remove-record change-record drop-glue change-glue lower-serial; do
		what=$(/usr/bin/python3 "$TDM_SRCDIR/tests/integration/zone_tool.py" corrupt $m $zone \
			"$tmp/clean.$d" "$tmp/edit.$m") || { fail=$((fail + 1)); echo "FAIL edit $m: $what"; continue; }
		judge "$m" $d "$tmp/edit.$m"
		expect_caught "edit/$d $m ($what)"
	done
done

# --- validly signed, but not what was asked for
mkin() { # mkin NAME SED-EXPRESSION: a modified copy of the input
	sed "$2" "$zdir/$zone.zone" >"$zdir/$1.zone"
}
mkin missing '/^mail[[:space:]]/d'
mkin changed 's/^ns1\([[:space:]]*IN[[:space:]]*A[[:space:]]*\)192.0.2.53/ns1\1192.0.2.99/'
mkin noglue '/^ns2\.glued[[:space:]]/d'
mkin lowserial 's/2024010101\([[:space:]]*; serial\)/2024010001\1/'
for n in missing changed noglue lowserial; do
	f=$zdir/$n.zone
	if cmp -s "$f" "$zdir/$zone.zone"; then
		fail=$((fail + 1)); echo "FAIL resign $n: the sed edit changed nothing"; continue
	fi
	sign nsec3 "$(basename "$f")" "$tmp/resign.$n"
	judge $n nsec3 "$tmp/resign.$n"
	expect_caught "resign $n (input edited, output validly signed)"
done
# NSEC given where NSEC3 was asked, and the reverse.
judge nsec-for-nsec3 nsec3 "$tmp/clean.nsec"
expect_caught "resign NSEC where NSEC3 was asked"
judge nsec3-for-nsec nsec "$tmp/clean.nsec3"
expect_caught "resign NSEC3 where NSEC was asked"
judge nsec3-for-optout nsec3-optout "$tmp/clean.nsec3"
expect_caught "resign NSEC3 without opt-out where opt-out was asked"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
