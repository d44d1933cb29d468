#!/bin/bash
# reuse.sh: tandem-signzone keeps signatures that are still good
# (DESIGN.md "The signing cycle": sign only RRsets whose signature is
# missing, by an inactive key, closer to expiry than Refresh, or over
# changed data).  The previous signed zone is the OUTPUT file itself.
#
#   1. sign (fresh):             signatures made > 0, none reused
#   2. sign again, same input:   no signature made, output byte-identical
#   3. change one record's data (and raise the serial, policy "keep"):
#      exactly that RRset and the SOA re-signed, nothing else
#   4. add one name (NSEC): its RRset, its NSEC, the NSEC of the name before
#      it and the SOA re-signed, nothing else
#   5. --now 5 days on (Refresh is 3 days, validity 14): nothing re-signed
#   6. --now 12 days on: every signature renewed
# Counts come from tandem-signzone's summary (--json when it has it) and
# are cross-checked against the RRSIGs themselves (zone_tool.py rrsigs).
set -u
: "${TDM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TDM_SRCDIR/tests/lib/softhsm.sh"
. "$TDM_SRCDIR/tests/integration/lib.sh"
tdm_require_bins tandem-signzone tandem-hsmutil
signzone=$(tdm_bin tandem-signzone)

tdm_signing_setup reuse 13

zone=example.com
in=$tmp/zones/$zone.zone
out=$tmp/$zone.signed
"$TDM_SRCDIR/examples/signconf/render-signconf.sh" $zone nsec $alg "$ksk" "$zsk" keep >"$tmp/signconf.xml"
now=$(date +%s)
echo "reuse: signing at --now $now (replay: the steps depend only on that time)"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# sign STEP [--now T]: sign $in into $out; keep the previous output as
# $tmp/prev.STEP; the log in $tmp/STEP.log.
sign() {
	local step=$1
	shift
	[ -f "$out" ] && cp "$out" "$tmp/prev.$step"
	(cd "$tmp/zones" && "$signzone" -c "$tmp/conf.xml" -s "$tmp/signconf.xml" -z $zone "$@" \
		$zone.zone "$out") >"$tmp/$step.log" 2>&1
	local rc=$?
	if [ $rc -ne 0 ]; then
		bad "$step: tandem-signzone exited $rc"; sed 's/^/     | /' "$tmp/$step.log"
		return 1
	fi
	made=$(tdm_summary_field made "$tmp/$step.log") || made=?
	reused=$(tdm_summary_field reused "$tmp/$step.log") || reused=?
	if [ "$made" = ? ] || [ "$reused" = ? ]; then
		bad "$step: no summary line with signatures made/reused:"; tail -n 3 "$tmp/$step.log"
		return 1
	fi
	return 0
}

# resigned STEP: the RRsets whose RRSIGs changed since the previous output.
resigned() {
	/usr/bin/python3 "$TDM_SRCDIR/tests/integration/zone_tool.py" rrsigs "$tmp/prev.$1" "$out" $zone |
		/usr/bin/python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["made"], " ".join(o["resigned"]))'
}

valid() { # valid STEP: the validators and zone_compare accept $out
	local w
	w=$(tdm_validate $zone "$out") || { bad "$1: validators: $w"; tdm_validator_log | head -n 30; return; }
	tdm_compare $zone nsec "$in" "$out" --serial keep >"$tmp/$1.compare" 2>&1 ||
		{ bad "$1: zone_compare"; cat "$tmp/$1.compare"; return; }
	ok "$1: output valid ($w), data identical to the input"
}

# 1. fresh
if sign fresh --now "$now"; then
	total=$(/usr/bin/python3 -c "
import sys; sys.path.insert(0, '$TDM_SRCDIR/tests/integration')
import dns.name, dns.rdatatype
from zone_compare import read_records
print(sum(1 for n, t, r in read_records('$out', dns.name.from_text('$zone')) if r.rdtype == dns.rdatatype.RRSIG))")
	if [ "$made" = "$total" ] && [ "$reused" = 0 ]; then
		ok "fresh: $made signatures made (= RRSIGs in the output), 0 reused"
	else
		bad "fresh: made=$made reused=$reused, the output has $total RRSIGs"
	fi
	valid fresh
fi

# 2. unchanged input
if sign again --now "$now"; then
	if [ "$made" = 0 ] && cmp -s "$tmp/prev.again" "$out"; then
		ok "again: no signature made ($reused reused), output byte-identical"
	else
		bad "again: made=$made reused=$reused; identical output: $(cmp -s "$tmp/prev.again" "$out" && echo yes || echo no)"
		diff "$tmp/prev.again" "$out" | head -n 20
	fi
fi

# 3. one record's data changes; the serial goes up (policy keep).
sed -i -e 's/^mail\([[:space:]]*IN[[:space:]]*A[[:space:]]*\)192.0.2.25/mail\1192.0.2.26/' \
       -e 's/2024010101\([[:space:]]*; serial\)/2024010102\1/' "$in"
if sign change --now "$now"; then
	r=$(resigned change)
	want="2 example.com. SOA mail.example.com. A"
	if [ "$r" = "$want" ] && [ "$made" = 2 ]; then
		ok "change: only mail A and the SOA re-signed (made=2, reused=$reused)"
	else
		bad "change: re-signed '$r', summary made=$made; expected '$want'"
	fi
	valid change
fi

# 4. a new name: NSEC chain around it re-signed too.
printf 'mailer\tIN\tA\t192.0.2.27\n' >>"$in"
sed -i 's/2024010102\([[:space:]]*; serial\)/2024010103\1/' "$in"
if sign add --now "$now"; then
	r=$(resigned add)
	want="4 example.com. SOA mail.example.com. NSEC mailer.example.com. A mailer.example.com. NSEC"
	if [ "$r" = "$want" ] && [ "$made" = 4 ]; then
		ok "add: the new A and NSEC, the NSEC before it and the SOA re-signed (made=4)"
	else
		bad "add: re-signed '$r', summary made=$made; expected '$want'"
	fi
	valid add
fi

# 5. within Refresh: nothing to do.
if sign later --now $((now + 5 * 86400)); then
	if [ "$made" = 0 ] && cmp -s "$tmp/prev.later" "$out"; then
		ok "later (+5 days): no signature made, output identical"
	else
		bad "later (+5 days): made=$made reused=$reused"
	fi
fi

# 6. past Refresh: every signature renewed.  Policy "keep" forbids a new
# serial without a new input serial (bad_input.sh), so the input's goes up.
sed -i 's/2024010103\([[:space:]]*; serial\)/2024010104\1/' "$in"
if sign refresh --now $((now + 12 * 86400)); then
	r=$(resigned refresh)
	total=${r%% *}
	left=$(/usr/bin/python3 "$TDM_SRCDIR/tests/integration/zone_tool.py" rrsigs "$tmp/prev.refresh" "$out" $zone |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["kept"])')
	if [ "$left" = 0 ] && [ "$reused" = 0 ] && [ "$made" = "$total" ] && [ "$made" -gt 0 ]; then
		ok "refresh (+12 days): all $made signatures renewed, none kept"
	else
		bad "refresh (+12 days): made=$made reused=$reused, RRSIGs unchanged from before: $left"
	fi
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
