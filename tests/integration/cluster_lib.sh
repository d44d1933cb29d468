# tests/integration/cluster_lib.sh: helpers for the tests that run real
# tandemd processes on loopback (cluster_*.sh), for ha/quickstart and for
# bench/cluster-bench.  Source it after setting nothing; it defines
# functions and these variables:
#
#   CL_DIR         the temporary directory of this run (removed by cl_cleanup)
#   CL_N           number of nodes configured
#
#   cl_init N [ET_MS HB_MS]   make CL_DIR, pick free ports, write N node configs
#                             (the first CL_BOOT of them, default N, are the peers;
#                             node CL_WITNESS, if set, is a witness)
#                             (with CL_SOFTHSM=1: a private SoftHSM2 token per node,
#                             repository "SoftHSM", label node<I>, PIN 1234)
#   cl_conf I                 path of node I's conf.xml
#   cl_start I [--join]       start node I (log in $CL_DIR/nI/log)
#   cl_kill I [SIG]           signal node I (default KILL) and reap it
#   cl_stop I                 SIGTERM node I and wait for it to exit
#   cl_running I              is node I's process alive?
#   cl_ctl I ARGS...          cluster-ctl against node I
#   cl_json I EXPR ARGS...    cluster-ctl --json ARGS on node I, print python EXPR of it (o)
#   cl_wait_health I [SECS]   wait until node I's /health answers 200
#   cl_wait_leader [SECS]     wait until some node is a ready leader; prints its id
#   cl_wait_applied I INDEX [SECS]  wait until node I has applied INDEX
#   cl_http I PATH            GET http://node I/PATH (body)
#   cl_wipe I                 remove node I's data directory
#   cl_cleanup                stop every node, remove CL_DIR (install with trap)
#   cl_fail MSG               print MSG and the tail of every log, exit 1
#
# Every wait polls (20 ms) up to a deadline; nothing sleeps a fixed time.

: "${TDM_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." && pwd)}"
: "${TDM_BUILDDIR:=$TDM_SRCDIR/build}"
CL_PY=/usr/bin/python3
# For tandemd built with --enable-sanitize: full malloc stacks, SoftHSM2's
# own leak suppressed; cl_cleanup fails the test on any sanitizer report.
: "${ASAN_OPTIONS:=fast_unwind_on_malloc=0}"
: "${LSAN_OPTIONS:=suppressions=$TDM_SRCDIR/tests/lib/lsan.supp:print_suppressions=0}"
export ASAN_OPTIONS LSAN_OPTIONS

cl_bin() {
	local d
	for d in "$TDM_BUILDDIR" "$TDM_BUILDDIR/src/cli"; do
		[ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	echo "cl_bin: $1 not built in $TDM_BUILDDIR" >&2
	return 1
}

# Free TCP ports on 127.0.0.1: N groups of (raft, raft+1) plus N HTTP ports.
cl__ports() {
	"$CL_PY" - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
def free(p):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
out = []
used = set()
while len(out) < n:
    p = random.randrange(20000, 60000, 2)
    if p in used or p + 1 in used: continue
    if free(p) and free(p + 1):
        out.append(p); used.update((p, p + 1))
http = []
while len(http) < n:
    p = random.randrange(20001, 60000, 2)
    if p not in used and free(p):
        http.append(p); used.add(p)
print(" ".join(map(str, out)), "|", " ".join(map(str, http)))
PY
}

cl_init() {
	local n=$1 et=${2:-500} hb=${3:-50} i j ports
	CL_N=$n
	CL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tdm-cluster.XXXXXX") || return 1
	ports=$(cl__ports "$n") || return 1
	read -r -a CL_RAFT <<<"${ports%|*}"
	read -r -a CL_HTTP <<<"${ports#*|}"
	CL_PIDS=()
	for ((i = 1; i <= n; i++)); do
		mkdir -p "$CL_DIR/n$i"
		if [ -n "${CL_SOFTHSM:-}" ]; then
			cl__token "$i" || return 1
		fi
		cl_write_conf "$i" "$et" "$hb"
	done
}

# A private SoftHSM2 token directory for node I (never the system one).
cl__token() {
	local d="$CL_DIR/n$1/softhsm"
	mkdir -p "$d/tokens" || return 1
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
		"$d" >"$d/softhsm2.conf"
	SOFTHSM2_CONF="$d/softhsm2.conf" softhsm2-util --init-token --free --label "node$1" \
		--pin 1234 --so-pin 5678 >/dev/null
}

# cl_write_conf I ET HB [EXTRA_XML]: node I's conf.xml, every node a peer.
cl_write_conf() {
	local i=$1 et=$2 hb=$3 j peers=
	# Only the first CL_BOOT nodes (default all) form the bootstrap peer list.
	for ((j = 1; j <= ${CL_BOOT:-$CL_N}; j++)); do
		[ "$j" = "$i" ] && continue
		if [ "$j" = "${CL_WITNESS:-0}" ]; then
			peers+="		<Peer id=\"$j\" role=\"witness\">127.0.0.1:${CL_RAFT[j-1]}</Peer>"$'\n'
		else
			peers+="		<Peer id=\"$j\">127.0.0.1:${CL_RAFT[j-1]}</Peer>"$'\n'
		fi
	done
	[ "$i" = "${CL_WITNESS:-0}" ] && peers+="		<Witness/>"$'\n'
	local repo=
	if [ -n "${CL_SOFTHSM:-}" ]; then
		repo="<Repository name=\"SoftHSM\"><Module>${TDM_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}</Module><TokenLabel>node$i</TokenLabel><PIN>1234</PIN></Repository>"
	fi
	cat >"$CL_DIR/n$i/conf.xml" <<EOC
<?xml version="1.0" encoding="UTF-8"?>
<Configuration>
	<RepositoryList>$repo</RepositoryList>
	<Common>
		<Logging><Verbosity>${CL_VERBOSITY:-3}</Verbosity></Logging>
		<PolicyFile>$CL_DIR/kasp.xml</PolicyFile>
		<ZoneListFile>$CL_DIR/zonelist.xml</ZoneListFile>
	</Common>
	<Enforcer>
		<Datastore><SQLite>$CL_DIR/n$i/kasp.db</SQLite></Datastore>
	</Enforcer>
	<Cluster>
		<NodeId>$i</NodeId>
		<DataDirectory>$CL_DIR/n$i/data</DataDirectory>
		<Listen>127.0.0.1:${CL_RAFT[i-1]}</Listen>
$peers		<ControlSocket>$CL_DIR/n$i/control.sock</ControlSocket>
		<Http>127.0.0.1:${CL_HTTP[i-1]}</Http>
		<ElectionTimeout>PT$(printf '%d.%03d' $((et / 1000)) $((et % 1000)))S</ElectionTimeout>
		<Heartbeat>PT$(printf '%d.%03d' $((hb / 1000)) $((hb % 1000)))S</Heartbeat>
	</Cluster>
</Configuration>
EOC
}

cl_conf() { echo "$CL_DIR/n$1/conf.xml"; }
cl_raft_addr() { echo "127.0.0.1:${CL_RAFT[$1-1]}"; }

cl_start() {
	local i=$1
	shift
	SOFTHSM2_CONF="$CL_DIR/n$i/softhsm/softhsm2.conf" \
		"$(cl_bin tandemd)" -c "$(cl_conf "$i")" --no-syslog "$@" >>"$CL_DIR/n$i/log" 2>&1 &
	CL_PIDS[i]=$!
}

cl_running() { [ -n "${CL_PIDS[$1]:-}" ] && kill -0 "${CL_PIDS[$1]}" 2>/dev/null; }

cl_kill() {
	local i=$1 sig=${2:-KILL}
	[ -n "${CL_PIDS[i]:-}" ] || return 0
	kill -s "$sig" "${CL_PIDS[i]}" 2>/dev/null
	wait "${CL_PIDS[i]}" 2>/dev/null
	CL_PIDS[i]=
}

cl_stop() { cl_kill "$1" TERM; }

cl_ctl() {
	local i=$1
	shift
	"$(cl_bin cluster-ctl)" -c "$(cl_conf "$i")" "$@"
}

# cl_json I EXPR ARGS: evaluate EXPR (python, the document is `o`) on --json output.
cl_json() {
	local i=$1 expr=$2 out
	shift 2
	out=$(cl_ctl "$i" --json "$@") || true
	printf '%s' "$out" | "$CL_PY" -c "import json,sys
try:
    o = json.load(sys.stdin)
except Exception:
    sys.exit(1)
r = $expr
print(r if not isinstance(r, bool) else int(r))"
}

cl_http() { curl -s --max-time 2 "http://127.0.0.1:${CL_HTTP[$1-1]}$2"; }
cl_http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${CL_HTTP[$1-1]}$2"; }

cl__deadline() { echo $(($(date +%s%N) / 1000000 + ${1:-20} * 1000)); }
cl__now() { echo $(($(date +%s%N) / 1000000)); }

cl_wait_health() {
	local i=$1 end
	end=$(cl__deadline "${2:-20}")
	while [ "$(cl__now)" -lt "$end" ]; do
		[ "$(cl_http_code "$i" /health)" = 200 ] && return 0
		sleep 0.02
	done
	return 1
}

cl_wait_leader() {
	local end i l
	end=$(cl__deadline "${1:-20}")
	while [ "$(cl__now)" -lt "$end" ]; do
		for ((i = 1; i <= CL_N; i++)); do
			cl_running "$i" || continue
			l=$(cl_http "$i" /health | "$CL_PY" -c 'import json,sys
try:
    o=json.load(sys.stdin)["node"]
    print(o["node"] if o["role"]=="leader" and o["leader_ready"] else "")
except Exception: pass' 2>/dev/null)
			[ -n "$l" ] && { echo "$l"; return 0; }
		done
		sleep 0.02
	done
	return 1
}

cl_wait_applied() {
	local i=$1 want=$2 end a
	end=$(cl__deadline "${3:-30}")
	while [ "$(cl__now)" -lt "$end" ]; do
		a=$(cl_http "$i" /health | "$CL_PY" -c 'import json,sys
try: print(json.load(sys.stdin)["node"]["applied_index"])
except Exception: print(0)' 2>/dev/null)
		[ "${a:-0}" -ge "$want" ] && return 0
		sleep 0.02
	done
	return 1
}

cl_wipe() { rm -rf "$CL_DIR/n$1/data"; }

cl_cleanup() {
	local i bad=
	# SIGTERM first so that sanitized builds run their leak check, then KILL.
	for ((i = 1; i <= ${CL_N:-0}; i++)); do
		[ -n "${CL_PIDS[i]:-}" ] && kill -TERM "${CL_PIDS[i]}" 2>/dev/null
	done
	for ((i = 1; i <= ${CL_N:-0}; i++)); do
		[ -n "${CL_PIDS[i]:-}" ] || continue
		for _ in $(seq 1 250); do kill -0 "${CL_PIDS[i]}" 2>/dev/null || break; sleep 0.02; done
		kill -KILL "${CL_PIDS[i]}" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -n "${CL_DIR:-}" ] && [ -d "$CL_DIR" ]; then
		if grep -l "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" \
			"$CL_DIR"/n*/log >/dev/null 2>&1; then
			echo "FAIL: sanitizer report in a tandemd log:" >&2
			grep -h -A30 "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" \
				"$CL_DIR"/n*/log >&2
			bad=1
		fi
		[ -z "${CL_KEEP:-}" ] && rm -rf "$CL_DIR"
	fi
	[ -z "$bad" ] || exit 1
	return 0
}

cl_fail() {
	local i
	echo "FAIL: $*" >&2
	for ((i = 1; i <= ${CL_N:-0}; i++)); do
		echo "--- node $i log (tail)" >&2
		tail -n 25 "$CL_DIR/n$i/log" >&2 2>/dev/null
	done
	exit 1
}

# cl_verify I: `verify` from node I says every node agrees.
cl_verify() {
	[ "$(cl_json "$1" 'o["agree"]' verify)" = 1 ]
}

# cl_leader_from I: the leader id node I reports (0 if none).
cl_leader_from() { cl_json "$1" 'o["leader"]' leader 2>/dev/null || echo 0; }

# cl_prologue: common start of a test script (binaries built? trap).
cl_prologue() {
	cl_bin tandemd >/dev/null && cl_bin cluster-ctl >/dev/null || exit 99
	command -v curl >/dev/null || { echo "curl missing" >&2; exit 99; }
	trap cl_cleanup EXIT
	trap 'exit 1' INT TERM
}
