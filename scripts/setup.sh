#!/bin/sh
# scripts/setup.sh: install everything Tandem's build, tests, demo and
# benchmark need on Debian 12, then build the tree in build/.
#
#   scripts/setup.sh               install packages, autogen, configure, make (build/)
#   scripts/setup.sh --no-build    install packages and run autogen.sh only
#
# Idempotent and non-interactive.  When every package is already installed it
# neither runs `apt-get update` nor needs the network.  Servers that Debian's
# maintainer scripts would start on install (nsd, knot, named) are kept from
# starting by a temporary policy-rc.d and disabled afterwards: the tests start
# their own instances on loopback with private configs.
#
# The build is out of tree (build/, or $TDM_BUILD_DIR) because an in-tree
# ./configure would forbid the out-of-tree builds that scripts/test.sh and
# every developer use (automake refuses a VPATH build of a configured srcdir).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

build=yes
for arg in "$@"; do
	case $arg in
	--no-build) build=no ;;
	-h|--help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "setup.sh: unknown argument '$arg'" >&2; exit 2 ;;
	esac
done

# Every Debian 12 package the project needs, with what it is for.
PACKAGES="
build-essential gcc make autoconf automake pkg-config
libraft-dev libuv1-dev libldns-dev libsqlite3-dev libxml2-dev libssl-dev
check libmicrohttpd-dev libp11-kit-dev
sqlite3 libxml2-utils
softhsm2 opensc
ldnsutils bind9-utils bind9-dnsutils knot-dnssecutils
knot nsd bind9
python3 python3-dnspython
clang libclang-rt-14-dev
time procps iproute2 curl jq
"
# Packages that ship a server whose postinst may start it.
SERVERS="nsd:nsd knot:knot bind9:named"

say() { printf 'setup: %s\n' "$*"; }

is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=
for p in $PACKAGES; do
	is_installed "$p" || missing="$missing $p"
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing packages:$missing" >&2
		echo "setup: run as root (or: sudo apt-get install$missing)" >&2
		exit 1
	fi
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# Check each name first, so a renamed package is reported by name
	# rather than as an apt-get failure on the whole list.
	for p in $missing; do
		cand=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
		if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
			echo "setup: package '$p' has no install candidate on this system" >&2
			exit 1
		fi
	done
	# Keep maintainer scripts from starting daemons while we install.
	own_policy=no
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# temporary, from tandem scripts/setup.sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=yes
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT INT TERM
	fi
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
	if [ "$own_policy" = yes ]; then
		rm -f /usr/sbin/policy-rc.d
		trap - EXIT INT TERM
	fi
	# Servers this run installed must not stay enabled or running.
	for pair in $SERVERS; do
		pkg=${pair%%:*}; svc=${pair#*:}
		case " $missing " in *" $pkg "*) ;; *) continue ;; esac
		if [ -d /run/systemd/system ]; then
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
		else
			# No systemd running: still remove the unit's enable links
			# (systemctl edits them offline) and the SysV links, and stop
			# it through the init script if the postinst started it anyway.
			systemctl disable "$svc" >/dev/null 2>&1 || true
			update-rc.d "$svc" disable >/dev/null 2>&1 || true
			if [ -x "/etc/init.d/$svc" ]; then
				"/etc/init.d/$svc" stop >/dev/null 2>&1 || true
			fi
		fi
		say "$svc installed, not running and not enabled (tests start their own)"
	done
else
	say "all $(echo $PACKAGES | wc -w) packages already installed"
fi

# Generate configure when it is missing or older than its inputs; after that
# `make` keeps the build system up to date by itself.
regen=no
if [ ! -x configure ] || [ ! -f Makefile.in ]; then
	regen=yes
elif [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	regen=yes
fi
if [ "$regen" = yes ]; then
	say "running autogen.sh"
	./autogen.sh
fi

[ "$build" = yes ] || exit 0

bdir=${TDM_BUILD_DIR:-build}
mkdir -p "$bdir"
if [ ! -f "$bdir/config.status" ]; then
	say "configuring in $bdir/"
	(cd "$bdir" && "$here/configure" -q)
fi
say "building in $bdir/"
make -C "$bdir" -j"${TDM_JOBS:-2}" -s
say "done: binaries in $bdir/"
