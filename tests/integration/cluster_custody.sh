#!/bin/bash
# Key custody across three SoftHSM2 tokens: the first leader creates the
# KEK, each node receives it in its NODE_ADD, a key generated on the leader
# is wrapped into the ledger, and every node signs with it (unwrapped on
# first use) a signature that the key's DNSKEY verifies on another node.
# After a failover the new leader generates a key the others use too.
set -u
. "$(dirname "$0")/cluster_lib.sh"
cl_prologue
command -v softhsm2-util >/dev/null || exit 99
CL_SOFTHSM=1 cl_init 3
for i in 1 2 3; do cl_start $i; done
leader=$(cl_wait_leader 20) || cl_fail "no leader elected"
for i in 1 2 3; do
	end=$(cl__deadline 20)
	until grep -q "cluster KEK \(received\|in repository\)\|created the cluster KEK" "$CL_DIR/n$i/log"; do
		[ "$(cl__now)" -lt "$end" ] || cl_fail "node $i never got the KEK"
		sleep 0.05
	done
done
sign_everywhere() {
	local key=$1 i sig data=0011223344556677
	for i in 1 2 3; do
		cl_running $i || continue
		sig=$(cl_ctl $i key sign "$key" $data) || cl_fail "node $i cannot sign with $key"
		j=$(( i % 3 + 1 )); cl_running $j || j=$(( j % 3 + 1 ))
		cl_ctl $j key verify "$key" $data "$sig" >/dev/null ||
			cl_fail "signature of node $i does not verify on node $j"
	done
}
k1=$(cl_json $(( leader % 3 + 1 )) 'o["cka_id"]' key generate --algorithm 13) || cl_fail "key generate failed"
idx=$(cl_json 1 'o["barrier_index"]' verify)
for i in 1 2 3; do cl_wait_applied $i "$idx" || cl_fail "node $i behind"; done
sign_everywhere "$k1"
grep -q "BEGIN\|PRIVATE" "$CL_DIR"/n*/data/state.db && cl_fail "clear private key material in state.db"
cl_kill $leader KILL
new=$(cl_wait_leader 20) || cl_fail "no leader after kill"
k2=$(cl_json $new 'o["cka_id"]' key generate --algorithm 8 --bits 2048 --role zsk) || cl_fail "keygen on the new leader failed"
cl_start $leader
cl_wait_health $leader 30 || cl_fail "node $leader not healthy after restart"
sign_everywhere "$k2"
sign_everywhere "$k1"
# tandem-hsmutil generate on a follower goes through the same path.
follower=$(( new % 3 + 1 ))
k3=$(SOFTHSM2_CONF="$CL_DIR/n$follower/softhsm/softhsm2.conf" \
	"$(cl_bin tandem-hsmutil)" -c "$(cl_conf $follower)" --json generate SoftHSM ecdsap256sha256 |
	"$CL_PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
	cl_fail "tandem-hsmutil generate on follower $follower failed"
[ -n "$k3" ] || cl_fail "tandem-hsmutil generate printed no id"
idx=$(cl_json 1 'o["barrier_index"]' verify)
for i in 1 2 3; do cl_wait_applied $i "$idx" || cl_fail "node $i behind"; done
for i in 1 2 3; do
	cl_ctl $i key ledger | grep -q "$k3" || cl_fail "key $k3 from tandem-hsmutil is not in node $i's ledger"
done
sign_everywhere "$k3"
echo "PASS: KEK distributed, keys $k1, $k2 and $k3 (tandem-hsmutil on a follower) sign on every node"
