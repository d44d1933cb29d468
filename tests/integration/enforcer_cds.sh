#!/bin/bash
# enforcer_cds.sh: CDS and CDNSKEY (RFC 7344, RFC 8078) end to end through
# tandemd: a policy with <Parent><PublishCDS><DigestType>2</DigestType>
# </PublishCDS><PublishCDNSKEY/></Parent>, the enforcer's signconf, and
# tandem-signzone --ledger publishing the apex RRsets, over a forced KSK
# rollover (double signature, the default) on a simulated timeline.
#
# One tandemd (SoftHSM token, TANDEM_FAKE_TIME), one zone cds.test, KSK and
# ZSK ECDSA P-256 with a lifetime of a year (no rollover of their own),
# NSEC3.  The machinery is enforcer_daemon.sh's (rollover_lib.sh): `time
# leap` to the next enforcer step or parent action; at every change of the
# signconf or of the parent's DS set the zone is signed at that moment and
# judged by ldns-verify-zone (trust anchor: the parent's DS set),
# dnssec-verify and kzonecheck (which checks that CDS and CDNSKEY match each
# other and a DNSKEY), then signed again with the previous signconf just
# before the change and judged with the previous DS set.  Once the first
# KSK's DS is at the parent and nothing is pending: `key rollover -t KSK`.
#
# On every step's output, with the key states of `key list --json`:
#   - no DS change pending (no KSK whose DS is rumoured or unretentive):
#     no CDS, no CDNSKEY at the apex;
#   - a change pending: the CDS RRset is exactly `ldns-key2ds -n -2` of the
#     KSKs whose DS the enforcer wants at the parent (DS rumoured or
#     omnipresent), the CDNSKEY RRset exactly their DNSKEYs, TTL 3600,
#     both signed by the keys that sign the DNSKEY RRset (the delete form,
#     RFC 8078 section 4, if it wants none).
# The parent follows the CDS: when a ds-submit / ds-retract is due (a
# RegistrationDelay after it), it signs the zone as it is at that moment,
# checks the CDS RRset validates under its current DS set, and makes its
# DS set what the CDS says; `ds-seen` / `ds-gone` are what that changed.
# A submitted key missing from the CDS (or a retracted one still in it) is
# a failure.  The rollover must pass through a CDS holding the new KSK and
# end with the old KSK's DS and DNSKEY hidden and no CDS.
#
# Canaries (the checks must be able to fail): the rollover's CDS with one
# digest digit changed by hand must fail the CDS check; the same wrong CDS
# properly signed (the input zone's, signed under a signconf without the
# <CDS> section, the CDNSKEY still the signconf's) must be refused by
# kzonecheck and the CDS check.
set -u
: "${TDM_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$TDM_SRCDIR/tests/integration/cluster_lib.sh"
. "$TDM_SRCDIR/tests/integration/lib.sh"
. "$TDM_SRCDIR/tests/integration/rollover_lib.sh"
enf_prologue enforcer_cds

CL_SOFTHSM=1 cl_init 1 || exit 99
ENF_NODE=1
ENF="$enforcer -c $(cl_conf 1)"
tmp=$CL_DIR/test
mkdir -p "$tmp/cache" "$tmp/zones"
JUDGE_LOG=$tmp/judge.log
declare -A TWO_YEARS=()
sample=all
# 2030-01-01 plus up to a day.
T0=$(( 1893456000 + RANDOM * 2 ))
zone=cds.test
Z=cds.test

{
	echo '<?xml version="1.0" encoding="UTF-8"?>'
	echo '<KASP>'
	policy_xml cds nsec3 "$(key_xml KSK 13 0 P365D; key_xml ZSK 13 0 P365D)" |
		sed 's|</RegistrationDelay></Parent>|</RegistrationDelay><PublishCDS><DigestType>2</DigestType></PublishCDS><PublishCDNSKEY/></Parent>|'
	echo '</KASP>'
} >"$CL_DIR/kasp.xml"
grep -q '<PublishCDNSKEY/></Parent>' "$CL_DIR/kasp.xml" || { echo "ERROR: kasp.xml without PublishCDS"; exit 99; }
make_zone $Z

TANDEM_FAKE_TIME=$T0 cl_start 1
enf_wait_ready 1 || cl_fail "tandemd did not become leader"
$ENF policy import >/dev/null || cl_fail "policy import"
$ENF zone add -z $Z -p cds >/dev/null || cl_fail "zone add $Z"
sleep 0.5
enf_wait_pool || cl_fail "pool keys for $Z not generated in 60 s"

failed=0 cds_fail=0
cds_bad() { cds_fail=$((cds_fail + 1)); fail_lines+=("$*"); echo "FAIL $*"; }

# apex FILE TYPE: the apex records of TYPE as "TTL RDATA", RDATA with its
# first three fields as they are and the rest joined (ldns and the signer
# may split a digest or a key); DS/CDS digests in lower case.
apex() {
	awk -F'\t' -v o="$Z." -v t="$2" '$1 == o && $4 == t {
		n = split($5, f, /[ \t]+/); r = f[1] " " f[2] " " f[3] " "
		for (i = 4; i <= n; i++) r = r f[i]
		if (t == "CDS" || t == "DS") r = tolower(r)
		print $2, r }' "$1" | sort
}

# sig_tags FILE TYPE: key tags of the apex RRSIGs over TYPE, one line.
sig_tags() {
	awk -F'\t' -v o="$Z." -v t="$2" '$1 == o && $4 == "RRSIG" {
		split($5, r, " "); if (r[1] == t) print r[7] }' "$1" | sort -n | tr '\n' ' '
}

# key_rr FILE: the cached record of a locator like apex prints it (TTL 3600).
key_rr() {
	awk -F'\t' '{ t = $4; n = split($5, f, /[ \t]+/); r = f[1] " " f[2] " " f[3] " "
		for (i = 4; i <= n; i++) r = r f[i]
		if (t == "DS") r = tolower(r)
		print "3600", r }' "$1"
}

# wanted: "PENDING WANTED" from $tmp/keys.txt: yes/no, and the KSKs whose
# DS the enforcer wants at the parent (DS rumoured or omnipresent).
wanted() {
	awk -v z=$Z '$1 == z && $3 != "ZSK" {
		if ($8 == "rumoured" || $8 == "unretentive") p = "yes"
		if ($8 == "rumoured" || $8 == "omnipresent") w = w (w ? "," : "") $2 }
		END { print (p ? p : "no"), (w ? w : "-") }' "$tmp/keys.txt"
}

# cds_of FILE: the locators whose DS (digest type 2) the apex CDS RRset
# holds, or "delete" / "-" (none); a CDS matching no key: "?RDATA".
cds_of() {
	local rr l found out=
	while read -r _ rr; do
		case $rr in "0 0 0 00") echo delete; return ;; esac
		found=
		for l in $(awk '$3 != "ZSK" { print $2 }' "$tmp/keys.txt"); do
			[ "$(key_rr "$tmp/cache/$l.257.ds" | cut -d' ' -f2-)" = "$rr" ] && { found=$l; break; }
		done
		out+=${out:+,}${found:-?$rr}
	done < <(apex "$1" CDS)
	echo "${out:--}"
}

# cds_check FILE LABEL KS PUB: the apex CDS/CDNSKEY of FILE against what
# the enforcer wants (key list of this step).  Returns the number of
# findings (printed, not counted: the caller counts).
cds_check() {
	local f=$1 label=$2 ks=$3 pub=$4 pending want l n=0 wcds wkey gcds gkey tags
	read -r pending want < <(wanted)
	gcds=$(apex "$f" CDS) gkey=$(apex "$f" CDNSKEY)
	if [ $pending = no ]; then
		[ -z "$gcds$gkey" ] && return 0
		echo "$label: no DS change pending but the apex has CDS [$gcds] CDNSKEY [$gkey]"
		return 1
	fi
	if [ "$want" = - ]; then
		wcds="3600 0 0 0 00" wkey="3600 0 3 0 AA=="
	else
		for l in ${want//,/ }; do
			case ,$pub, in *,$l,*) ;; *)
				echo "$label: the enforcer wants the DS of KSK ${ID[$l]} at the parent but its DNSKEY is not published"
				n=$((n + 1)) ;;
			esac
		done
		wcds=$(for l in ${want//,/ }; do key_rr "$tmp/cache/$l.257.ds"; done | sort)
		wkey=$(for l in ${want//,/ }; do key_rr "$tmp/cache/$l.257.dnskey"; done | sort)
	fi
	if [ "$gcds" != "$wcds" ]; then
		echo "$label: CDS RRset is not ldns-key2ds -2 of the wanted KSKs ($(ids "$want"))"
		echo "     | want: $(echo $wcds)"; echo "     | got:  $(echo $gcds)"
		n=$((n + 1))
	fi
	if [ "$gkey" != "$wkey" ]; then
		echo "$label: CDNSKEY RRset is not the DNSKEYs of the wanted KSKs ($(ids "$want"))"
		echo "     | want: $(echo $wkey)"; echo "     | got:  $(echo $gkey)"
		n=$((n + 1))
	fi
	tags=$(tags "$ks")
	if [ -z "$tags" ] || [ "$(sig_tags "$f" CDS)" != "$tags" ] || [ "$(sig_tags "$f" CDNSKEY)" != "$tags" ]; then
		echo "$label: RRSIGs over CDS by [$(sig_tags "$f" CDS)], over CDNSKEY by [$(sig_tags "$f" CDNSKEY)], want the DNSKEY signers [$tags]"
		n=$((n + 1))
	fi
	return $n
}

# cds_parent NOW: the simulated parent (enf_parent of rollover_lib.sh, but
# the DS set follows the zone's CDS RRset).  Pending actions in
# $tmp/pending: "TIME seen|gone ZONE CKA TAG".
PARENT_CDS=0
cds_parent() {
	local now=$1 round z k kt a tag dsp rest acted t what due cds sc old new out
	touch "$tmp/pending"
	for round in 1 2 3 4 5 6; do
		enf_keys || return 1
		acted=
		while read -r z k kt a tag dsp rest; do
			case $dsp in
			submit|retract)
				$ENF key ds-$dsp -z "$z" -x "$tag" >/dev/null || { echo "ERROR: ds-$dsp $z $tag"; return 1; }
				[ $dsp = submit ] && what=seen || what=gone
				echo "$((now + ENF_REG)) $what $z $k $tag" >>"$tmp/pending"
				echo "     day $(day "$now"): key ds-$dsp -x $tag"
				[ $dsp = submit ] && ENF_SUBMITS=$((ENF_SUBMITS + 1))
				acted=1 ;;
			esac
		done <"$tmp/keys.txt"
		due=$(awk -v n="$now" '$1 <= n' "$tmp/pending")
		awk -v n="$now" '$1 > n' "$tmp/pending" >"$tmp/pending.new"
		mv "$tmp/pending.new" "$tmp/pending"
		if [ -n "$due" ]; then
			# The parent looks at the zone as published now.
			sc=$(awk -v z=$Z '$1 == z { print $2 }' "$tmp/signconf.paths")
			[ -n "$sc" ] || sc=$CL_DIR/n$ENF_NODE/data/signconf/$Z.xml
			out=$tmp/$Z/parent.zone
			enf_sign "$sc" "$now" "$out" "$tmp/$Z/parent.log" ||
				{ echo "ERROR: parent: tandem-signzone: $(tail -n3 "$tmp/$Z/parent.log")"; return 1; }
			old=${DSSET[$Z]:--}
			if [ "$old" != - ]; then
				: >"$tmp/anchor"
				for k in ${old//,/ }; do cat "$tmp/cache/$k.257.ds" >>"$tmp/anchor"; done
				ldns-verify-zone -t "$(date -u -d "@$now" +%Y%m%d%H%M%S)" -k "$tmp/anchor" "$out" \
					>"$tmp/parent.verify" 2>&1 ||
					cds_bad "parent at day $(day "$now"): the zone's CDS does not validate under the parent's DS set ($(ids "$old")): $(tail -n2 "$tmp/parent.verify")"
			fi
			cds=$(cds_of "$out")
			case $cds in
			-) new=; cds_bad "parent at day $(day "$now"): a DS change is due but the zone has no CDS" ;;
			delete) new=- ;;
			*'?'*) new=; cds_bad "parent at day $(day "$now"): a CDS matches no key of the zone: $cds" ;;
			*) new=$(printf '%s\n' ${cds//,/ } | sort -u | paste -sd, -) ;;
			esac
			if [ -n "$new" ]; then
				PARENT_CDS=$((PARENT_CDS + 1))
				echo "     day $(day "$now"): parent reads CDS [$(ids "$new")], had [$(ids "$old")]"
			else
				# Fall back on the key list so the walk goes on.
				new=$old
				while read -r t what z k tag; do
					[ $what = seen ] && new=$(enf_set_add "$new" "$k") || new=$(enf_set_del "$new" "$k")
				done <<<"$due"
			fi
			while read -r t what z k tag; do
				case $what,,$new, in
				seen,*",$k,"*|gone,*) ;;
				*) cds_bad "parent at day $(day "$now"): KSK $tag was submitted but the CDS [$(ids "$new")] lacks it" ;;
				esac
				case $what,,$new, in
				gone,*",$k,"*) cds_bad "parent at day $(day "$now"): KSK $tag was retracted but the CDS [$(ids "$new")] still has it" ;;
				esac
			done <<<"$due"
			DSSET[$Z]=$new
			# ds-seen for what the parent added, ds-gone for what it removed.
			while read -r z k kt a tag dsp rest; do
				[ "$kt" = ZSK ] && continue
				case ,$old,/,$new, in
				*",$k,"*/*",$k,"*) ;;
				*/*",$k,"*) $ENF key ds-seen -z $Z -x "$tag" >/dev/null ||
					{ echo "ERROR: ds-seen $tag"; return 1; }
					echo "     day $(day "$now"): key ds-seen -x $tag (parent DS set now $(ids "$new"))" ;;
				*",$k,"*/*) $ENF key ds-gone -z $Z -x "$tag" >/dev/null ||
					{ echo "ERROR: ds-gone $tag"; return 1; }
					ENF_GONES=$((ENF_GONES + 1))
					echo "     day $(day "$now"): key ds-gone -x $tag (parent DS set now $(ids "$new"))" ;;
				esac
			done <"$tmp/keys.txt"
			acted=1
		fi
		[ -n "$acted" ] || return 0
		$ENF enforce -z $Z >/dev/null 2>&1
	done
	return 0
}

now=$T0 steps=0 checked=0 skipped=0 rolled= t_roll= old_ksk= new_ksk= saw_new=0 cds_steps=0 quiet_steps=0
saved_cds= ksk_done= old_zsk= zsk_checked=0
while :; do
	cds_parent "$now" || cl_fail "parent step at $now"
	if [ -n "$rolled" ] && [ -z "$new_ksk" ]; then
		new_ksk=$(awk -v z=$Z -v o="$old_ksk" '$1 == z && $3 != "ZSK" && $2 != o { print $2; exit }' "$tmp/keys.txt")
		[ -n "$new_ksk" ] && echo "     day $(day "$now"): new KSK ${ID[$new_ksk]}"
	fi
	before=$checked
	enf_check_zone $Z "$now"
	if [ "$checked" != "$before" ]; then
		read -r _ pub ks _ <"$tmp/$Z/last"
		if msg=$(cds_check "$tmp/$Z/signed.zone" "day $(day "$now")" "$ks" "$pub"); then
			read -r pending want < <(wanted)
			[ $pending = yes ] && echo "     CDS/CDNSKEY = DS/DNSKEY of $(ids "$want"), signed by $(tags "$ks")" ||
				echo "     no CDS/CDNSKEY (no DS change pending)"
		else
			echo "$msg" | sed 's/^/FAIL /'
			cds_fail=$((cds_fail + 1)); fail_lines+=("cds at day $(day "$now"): $(head -n1 <<<"$msg")")
		fi
		read -r pending want < <(wanted)
		if [ "$pending" = yes ]; then
			cds_steps=$((cds_steps + 1))
			if [ -n "$rolled" ] && [ -n "$new_ksk" ] && [[ ",$want," == *",$new_ksk,"* ]]; then
				saw_new=$((saw_new + 1))
				[ -n "$saved_cds" ] || { saved_cds=$tmp/rollover.zone; cp "$tmp/$Z/signed.zone" "$saved_cds"
					cp "$tmp/keys.txt" "$tmp/rollover.keys"; t_saved=$now
					cp "$(awk -v z=$Z '$1 == z { print $2 }' "$tmp/signconf.paths")" "$tmp/rollover.xml" 2>/dev/null ||
					cp "$CL_DIR/n1/data/signconf/$Z.xml" "$tmp/rollover.xml"; }
			fi
		else
			quiet_steps=$((quiet_steps + 1))
		fi
	fi
	read -r pending want < <(wanted)
	if [ -z "$rolled" ] && [ "$pending" = no ] && [ "${DSSET[$Z]:--}" != - ] && [ "$now" -ge $((T0 + 2 * DAY)) ]; then
		old_ksk=$(enf_ksk_of $Z)
		$ENF key rollover -z $Z -t KSK >/dev/null || cl_fail "key rollover -t KSK"
		echo "     day $(day "$now"): key rollover -z $Z -t KSK (old KSK ${ID[$old_ksk]})"
		rolled=1 t_roll=$now
		$ENF enforce -z $Z >/dev/null
		continue
	fi
	if [ -n "$rolled" ] && [ -z "$ksk_done" ] && [ "$pending" = no ] &&
	   awk -v o="$old_ksk" '$2 == o && $8 == "hidden" && $9 == "hidden" { f = 1 } END { exit !f }' "$tmp/keys.txt"; then
		echo "     day $(day "$now"): KSK rollover done: old KSK ${ID[$old_ksk]} DS and DNSKEY hidden, parent DS set $(ids "${DSSET[$Z]:--}")"
		ksk_done=$now
		# Then a ZSK rollover: no DS change, so never a CDS.
		old_zsk=$(awk -v z=$Z '$1 == z && $3 == "ZSK" && $9 != "hidden" { print $2; exit }' "$tmp/keys.txt")
		$ENF key rollover -z $Z -t ZSK >/dev/null || cl_fail "key rollover -t ZSK"
		echo "     day $(day "$now"): key rollover -z $Z -t ZSK (old ZSK ${ID[$old_zsk]})"
		zsk_checked=$checked
		$ENF enforce -z $Z >/dev/null
		continue
	fi
	if [ -n "$ksk_done" ] && [ "$pending" = no ] &&
	   awk -v o="$old_zsk" '$2 == o && $9 == "hidden" && $11 == "hidden" { f = 1 } END { exit !f }' "$tmp/keys.txt"; then
		zsk_checked=$((checked - zsk_checked))
		echo "     day $(day "$now"): ZSK rollover done: old ZSK ${ID[$old_zsk]} DNSKEY and RRSIGs hidden, $zsk_checked states checked"
		break
	fi
	[ "$now" -lt $((T0 + 120 * DAY)) ] || { cds_bad "the rollovers did not end in 120 days"; break; }
	enf_leap "$now" $([ -n "$rolled" ] || echo $((T0 + 2 * DAY))) || cl_fail "time leap after $now"
	now=$LEAP_NOW
	steps=$((steps + 1))
	[ "$steps" -lt 200 ] || cl_fail "more than 200 steps"
done

[ -n "$rolled" ] || cds_bad "the KSK rollover was never started"
[ -n "$ksk_done" ] || cds_bad "the KSK rollover never ended"
[ "$zsk_checked" -ge 2 ] || cds_bad "the ZSK rollover was checked in $zsk_checked states only"
[ "$saw_new" -gt 0 ] || cds_bad "no step had the new KSK's DS wanted (CDS never announced it)"
[ "$PARENT_CDS" -ge 2 ] || cds_bad "the parent followed the CDS only $PARENT_CDS times (want the first DS and the rollover)"
case ${DSSET[$Z]:--} in
"$new_ksk") ;;
*) cds_bad "after the rollover the parent holds DS [$(ids "${DSSET[$Z]:--}")], want the new KSK ${ID[$new_ksk]:-?} alone" ;;
esac
# The last signed zone has no CDS/CDNSKEY any more.
if [ -n "$(apex "$tmp/$Z/signed.zone" CDS)$(apex "$tmp/$Z/signed.zone" CDNSKEY)" ]; then
	cds_bad "the last signed zone still has CDS/CDNSKEY"
fi

# Canaries.
canary_fail=0
if [ -z "$saved_cds" ]; then
	echo "FAIL canary: no signed zone with the new KSK's CDS to tamper with"; canary_fail=1
else
	# The enforcer's wishes at the saved moment.
	cp "$tmp/keys.txt" "$tmp/keys.final"
	cp "$tmp/rollover.keys" "$tmp/keys.txt"
	read -r pub ks zs < <(sc_keys "$tmp/rollover.xml")
	if ! cds_check "$saved_cds" canary "$ks" "$pub" >/dev/null; then
		echo "FAIL canary: the CDS check refuses the untouched rollover output (see above)"; canary_fail=$((canary_fail + 1))
	fi
	# 1. One digest digit changed by hand.
	awk -F'\t' -v o="$Z." 'BEGIN { OFS = "\t" } !d && $1 == o && $4 == "CDS" {
		c = substr($5, length($5), 1); $5 = substr($5, 1, length($5) - 1) (c == "0" ? "1" : "0"); d = 1 } 1' \
		"$saved_cds" >"$tmp/tampered.zone"
	cmp -s "$saved_cds" "$tmp/tampered.zone" && { echo "FAIL canary: could not tamper with the CDS"; canary_fail=$((canary_fail + 1)); }
	if out=$(cds_check "$tmp/tampered.zone" canary1 "$ks" "$pub"); then
		echo "FAIL canary: a CDS with a digest changed by hand passes the CDS check"; canary_fail=$((canary_fail + 1))
	else
		echo "     canary CDS check: $(head -n1 <<<"$out")"
	fi
	if kzonecheck -o $Z -d on -t "$t_saved" "$tmp/tampered.zone" >/dev/null 2>&1; then
		echo "FAIL canary: kzonecheck accepts a CDS changed by hand"; canary_fail=$((canary_fail + 1))
	fi
	# 2. The same wrong CDS in the input, signed: a signconf without the
	# <CDS> section (the signer keeps the input's CDS), the CDNSKEY still
	# the signconf's.
	sed -e '/<CDS\/>/d' -e '/<CDS>/,/<\/CDS>/d' "$tmp/rollover.xml" >"$tmp/canary.xml"
	cp "$tmp/zones/$Z.zone" "$tmp/zones/$Z.zone.orig"
	awk -F'\t' -v o="$Z." '$1 == o && $4 == "CDS"' "$tmp/tampered.zone" >>"$tmp/zones/$Z.zone"
	t_can=$t_saved
	if ! enf_sign "$tmp/canary.xml" "$t_can" "$tmp/canary.zone" "$tmp/canary.log"; then
		echo "FAIL canary: tandem-signzone: $(tail -n2 "$tmp/canary.log")"; canary_fail=$((canary_fail + 1))
	elif [ "$(apex "$tmp/canary.zone" CDS)" != "$(apex "$tmp/tampered.zone" CDS)" ] ||
	     [ -z "$(sig_tags "$tmp/canary.zone" CDS)" ]; then
		echo "FAIL canary: the input's CDS was not kept and signed: [$(apex "$tmp/canary.zone" CDS)]"; canary_fail=$((canary_fail + 1))
	else
		# kzonecheck must refuse it for the CDS, not for something else.
		if out=$(kzonecheck -o $Z -d on -t "$t_can" "$tmp/canary.zone" 2>&1); then
			echo "FAIL canary: kzonecheck accepts a signed CDS that matches no CDNSKEY/DNSKEY"; canary_fail=$((canary_fail + 1))
		elif ! grep -q '^\[.*CDS' <<<"$out"; then
			echo "FAIL canary: kzonecheck refuses the signed wrong CDS, but not for the CDS: $out"; canary_fail=$((canary_fail + 1))
		else
			echo "     canary kzonecheck: $(grep '^\[' <<<"$out" | head -n2 | tr '\n' ' ')"
		fi
		if out=$(cds_check "$tmp/canary.zone" canary2 "$ks" "$pub"); then
			echo "FAIL canary: a signed wrong CDS passes the CDS check"; canary_fail=$((canary_fail + 1))
		else
			echo "     canary CDS check: $(head -n1 <<<"$out")"
		fi
	fi
	mv "$tmp/zones/$Z.zone.orig" "$tmp/zones/$Z.zone"
	mv "$tmp/keys.final" "$tmp/keys.txt"
fi
[ $canary_fail = 0 ] && echo "ok   canaries: a CDS digest changed by hand fails the CDS check and kzonecheck, signed or not"

if ! tdm_compare $Z nsec3 "$tmp/zones/$Z.zone" "$tmp/$Z/signed.zone" >"$tmp/compare.log" 2>&1; then
	echo "FAIL $Z: zone_compare on the last output: $(tail -n1 "$tmp/compare.log")"
	failed=$((failed + 1))
fi
echo "enforcer_cds: TDM_SEED=$seed; $steps time leaps, $checked zone states validated, $failed failed validation, $cds_fail CDS findings, $cds_steps states with a DS change pending ($saw_new with the new KSK's DS wanted), $quiet_steps without, parent followed the CDS $PARENT_CDS times, $ENF_SUBMITS DS submitted, $ENF_GONES withdrawn, $(( $(date +%s) - started )) s"
for l in "${fail_lines[@]}"; do echo "FAILED: $l"; done
[ $failed = 0 ] && [ $cds_fail = 0 ] && [ $canary_fail = 0 ] && [ "$ENF_SUBMITS" -ge 2 ] && [ "$ENF_GONES" -ge 1 ]
