#!/usr/bin/python3
"""zone_tool.py: small zone-file operations for the integration tests.

Run with Debian's /usr/bin/python3 (python3-dnspython).

  zone_tool.py corrupt MODE ORIGIN IN OUT
      Write IN to OUT one record per line, with one corruption:
        flip-sig      flip one bit of one RRSIG signature (over an A RRset)
        add-record    add "corruption-added.ORIGIN 3600 IN A 192.0.2.222"
        remove-record remove one record of a two-record RRset (MX at the apex)
        change-record change the address of one A record (an authoritative one)
        drop-glue     remove every glue address record
        change-glue   change one glue address
        lower-serial  lower the SOA serial by 10
      Prints what it did.  Exit 2 when IN offers nothing to corrupt.

  zone_tool.py rrsigs OLD NEW ORIGIN
      Compare the RRSIGs of two signed zones.  Prints a JSON object:
        {"kept": n, "made": n, "dropped": n,
         "resigned": ["owner TYPE", ...]}   (RRsets whose signature changed
                                              or is new, sorted)
"""

import json
import sys

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.SOA

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from zone_compare import read_records, zone_structure, group  # noqa: E402


def write(records, path):
    with open(path, "w", encoding="utf-8") as f:
        for name, ttl, rd in records:
            f.write("%s %d IN %s %s\n" % (name.to_text(), ttl,
                                          dns.rdatatype.to_text(rd.rdtype),
                                          rd.to_text()))


def corrupt(mode, origin, src, dst):
    recs = read_records(src, origin)
    sets, _ = group(recs, origin)
    _names, auth, delegations, nonauth = zone_structure(set(sets), origin)
    out = list(recs)
    A = dns.rdatatype.A
    what = None
    if mode == "flip-sig":
        for i, (n, t, rd) in enumerate(out):
            if rd.rdtype == dns.rdatatype.RRSIG and rd.type_covered == A:
                sig = bytearray(rd.signature)
                sig[len(sig) // 2] ^= 0x01
                out[i] = (n, t, rd.replace(signature=bytes(sig)))
                what = "flipped bit 0 of byte %d of the RRSIG over %s A" % (
                    len(sig) // 2, n)
                break
    elif mode == "add-record":
        n = dns.name.from_text("corruption-added", origin)
        rd = dns.rdata.from_text("IN", "A", "192.0.2.222")
        out.append((n, 3600, rd))
        what = "added %s A 192.0.2.222" % n
    elif mode == "remove-record":
        mx = [i for i, (n, t, rd) in enumerate(out)
              if n == origin and rd.rdtype == dns.rdatatype.MX]
        if len(mx) >= 2:
            n, t, rd = out.pop(mx[-1])
            what = "removed %s MX %s" % (n, rd)
    elif mode == "change-record":
        for i, (n, t, rd) in enumerate(out):
            if rd.rdtype == A and n in auth:
                out[i] = (n, t, dns.rdata.from_text("IN", "A", "198.51.100.1"))
                what = "changed %s A %s to 198.51.100.1" % (n, rd)
                break
    elif mode in ("drop-glue", "change-glue"):
        glue = [i for i, (n, t, rd) in enumerate(out)
                if n in nonauth and rd.rdtype in (A, dns.rdatatype.AAAA)
                and any(n.is_subdomain(d) for d in delegations)]
        if glue and mode == "drop-glue":
            what = "removed %d glue records" % len(glue)
            out = [r for i, r in enumerate(out) if i not in set(glue)]
        elif glue:
            i = [g for g in glue if out[g][2].rdtype == A][0]
            n, t, rd = out[i]
            out[i] = (n, t, dns.rdata.from_text("IN", "A", "198.51.100.2"))
            what = "changed glue %s A %s to 198.51.100.2" % (n, rd)
    elif mode == "lower-serial":
        for i, (n, t, rd) in enumerate(out):
            if rd.rdtype == dns.rdatatype.SOA:
                out[i] = (n, t, rd.replace(serial=(rd.serial - 10) % 2**32))
                what = "lowered the serial from %d to %d" % (
                    rd.serial, (rd.serial - 10) % 2**32)
                break
    else:
        sys.exit("zone_tool.py: unknown corruption %r" % mode)
    if what is None:
        print("zone_tool.py: %s: nothing to corrupt in %s" % (mode, src))
        return 2
    write(out, dst)
    print(what)
    return 0


def rrsigs(old, new, origin):
    def sigs(path):
        d = {}
        for n, _t, rd in read_records(path, origin):
            if rd.rdtype == dns.rdatatype.RRSIG:
                key = "%s %s" % (n.canonicalize().to_text(),
                                 dns.rdatatype.to_text(rd.type_covered))
                d.setdefault(key, set()).add(rd.to_digestable())
        return d
    a, b = sigs(old), sigs(new)
    kept = made = dropped = 0
    resigned = []
    for k in set(a) | set(b):
        x, y = a.get(k, set()), b.get(k, set())
        kept += len(x & y)
        made += len(y - x)
        dropped += len(x - y)
        if y - x:
            resigned.append(k)
    print(json.dumps({"kept": kept, "made": made, "dropped": dropped,
                      "resigned": sorted(resigned)}))
    return 0


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "corrupt":
        return corrupt(sys.argv[2], dns.name.from_text(sys.argv[3]),
                       sys.argv[4], sys.argv[5])
    if len(sys.argv) == 5 and sys.argv[1] == "rrsigs":
        return rrsigs(sys.argv[2], sys.argv[3], dns.name.from_text(sys.argv[4]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
