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


# key_xml ROLE ALG BITS LIFETIME
key_xml() {
	local alg="<Algorithm>$2</Algorithm>"
	[ "$3" = 0 ] || alg="<Algorithm length=\"$3\">$2</Algorithm>"
	printf '<%s>%s<Lifetime>%s</Lifetime><Repository>SoftHSM</Repository></%s>\n' "$1" "$alg" "$4" "$1"
}


#- tandemd's enforcer (enforcer_daemon.sh, enforcer_failover.sh) ------------
# These use, besides the above: ENF (tandem-enforcer -c CONF of the node to
# talk to), ENF_NODE (the node whose state.db, signconf and token sign),
# signzone, DAY, CL_DIR (cluster_lib.sh).  Parent delays: the policies of
# policy_xml register a DS in PT1H; the simulated parent publishes (and
# withdraws) it exactly then.

DAY=86400
ENF_REG=3600
ENF_SUBMITS=0 ENF_GONES=0
declare -A ALG FLAGS ID DSSET LASTSTATE LAST_T PREV_DS PREV_PUB PREV_KS PREV_ZS GONE
fail_lines=()

# policy_xml NAME DENIAL KEYS_XML: one <Policy> with the timing of
# enforcer_rollover.sh's write_kasp.
policy_xml() {
	local denial
	case $2 in
	nsec) denial='<NSEC/>' ;;
	nsec3) denial='<NSEC3><Resalt>P100D</Resalt><Hash><Algorithm>1</Algorithm><Iterations>0</Iterations><Salt length="4"/></Hash></NSEC3>' ;;
	esac
	cat <<EOK
<Policy name="$1"><Description>tandemd enforcer test</Description>
<Signatures><Resign>PT2H</Resign><Refresh>P3D</Refresh>
<Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>
<Jitter>PT12H</Jitter><InceptionOffset>PT3600S</InceptionOffset><MaxZoneTTL>P1D</MaxZoneTTL></Signatures>
<Denial>$denial</Denial>
<Keys><TTL>PT3600S</TTL><RetireSafety>PT3600S</RetireSafety><PublishSafety>PT3600S</PublishSafety><Purge>P14D</Purge>
$3
</Keys>
<Zone><PropagationDelay>PT12H</PropagationDelay><SOA><TTL>PT3600S</TTL><Minimum>PT300S</Minimum><Serial>unixtime</Serial></SOA></Zone>
<Parent><PropagationDelay>PT2H</PropagationDelay><DS><TTL>PT3600S</TTL></DS><SOA><TTL>PT172800S</TTL><Minimum>PT10800S</Minimum></SOA><RegistrationDelay>PT1H</RegistrationDelay></Parent>
</Policy>
EOK
}

# make_zone Z: $tmp/zones/Z.zone, examples/zones/example.com.zone renamed.
make_zone() {
	local src=$TDM_SRCDIR/examples/zones
	sed "s/example\.com/$1/g" "$src/example.com.zone" >"$tmp/zones/$1.zone"
	sed "s/example\.com/$1/g" "$src/example.com.include" >"$tmp/zones/$1.include"
	mkdir -p "$tmp/$1"
}

# enf_wait_ready I: node I is the leader and its control socket answers.
enf_wait_ready() {
	local n
	for n in $(seq 1 200); do
		$ENF running >/dev/null 2>&1 && [ "$(cl_leader_from "$1")" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# enf_wait_pool: no key generation running (tandemd generates pool keys in
# the background; the test adds zones one at a time, see enforcer_daemon.sh).
enf_wait_pool() {
	local n
	for n in $(seq 1 600); do
		case $($ENF queue 2>/dev/null) in
		*" 0 key generations running"*|*" 0 key generation running"*) return 0 ;;
		esac
		sleep 0.1
	done
	return 1
}

day() { awk -v t="$1" -v t0="$T0" 'BEGIN { printf "%.2f", (t - t0) / 86400 }'; }
iso() { date -u -d "@$1" +%Y-%m-%d-%H:%M:%S; }

# enf_sync: through a follower (ENF_SYNC_FOLLOWER), read only once it has
# applied everything the leader has: `key list` answers from the node's own
# state.db, which may lag the leader's last ENFORCE entry.  A barrier
# (forwarded to the leader) commits after everything before it; /health is
# a periodically published status, so it may only be late, never early.
enf_sync() {
	local want
	[ -n "${ENF_SYNC_FOLLOWER:-}" ] || return 0
	want=$(cl_ctl "$ENF_SYNC_FOLLOWER" barrier 2>/dev/null | sed -n 's/^index //p')
	[ -n "$want" ] && cl_wait_applied "$ENF_SYNC_FOLLOWER" "$want" && return 0
	echo "ERROR: follower $ENF_SYNC_FOLLOWER did not reach the leader's index ${want:-?}"
	return 1
}

# enf_keys: $tmp/keys.json (key list --json -d) and $tmp/keys.txt, one key
# a line: "ZONE CKA_ID KEYTYPE ALG TAG DS_AT_PARENT NEXT_EPOCH|- DS DNSKEY
# RRSIG_DNSKEY RRSIG".  Every key gets its cache files (DNSKEY from the
# ledger's public_rdata, read-only; DS by ldns-key2ds) and ALG/FLAGS/ID.
enf_keys() {
	local db=$CL_DIR/n$ENF_NODE/data/state.db z k kt a tag rest
	enf_sync || return 1
	$ENF --json key list -d -a >"$tmp/keys.json" 2>"$tmp/keys.err" || { cat "$tmp/keys.err"; return 1; }
	"$TDM_PYTHON" - "$db" "$tmp/keys.json" "$tmp/cache" >"$tmp/keys.txt" <<'EOP' || return 1
import base64, calendar, json, os, sqlite3, sys, time
db, js, cache = sys.argv[1:4]
keys = json.load(open(js))
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
def tag(rd):
    ac = 0
    for i, b in enumerate(rd):
        ac += b if i & 1 else b << 8
    return (ac + (ac >> 16)) & 0xFFFF
def epoch(s):
    return "-" if s is None else str(calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")))
# Where the leader writes each zone's signconf: the ledger's path when
# `zone add -s` gave one, else "" and the leader's own
# <DataDirectory>/signconf/ZONE.xml (the callers fall back to that).
with open(os.path.join(cache, "..", "signconf.paths"), "w") as f:
    for name, sc in con.execute("SELECT name, signconf FROM zones"):
        f.write("%s %s\n" % (name, sc or ""))
for k in keys:
    flags = 256 if k["keytype"] == "ZSK" else 257
    base = os.path.join(cache, "%s.%d" % (k["cka_id"], flags))
    if not os.path.exists(base + ".tag"):
        row = con.execute("SELECT public_rdata FROM keys WHERE lower(hex(cka_id)) = ?",
                          (k["cka_id"].lower(),)).fetchone()
        if row is None:
            sys.exit("key %s (%s) is not in %s" % (k["cka_id"], k["zone"], db))
        rd = bytes([flags >> 8, flags & 255]) + bytes(row[0][2:])
        if tag(rd) != k["keytag"]:
            sys.exit("key %s: key tag %d in key list, %d from the ledger's public key"
                     % (k["cka_id"], k["keytag"], tag(rd)))
        with open(base + ".dnskey", "w") as f:
            f.write("%s.\t3600\tIN\tDNSKEY\t%d %d %d %s\n" % (k["zone"], flags, rd[2], rd[3],
                    base64.b64encode(rd[4:]).decode()))
        with open(base + ".tag", "w") as f:
            f.write("%d\n" % tag(rd))
    print(k["zone"], k["cka_id"], k["keytype"], k["algorithm"], k["keytag"], k["ds_at_parent"],
          epoch(k["next_transition"]), k["ds"], k["dnskey"], k["rrsig_dnskey"], k["rrsig"])
EOP
	while read -r z k kt a tag rest; do
		ALG[$k]=$a ID[$k]=$tag
		[ "$kt" = ZSK ] && FLAGS[$k]=256 || FLAGS[$k]=257
		if [ "${FLAGS[$k]}" = 257 ] && [ ! -s "$tmp/cache/$k.257.ds" ]; then
			ldns-key2ds -n -2 "$tmp/cache/$k.257.dnskey" >"$tmp/cache/$k.257.ds" ||
				{ echo "ERROR: ldns-key2ds $k"; return 1; }
		fi
	done <"$tmp/keys.txt"
}

# enf_parent NOW: the simulated parent.  Submits what the enforcer wants
# submitted or retracted, publishes/withdraws what is due (ds-seen,
# ds-gone), runs the enforcer for a zone it told something, until quiet.
# Pending parent actions are in $tmp/pending: "TIME seen|gone ZONE CKA TAG".
enf_parent() {
	local now=$1 round z k kt a tag dsp rest acted t what
	touch "$tmp/pending"
	for round in 1 2 3 4 5 6; do
		enf_keys || return 1
		acted=
		while read -r z k kt a tag dsp rest; do
			case $dsp in
			submit)
				$ENF key ds-submit -z "$z" -x "$tag" >/dev/null || { echo "ERROR: ds-submit $z $tag"; return 1; }
				echo "$((now + ENF_REG)) seen $z $k $tag" >>"$tmp/pending"
				echo "     day $(day "$now"): $z: key ds-submit -x $tag"
				ENF_SUBMITS=$((ENF_SUBMITS + 1)); acted+=" $z" ;;
			retract)
				$ENF key ds-retract -z "$z" -x "$tag" >/dev/null || { echo "ERROR: ds-retract $z $tag"; return 1; }
				echo "$((now + ENF_REG)) gone $z $k $tag" >>"$tmp/pending"
				echo "     day $(day "$now"): $z: key ds-retract -x $tag"
				acted+=" $z" ;;
			esac
		done <"$tmp/keys.txt"
		: >"$tmp/pending.new"
		while read -r t what z k tag; do
			if [ "$t" -gt "$now" ]; then
				echo "$t $what $z $k $tag" >>"$tmp/pending.new"
				continue
			fi
			if [ "$what" = seen ]; then
				DSSET[$z]=$(enf_set_add "${DSSET[$z]:--}" "$k")
			else
				DSSET[$z]=$(enf_set_del "${DSSET[$z]:--}" "$k")
				ENF_GONES=$((ENF_GONES + 1))
			fi
			$ENF key "ds-$what" -z "$z" -x "$tag" >/dev/null || { echo "ERROR: ds-$what $z $tag"; return 1; }
			echo "     day $(day "$now"): $z: key ds-$what -x $tag (parent DS set now $(ids "${DSSET[$z]}"))"
			acted+=" $z"
		done <"$tmp/pending"
		mv "$tmp/pending.new" "$tmp/pending"
		[ -n "$acted" ] || return 0
		for z in $(printf '%s\n' $acted | sort -u); do
			$ENF enforce -z "$z" >/dev/null 2>&1
		done
	done
	return 0
}

enf_set_add() { { [ "$1" = - ] || printf '%s\n' ${1//,/ }; echo "$2"; } | sort -u | paste -sd, -; }
enf_set_del() {
	local out
	out=$(printf '%s\n' ${1//,/ } | grep -vx -- "$2" | grep -v '^-$' | sort -u | paste -sd, -)
	echo "${out:--}"
}

# enf_leap NOW [TIME...]: `time leap` to the next enforcer step, or
# `time leap -t` to the next parent action or scripted TIME (those after
# NOW) if it comes first.  Sets LEAP_NOW.
enf_leap() {
	local now=$1 nextp nextk out
	shift
	nextp=$({ awk '{ print $1 }' "$tmp/pending"; printf '%s\n' "$@"; } |
		awk -v n="$now" '$1 > n' | sort -n | head -n1)
	nextk=$(awk -v n="$now" '$7 != "-" && $7 > n { print $7 }' "$tmp/keys.txt" | sort -n | head -n1)
	if [ -n "$nextp" ] && { [ -z "$nextk" ] || [ "$nextp" -lt "$nextk" ]; }; then
		out=$($ENF time leap -t "$(iso "$nextp")" 2>&1)
	else
		out=$($ENF time leap 2>&1)
		case $out in
		*"nothing is scheduled"*) out=$($ENF time leap -t "$(iso $((now + 30 * DAY)))" 2>&1) ;;
		esac
	fi
	LEAP_NOW=$(sed -n 's/^It is now .* (\([0-9]*\)).*/\1/p' <<<"$out" | tail -n1)
	[ -n "$LEAP_NOW" ] || { echo "ERROR: time leap: $out"; return 1; }
	[ "$LEAP_NOW" -ge "$now" ] || { echo "ERROR: time went back: $out"; return 1; }
}

# sc_keys SIGNCONF: "DS PUB KSK ZSK" (comma lists of locators, - if none);
# DS from DSSET of the zone.
sc_keys() {
	awk '/<Locator>/ { sub(/.*<Locator>/, ""); sub(/<\/Locator>.*/, ""); loc = $0 }
	     /<KSK\/>/ { k = 1 } /<ZSK\/>/ { zz = 1 } /<Publish\/>/ { p = 1 }
	     /<\/Key>/ { if (p) pub = pub (pub ? "," : "") loc; if (k) ks = ks (ks ? "," : "") loc
			 if (zz) zs = zs (zs ? "," : "") loc; k = zz = p = 0 }
	     END { print (pub ? pub : "-"), (ks ? ks : "-"), (zs ? zs : "-") }' "$1"
}

# enf_sign SIGNCONF T OUT LOG: tandem-signzone --ledger on node ENF_NODE.
enf_sign() {
	(cd "$tmp/zones" && SOFTHSM2_CONF="$CL_DIR/n$ENF_NODE/softhsm/softhsm2.conf" \
		quick "$signzone" -c "$(cl_conf "$ENF_NODE")" -s "$1" -z "$zone" \
		--ledger "$CL_DIR/n$ENF_NODE/data/state.db" --now "$2" --workers 1 "$zone.zone" "$3") >"$4" 2>&1
}

# enf_judge LABEL SIGNCONF T DS PUB KS ZS: sign and judge; counts failures.
enf_judge() {
	local label=$1 sc=$2 t=$3 ds=$4 pub=$5 ks=$6 zs=$7 words out=$tmp/$zone/signed.zone
	if ! enf_sign "$sc" "$t" "$out" "$tmp/$zone/sign.log"; then
		words="tandem-signzone failed: $(tail -n3 "$tmp/$zone/sign.log")"
	elif words=$(judge "$out" "$t" "$ds" "$pub" "$ks" "$zs"); then
		JUDGED="$JUDGED $label: $words"
		return 0
	fi
	failed=$((failed + 1))
	fail_lines+=("$zone $label at $t (day $(day "$t")): $words")
	echo "FAIL $zone $label at $t = $(date -u -d "@$t" '+%F %T') UTC (day $(day "$t")): $words"
	echo "     DS at parent $(ids "$ds"); signconf publishes $(ids "$pub"), DNSKEY signers $(ids "$ks"), data signers $(ids "$zs")"
	grep -v '^$' "$JUDGE_LOG" 2>/dev/null | head -n 30 | sed 's/^/     | /'
	return 1
}

# enf_check_zone Z NOW: if Z's signconf or DS set changed, judge the old
# state at its last moment (NOW - 1 min) and the new one at NOW (sampled:
# see enforcer_daemon.sh).
enf_check_zone() {
	zone=$1
	local now=$2 sc ds pub ks zs state prev=$tmp/$1/prev.xml t
	sc=$(awk -v z="$1" '$1 == z { print $2 }' "$tmp/signconf.paths")
	[ -n "$sc" ] || sc=$CL_DIR/n$ENF_NODE/data/signconf/$1.xml
	[ -f "$sc" ] || return 0
	read -r pub ks zs < <(sc_keys "$sc")
	ds=${DSSET[$zone]:--}
	state="$ds $pub $ks $zs $(md5sum <"$sc")"
	[ "$state" != "${LASTSTATE[$zone]:-}" ] || return 0
	LASTSTATE[$zone]=$state
	if [ -n "${TWO_YEARS[$zone]:-}" ] && [ "$sample" != all ] &&
	   [ "$now" -ge $((T0 + 60 * DAY)) ] && [ "$now" -le $((END2 - 60 * DAY)) ] &&
	   [ "$ds" = "${PREV_DS[$zone]:-}" ] && [ "$ks" = "${PREV_KS[$zone]:-}" ] &&
	   [ $((RANDOM % sample)) != 0 ]; then
		skipped=$((skipped + 1))
	else
		JUDGED=
		checked=$((checked + 1))
		if [ -f "$prev" ]; then
			t=$((now - 60))
			[ "$t" -ge "${LAST_T[$zone]}" ] || t=${LAST_T[$zone]}
			enf_judge before "$prev" "$t" "${PREV_DS[$zone]}" "${PREV_PUB[$zone]}" \
				"${PREV_KS[$zone]}" "${PREV_ZS[$zone]}"
		fi
		enf_judge step "$sc" "$now" "$ds" "$pub" "$ks" "$zs" &&
			echo "ok   $zone day $(day "$now"): DS=$(ids "$ds") DNSKEY=$(ids "$pub") KSK=$(ids "$ks") ZSK=$(ids "$zs");$JUDGED"
		LAST_T[$zone]=$now
		echo "$ds $pub $ks $zs" >"$tmp/$zone/last"
	fi
	cp "$sc" "$prev"
	PREV_DS[$zone]=$ds PREV_PUB[$zone]=$pub PREV_KS[$zone]=$ks PREV_ZS[$zone]=$zs
	[ -n "${LAST_T[$zone]:-}" ] || LAST_T[$zone]=$now
}

# enf_ksk_of Z: a locator of a KSK or CSK of zone Z (last key list).
enf_ksk_of() { awk -v z="$1" '$1 == z && $3 != "ZSK" { print $2; exit }' "$tmp/keys.txt"; }

# enf_prologue NAME: the common start of the tests of tandemd's enforcer
# (enforcer_daemon, enforcer_failover, enforcer_cds): the binaries, the
# fake_now.so clock, the validators, and the seed (TDM_SEED replays a run).
# Sets signzone, enforcer, fakenow, seed and started.
enf_prologue() {
	cl_prologue
	signzone=$(cl_bin tandem-signzone) || exit 99
	enforcer=$(cl_bin tandem-enforcer) || exit 99
	fakenow=$TDM_BUILDDIR/tests/integration/fake_now.so
	[ -e "$fakenow" ] || { echo "ERROR: $fakenow is not built (make check builds it)"; exit 99; }
	for t in ldns-verify-zone ldns-key2ds dnssec-verify kzonecheck; do
		command -v "$t" >/dev/null || { echo "ERROR: $t is not installed"; exit 99; }
	done
	seed=${TDM_SEED:-$(( $(date +%s) % 32768 ))}
	RANDOM=$seed
	echo "$1: TDM_SEED=$seed (replay: TDM_SEED=$seed $0)"
	started=$(date +%s)
}
