#!/bin/bash
# A follower whose data directory was wiped rejoins: it is removed, starts
# empty with --join, is added again, receives its NODE_ADD (with the KEK
# wrapped for its token) and catches up; the ledger's node table has 3 rows.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
command -v softhsm2-util >/dev/null || exit 99
CL_SOFTHSM=1 cl_init 3
for i in 1 2 3; do cl_start $i; done
leader=$(cl_wait_leader 20) || cl_fail "no leader elected"
victim=$(( leader % 3 + 1 ))
cl_ctl $leader test submit --count 300 --size 4096 >/dev/null || cl_fail "writes failed"
cl_stop $victim
cl_wipe $victim
cl_ctl $leader remove $victim >/dev/null || cl_fail "remove $victim refused"
cl_start $victim --join
cl_ctl $leader add $victim "$(cl_raft_addr $victim)" >/dev/null || cl_fail "add $victim refused"
cl_wait_health $victim 30 || cl_fail "node $victim not healthy after rejoining"
cl_ctl $leader test submit --count 20 >/dev/null || cl_fail "writes after the rejoin failed"
cl_verify $victim || cl_fail "verify disagrees after the rejoin"
echo "PASS: wiped node $victim rejoined"
