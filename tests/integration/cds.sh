#!/bin/bash
# cds.sh: CDS and CDNSKEY at the apex (RFC 7344, RFC 8078), the Tandem
# signconf extension (<Keys><CDS>/<CDNSKEY>, <Key><CDS/>/<CDNSKEY/>) signed
# by tandem-signzone.  For each algorithm (13, 8) and denial mode:
#   1. KSK marked, digest types 2 and 4: ldns-verify-zone, dnssec-verify and
#      kzonecheck accept the output; the CDS records are exactly what
#      `ldns-key2ds -2` / `-4` make of the output's KSK; the CDNSKEY is the
#      KSK's DNSKEY; both RRsets carry the DNSKEY TTL and one RRSIG, by the
#      KSK; zone_compare.py finds the input's data intact (apex CDS/CDNSKEY
#      aside).  The input carries its own apex CDS/CDNSKEY: replaced.
#   2. signed again from its own output: no signature made.
#   3. the delete form: exactly "CDS 0 0 0 00" and "CDNSKEY 0 3 0 AA==",
#      signed by the KSK, accepted by the three validators.
#   4. a signconf without the sections: the input's apex CDS/CDNSKEY stay.
set -u
: "${TDM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TDM_SRCDIR/tests/lib/softhsm.sh"
. "$TDM_SRCDIR/tests/integration/lib.sh"
tdm_require_bins tandem-signzone tandem-hsmutil
for t in ldns-key2ds ldns-verify-zone dnssec-verify kzonecheck; do
	command -v $t >/dev/null || { echo "ERROR: $t not installed"; exit 99; }
done
signzone=$(tdm_bin tandem-signzone)

tdm_signing_setup cds 13
zone=example.com
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# The input gets an apex CDS and CDNSKEY of its own (a stale key).
in=$tmp/zones/$zone.zone
plain=$tmp/zones/$zone.plain   # next to its $INCLUDE
cp "$in" "$plain"
{
	cat "$plain"
	echo "$zone. 600 IN CDS 4711 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	echo "$zone. 600 IN CDNSKEY 257 3 13 $(head -c 64 /dev/zero | base64 -w0)"
} >"$in"

# signconf OUT DENIAL ALG KSK ZSK KEYS_EXTRA KSK_EXTRA: the example signconf
# with KEYS_EXTRA added to <Keys> and KSK_EXTRA to the KSK's <Key>.
signconf() {
	local out=$1 denial=$2 a=$3 k=$4 z=$5 keys_extra=$6 ksk_extra=$7
	"$TDM_SRCDIR/examples/signconf/render-signconf.sh" $zone "$denial" "$a" "$k" "$z" >"$out.in" &&
	/usr/bin/python3 - "$out.in" "$out" "$k" "$keys_extra" "$ksk_extra" <<'PY'
import sys
src, dst, ksk, keys_extra, ksk_extra = sys.argv[1:]
t = open(src).read()
t = t.replace("<Locator>%s</Locator>" % ksk, "<Locator>%s</Locator>%s" % (ksk, ksk_extra), 1)
t = t.replace("</Keys>", keys_extra + "</Keys>", 1)
open(dst, "w").write(t)
PY
}

# sign SIGNCONF OUT [PREV]: tandem-signzone; the log in OUT.log.
sign() {
	local sc=$1 out=$2
	rm -f "$out"
	[ $# -ge 3 ] && cp "$3" "$out"
	(cd "$tmp/zones" && "$signzone" -c "$tmp/conf.xml" -s "$sc" -z $zone $zone.zone "$out") \
		>"$out.log" 2>&1
}

# rrs FILE TYPE: "TTL RDATA" of the apex records of TYPE, sorted, lower case.
rrs() {
	awk -v o="$zone." -v t="$2" '$1 == o && $3 == "IN" && $4 == t {
		r = $2; for (i = 5; i <= NF; i++) r = r " " $i; print tolower(r) }' "$1" | sort
}

# sig_tags FILE TYPE: the key tags of the apex RRSIGs over TYPE.
sig_tags() {
	awk -v o="$zone." -v t="$2" '$1 == o && $4 == "RRSIG" && $5 == t { print $11 }' "$1" | sort
}

# without_cds SIGNED OUT: the signed zone without the apex CDS/CDNSKEY and
# their RRSIGs, for zone_compare.py (which knows no record the signer adds
# but DNSKEY).  Only the NSEC type bitmap still names them, which it ignores.
without_cds() {
	awk -v o="$2." '!($1 == o && ($4 == "CDS" || $4 == "CDNSKEY" ||
		($4 == "RRSIG" && ($5 == "CDS" || $5 == "CDNSKEY"))))' "$1" >"$3"
}

run_alg() {
	local a=$1 k=$2 z=$3 d=$4 case out sc words want got tag
	case=$a/$d
	sc=$tmp/sc.$a.$d.xml
	out=$tmp/signed.$a.$d
	signconf "$sc" "$d" "$a" "$k" "$z" \
		"<CDS><DigestType>2</DigestType><DigestType>4</DigestType></CDS><CDNSKEY/>" \
		"<CDS/><CDNSKEY/>" || { bad "$case: signconf"; return; }
	if ! sign "$sc" "$out"; then
		bad "$case: tandem-signzone failed"; sed 's/^/     | /' "$out.log"; return
	fi
	if words=$(tdm_validate $zone "$out"); then
		ok "$case: validators $words"
	else
		bad "$case: validators $words"; tdm_validator_log | sed 's/^/     | /' | head -n 40
	fi

	# The CDS RRset against ldns-key2ds of the KSK in the output.
	awk -v o="$zone." '$1 == o && $4 == "DNSKEY" && $5 == 257' "$out" >"$tmp/ksk.$a.key"
	if [ "$(wc -l <"$tmp/ksk.$a.key")" != 1 ]; then
		bad "$case: not exactly one KSK DNSKEY in the output"; return
	fi
	want=$( (ldns-key2ds -n -2 "$tmp/ksk.$a.key"; ldns-key2ds -n -4 "$tmp/ksk.$a.key") |
		awk '{ r = "3600"; for (i = 5; i <= NF; i++) r = r " " $i; print tolower(r) }' | sort)
	got=$(rrs "$out" CDS)
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		ok "$case: CDS = ldns-key2ds -2/-4 of the KSK (TTL 3600)"
	else
		bad "$case: CDS differ from ldns-key2ds"; echo "     | want: $want"; echo "     | got:  $got"
	fi
	want=$(awk '{ r = "3600"; for (i = 5; i <= NF; i++) r = r " " $i; print tolower(r) }' \
		"$tmp/ksk.$a.key")
	got=$(rrs "$out" CDNSKEY)
	[ "$want" = "$got" ] && ok "$case: CDNSKEY = the KSK's DNSKEY, the input's replaced" ||
		bad "$case: CDNSKEY: want '$want', got '$got'"
	tag=$(ldns-key2ds -n -2 "$tmp/ksk.$a.key" | awk '{ print $5 }')
	if [ "$(sig_tags "$out" CDS)" = "$tag" ] && [ "$(sig_tags "$out" CDNSKEY)" = "$tag" ]; then
		ok "$case: CDS and CDNSKEY signed by the KSK ($tag) only"
	else
		bad "$case: RRSIG key tags: CDS '$(sig_tags "$out" CDS)' CDNSKEY '$(sig_tags "$out" CDNSKEY)', KSK $tag"
	fi
	without_cds "$out" $zone "$tmp/cmp.$a.$d"
	if tdm_compare $zone "$d" "$plain" "$tmp/cmp.$a.$d" >"$tmp/cmp.$a.$d.log" 2>&1; then
		ok "$case: zone_compare: the input's data intact"
	else
		bad "$case: zone_compare"; sed 's/^/     | /' "$tmp/cmp.$a.$d.log" | head -n 20
	fi

	# 2. From its own output: everything reused.
	if sign "$sc" "$out.2" "$out" && [ "$(tdm_summary_field made "$out.2.log")" = 0 ] &&
	   cmp -s "$out" "$out.2"; then
		ok "$case: re-signed from its own output: 0 made, identical"
	else
		bad "$case: re-sign: made $(tdm_summary_field made "$out.2.log" 2>/dev/null), see below"
		sed 's/^/     | /' "$out.2.log" | tail -n 5
	fi
}

# The delete form (RFC 8078 §4) and the input left alone without sections.
run_delete() {
	local a=$1 k=$2 z=$3 sc=$tmp/sc.delete.xml out=$tmp/signed.delete words tag
	signconf "$sc" nsec3 "$a" "$k" "$z" \
		"<CDS><DigestType>2</DigestType><Delete/></CDS><CDNSKEY><Delete/></CDNSKEY>" "" ||
		{ bad "delete: signconf"; return; }
	if ! sign "$sc" "$out"; then
		bad "delete: tandem-signzone failed"; sed 's/^/     | /' "$out.log"; return
	fi
	if [ "$(rrs "$out" CDS)" = "3600 0 0 0 00" ] && [ "$(rrs "$out" CDNSKEY)" = "3600 0 3 0 aa==" ]; then
		ok "delete: CDS 0 0 0 00 and CDNSKEY 0 3 0 AA== alone, TTL 3600"
	else
		bad "delete: CDS '$(rrs "$out" CDS)' CDNSKEY '$(rrs "$out" CDNSKEY)'"
	fi
	awk -v o="$zone." '$1 == o && $4 == "DNSKEY" && $5 == 257' "$out" >"$tmp/ksk.delete.key"
	tag=$(ldns-key2ds -n -2 "$tmp/ksk.delete.key" | awk '{ print $5 }')
	[ "$(sig_tags "$out" CDS)" = "$tag" ] && [ "$(sig_tags "$out" CDNSKEY)" = "$tag" ] &&
		ok "delete: signed by the KSK ($tag)" ||
		bad "delete: RRSIG key tags '$(sig_tags "$out" CDS)' '$(sig_tags "$out" CDNSKEY)', KSK $tag"
	if words=$(tdm_validate $zone "$out"); then
		ok "delete: validators $words"
	else
		bad "delete: validators $words"; tdm_validator_log | sed 's/^/     | /' | head -n 40
	fi

	sc=$tmp/sc.none.xml out=$tmp/signed.none
	signconf "$sc" nsec "$a" "$k" "$z" "" "" || { bad "no sections: signconf"; return; }
	if sign "$sc" "$out" && [ "$(rrs "$out" CDS)" = "600 4711 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" ] &&
	   [ "$(rrs "$out" CDNSKEY | wc -l)" = 1 ] && [ "$(sig_tags "$out" CDS)" = "$tag" ]; then
		ok "no sections: the input's CDS and CDNSKEY stay (signed by the KSK)"
	else
		bad "no sections: CDS '$(rrs "$out" CDS)' CDNSKEY '$(rrs "$out" CDNSKEY)'"
		sed 's/^/     | /' "$out.log" | tail -n 5
	fi
}

run_alg 13 "$ksk" "$zsk" nsec
run_alg 13 "$ksk" "$zsk" nsec3
ksk8=$(tdm_keygen "$tmp/conf.xml" 8 1024) && zsk8=$(tdm_keygen "$tmp/conf.xml" 8 1024) ||
	{ echo "ERROR: RSA key generation"; exit 99; }
run_alg 8 "$ksk8" "$zsk8" nsec3
run_delete 13 "$ksk" "$zsk"

echo "cds: $pass passed, $fail failed"
[ $fail -eq 0 ]
