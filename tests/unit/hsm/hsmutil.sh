#!/bin/sh
# tandem-hsmutil against a private SoftHSM2 token: every command, checked
# on its --json output; the DNSKEY key tag cross-checked with ldns-key2ds.
# Exit 0 pass, 1 fail, 77 skip (a tool is missing).
set -u
: "${TDM_SRCDIR:?}" "${TDM_BUILDDIR:?}"
. "$TDM_SRCDIR/tests/lib/softhsm.sh"

hsmutil=$TDM_BUILDDIR/tandem-hsmutil
for tool in jq softhsm2-util ldns-key2ds; do
	command -v $tool >/dev/null 2>&1 || { echo "SKIP: no $tool"; exit 77; }
done

dir=$(tdm_tmpdir) || exit 1
trap 'rm -rf "$dir"' EXIT INT TERM
tdm_softhsm_token "$dir" Tandem 1234 5678 || exit 1
conf=$dir/conf.xml
cat > "$conf" <<EOC
<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
	<RepositoryList>
		<Repository name="SoftHSM">
			<Module>$(tdm_softhsm_module)</Module>
			<TokenLabel>Tandem</TokenLabel>
			<PIN>1234</PIN>
		</Repository>
		<Repository name="BadPin">
			<Module>$(tdm_softhsm_module)</Module>
			<TokenLabel>Tandem</TokenLabel>
			<PIN>0000</PIN>
		</Repository>
	</RepositoryList>
	<Common>
		<Logging><Verbosity>3</Verbosity></Logging>
		<PolicyFile>$dir/kasp.xml</PolicyFile>
		<ZoneListFile>$dir/zonelist.xml</ZoneListFile>
	</Common>
	<Enforcer><Datastore><SQLite>$dir/kasp.db</SQLite></Datastore></Enforcer>
	<Signer><WorkingDirectory>$dir</WorkingDirectory></Signer>
</Configuration>
EOC

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
h() { "$hsmutil" -c "$conf" "$@"; }

# info
out=$(h --json info 2>/dev/null | jq -c '.[] | select(.repository == "SoftHSM")')
[ "$(echo "$out" | jq -r .token_label)" = Tandem ] || fail "info: $out"
echo "$out" | jq -e '.algorithms | index(13)' >/dev/null || fail "info: no 13"

# The wrong PIN is named.
h list BadPin >/dev/null 2>"$dir/err" && fail "BadPin listed"
grep -q 'C_Login: CKR_PIN_INCORRECT' "$dir/err" || fail "BadPin: $(cat "$dir/err")"

# generate, list, dnskey
id=$(h --json generate SoftHSM ecdsap256sha256 | jq -r .id)
[ ${#id} -eq 32 ] || fail "generate: id '$id'"
h --json list SoftHSM | jq -e --arg id "$id" \
	'.[] | select(.id == $id and .algorithm == 13 and .bits == 256 and .private and .public)' \
	>/dev/null || fail "list: $id missing"
tag=$(h --json dnskey "$id" example.com 257 13 | jq -r .keytag)
h dnskey "$id" example.com 257 13 > "$dir/Kexample.com.key" || fail "dnskey"
(cd "$dir" && ldns-key2ds -n -2 Kexample.com.key) > "$dir/ds" 2>&1 || fail "ldns-key2ds: $(cat "$dir/ds")"
ldnstag=$(awk '$4 == "DS" { print $5 }' "$dir/ds")
[ "$tag" = "$ldnstag" ] || fail "keytag $tag, ldns says '$ldnstag'"
rsa=$(h --json generate SoftHSM rsa 1024 | jq -r .id)
h dnskey "$rsa" example.com 256 rsasha512 | grep -q 'DNSKEY	256 3 10 AwEAA' || fail "dnskey rsasha512"

# test: every algorithm the token has
h --json test SoftHSM > "$dir/test.json" || fail "test: $(cat "$dir/test.json")"
[ "$(jq '[.[] | select(.ok)] | length' "$dir/test.json")" -eq 5 ] || fail "test: $(cat "$dir/test.json")"

# speed: the fields the benchmark reads
for args in "--seconds 0.3" "--seconds 0.3 --threads 2" "--seconds 0.3 --processes 2 --session"; do
	# shellcheck disable=SC2086
	out=$(h --json speed SoftHSM $args) || fail "speed $args"
	echo "$out" | jq -e '.alg == 13 and .signatures > 0 and .seconds > 0.2 and .rate > 0
		and (.threads | type) == "number" and (.processes | type) == "number"' >/dev/null \
		|| fail "speed $args: $out"
done
echo "$out" | jq -e '.processes == 2' >/dev/null || fail "speed: processes"

# remove
h remove "$id" >/dev/null || fail "remove"
h --json list SoftHSM | jq -e --arg id "$id" '.[] | select(.id == $id)' >/dev/null && fail "removed key listed"
h remove "$id" >/dev/null 2>&1 && fail "removed twice"

# purge: asks, and keeps everything unless told YES
h generate SoftHSM ed25519 >/dev/null || fail "generate ed25519"
n=$(h --json list SoftHSM | jq length)
echo no | h purge SoftHSM >/dev/null && fail "purge without YES"
[ "$(h --json list SoftHSM | jq length)" -eq "$n" ] || fail "purge removed without YES"
[ "$(h --json purge SoftHSM -f | jq .removed)" -eq "$n" ] || fail "purge -f"
[ "$(h --json list SoftHSM | jq length)" -eq 0 ] || fail "keys left after purge"

# usage errors
h generate SoftHSM dsa >/dev/null 2>&1 && fail "generate dsa"
h generate Nosuch 13 >/dev/null 2>&1 && fail "generate in unknown repository"
h frobnicate >/dev/null 2>&1 && fail "unknown command"
"$hsmutil" --help | grep -q 'speed REPO' || fail "--help"

[ $fails -eq 0 ] && echo "PASS: tandem-hsmutil" && exit 0
exit 1
