#!/bin/bash
# Two signers and a witness: the witness is a voter that never acts as
# leader.  Leadership cannot be transferred to it, and after each kill -9 of
# the signing leader the survivor signer ends up leading (the witness hands
# leadership on when it wins an election).  Writes keep committing.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
CL_WITNESS=3 cl_init 3
for i in 1 2 3; do cl_start $i; done
leader=$(cl_wait_leader 20) || cl_fail "no leader elected"
[ "$leader" != 3 ] || cl_fail "the witness reports itself leader-ready"
out=$(cl_ctl 1 transfer 3 2>&1) && cl_fail "transfer to the witness accepted: $out"
[ "$(cl_json 1 '[n["witness"] for n in o["nodes"] if n["node"] == 3][0]' status)" = 1 ] ||
	cl_fail "status does not show node 3 as witness"
for k in 1 2 3; do
	leader=$(cl_wait_leader 20) || cl_fail "no leader before kill $k"
	cl_kill "$leader" KILL
	new=$(cl_wait_leader 20) || cl_fail "no signing leader after kill $k"
	[ "$new" != 3 ] && [ "$new" != "$leader" ] || cl_fail "leader after kill $k is node $new"
	cl_ctl 3 test submit --count 20 >/dev/null || cl_fail "writes through the witness failed after kill $k"
	cl_start "$leader"
	cl_wait_health "$leader" 30 || cl_fail "node $leader not back after kill $k"
done
cl_verify 3 || cl_fail "nodes disagree"
echo "PASS: witness never leads; three kills of the signing leader survived"
