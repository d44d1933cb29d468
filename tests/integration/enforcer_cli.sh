#!/bin/bash
# tandem-enforcer, the ods-enforcer command line (src/daemon/enforcer_ctl.c):
#   1. without tandemd: --help, --version, help, unknown command (exit 2),
#      bad options (2), no tandemd (3, the socket named), unreadable file (1);
#   2. against a fake control socket (python, records every request): the
#      files are sent as --content chunks of at most 60000 bytes that
#      reassemble to the file byte for byte (policy import, update all,
#      zonelist import -f with -r and -rf), zonelist export writes the
#      answer atomically (mode kept, no temporary left), to stdout with -f -,
#      nothing on an invalid answer, --json; pass-through words unchanged;
#      a file beyond the protocol's limits is refused before sending;
#      interactive mode from a pipe (quotes, comments, exit, last status);
#   3. against ONE real tandemd (SoftHSM token): a command answered, a
#      refusal on stderr with tandemd's status, interactive mode, and a
#      kasp.xml of more than 60000 bytes through policy import and back
#      through policy export -a.  That last part is skipped (and says so)
#      only while tandemd answers "unknown command" to policy import.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
ENF=$(cl_bin tandem-enforcer) || exit 99
CL_SOFTHSM=1 cl_init 1
D=$CL_DIR
CONF=$(cl_conf 1)
FAKE_PID=
# The fake server must be gone before cl_cleanup waits for every child.
enf_cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	FAKE_PID=
	cl_cleanup
}
trap enf_cleanup EXIT

fail() { cl_fail "$@"; }
# run ARGS...: tandem-enforcer with stdout in $D/out, stderr in $D/err, status in $rc
run() {
	"$ENF" "$@" >"$D/out" 2>"$D/err"
	rc=$?
}
expect_rc() { # WANT WHAT
	[ "$rc" = "$1" ] || fail "$2: exit $rc, want $1 (stdout: $(head -c 300 "$D/out"); stderr: $(head -c 300 "$D/err"))"
}

# A kasp.xml of more than 60000 bytes: 60 policies p000..p059, each with a
# description naming it, so a chunk boundary falls inside several of them.
"$CL_PY" - "$TDM_SRCDIR/examples/kasp.xml" "$D/kasp.xml" <<'PY'
import re, sys
src = open(sys.argv[1], encoding="utf-8").read()
pol = re.search(r"(\t<Policy name=\"default\">.*?</Policy>\n)", src, re.S).group(1)
out = ['<?xml version="1.0" encoding="UTF-8"?>\n<KASP>\n']
for i in range(60):
    p = pol.replace('name="default"', 'name="p%03d"' % i)
    p = re.sub(r"<Description>.*?</Description>",
               "<Description>policy p%03d of the chunking test: \u00e9t\u00e9 %s</Description>" % (i, "x" * (i % 7)), p)
    out.append(p)
out.append("</KASP>\n")
open(sys.argv[2], "w", encoding="utf-8").write("".join(out))
PY
KASP_SIZE=$(stat -c %s "$D/kasp.xml")
[ "$KASP_SIZE" -gt 60000 ] || fail "test kasp.xml only $KASP_SIZE bytes"
cp "$TDM_SRCDIR/examples/zonelist.xml" "$D/zonelist.xml"

#- 1. without tandemd ------------------------------------------------------
run --help
expect_rc 0 "--help"
for w in "policy import" "zonelist export" "key ds-seen" "time leap" "+ pool list" "backup rollback"; do
	grep -qF -- "$w" "$D/out" || fail "--help lacks \"$w\""
done
[ "$(grep -c '^  [a-z+]' "$D/out")" -ge 38 ] || fail "--help: fewer than 38 command lines"
run -V
expect_rc 0 "--version"
grep -q '^tandem-enforcer [0-9]' "$D/out" || fail "--version: $(cat "$D/out")"
run help zonelist
expect_rc 0 "help zonelist"
[ "$(wc -l <"$D/out")" = 2 ] || fail "help zonelist: not 2 lines"
run -s "$D/none.sock" frobnicate the zones
expect_rc 2 "unknown command"
grep -q 'unknown command "frobnicate the"' "$D/err" || fail "unknown command: $(cat "$D/err")"
run -s "$D/none.sock" key explode
expect_rc 2 "unknown subcommand"
run -t soon -s "$D/none.sock" zone list
expect_rc 2 "-t soon"
run --no-such-option zone list
expect_rc 2 "unknown option"
run -s "$D/none.sock" zone list
expect_rc 3 "no tandemd (-s)"
grep -qF "$D/none.sock" "$D/err" || fail "no tandemd: socket not named: $(cat "$D/err")"
run -c "$CONF" zone list
expect_rc 3 "no tandemd (-c)"
grep -qF "$D/n1/control.sock" "$D/err" || fail "no tandemd: conf's socket not named: $(cat "$D/err")"
run -c "$D/missing.xml" zone list
expect_rc 2 "missing conf.xml"
grep -qF "missing.xml" "$D/err" || fail "missing conf.xml not named: $(cat "$D/err")"
run -s "$D/none.sock" -c "$CONF" zonelist import -f "$D/nothere.xml"
expect_rc 1 "zonelist import of a missing file"
grep -qF "$D/nothere.xml" "$D/err" || fail "missing zonelist not named: $(cat "$D/err")"
run -s "$D/none.sock" -c "$CONF" zonelist import -f
expect_rc 2 "zonelist import -f without a path"
run -s "$D/none.sock" -c "$CONF" policy import --content x
expect_rc 2 "policy import --content"

#- 2. a fake control socket ------------------------------------------------
# Answers every request with "ok" (status 0), `zonelist export` with
# $D/answer.xml (or broken XML when the words contain --bad), and logs each
# request as one JSON line {"flags": F, "argv": [hex of each word]}.
"$CL_PY" - "$D/fake.sock" "$D/requests.log" "$D/answer.xml" <<'PY' &
import json, os, socket, struct, sys
path, log, answer = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
def read(c, n):
    b = b""
    while len(b) < n:
        r = c.recv(n - len(b))
        if not r:
            raise EOFError
        b += r
    return b
while True:
    c, _ = s.accept()
    try:
        magic, ver, kind, ln = struct.unpack(">IHHI", read(c, 12))
        p = read(c, ln)
        flags, argc = struct.unpack(">IH", p[:6])
        off, argv = 6, []
        for _ in range(argc):
            (n,) = struct.unpack(">H", p[off:off + 2])
            argv.append(p[off + 2:off + 2 + n])
            off += 2 + n
        with open(log, "a") as f:
            f.write(json.dumps({"flags": flags, "argv": [a.hex() for a in argv]}) + "\n")
        if argv == [b"queue", b"--slow"]:
            import time
            time.sleep(1.5)
        if argv[:2] == [b"zonelist", b"export"]:
            body = b"<ZoneList><Zone>" if b"--bad" in argv else open(answer, "rb").read()
        else:
            body = b"ok %d words\n" % argc
        c.sendall(struct.pack(">IHHI", magic, 1, 2, 12 + len(body)) +
                  struct.pack(">iII", 0, 0, len(body)) + body)
    except (EOFError, OSError):
        pass
    c.close()
PY
FAKE_PID=$!
for _ in $(seq 1 250); do [ -S "$D/fake.sock" ] && break; sleep 0.02; done
[ -S "$D/fake.sock" ] || fail "fake control socket never appeared"
FE=(-s "$D/fake.sock" -c "$CONF")

# check EXPR: python on the last logged request: w = words (bytes), flags,
# content(marker) = the chunks after marker up to the next marker, joined,
# chunks(marker) = those chunks; file(p) = bytes of p.
check() {
	"$CL_PY" - "$D/requests.log" "$1" <<'PY' || fail "request check failed: $1"
import json, sys
last = json.loads(open(sys.argv[1]).read().splitlines()[-1])
w = [bytes.fromhex(a) for a in last["argv"]]
flags = last["flags"]
def chunks(marker):
    i = w.index(marker.encode()) + 1
    j = i
    while j < len(w) and not w[j].startswith(b"--content"):
        j += 1
    return w[i:j]
def content(marker):
    return b"".join(chunks(marker))
def file(p):
    return open(p, "rb").read()
ok = eval(sys.argv[2])
if not ok:
    print("words:", [x[:60] for x in w], "flags:", flags, file=sys.stderr)
    sys.exit(1)
PY
}
nreq() { wc -l <"$D/requests.log" 2>/dev/null || echo 0; }

run "${FE[@]}" policy import
expect_rc 0 "policy import (fake)"
check "w[:3] == [b'policy', b'import', b'--content'] and content('--content') == file('$D/kasp.xml') \
	and len(chunks('--content')) == $(( (KASP_SIZE + 59999) / 60000 )) and max(map(len, chunks('--content'))) <= 60000"
run "${FE[@]}" policy import -r
check "w[:4] == [b'policy', b'import', b'-r', b'--content'] and content('--content') == file('$D/kasp.xml')"
run "${FE[@]}" update kasp
check "w[:3] == [b'update', b'kasp', b'--content'] and content('--content') == file('$D/kasp.xml')"
run "${FE[@]}" update zonelist
check "w[:3] == [b'update', b'zonelist', b'--content'] and content('--content') == file('$D/zonelist.xml')"
run "${FE[@]}" update all
expect_rc 0 "update all (fake)"
check "w[:3] == [b'update', b'all', b'--content-kasp'] and content('--content-kasp') == file('$D/kasp.xml') \
	and content('--content-zonelist') == file('$D/zonelist.xml') and w.count(b'--content-zonelist') == 1"
run "${FE[@]}" update conf
check "w == [b'update', b'conf']"
# A relative -f, with -r before it, and -rf as one cluster.
mkdir "$D/sub" && cp "$D/kasp.xml" "$D/sub/other.xml"
(cd "$D/sub" && "$ENF" "${FE[@]}" zonelist import -r -f other.xml >/dev/null) || fail "zonelist import -r -f"
check "w[:4] == [b'zonelist', b'import', b'-r', b'--content'] and content('--content') == file('$D/sub/other.xml')"
run "${FE[@]}" zonelist import -rf "$D/sub/other.xml"
check "w[:4] == [b'zonelist', b'import', b'-r', b'--content'] and content('--content') == file('$D/sub/other.xml')"
run "${FE[@]}" zonelist import --file="$D/zonelist.xml"
check "w[:3] == [b'zonelist', b'import', b'--content'] and content('--content') == file('$D/zonelist.xml')"
run "${FE[@]}" zonelist import
check "w[:3] == [b'zonelist', b'import', b'--content'] and content('--content') == file('$D/zonelist.xml')"
run "${FE[@]}" policy import -f "$D/zonelist.xml"
expect_rc 2 "policy import -f"
# Pass-through: words unchanged, --json sets the flag.
run "${FE[@]}" --json key import -k 0123abcd -r SoftHSM -z "a b.example" -b 256 -g 13 -e active -t ZSK -w 1700000000
expect_rc 0 "key import (fake)"
check "flags == 1 and w == [x.encode() for x in ['key', 'import', '-k', '0123abcd', '-r', 'SoftHSM', '-z', 'a b.example', '-b', '256', '-g', '13', '-e', 'active', '-t', 'ZSK', '-w', '1700000000']]"
grep -q '^ok 18 words' "$D/out" || fail "pass-through answer not printed: $(cat "$D/out")"

# zonelist export: atomically to ZoneListFile, mode kept, nothing left over.
"$CL_PY" - "$D/answer.xml" <<'PY'
import sys
z = ['<?xml version="1.0" encoding="UTF-8"?>\n<ZoneList>\n']
for i in range(3):
    z.append('<Zone name="z%d.example"><Policy>p000</Policy><SignerConfiguration>/s/z%d.xml</SignerConfiguration>'
             '<Adapters><Input><File>/in/z%d</File></Input><Output><File>/out/z%d</File></Output></Adapters></Zone>\n' % (i, i, i, i))
z.append("</ZoneList>\n")
open(sys.argv[1], "w").write("".join(z))
PY
chmod 600 "$D/zonelist.xml"
run "${FE[@]}" zonelist export
expect_rc 0 "zonelist export (fake)"
[ "$(cat "$D/out")" = "exported 3 zones to $D/zonelist.xml" ] || fail "zonelist export said: $(cat "$D/out")"
cmp -s "$D/zonelist.xml" "$D/answer.xml" || fail "zonelist export: file differs from the answer"
[ "$(stat -c %a "$D/zonelist.xml")" = 600 ] || fail "zonelist export: mode not kept"
[ -z "$(ls "$D" | grep 'zonelist.xml.')" ] || fail "zonelist export left a temporary file"
check "w == [b'zonelist', b'export'] and flags == 0"
run "${FE[@]}" zonelist export -f -
cmp -s "$D/out" "$D/answer.xml" || fail "zonelist export -f -: stdout differs"
run "${FE[@]}" --json zonelist export -f "$D/sub/zl.xml"
expect_rc 0 "zonelist export --json -f"
check "w == [b'zonelist', b'export'] and flags == 0"
"$CL_PY" -c "import json,sys; o=json.load(open('$D/out')); sys.exit(not (o['zones']==3 and o['path']=='$D/sub/zl.xml'))" ||
	fail "zonelist export --json: $(cat "$D/out")"
# zone add -u: the change, then the export to ZoneListFile.
rm -f "$D/zonelist.xml"
n=$(nreq)
run "${FE[@]}" zone add -z new.example -u
expect_rc 0 "zone add -u (fake)"
[ "$(nreq)" = $((n + 2)) ] || fail "zone add -u: $(( $(nreq) - n )) requests, want 2"
check "w == [b'zonelist', b'export']"
cmp -s "$D/zonelist.xml" "$D/answer.xml" || fail "zone add -u: ZoneListFile not written"
grep -q "^exported 3 zones to $D/zonelist.xml" "$D/out" || fail "zone add -u said: $(cat "$D/out")"
n=$(nreq)
run "${FE[@]}" zone delete -z new.example
[ "$(nreq)" = $((n + 1)) ] || fail "zone delete without -u exported"
cp "$D/zonelist.xml" "$D/before.xml"
run "${FE[@]}" zonelist export --bad
expect_rc 1 "zonelist export of an invalid answer"
cmp -s "$D/zonelist.xml" "$D/before.xml" || fail "invalid export answer changed the file"
grep -q "nothing written" "$D/err" || fail "invalid export: $(cat "$D/err")"

# Beyond the protocol's payload limit: refused before anything is sent.
n=$(nreq)
head -c 70000000 /dev/zero | tr '\0' 'x' >"$D/huge.xml"
run "${FE[@]}" zonelist import -f "$D/huge.xml"
expect_rc 1 "a 70 MB zonelist"
grep -qF "$D/huge.xml too large to send" "$D/err" || fail "huge file: $(cat "$D/err")"
[ "$(nreq)" = "$n" ] || fail "huge file: a request was sent"
rm -f "$D/huge.xml"
# A NUL byte: refused, naming the file.
printf '<ZoneList>\0</ZoneList>' >"$D/nul.xml"
run "${FE[@]}" zonelist import -f "$D/nul.xml"
expect_rc 1 "a zonelist with a NUL byte"
grep -q "nul.xml: NUL byte at offset 10" "$D/err" || fail "NUL byte: $(cat "$D/err")"

# Interactive mode from a pipe.
n=$(nreq)
printf '%s\n' 'zone add -z "quoted name.example" -p "p 1"' '# a comment' '' '   ' \
	'zone list' 'nonsense here' 'zone list' 'exit' 'zone delete -a' | "$ENF" "${FE[@]}" >"$D/out" 2>"$D/err"
rc=$?
expect_rc 0 "interactive (fake)"
[ "$(nreq)" = $((n + 3)) ] || fail "interactive: $(( $(nreq) - n )) requests, want 3"
check "w == [b'zone', b'list']"
[ "$(grep -c '^ok ' "$D/out")" = 3 ] || fail "interactive: answers: $(cat "$D/out")"
grep -q 'unknown command "nonsense here"' "$D/err" || fail "interactive: no refusal of nonsense"
grep -q 'enforcer>' "$D/out" && fail "interactive: prompt printed to a pipe"
"$CL_PY" - "$D/requests.log" "$n" <<'PY' || fail "interactive: quoted words"
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[2])])
w = [bytes.fromhex(a).decode() for a in r["argv"]]
sys.exit(w != ["zone", "add", "-z", "quoted name.example", "-p", "p 1"])
PY
printf 'zone list\nbogus\n' | "$ENF" "${FE[@]}" >/dev/null 2>&1
rc=$?
expect_rc 2 "interactive: status of the last command"
printf 'zone list "unterminated\n' | "$ENF" "${FE[@]}" >/dev/null 2>"$D/err"
rc=$?
expect_rc 2 "interactive: unterminated quote"
grep -q 'unterminated' "$D/err" || fail "unterminated quote: $(cat "$D/err")"
# On a terminal: the prompt.
"$CL_PY" - "$ENF" "$D/fake.sock" <<'PY' || fail "interactive on a TTY: no prompt"
import os, subprocess, sys
m, s = os.openpty()
p = subprocess.Popen([sys.argv[1], "-s", sys.argv[2]], stdin=s, stdout=s, stderr=s)
os.close(s)
os.write(m, b"help queue\nexit\n")
out = b""
while True:
    try:
        r = os.read(m, 4096)
    except OSError:
        break
    if not r:
        break
    out += r
rc = p.wait()
sys.exit(not (rc == 0 and out.count(b"enforcer> ") == 2 and b"the scheduled tasks" in out))
PY
# -t: no answer in time is "unavailable" (3).
start=$(cl__now)
run "${FE[@]}" -t 300 queue --slow
expect_rc 3 "-t 300 against a slow answer"
grep -q "no answer from tandemd in time" "$D/err" || fail "-t: $(cat "$D/err")"
[ $(( $(cl__now) - start )) -lt 1400 ] || fail "-t 300 waited $(( $(cl__now) - start )) ms"
kill "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null
FAKE_PID=

#- 3. one real tandemd ----------------------------------------------------
cl_start 1
cl_wait_leader 30 >/dev/null || fail "tandemd never became leader"
run -c "$CONF" verbosity 3
expect_rc 0 "verbosity 3"
grep -q "verbosity 3" "$D/out" || fail "verbosity 3: $(cat "$D/out")"
run -c "$CONF" verbosity 9
expect_rc 2 "verbosity 9 (refused by tandemd)"
grep -q "^error:" "$D/err" || fail "refusal not on stderr: $(cat "$D/err")"
[ -s "$D/out" ] && fail "refusal also on stdout"
printf 'verbosity 2\nhelp running\n"verbosity" "3"\nquit\nhelp policy\n' | "$ENF" -c "$CONF" >"$D/out" 2>"$D/err"
rc=$?
expect_rc 0 "interactive (tandemd)"
[ "$(grep -c 'verbosity [23]$' "$D/out")" = 2 ] || fail "interactive: $(cat "$D/out") / $(cat "$D/err")"
grep -q 'policy list' "$D/out" && fail "interactive: a command after quit ran"

run -c "$CONF" policy import
if [ "$rc" = 2 ] && grep -q 'unknown command "policy import"' "$D/err"; then
	echo "SKIP: kasp.xml of $KASP_SIZE bytes through tandemd: tandemd has no \"policy import\" yet (unknown command)"
else
	expect_rc 0 "policy import of $KASP_SIZE bytes"
	run -c "$CONF" policy export -a
	expect_rc 0 "policy export -a"
	"$CL_PY" - "$D/kasp.xml" "$D/out" <<'PY' || fail "policy export -a does not give back the 60 policies"
import sys
import xml.etree.ElementTree as ET
def pols(p):
    r = ET.parse(p).getroot()
    return {x.get("name"): x.findtext("Description") for x in r.iter("Policy")}
sent, back = pols(sys.argv[1]), pols(sys.argv[2])
missing = [n for n in sent if back.get(n) != sent[n]]
if missing:
    print("missing or changed:", missing[:10], file=sys.stderr)
    sys.exit(1)
PY
	echo "kasp.xml of $KASP_SIZE bytes: policy import + policy export -a round trip ok"
fi
cl_stop 1
run -c "$CONF" running
expect_rc 3 "after tandemd stopped"
echo "PASS: tandem-enforcer options, grammar, exit statuses, --content chunking, zonelist export, interactive mode"
