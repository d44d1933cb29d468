#!/bin/bash
# Three tandemd bootstrap a cluster on loopback, every node healthy, a
# write through a follower is forwarded; a fourth node started with --join
# is added and catches up; `status` lists four voters and `verify` agrees.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
CL_BOOT=3 cl_init 4
for i in 1 2 3; do cl_start $i; done
leader=$(cl_wait_leader 20) || cl_fail "no leader elected"
for i in 1 2 3; do cl_wait_health $i || cl_fail "node $i not healthy"; done
follower=$(( leader % 3 + 1 ))
cl_ctl $follower test submit --count 50 --size 1000 >/dev/null || cl_fail "forwarded write failed"
[ "$(cl_json $follower 'o["nodes_reachable"]' status)" = 3 ] || cl_fail "status: not 3 reachable"

# The 4th node lists nodes 1-3 as peers and must not bootstrap: --join.
cl_start 4 --join
cl_ctl $follower add 4 "$(cl_raft_addr 4)" >/dev/null || cl_fail "add 4 refused"
cl_wait_health 4 30 || cl_fail "node 4 never healthy"
[ "$(cl_json 4 'len([n for n in o["nodes"] if n["reachable"]])' status)" = 4 ] ||
	cl_fail "status on node 4: not 4 reachable"
cl_ctl 4 test submit --count 10 >/dev/null || cl_fail "write through node 4 failed"
cl_verify 4 || cl_fail "verify disagrees"
[ "$(cl_ctl 1 health >/dev/null; echo $?)" = 0 ] || cl_fail "health not OK"
echo "PASS: bootstrap of 3, forwarded write, join of node 4, verify"
