#!/bin/bash
# A follower down while the leader takes snapshots and compacts its log
# comes back through InstallSnapshot (state.db replaced) and agrees.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
cl_init 3
for i in 1 2 3; do cl_start $i; done
leader=$(cl_wait_leader 20) || cl_fail "no leader elected"
down=$(( leader % 3 + 1 ))
cl_stop $down
# The default sizing snapshots every 128 entries and keeps 64: 1000 entries
# later the entries the stopped node needs are gone from every log.
cl_ctl $leader bench write --count 1000 --size 8192 --inflight 16 >/dev/null 2>&1 ||
	cl_fail "writes with a node down failed"
grep -q "snapshot at index" "$CL_DIR/n$leader/log" || cl_fail "leader took no snapshot"
# state.db is serialized on libraft's threadpool, never on the loop (fsm v3).
grep -q "serialized off the loop" "$CL_DIR/n$leader/log" ||
	cl_fail "the leader's snapshots were not taken off the loop"
cl_start $down
cl_wait_health $down 30 || cl_fail "node $down not healthy after restart"
cl_verify $leader || cl_fail "verify disagrees after the snapshot install"
grep -q "replaced by the snapshot" "$CL_DIR/n$down/log" ||
	cl_fail "node $down caught up without InstallSnapshot"
echo "PASS: node $down caught up by snapshot install"
