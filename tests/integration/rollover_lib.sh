# rollover_lib.sh: the judges of a signed zone under a rollover, shared by
# enforcer_rollover.sh (enforcer core, simulated parent) and
# enforcer_daemon.sh / enforcer_failover.sh (tandemd's enforcer).  Source it;
# the functions use, at call time:
#   zone        the zone name;
#   fakenow     tests/integration/fake_now.so (dnssec-verify's clock);
#   tmp         a private directory holding cache/LOC.FLAGS.{dnskey,ds,tag}
#               (a key's DNSKEY record, the DS of a key with flags 257 as
#               ldns-key2ds writes it, and its key tag) and $tmp/anchor;
#   JUDGE_LOG   where judge writes the validators' words;
#   ALG, FLAGS, ID  associative arrays by locator: algorithm, DNSKEY flags,
#               and a short name for messages.
# Each script fills the cache its own way (tandem-hsmutil dnskey for token
# keys, the ledger for tandemd's keys).

# ids LIST: "k00,k01" for a comma-separated list of locators
ids() {
	local l out=
	[ "$1" = - ] && { echo -; return; }
	for l in ${1//,/ }; do out+=${out:+,}${ID[$l]}; done
	echo "$out"
}

# tags LIST: the key tags of the locators, sorted, one line
tags() {
	local l
	[ "$1" = - ] && return
	for l in ${1//,/ }; do cat "$tmp/cache/$l.${FLAGS[$l]}.tag"; done | sort -n | tr '\n' ' '
}

# judge FILE T DS PUBLISH KSIGN ZSIGN: every check of one signed zone at
# time T.  Prints the verdict words; returns the number of failures; the
# validators' output is in the file $JUDGE_LOG (judge runs in a subshell).
judge() {
	local file=$1 t=$2 ds=$3 pub=$4 ks=$5 zs=$6 stamp out rc fails=0 words='' a l
	stamp=$(date -u -d "@$t" +%Y%m%d%H%M%S)
	: >"$JUDGE_LOG"
	if [ "$ds" = - ]; then
		out=$(ldns-verify-zone -t "$stamp" "$file" 2>&1); rc=$?
		if [ $rc = 0 ]; then words+="ldns=ok(insecure) "; else words+="ldns=FAIL "; fails=$((fails + 1))
			jlog "--- ldns-verify-zone -t $stamp (no DS at the parent) (exit $rc)"$'\n'"$out"$'\n'; fi
	else
		for a in $(for l in ${ds//,/ }; do echo "${ALG[$l]}"; done | sort -un); do
			: >"$tmp/anchor"
			for l in ${ds//,/ }; do
				[ "${ALG[$l]}" = "$a" ] && cat "$tmp/cache/$l.257.ds" >>"$tmp/anchor"
			done
			out=$(ldns-verify-zone -t "$stamp" -k "$tmp/anchor" "$file" 2>&1); rc=$?
			if [ $rc = 0 ]; then words+="ldns[$a]=ok "; else words+="ldns[$a]=FAIL "; fails=$((fails + 1))
				jlog "--- ldns-verify-zone -t $stamp -k <DS of algorithm $a: $(ids "$ds")> (exit $rc)"$'\n'"$(cat "$tmp/anchor")"$'\n'"$out"$'\n'; fi
		done
	fi
	# dnssec-verify expects data signed by keys without the SEP flag unless
	# given -z; a CSK (flags 257) signs the data.
	local z='' npub=0 nzsk=0
	for l in ${pub//,/ }; do
		[ "$l" = - ] && continue
		npub=$((npub + 1)); [ "${FLAGS[$l]}" = 256 ] && nzsk=$((nzsk + 1))
	done
	for l in ${zs//,/ }; do [ "$l" != - ] && [ "${FLAGS[$l]}" = 257 ] && z=-z; done
	out=$(TDM_FAKE_NOW=$t LD_PRELOAD=$fakenow dnssec-verify $z -o "$zone" "$file" 2>&1); rc=$?
	if [ $rc = 0 ]; then words+="bind=ok "; else words+="bind=FAIL "; fails=$((fails + 1))
		jlog "--- dnssec-verify $z -o $zone, clock at $t (exit $rc)"$'\n'"$out"$'\n'; fi
	out=$(kzonecheck -o "$zone" -d on -t "$t" "$file" 2>&1); rc=$?
	if [ $rc = 0 ]; then
		words+="knot=ok "
	elif [ $npub -ge 2 ] && [ $nzsk = 0 ] && tdm__kzonecheck_only_nosig "$out"; then
		# Knot 3.2 counts a key as a ZSK only when it lacks the SEP flag
		# or is the only DNSKEY, so with two CSKs published (a CSK
		# rollover) it finds no key allowed to sign the data and
		# refuses every RRSIG over it; validators ignore the SEP flag
		# (RFC 4034 section 2.1.1) and later Knot versions do too.
		words+="knot=skipped(csk) "
	else
		words+="knot=FAIL "; fails=$((fails + 1))
		jlog "--- kzonecheck -o $zone -d on -t $t (exit $rc)"$'\n'"$out"$'\n'
	fi
	# What the signer published and who signed, against the signconf.
	local want_pub got_pub want_ks got_ks want_zs got_zs
	want_pub=$(for l in ${pub//,/ }; do [ "$l" = - ] || awk '{ print $5, $6, $7, $8 }' "$tmp/cache/$l.${FLAGS[$l]}.dnskey"; done | sort | md5sum)
	got_pub=$(awk -F'\t' -v z="$zone." '$1 == z && $4 == "DNSKEY" { print $5 }' "$file" | awk '{ print $1, $2, $3, $4 }' | sort | md5sum)
	want_ks=$(tags "$ks"); want_zs=$(tags "$zs")
	got_ks=$(awk -F'\t' -v z="$zone." '$1 == z && $4 == "RRSIG" { split($5, r, " "); if (r[1] == "DNSKEY") print r[7] }' "$file" | sort -n | tr '\n' ' ')
	got_zs=$(awk -F'\t' -v z="$zone." '$1 == z && $4 == "RRSIG" { split($5, r, " "); if (r[1] == "SOA") print r[7] }' "$file" | sort -n | tr '\n' ' ')
	if [ "$want_pub" = "$got_pub" ] && [ "$want_ks" = "$got_ks" ] && [ "$want_zs" = "$got_zs" ]; then
		words+="keys=ok"
	else
		words+="keys=FAIL"; fails=$((fails + 1))
		jlog "--- keys: DNSKEY RRset $( [ "$want_pub" = "$got_pub" ] && echo as || echo NOT as) the signconf publishes ($(ids "$pub"));"
		jlog " DNSKEY signed by tags [$got_ks] want [$want_ks]; SOA signed by [$got_zs] want [$want_zs]"$'\n'
	fi
	echo "$words"
	return $fails
}

jlog() { printf '%s' "$1" >>"$JUDGE_LOG"; }

# tdm__kzonecheck_only_nosig OUTPUT: kzonecheck's only finding is "no valid
# signature for a record".
tdm__kzonecheck_only_nosig() {
	local line seen=no
	while IFS= read -r line; do
		case $line in
		'['*'] no valid signature for a record'*) seen=yes ;;
		'['*) return 1 ;;
		esac
	done <<<"$1"
	[ $seen = yes ]
}

# quick CMD...: run CMD with ASan's fast unwinder (no effect without
# --enable-sanitize).  softhsm.sh asks for full malloc stacks so that
# lsan.supp can name SoftHSM2's leak in C_Sign; they make each run of an
# instrumented binary about 0.4 s slower, which over hundreds of signing
# runs costs minutes.  tandem-signzone signs in worker processes, which
# leave without a leak check, and tandem-hsmutil generate/dnskey never
# signs, so the fast unwinder hides nothing; the first signing run of each
# scenario keeps the full stacks anyway.
quick() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=1" "$@"; }

