#!/bin/bash
# Malformed control commands and ledger entries are refused with a clear
# error and change nothing: the ledger digest is the same before and after.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
cl_init 3
for i in 1 2 3; do cl_start $i; done
leader=$(cl_wait_leader 20) || cl_fail "no leader elected"
f=$(( leader % 3 + 1 ))
cl_ctl $f test submit --count 10 >/dev/null || cl_fail "writes failed"
digest() { cl_json "$1" '[n["digest"] for n in o["nodes"]][0]' verify; }
before=$(digest $f)

expect() { # expect STATUS PATTERN -- cluster-ctl args...
	local want=$1 pat=$2 out rc
	shift 3
	out=$(cl_ctl $f "$@" 2>&1); rc=$?
	[ $rc = "$want" ] || cl_fail "\`$*\`: exit $rc, wanted $want: $out"
	printf '%s' "$out" | grep -q -- "$pat" || cl_fail "\`$*\`: no \"$pat\" in: $out"
}
expect 2 "unknown command" -- frobnicate
expect 2 "usage: add" -- add 4
expect 2 "NODE must be a positive integer" -- add x 127.0.0.1:1
expect 2 "not a number" -- bench write --count many
expect 2 "unknown option" -- test submit --colour red
expect 2 "odd number" -- entry submit abc
expect 2 "not a hex byte" -- entry submit zz
# An entry whose length is not a multiple of 8, one with a bad magic, one
# that decodes but names a node that does not exist.
expect 1 "refused, nothing committed" -- entry submit 0102030405
expect 1 "refused, nothing committed" -- entry submit 00000000000000000000000000000000
hdr=$("$CL_PY" - <<'PY'
import struct
# Ledger header (src/ledger/codec.c): magic "TDML", version 1, type
# NODE_DEL (14), flags 0, payload length, origin 0 (no dedupe), seq 0;
# payload: u64 node id.
payload = struct.pack(">Q", 99)
h = struct.pack(">IHHIIQQ", 0x54444d4c, 1, 14, 0, len(payload), 0, 0)
e = h + payload
e += b"\0" * (-len(e) % 8)
print(e.hex())
PY
)
out=$(cl_ctl $f entry submit "$hdr" 2>&1); rc=$?
case $rc in
1) printf '%s' "$out" | grep -q "NOT_FOUND\|refused" || cl_fail "NODE_DEL 99: unclear: $out" ;;
*) printf '%s' "$out" | grep -q "refused, nothing committed" || cl_fail "NODE_DEL 99 (exit $rc): $out" ;;
esac
# Garbage on the control socket and on the forward listener.
for target in "$CL_DIR/n$f/control.sock" "127.0.0.1:$(( ${CL_RAFT[f-1]} + 1 ))"; do
	resp=$("$CL_PY" - "$target" <<'PY'
import socket, sys
t = sys.argv[1]
if t.startswith("/"):
    s = socket.socket(socket.AF_UNIX); s.connect(t)
else:
    h, p = t.rsplit(":", 1); s = socket.create_connection((h, int(p)))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
s.settimeout(5)
data = b""
while True:
    b = s.recv(4096)
    if not b: break
    data += b
print(data[24:].decode(errors="replace"))
PY
)
	printf '%s' "$resp" | grep -q "bad magic" || cl_fail "garbage on $target: answer $resp"
done
after=$(digest $f)
[ -n "$before" ] && [ "$before" = "$after" ] || cl_fail "digest changed: $before -> $after"
cl_verify $f || cl_fail "nodes disagree"
for i in 1 2 3; do cl_running $i || cl_fail "node $i died"; done
echo "PASS: malformed commands and entries refused, nothing changed"
