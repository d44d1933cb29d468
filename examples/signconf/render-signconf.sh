#!/bin/sh
# render-signconf.sh: write a signconf for tandem-signzone from signconf.xml.in.
#
#   render-signconf.sh ZONE DENIAL ALGORITHM KSK_CKA_ID ZSK_CKA_ID [SERIAL [SALT [ITERATIONS]]]
#
# DENIAL is nsec, nsec3 or nsec3-optout; SERIAL one of counter, datecounter,
# unixtime, keep (default counter); SALT hex or "" (default ""), ITERATIONS
# default 0 (RFC 9276 recommends no salt and no extra iterations).  The
# signconf goes to stdout.  Its SOA TTL is 3600 and SOA minimum 300.
set -eu
if [ $# -lt 5 ] || [ $# -gt 8 ]; then
	sed -n '4,10p' "$0" >&2
	exit 2
fi
zone=$1 denial=$2 alg=$3 ksk=$4 zsk=$5
serial=${6:-counter} salt=${7:-} iter=${8:-0}
hash="<Hash><Algorithm>1</Algorithm><Iterations>$iter</Iterations><Salt>$salt</Salt></Hash>"
case $denial in
nsec) d="<NSEC/>" ;;
nsec3) d="<NSEC3>$hash</NSEC3>" ;;
nsec3-optout) d="<NSEC3><OptOut/>$hash</NSEC3>" ;;
*) echo "render-signconf.sh: denial must be nsec, nsec3 or nsec3-optout, not '$denial'" >&2; exit 2 ;;
esac
case $serial in
counter|datecounter|unixtime|keep) ;;
*) echo "render-signconf.sh: unknown serial policy '$serial'" >&2; exit 2 ;;
esac
sed -e "s|@ZONE@|$zone|g" -e "s|@DENIAL@|$d|" -e "s|@ALGORITHM@|$alg|g" \
    -e "s|@KSK@|$ksk|" -e "s|@ZSK@|$zsk|" -e "s|@SERIAL@|$serial|" \
    "$(dirname "$0")/signconf.xml.in"
