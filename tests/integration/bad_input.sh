#!/bin/bash
# bad_input.sh: tandem-signzone refuses bad input clearly and harmlessly.
# For each case: a non-zero exit, a message that names the problem (file
# and line for a zone, the CKA_ID for a key, the file for a signconf, the
# serial for "keep"), and OUTPUT left exactly as it was (an existing
# output keeps its bytes; an absent one is not created).
#
#   malformed zone   a bad record in the middle of the file, and one in a
#                    $INCLUDEd file: "FILE:LINE" in the message
#   missing key      a Locator no key in the token has
#   bad signconf     not well-formed XML; a required element missing; a
#                    signconf for another zone than -z
#   keep serial      Serial "keep" and changed data under the same serial
set -u
: "${TDM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TDM_SRCDIR/tests/lib/softhsm.sh"
. "$TDM_SRCDIR/tests/integration/lib.sh"
tdm_require_bins tandem-signzone tandem-hsmutil
signzone=$(tdm_bin tandem-signzone)

tdm_signing_setup badinput 13

zone=example.com
render() { "$TDM_SRCDIR/examples/signconf/render-signconf.sh" "$@"; }
render $zone nsec $alg "$ksk" "$zsk" keep >"$tmp/good.xml"
pass=0 fail=0 gaps=0
# Known gaps in tandem-signzone, reported and not yet fixed: they run and
# print GAP instead of failing the suite (none at the moment; the mechanism
# stays for the next one).
known_gaps=${TDM_KNOWN_GAPS-}

# A good signed zone: the "existing OUTPUT" every refusal must leave alone.
(cd "$tmp/zones" && "$signzone" -c "$tmp/conf.xml" -s "$tmp/good.xml" -z $zone $zone.zone "$tmp/previous") \
	>"$tmp/previous.log" 2>&1 || { echo "ERROR: signing the good zone failed"; cat "$tmp/previous.log"; exit 99; }

# refuse NAME SIGNCONF INPUT PATTERN...: tandem-signzone must exit non-zero
# with every PATTERN (grep -E) in its output, and leave OUTPUT untouched;
# run once with an existing OUTPUT (a good signed zone) and once without.
refuse() {
	local name=$1 sc=$2 input=$3 rc p missing= touched=
	shift 3
	for mode in existing absent; do
		local o=$tmp/out.$name.$mode
		rm -f "$o"
		[ $mode = existing ] && cp "$tmp/previous" "$o"
		(cd "$tmp/zones" && "$signzone" -c "$tmp/conf.xml" -s "$sc" -z $zone "$input" "$o") \
			>"$tmp/$name.log" 2>&1
		rc=$?
		for p in "$@"; do
			grep -qE -- "$p" "$tmp/$name.log" || missing+=" '$p'"
		done
		if [ $mode = existing ]; then
			cmp -s "$o" "$tmp/previous" || touched="OUTPUT changed"
		else
			[ ! -e "$o" ] || touched="OUTPUT created"
		fi
		# No temporary file may be left beside OUTPUT either.
		if ls "$tmp" | grep -q "^out\.$name\.$mode.\+"; then
			touched="${touched:+$touched, }temporary file left: $(ls "$tmp" | grep "^out\.$name\.$mode.\+" | head -n1)"
		fi
		if [ $rc -ne 0 ] && [ -z "$missing" ] && [ -z "$touched" ]; then
			pass=$((pass + 1))
			case " $known_gaps " in *" $name "*)
				echo "NOTE $name is listed as a known gap but now passes: take it off the list" ;;
			esac
			echo "ok   $name ($mode output): exit $rc: $(grep -v '\[warning\]' "$tmp/$name.log" | head -n1 | cut -c1-150)"
		elif case " $known_gaps " in *" $name "*) true ;; *) false ;; esac; then
			gaps=$((gaps + 1))
			echo "GAP  $name ($mode output): exit $rc${missing:+, message lacks$missing}${touched:+, $touched} (known gap, not counted as a failure)"
		else
			fail=$((fail + 1))
			echo "FAIL $name ($mode output): exit $rc${missing:+, message lacks$missing}${touched:+, $touched}"
			sed 's/^/     | /' "$tmp/$name.log" | head -n 20
		fi
		missing= touched=
	done
}

# --- malformed zone: line 27 of the main file, and line 3 of the include.
awk 'NR == 27 { print "broken\tIN\tA\t192.0.2.300" } { print }' "$tmp/zones/$zone.zone" >"$tmp/zones/badline.zone"
refuse malformed-zone "$tmp/good.xml" badline.zone 'badline\.zone:27([^0-9]|$)'
sed 's/^included.*/included\tIN\tAAAA\tnot-an-address/' "$tmp/zones/$zone.include" >"$tmp/zones/bad.include"
sed 's/^\$INCLUDE.*/$INCLUDE bad.include/' "$tmp/zones/$zone.zone" >"$tmp/zones/badinclude.zone"
refuse malformed-include "$tmp/good.xml" badinclude.zone 'bad\.include:2([^0-9]|$)'
printf '$TTL 300\n@ IN A 192.0.2.1\n' >"$tmp/zones/nosoa.zone"
refuse no-soa "$tmp/good.xml" nosoa.zone 'SOA'
refuse no-input "$tmp/good.xml" does-not-exist.zone 'does-not-exist\.zone'

# --- a key the token does not have.
nokey=0123456789abcdef0123456789abcdef
render $zone nsec $alg "$ksk" "$nokey" keep >"$tmp/nokey.xml"
refuse missing-key "$tmp/nokey.xml" $zone.zone "$nokey"

# --- bad signconfs.
head -n 20 "$tmp/good.xml" >"$tmp/truncated.xml"
refuse signconf-not-xml "$tmp/truncated.xml" $zone.zone 'truncated\.xml'
grep -v '<Refresh>' "$tmp/good.xml" >"$tmp/norefresh.xml"
refuse signconf-missing-element "$tmp/norefresh.xml" $zone.zone 'norefresh\.xml' 'Refresh|Signatures'
sed 's|<Default>P14D</Default>|<Default>fourteen days</Default>|' "$tmp/good.xml" >"$tmp/baddur.xml"
refuse signconf-bad-duration "$tmp/baddur.xml" $zone.zone 'baddur\.xml' 'Default|fourteen'
render other.example nsec $alg "$ksk" "$zsk" keep >"$tmp/otherzone.xml"
refuse signconf-other-zone "$tmp/otherzone.xml" $zone.zone 'other\.example'

# --- Serial "keep": data changed but the serial did not.
keepout=$tmp/keep.signed
if (cd "$tmp/zones" && "$signzone" -c "$tmp/conf.xml" -s "$tmp/good.xml" -z $zone $zone.zone "$keepout") \
	>"$tmp/keep1.log" 2>&1; then
	sed 's/^mail\([[:space:]]*IN[[:space:]]*A[[:space:]]*\)192.0.2.25/mail\1192.0.2.26/' \
		"$tmp/zones/$zone.zone" >"$tmp/zones/sameserial.zone"
	cp "$keepout" "$tmp/keep.before"
	(cd "$tmp/zones" && "$signzone" -c "$tmp/conf.xml" -s "$tmp/good.xml" -z $zone sameserial.zone "$keepout") \
		>"$tmp/keep2.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -q 2024010101 "$tmp/keep2.log" && cmp -s "$keepout" "$tmp/keep.before"; then
		pass=$((pass + 1))
		echo "ok   keep-serial: refused (exit $rc): $(grep -m1 2024010101 "$tmp/keep2.log" | cut -c1-150)"
	else
		fail=$((fail + 1))
		echo "FAIL keep-serial: exit $rc, output unchanged: $(cmp -s "$keepout" "$tmp/keep.before" && echo yes || echo no)"
		sed 's/^/     | /' "$tmp/keep2.log" | head -n 20
	fi
else
	fail=$((fail + 1)); echo "FAIL keep-serial: the first signing failed"; cat "$tmp/keep1.log"
fi

[ $gaps -eq 0 ] || echo "bad_input: $gaps known-gap checks did not pass (listed in known_gaps)"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
