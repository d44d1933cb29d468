#!/bin/sh
# tandem-kaspcheck end to end: exit codes 0/1/2, file:line output, --json,
# defaults taken from conf.xml.  Needs TDM_SRCDIR and TDM_BUILDDIR (make check).
set -u
bin="${TDM_BUILDDIR:-.}/tandem-kaspcheck"
data="${TDM_SRCDIR:-.}/tests/unit/common/data"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tdm-kaspcheck.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0

# expect CODE DESCRIPTION -- command...   (stdout in $tmp/out, stderr in $tmp/err)
expect() {
	want=$1; what=$2; shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: exit $got, wanted $want"; cat "$tmp/out" "$tmp/err"
		fails=$((fails + 1))
	else
		echo "ok: $what"
	fi
}
contains() {
	if ! grep -qF -- "$2" "$tmp/$1"; then
		echo "FAIL: $1 lacks: $2"; cat "$tmp/$1"
		fails=$((fails + 1))
	fi
}

expect 0 "help" -- "$bin" --help
contains out "usage: tandem-kaspcheck"
expect 0 "version" -- "$bin" -V
contains out "tandem-kaspcheck (tandem)"
expect 2 "unknown option" -- "$bin" --bogus
expect 2 "stray argument" -- "$bin" extra

# Clean samples: conf.xml names kasp.xml and zonelist.xml relative to itself.
expect 0 "clean cluster conf with its kasp and zonelist" -- "$bin" -c "$data/conf-cluster.xml"
contains err "3 files checked, no problems"
expect 0 "clean explicit files" -- "$bin" -c "$data/conf.xml" -k "$data/kasp.xml" \
	-z "$data/zonelist.xml" -s "$data/signconf-nsec.xml" -s "$data/signconf-nsec3.xml"
contains err "5 files checked, no problems"

# Warnings only: exit 1.
sed 's|<Iterations>5</Iterations>|<Iterations>150</Iterations>|' "$data/kasp.xml" >"$tmp/kasp.xml"
expect 1 "warnings only" -- "$bin" -k "$tmp/kasp.xml"
contains out "$tmp/kasp.xml:19: warning: <Policy name=\"default\">: NSEC3 Iterations 150 is above 100"
contains err "0 errors, 1 warning"

# Errors: exit 2, one line per problem, errors first.
sed -e 's|<Iterations>5</Iterations>|<Iterations>600</Iterations>|' \
    -e 's|<Repository>SoftHSM</Repository>|<Repository>Nowhere</Repository>|' \
	"$data/kasp.xml" >"$tmp/kasp.xml"
expect 2 "errors" -- "$bin" -c "$data/conf.xml" -k "$tmp/kasp.xml"
contains out "$tmp/kasp.xml:19: <Policy name=\"default\">: NSEC3 Iterations 600 is above 500: refused"
contains out "$tmp/kasp.xml:41: <Policy name=\"default\">: <KSK>: Repository \"Nowhere\" is not in $data/conf.xml"

# A file that does not load: its one message, exit 2.
sed 's|<TokenLabel>OpenDNSSEC</TokenLabel>||' "$data/conf.xml" >"$tmp/conf.xml"
expect 2 "invalid conf.xml" -- "$bin" -c "$tmp/conf.xml" -k "$data/kasp.xml"
contains out "$tmp/conf.xml:8: <Repository name=\"SoftHSM\">: element TokenLabel missing"
expect 2 "missing file" -- "$bin" -k "$tmp/none.xml"
contains out "$tmp/none.xml: No such file or directory"

# JSON: one object, findings split by severity.
expect 2 "json" -- "$bin" --json -c "$tmp/conf.xml" -k "$data/kasp.xml"
contains out "{\"status\":\"errors\",\"files\":[\"$tmp/conf.xml\",\"$data/kasp.xml\"],\"errors\":[{\"file\":\"$tmp/conf.xml\",\"line\":8,\"message\":\"<Repository name=\\\"SoftHSM\\\">: element TokenLabel missing\"}],\"warnings\":[]}"
expect 0 "json clean" -- "$bin" --json -k "$data/kasp.xml"
contains out "\"status\":\"ok\""

if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
exit 0
