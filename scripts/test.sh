#!/bin/bash
# scripts/test.sh: set everything up and run every test Tandem has.
#
#   1. scripts/setup.sh --no-build   (Debian packages, autogen.sh)
#   2. build/       configure --enable-werror;                  make; make check
#   3. build-asan/  configure --enable-sanitize --enable-werror; make; make check
#
# `make check` runs the unit suites (check), the fuzz corpus replays and the
# integration scripts (tests/integration/*.sh: signing judged by three
# validators and a comparison with the input).  Everything runs with -j2
# (TDM_JOBS overrides).  Exits non-zero if any build or test fails, after
# printing the test-suite.log of the failing builds.  The last line is a
# plain "N passed, N failed, N skipped" count over both builds.
#
# Options: --no-asan skips step 3 (a quick local run; CI always runs it).
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
jobs=${TDM_JOBS:-2}
asan=yes
for arg in "$@"; do
	case $arg in
	--no-asan) asan=no ;;
	-h|--help) sed -n '2,15p' "$0"; exit 0 ;;
	*) echo "test.sh: unknown argument '$arg'" >&2; exit 2 ;;
	esac
done

start=$(date +%s)
say() { printf '\n=== test: %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

declare -a summary=()
total_pass=0 total_fail=0 total_skip=0
failed=0

if ! scripts/setup.sh --no-build; then
	echo "test: setup failed" >&2
	exit 1
fi

# count FIELD LOG: the "# FIELD: N" line of an automake test-suite.log.
count() { sed -n "s/^# $1: *//p" "$2" 2>/dev/null | head -n1; }

# run_build DIR CONFIGURE-ARGS...: configure (again if the arguments
# changed), make, make check; record the result.
run_build() {
	local dir=$1; shift
	local args="$*"
	mkdir -p "$dir"
	if [ ! -f "$dir/config.status" ] ||
	   [ "$("$dir/config.status" --config 2>/dev/null | tr -d "'")" != "$args" ]; then
		say "configure $dir/ $args"
		# Objects built with other flags would not be rebuilt (make only
		# sees that config.h is unchanged): start from clean.
		[ -f "$dir/Makefile" ] && make -C "$dir" -s clean >/dev/null 2>&1
		rm -f "$dir/config.cache"
		if ! (cd "$dir" && "$here/configure" -q "$@"); then
			summary+=("$dir: configure FAILED (see $dir/config.log)")
			failed=1
			return
		fi
	fi
	say "make -j$jobs in $dir/"
	if ! make -C "$dir" -j"$jobs" -s >"$dir/make.out" 2>&1; then
		tail -n 80 "$dir/make.out"
		summary+=("$dir: build FAILED (see $dir/make.out)")
		failed=1
		return
	fi
	say "make check -j$jobs in $dir/"
	rm -f "$dir/test-suite.log"
	local rc=0
	make -C "$dir" -j"$jobs" check || rc=$?
	local log="$dir/test-suite.log"
	if [ ! -f "$log" ]; then
		summary+=("$dir: make check exited $rc without a test-suite.log")
		failed=1
		return
	fi
	local p f s e x xp
	p=$(count PASS "$log"); f=$(count FAIL "$log"); s=$(count SKIP "$log")
	e=$(count ERROR "$log"); x=$(count XFAIL "$log"); xp=$(count XPASS "$log")
	p=$(( ${p:-0} + ${x:-0} )); f=$(( ${f:-0} + ${e:-0} + ${xp:-0} )); s=${s:-0}
	total_pass=$(( total_pass + p )); total_fail=$(( total_fail + f ))
	total_skip=$(( total_skip + s ))
	summary+=("$dir: $p passed, $f failed, $s skipped (make check exit $rc)")
	if [ "$s" -gt 0 ]; then
		summary+=("  skipped: $(grep -h '^SKIP:' "$log" | sed 's/^SKIP: //' | tr '\n' ' ')")
	fi
	if [ "$rc" -ne 0 ] || [ "$f" -gt 0 ]; then
		failed=1
		echo "----- $log (failures) -----"
		cat "$log"
		echo "----- end of $log -----"
	fi
}

run_build build --enable-werror

if [ "$asan" = yes ]; then
	# Sanitizer run: slower, so give check's timeouts headroom.  Leak
	# checking stays on; halt_on_error makes a finding fail its test.
	# Full stacks at malloc (fast_unwind_on_malloc=0: libcrypto has no
	# frame pointers) let tests/lib/lsan.supp name SoftHSM2's own leak by
	# its module instead of by "any libcrypto allocation".
	export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-4}
	export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:halt_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0}
	export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/tests/lib/lsan.supp:print_suppressions=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	run_build build-asan --enable-sanitize --enable-werror
fi

echo
echo "=== summary ($(( $(date +%s) - start ))s)"
for line in "${summary[@]}"; do echo "$line"; done
echo "${total_pass} passed, ${total_fail} failed, ${total_skip} skipped"
exit $failed
