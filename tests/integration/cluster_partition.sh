#!/bin/bash
# A leader frozen (SIGSTOP) with writes in flight: the others elect a new
# leader; when the old one resumes it steps down, and its writes whose
# outcome is unknown are submitted again with the SAME command ids through
# the new leader (the ledger drops those it had already applied).  The
# batch ends with every write committed (or exit 3, never an error), the
# old leader catches up, and the nodes agree.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
cl_init 3
for i in 1 2 3; do cl_start $i; done
old=$(cl_wait_leader 20) || cl_fail "no leader elected"
cl_ctl $old test submit --count 20 >/dev/null || cl_fail "writes failed"
out="$CL_DIR/batch.json"
cl_ctl $old --json test submit --count 400 --size 16384 >"$out" 2>&1 &
bpid=$!
cl_wait_applied $old 60 20 || cl_fail "the batch did not start"
kill -STOP "${CL_PIDS[old]}"
end=$(cl__deadline 20)
new=
while [ -z "$new" ] || [ "$new" = "$old" ]; do
	[ "$(cl__now)" -lt "$end" ] || { kill -CONT "${CL_PIDS[old]}"; cl_fail "no new leader while $old is frozen"; }
	for i in 1 2 3; do
		[ $i = $old ] && continue
		[ "$(cl_json $i 'o["node"]["role"] == "leader" and o["node"]["leader_ready"]' health 2>/dev/null)" = 1 ] && new=$i
	done
	sleep 0.05
done
kill -CONT "${CL_PIDS[old]}"
wait $bpid
rc=$?
committed=$("$CL_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["committed"])' "$out") ||
	cl_fail "batch answer: $(cat "$out")"
[ $rc = 0 ] || [ $rc = 3 ] || cl_fail "batch ended with exit $rc: $(cat "$out")"
grep -q "again with the same id" "$CL_DIR/n$old/log" ||
	echo "note: no write was in flight at the freeze (nothing retried)"
cl_wait_health $old 30 || cl_fail "old leader $old not healthy after resuming"
cl_verify $new || cl_fail "nodes disagree after the partition"
echo "PASS: leader $old frozen, node $new took over; $committed of 400 committed (exit $rc)"
