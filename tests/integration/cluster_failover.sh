#!/bin/bash
# kill -9 of the leader: a new leader is elected and takes writes; the
# killed node restarts with its data directory, catches up and agrees.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
cl_init 3
for i in 1 2 3; do cl_start $i; done
old=$(cl_wait_leader 20) || cl_fail "no leader elected"
cl_ctl $old test submit --count 200 --size 2048 >/dev/null || cl_fail "writes before the kill failed"
t0=$(cl__now)
cl_kill $old KILL
new=$(cl_wait_leader 20) || cl_fail "no new leader after kill -9 of node $old"
t1=$(cl__now)
[ "$new" != "$old" ] || cl_fail "the dead node is still the leader?"
other=$(for i in 1 2 3; do [ $i != $old ] && [ $i != $new ] && echo $i; done)
cl_ctl $other test submit --count 100 --size 2048 >/dev/null || cl_fail "writes after failover failed"
echo "new leader $new after $((t1 - t0)) ms"
cl_start $old
cl_wait_health $old 30 || cl_fail "restarted node $old not healthy"
cl_verify $old || cl_fail "verify disagrees after the restart"
[ "$(cl_leader_from $old)" = "$new" ] || cl_fail "restarted node does not follow $new"
echo "PASS: failover in $((t1 - t0)) ms, node $old caught up"
