# Shell test helpers: temporary directories and private SoftHSM2 tokens.
# Source it:  . "$TDM_SRCDIR/tests/lib/softhsm.sh"
#
#   dir=$(tdm_tmpdir)                       # remove with: rm -rf "$dir"
#   tdm_softhsm_token "$dir" LABEL PIN SOPIN  # writes $dir/softhsm2.conf,
#                                           # exports SOFTHSM2_CONF
#   tdm_softhsm_module                      # prints the module path
#
# A test that calls tdm_tmpdir should remove the directory in an EXIT trap.
#
# For binaries built with --enable-sanitize (harmless otherwise): full
# malloc stacks and lsan.supp, so SoftHSM2's own leak is not reported.
# Values already in the environment win.

: "${ASAN_OPTIONS:=fast_unwind_on_malloc=0}"
: "${LSAN_OPTIONS:=suppressions=${TDM_SRCDIR:-.}/tests/lib/lsan.supp:print_suppressions=0}"
export ASAN_OPTIONS LSAN_OPTIONS

tdm_tmpdir() {
	mktemp -d "${TMPDIR:-/tmp}/tandem-test-XXXXXX"
}

tdm_softhsm_module() {
	printf '%s\n' "${TDM_SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}"
}

# tdm_softhsm_token DIR LABEL PIN SOPIN
tdm_softhsm_token() {
	_d=$1
	if [ ! -f "$_d/softhsm2.conf" ]; then
		mkdir -p "$_d/tokens" || return 1
		cat > "$_d/softhsm2.conf" <<EOC || return 1
directories.tokendir = $_d/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOC
	fi
	SOFTHSM2_CONF=$_d/softhsm2.conf
	export SOFTHSM2_CONF
	softhsm2-util --init-token --free --label "$2" --pin "$3" \
		--so-pin "$4" >/dev/null
}
