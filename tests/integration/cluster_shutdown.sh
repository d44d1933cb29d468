#!/bin/bash
# Clean shutdown and reload: SIGHUP re-reads conf.xml (verbosity applies, a
# changed Listen is reported as needing a restart); SIGTERM of a follower
# and then of the leader while writes go on loses nothing: every write
# answered "committed" is in the ledger of every node after the restarts,
# the others ended with status 3 (retry), and the nodes agree.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
cl_init 3
for i in 1 2 3; do cl_start $i; done
leader=$(cl_wait_leader 20) || cl_fail "no leader elected"
f=$(( leader % 3 + 1 ))
g=$(( f % 3 + 1 )); [ $g = $leader ] && g=$(( g % 3 + 1 ))

# Reload: verbosity 4 applies at once; a new Listen needs a restart.
sed -i 's|<Verbosity>3</Verbosity>|<Verbosity>4</Verbosity>|' "$(cl_conf $f)"
out=$(cl_ctl $f reload) || cl_fail "reload failed: $out"
printf '%s' "$out" | grep -q "nothing else changed" || cl_fail "reload: $out"
sed -i "s|<Listen>127.0.0.1:${CL_RAFT[f-1]}</Listen>|<Listen>127.0.0.1:1</Listen>|" "$(cl_conf $f)"
kill -HUP "${CL_PIDS[f]}"
end=$(cl__deadline 10)
until grep -q "changed Listen: restart tandemd to apply" "$CL_DIR/n$f/log"; do
	[ "$(cl__now)" -lt "$end" ] || cl_fail "SIGHUP: no reload message"
	sleep 0.02
done
sed -i "s|<Listen>127.0.0.1:1</Listen>|<Listen>127.0.0.1:${CL_RAFT[f-1]}</Listen>|" "$(cl_conf $f)"
cl_running $f || cl_fail "node $f died on reload"

(
	ok=0
	for _ in $(seq 1 40); do
		cl_ctl $g test submit --count 10 --size 2048 >/dev/null 2>&1
		case $? in 0) ok=$((ok + 1)) ;; 3) ;; *) echo bad >"$CL_DIR/writer.bad" ;; esac
	done
	echo $ok >"$CL_DIR/writer.ok"
) &
wpid=$!
cl_wait_applied $leader 100 20 || cl_fail "no writes arrived"
cl_stop $f
grep -q "node $f: stopped$" "$CL_DIR/n$f/log" || cl_fail "follower $f did not stop cleanly"
cl_start $f
cl_wait_health $f 30 || cl_fail "node $f not healthy after restart"
cl_stop $leader
grep -q "node $leader: stopped$" "$CL_DIR/n$leader/log" || cl_fail "leader $leader did not stop cleanly"
cl_wait_leader 20 >/dev/null || cl_fail "no leader after stopping $leader"
cl_start $leader
wait $wpid
[ -e "$CL_DIR/writer.bad" ] && cl_fail "a write ended with an error, not committed or retry"
cl_wait_health $leader 30 || cl_fail "node $leader not healthy after restart"
cl_verify $g || cl_fail "verify disagrees after the clean restarts"
echo "PASS: reload, clean stops of a follower and the leader under load, $(cat "$CL_DIR/writer.ok") of 40 batches committed"
