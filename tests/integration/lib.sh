# tests/integration/lib.sh: shell helpers shared by the integration tests
# and scripts/demo.sh.  Source it; it defines functions and sets nothing
# else except TDM_SRCDIR/TDM_BUILDDIR defaults.
#
#   tdm_bin NAME                 path of a built binary (tandem-signzone, ...)
#   tdm_validate ZONE FILE       run the three validators; prints one word per
#                                validator ("ldns=ok bind=ok knot=ok") and
#                                returns the number that failed
#   tdm_validator_log            the combined output of the last tdm_validate
#   tdm_compare ZONE DENIAL UNSIGNED SIGNED [OPTS]   zone_compare.py
#   tdm_summary_field WORD LOG   a count from tandem-signzone's summary line
#
# Expected refusals: kzonecheck refuses any zone with data below a DNAME
# ("child record exists under DNAME", then "missing NSEC(3) record" for the
# names below it, which a signer rightly treats as occluded), whoever signed
# it.  For such a zone tdm_validate counts knot as "ok(dname)" only when
# those are the only findings; any other finding is a failure.

: "${TDM_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." && pwd)}"
: "${TDM_BUILDDIR:=$TDM_SRCDIR/build}"
TDM_PYTHON=/usr/bin/python3
# Sanitizer options (full malloc stacks, SoftHSM2's leak suppressed) come
# from tests/lib/softhsm.sh, which every user of this file sources first.
TDM_COMPARE="$TDM_SRCDIR/tests/integration/zone_compare.py"

tdm_bin() {
	local d
	for d in "$TDM_BUILDDIR" "$TDM_BUILDDIR/src/cli"; do
		if [ -x "$d/$1" ]; then
			echo "$d/$1"
			return 0
		fi
	done
	return 1
}

TDM_VALIDATOR_LOG=
tdm_validator_log() { printf '%s\n' "$TDM_VALIDATOR_LOG"; }

# tdm_validate ZONE FILE
tdm_validate() {
	local zone=$1 file=$2 out rc fails=0 words=
	TDM_VALIDATOR_LOG=

	out=$(ldns-verify-zone "$file" 2>&1); rc=$?
	TDM_VALIDATOR_LOG+="--- ldns-verify-zone $file (exit $rc)"$'\n'"$out"$'\n'
	if [ $rc -eq 0 ]; then words+="ldns=ok "; else words+="ldns=FAIL "; fails=$((fails + 1)); fi

	# The KSK carries the SEP bit, so dnssec-verify needs no -z.
	out=$(dnssec-verify -o "$zone" "$file" 2>&1); rc=$?
	TDM_VALIDATOR_LOG+="--- dnssec-verify -o $zone $file (exit $rc)"$'\n'"$out"$'\n'
	if [ $rc -eq 0 ]; then words+="bind=ok "; else words+="bind=FAIL "; fails=$((fails + 1)); fi

	out=$(kzonecheck -o "$zone" -d on "$file" 2>&1); rc=$?
	TDM_VALIDATOR_LOG+="--- kzonecheck -o $zone -d on $file (exit $rc)"$'\n'"$out"$'\n'
	if [ $rc -eq 0 ]; then
		words+="knot=ok"
	elif tdm__kzonecheck_only_dname "$out"; then
		words+="knot=ok(dname)"
	else
		words+="knot=FAIL"; fails=$((fails + 1))
	fi
	echo "$words"
	return $fails
}

# kzonecheck reports one line per finding, "[owner.] message".  For data
# below a DNAME it says "[dname-owner.] child record exists under DNAME" and,
# because it does not treat those names as occluded, "[name.] missing NSEC(3)
# record" for names below it.  Accept exactly those and nothing else.
tdm__kzonecheck_only_dname() {
	local line owner msg dnames= seen=no
	while IFS= read -r line; do
		case $line in
		'['*'] '*) ;;
		*) continue ;;
		esac
		owner=${line%%]*}; owner=${owner#[}
		msg=${line#*] }; msg=${msg% }
		case $msg in
		'child record exists under DNAME')
			dnames="$dnames $owner"; seen=yes ;;
		'missing NSEC(3) record')
			local d below=no
			for d in $dnames; do
				case $owner in *".$d") below=yes ;; esac
			done
			[ $below = yes ] || return 1 ;;
		*) return 1 ;;
		esac
	done <<EOF_KZ
$1
EOF_KZ
	[ $seen = yes ]
}

# tdm_compare ZONE DENIAL UNSIGNED SIGNED [zone_compare.py options...]
tdm_compare() {
	local zone=$1 denial=$2 unsigned=$3 signed=$4
	shift 4
	"$TDM_PYTHON" "$TDM_COMPARE" --origin "$zone" --denial "$denial" \
		--soa-ttl 3600 --soa-minimum 300 "$@" "$unsigned" "$signed"
}

# tdm_summary_field WORD LOG: a count from tandem-signzone's summary line,
# "ZONE: serial N, N RRsets, N signatures made, N [signatures] reused, S s".
# WORD is "made", "reused" or "RRsets"; a JSON object with "sigs_made" /
# "signatures_made" (etc.) on a line of its own is read first.
tdm_summary_field() {
	"$TDM_PYTHON" - "$1" "$2" <<'PY'
import json, re, sys
word, log = sys.argv[1], sys.argv[2]
text = open(log, encoding="utf-8", errors="replace").read()
for line in reversed(text.splitlines()):
    line = line.strip()
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        for k in ("sigs_" + word, "signatures_" + word, word.lower()):
            if k in obj:
                print(int(obj[k]))
                sys.exit(0)
pat = re.compile(r"(\d+)\s+(?:signatures?\s+)?" + re.escape(word) + r"\b")
for line in reversed(text.splitlines()):
    if "[warning]" in line or "[error]" in line:
        continue
    m = pat.search(line)
    if m:
        print(m.group(1))
        sys.exit(0)
sys.exit(1)
PY
}

# tdm_write_conf FILE DIR LABEL PIN: a minimal OpenDNSSEC 2.x conf.xml with
# one repository "SoftHSM" for the token LABEL; DIR holds the paths the
# configuration names (none of them is written by tandem-signzone).
tdm_write_conf() {
	cat >"$1" <<EOC
<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
	<RepositoryList>
		<Repository name="SoftHSM">
			<Module>${TDM_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}</Module>
			<TokenLabel>$3</TokenLabel>
			<PIN>$4</PIN>
		</Repository>
	</RepositoryList>
	<Common>
		<Logging><Verbosity>3</Verbosity></Logging>
		<PolicyFile>$2/kasp.xml</PolicyFile>
		<ZoneListFile>$2/zonelist.xml</ZoneListFile>
	</Common>
	<Enforcer>
		<Datastore><SQLite>$2/kasp.db</SQLite></Datastore>
	</Enforcer>
	<Signer>
		<WorkingDirectory>$2</WorkingDirectory>
	</Signer>
</Configuration>
EOC
}

# tdm_keygen CONF ALG [BITS]: generate a key pair in repository SoftHSM with
# tandem-hsmutil and print its CKA_ID (read from --json).
tdm_keygen() {
	local conf=$1 out
	shift
	out=$("$(tdm_bin tandem-hsmutil)" -c "$conf" --json generate SoftHSM "$@") || return 1
	printf '%s\n' "$out" | "$TDM_PYTHON" -c '
import json, sys
o = json.load(sys.stdin)
if isinstance(o, list): o = o[0]
for k in ("cka_id", "id", "locator"):
    if k in o:
        print(o[k]); break
else:
    sys.exit("tdm_keygen: no CKA_ID in %r" % (o,))'
}

# tdm_signing_setup LABEL ALG: the fixture of the single-zone tests.  Sets
# $tmp (a temp dir removed on exit) holding a private SoftHSM2 token LABEL
# and its conf.xml, $ksk and $zsk (CKA_IDs of two keys of algorithm ALG,
# also in $alg) and $tmp/zones, a copy of examples/zones (so modified
# inputs and $INCLUDE live in $tmp).  Exits 99 when the token or the keys
# cannot be made.
tdm_signing_setup() {
	tmp=$(tdm_tmpdir) || { echo "ERROR: no temp dir"; exit 99; }
	trap 'rm -rf "$tmp"' EXIT
	tdm_softhsm_token "$tmp" "$1" 1234 5678 || { echo "ERROR: no token"; exit 99; }
	tdm_write_conf "$tmp/conf.xml" "$tmp" "$1" 1234
	alg=$2
	ksk=$(tdm_keygen "$tmp/conf.xml" "$alg") && zsk=$(tdm_keygen "$tmp/conf.xml" "$alg") ||
		{ echo "ERROR: key generation"; exit 99; }
	cp -r "$TDM_SRCDIR/examples/zones" "$tmp/zones"
}

# tdm_require_bins NAME...: exit the test with a hard error (99) when a
# binary it needs is not built.
tdm_require_bins() {
	local b
	for b in "$@"; do
		if ! tdm_bin "$b" >/dev/null; then
			echo "ERROR: $b is not built in $TDM_BUILDDIR"
			exit 99
		fi
	done
}
