#!/bin/bash
# Two nodes lose one for good: the survivor cannot write (no quorum);
# `recover` is refused while tandemd runs, works once it is stopped, and
# the node restarts as a cluster of one that takes writes.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
cl_init 2
for i in 1 2; do cl_start $i; done
leader=$(cl_wait_leader 20) || cl_fail "no leader elected"
cl_ctl 1 test submit --count 100 >/dev/null || cl_fail "writes failed"
cl_kill 2 KILL
cl_wipe 2
# Node 1 alone has no quorum: a write cannot commit (times out or is refused).
cl_ctl 1 -t 3000 test submit --count 1 >/dev/null 2>&1 && cl_fail "a write committed without quorum"
cl_ctl 1 recover --yes >/dev/null 2>&1 && cl_fail "recover ran while tandemd runs"
cl_stop 1
cl_ctl 1 recover --yes >/dev/null || cl_fail "recover failed"
cl_start 1
cl_wait_leader 20 >/dev/null || cl_fail "node 1 did not lead after recover"
cl_ctl 1 test submit --count 50 >/dev/null || cl_fail "writes after recover failed"
[ "$(cl_json 1 'o["nodes_total"]' status)" = 1 ] || cl_fail "status: not a cluster of one"
echo "PASS: recover of a two-node cluster that lost one"
