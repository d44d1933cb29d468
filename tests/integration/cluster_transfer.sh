#!/bin/bash
# Leadership transfer under write load: a writer keeps submitting through
# a follower while leadership moves twice; every write ends committed or
# with a "retry" status (3), none with an error, and the nodes agree.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
cl_init 3
for i in 1 2 3; do cl_start $i; done
leader=$(cl_wait_leader 20) || cl_fail "no leader elected"
writer_node=$(( leader % 3 + 1 ))
target=$(( writer_node % 3 + 1 ))
[ $target = $leader ] && target=$(( target % 3 + 1 ))
(
	ok=0 retry=0
	for _ in $(seq 1 60); do
		cl_ctl $writer_node test submit --count 20 --size 4096 >/dev/null 2>&1
		case $? in 0) ok=$((ok + 1)) ;; 3) retry=$((retry + 1)) ;; *) echo "bad" >"$CL_DIR/writer.bad" ;; esac
	done
	echo "$ok $retry" >"$CL_DIR/writer.out"
) &
wpid=$!
cl_wait_applied $leader 200 20 || cl_fail "no writes arrived"
cl_ctl $writer_node transfer $target >/dev/null || cl_fail "transfer to $target failed"
[ "$(cl_leader_from $writer_node)" = "$target" ] || cl_fail "leader is not $target after transfer"
cl_ctl $target transfer >/dev/null || cl_fail "second transfer failed"
wait $wpid
[ -e "$CL_DIR/writer.bad" ] && cl_fail "a write failed with an error during the transfers"
read -r ok retry <"$CL_DIR/writer.out"
[ "$ok" -ge 50 ] || cl_fail "only $ok of 60 write batches committed ($retry retry)"
cl_verify 1 || cl_fail "verify disagrees after the transfers"
echo "PASS: two transfers under load, $ok batches committed, $retry asked to retry"
