#!/usr/bin/python3
"""zone_compare.py: does a signed zone hold exactly its unsigned zone's data?

Run it with Debian's /usr/bin/python3 (it needs python3-dnspython):

    /usr/bin/python3 zone_compare.py --origin ZONE --denial nsec|nsec3|nsec3-optout
        [--serial keep|ge] [--min-serial N] [--soa-ttl N] [--soa-minimum N]
        UNSIGNED SIGNED

The three validators (ldns-verify-zone, dnssec-verify, kzonecheck) check that
signatures and denial chains are sound, but none of them notices a record
added, removed or changed, lost glue, a lowered serial, or NSEC where NSEC3
was asked for (shared/notes/dns-tools.md).  This script checks exactly those:

  data     Every RRset outside DNSSEC's own (RRSIG, NSEC, NSEC3, NSEC3PARAM
           and the apex DNSKEY the signer adds) is in both files with the
           same records, glue and occluded names included.
  TTL      Each signed RRset has one TTL.  An input RRset whose records have
           different TTLs (RFC 2181 §5.2) must come out with the lowest of
           them: that is the normalisation Tandem documents.  The SOA TTL may
           change when --soa-ttl says to what.
  SOA      MNAME, RNAME, refresh, retry, expire unchanged; minimum unchanged
           unless --soa-minimum gives the new value; serial equal with
           --serial keep, otherwise not lower than the input's (RFC 1982),
           and above --min-serial when given.
  denial   NSEC: NSEC at exactly the authoritative names and delegations, no
           NSEC3.  NSEC3: an NSEC3PARAM (flags 0) and NSEC3 at exactly the
           hashes of the authoritative names, delegations and empty
           non-terminals (RFC 5155 §7.1), no NSEC, opt-out flag clear.
           NSEC3 opt-out: the same with the opt-out flag set on every NSEC3;
           insecure delegations (and empty non-terminals leading only to
           them) may be left out.
  RRSIG    No signature over glue, occluded data, or the NS RRset at a
           delegation; every authoritative RRset has at least one.

Input files are read record by record (dnspython's zone loader would merge
an RRset's TTLs before we could see them).  A relative $INCLUDE path is
resolved from the directory of the zone file given on the command line.

Exit status: 0 when everything matches, 1 with one line per difference on
stdout (at most --max-report of them, then a count), 2 on a usage or parse
error.  The last line is always "zone_compare: ZONE: OK|FAIL ...".
"""

import argparse
import collections
import os
import sys

import dns.dnssec
import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer
import dns.zonefile

DNSSEC_TYPES = {
    dns.rdatatype.RRSIG,
    dns.rdatatype.NSEC,
    dns.rdatatype.NSEC3,
    dns.rdatatype.NSEC3PARAM,
}


class _Recorder:
    """A stand-in for a dnspython transaction that keeps every record."""

    class _Manager:
        def __init__(self, origin):
            self.origin = origin

        def origin_information(self):
            return (self.origin, False, self.origin)

        def get_class(self):
            return dns.rdataclass.IN

    def __init__(self, origin):
        self.manager = self._Manager(origin)
        self.records = []

    def check_put_rdataset(self, _check):
        pass

    def _set_origin(self, _origin):
        pass

    def add(self, name, ttl, rdata):
        self.records.append((name, ttl, rdata))


def read_records(path, origin):
    """Every record of a zone file as (name, ttl, rdata), in file order."""
    rec = _Recorder(origin)
    olddir = os.getcwd()
    try:
        with open(path, "r", encoding="utf-8", errors="surrogateescape") as f:
            os.chdir(os.path.dirname(os.path.abspath(path)))
            tok = dns.tokenizer.Tokenizer(f, path)
            reader = dns.zonefile.Reader(tok, dns.rdataclass.IN, rec,
                                         allow_include=True)
            reader.read()
    finally:
        os.chdir(olddir)
    return rec.records


def key_of(name, rdata):
    covers = rdata.covers() if rdata.rdtype == dns.rdatatype.RRSIG else 0
    return (name.canonicalize(), rdata.rdtype, covers)


def group(records, origin):
    """{(name, type, covers): {canonical rdata wire: (ttl, rdata)}} and the
    list of TTLs per key in file order."""
    sets = collections.defaultdict(dict)
    ttls = collections.defaultdict(list)
    for name, ttl, rdata in records:
        k = key_of(name, rdata)
        sets[k][rdata.to_digestable(origin)] = (ttl, rdata)
        ttls[k].append(ttl)
    return sets, ttls


def fmt(key, rdata=None, ttl=None):
    name, rdtype, covers = key
    t = dns.rdatatype.to_text(rdtype)
    if covers:
        t += "(" + dns.rdatatype.to_text(covers) + ")"
    s = name.to_text() + " " + t
    if ttl is not None:
        s += " ttl=" + str(ttl)
    if rdata is not None:
        s += " " + rdata.to_text()[:120]
    return s


def serial_lt(a, b):
    """RFC 1982 serial number arithmetic, 32 bits: is a < b?"""
    return a != b and ((a < b and b - a < 2**31) or (a > b and a - b > 2**31))


def zone_structure(keys, origin):
    """Split owner names into authoritative names, delegations (cuts below
    the apex), and non-authoritative names (glue and occluded data below a
    cut or a DNAME), from the set of (name, type) present."""
    names = collections.defaultdict(set)
    for name, rdtype, _ in keys:
        names[name].add(rdtype)
    cuts = {n for n, t in names.items()
            if n != origin and dns.rdatatype.NS in t}
    dnames = {n for n, t in names.items() if dns.rdatatype.DNAME in t}

    def below_cut(n):
        p = n
        while p != origin and len(p) > len(origin):
            p = p.parent()
            if p in cuts or p in dnames:
                return True
        return False

    nonauth = {n for n in names if below_cut(n)}
    delegations = cuts - nonauth
    auth = {n for n in names if n not in nonauth and n not in delegations}
    return names, auth, delegations, nonauth


def empty_non_terminals(existing, origin):
    ents = set()
    for n in existing:
        p = n
        while len(p) > len(origin) + 1:
            p = p.parent()
            if p not in existing:
                ents.add(p)
    return ents


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--origin", required=True)
    ap.add_argument("--denial", required=True,
                    choices=["nsec", "nsec3", "nsec3-optout"])
    ap.add_argument("--serial", choices=["keep", "ge"], default="ge")
    ap.add_argument("--min-serial", type=int)
    ap.add_argument("--soa-ttl", type=int)
    ap.add_argument("--soa-minimum", type=int)
    ap.add_argument("--max-report", type=int, default=25)
    ap.add_argument("unsigned")
    ap.add_argument("signed")
    a = ap.parse_args()

    origin = dns.name.from_text(a.origin).canonicalize()
    zname = origin.to_text()
    try:
        urecs = read_records(a.unsigned, origin)
        srecs = read_records(a.signed, origin)
    except (dns.exception.DNSException, OSError, UnicodeError) as e:
        print("zone_compare: %s: cannot read: %s" % (zname, e))
        print("zone_compare: %s: FAIL (unreadable input)" % zname)
        return 2

    problems = []

    def bad(kind, msg):
        problems.append("%-8s %s" % (kind, msg))

    uset, uttls = group(urecs, origin)
    sset, sttls = group(srecs, origin)

    # DNSSEC records in the input are not expected (the examples have none);
    # if there are, they are the signer's to replace, so ignore both sides.
    def is_dnssec(k):
        return k[1] in DNSSEC_TYPES or (k[1] == dns.rdatatype.DNSKEY
                                        and k[0] == origin)

    udata = {k: v for k, v in uset.items() if not is_dnssec(k)}
    sdata = {k: v for k, v in sset.items() if not is_dnssec(k)}

    # Out-of-zone names in the output.
    for k in sset:
        if not k[0].is_subdomain(origin):
            bad("EXTRA", "out of zone: " + fmt(k))

    # --- data: same RRsets, same records.
    for k in sorted(set(udata) | set(sdata)):
        if k[1] == dns.rdatatype.SOA:
            continue
        u = udata.get(k, {})
        s = sdata.get(k, {})
        for w in sorted(set(u) - set(s)):
            bad("MISSING", fmt(k, u[w][1], u[w][0]))
        for w in sorted(set(s) - set(u)):
            bad("EXTRA", fmt(k, s[w][1], s[w][0]))
        if u and s:
            out_ttls = set(sttls[k])
            if len(out_ttls) != 1:
                bad("TTL", "%s: signed RRset has TTLs %s" %
                    (fmt(k), sorted(out_ttls)))
            elif min(uttls[k]) not in out_ttls:
                bad("TTL", "%s: signed TTL %d, expected %d (input TTLs %s)" %
                    (fmt(k), out_ttls.pop(), min(uttls[k]),
                     sorted(set(uttls[k]))))

    # --- SOA.
    skey = (origin, dns.rdatatype.SOA, 0)
    if skey not in uset or len(uset[skey]) != 1:
        bad("SOA", "unsigned zone has no single SOA at the apex")
    elif skey not in sset or len(sset[skey]) != 1:
        bad("SOA", "signed zone has no single SOA at the apex")
    else:
        (uttl, usoa), = uset[skey].values()
        (sttl, ssoa), = sset[skey].values()
        for f in ("mname", "rname"):
            if getattr(usoa, f).canonicalize() != getattr(ssoa, f).canonicalize():
                bad("SOA", "%s changed: %s -> %s" %
                    (f, getattr(usoa, f), getattr(ssoa, f)))
        for f in ("refresh", "retry", "expire"):
            if getattr(usoa, f) != getattr(ssoa, f):
                bad("SOA", "%s changed: %d -> %d" %
                    (f, getattr(usoa, f), getattr(ssoa, f)))
        want_min = a.soa_minimum if a.soa_minimum is not None else usoa.minimum
        if ssoa.minimum != want_min:
            bad("SOA", "minimum %d, expected %d" % (ssoa.minimum, want_min))
        want_ttl = a.soa_ttl if a.soa_ttl is not None else uttl
        if sttl != want_ttl:
            bad("SOA", "TTL %d, expected %d" % (sttl, want_ttl))
        if a.serial == "keep" and ssoa.serial != usoa.serial:
            bad("SERIAL", "serial %d, expected the input's %d (keep)" %
                (ssoa.serial, usoa.serial))
        if a.serial == "ge" and serial_lt(ssoa.serial, usoa.serial):
            bad("SERIAL", "serial %d is lower than the input's %d" %
                (ssoa.serial, usoa.serial))
        if a.min_serial is not None and not serial_lt(a.min_serial, ssoa.serial):
            bad("SERIAL", "serial %d is not above %d" %
                (ssoa.serial, a.min_serial))

    # --- structure of the zone, from the unsigned data.
    names, auth, delegations, nonauth = zone_structure(set(udata), origin)
    secure = {n for n in delegations
              if dns.rdatatype.DS in names[n]}
    insecure = delegations - secure

    # --- RRSIG placement.
    signed_types = collections.defaultdict(set)
    for (n, t, covers) in sset:
        if t == dns.rdatatype.RRSIG:
            signed_types[n].add(covers)
    for n in sorted(signed_types):
        if n in nonauth:
            bad("RRSIG", "signature at non-authoritative name %s (glue or "
                "occluded)" % n)
        elif n in delegations:
            extra = signed_types[n] - {dns.rdatatype.DS, dns.rdatatype.NSEC}
            if extra:
                bad("RRSIG", "signature over %s at delegation %s" %
                    (",".join(sorted(dns.rdatatype.to_text(t) for t in extra)), n))
    for (n, t, _c) in sorted(udata):
        if n in auth and t not in signed_types.get(n, set()):
            bad("RRSIG", "no signature over %s %s" %
                (n, dns.rdatatype.to_text(t)))
    for n in sorted(secure):
        if dns.rdatatype.DS not in signed_types.get(n, set()):
            bad("RRSIG", "no signature over %s DS" % n)

    # --- denial of existence.
    nsec_owners = {k[0] for k in sset if k[1] == dns.rdatatype.NSEC}
    nsec3_keys = [k for k in sset if k[1] == dns.rdatatype.NSEC3]
    param_key = (origin, dns.rdatatype.NSEC3PARAM, 0)
    if a.denial == "nsec":
        if nsec3_keys or param_key in sset:
            bad("DENIAL", "NSEC was asked for but the zone has NSEC3%s" %
                ("PARAM" if not nsec3_keys else ""))
        want = auth | delegations
        for n in sorted(want - nsec_owners):
            bad("DENIAL", "no NSEC at %s" % n)
        for n in sorted(nsec_owners - want):
            bad("DENIAL", "NSEC at %s, which is not authoritative" % n)
    else:
        if nsec_owners:
            bad("DENIAL", "NSEC3 was asked for but the zone has NSEC at %s" %
                ", ".join(n.to_text() for n in sorted(nsec_owners)[:3]))
        if param_key not in sset or len(sset[param_key]) != 1:
            bad("DENIAL", "no single NSEC3PARAM at the apex")
        else:
            (_t, param), = sset[param_key].values()
            if param.flags != 0:
                bad("DENIAL", "NSEC3PARAM flags %d, must be 0 (RFC 5155 §4.1.2)"
                    % param.flags)
            optout = a.denial == "nsec3-optout"
            have = {}
            for k in nsec3_keys:
                label = k[0].labels[0].decode("ascii").upper()
                if k[0].parent() != origin:
                    bad("DENIAL", "NSEC3 owner %s is not one label below "
                        "the apex" % k[0])
                for _w, (_ttl, r) in sset[k].items():
                    if bool(r.flags & 1) != optout:
                        bad("DENIAL", "NSEC3 %s has opt-out flag %d, asked "
                            "for %s" % (label, r.flags & 1, a.denial))
                    if (r.algorithm, r.iterations, r.salt) != \
                       (param.algorithm, param.iterations, param.salt):
                        bad("DENIAL", "NSEC3 %s parameters differ from "
                            "NSEC3PARAM" % label)
                have[label] = k[0]
            existing = auth | delegations
            ents = empty_non_terminals(existing, origin)
            # Empty non-terminals that are not above any authoritative name or
            # secure delegation lead only to insecure cuts or occluded names.
            needed = auth | secure
            ents_needed = {e for e in ents
                           if any(x.is_subdomain(e) for x in needed)}

            def h(n):
                return dns.dnssec.nsec3_hash(n, param.salt, param.iterations,
                                             param.algorithm).upper()

            must = {h(n): n for n in (auth | secure | ents_needed)}
            may = {h(n): n for n in (auth | delegations | ents)}
            if not optout:
                must = may
            for hh in sorted(set(must) - set(have)):
                bad("DENIAL", "no NSEC3 for %s (%s)" % (must[hh], hh))
            for hh in sorted(set(have) - set(may)):
                bad("DENIAL", "NSEC3 %s matches no name that needs one" % hh)

    if problems:
        for p in problems[:a.max_report]:
            print("zone_compare: " + p)
        if len(problems) > a.max_report:
            print("zone_compare: ... and %d more" %
                  (len(problems) - a.max_report))
        print("zone_compare: %s: FAIL (%d differences; %d input records, "
              "%d output records)" % (zname, len(problems), len(urecs),
                                      len(srecs)))
        return 1
    print("zone_compare: %s: OK (%d input records, %d output records, %s)" %
          (zname, len(urecs), len(srecs), a.denial))
    return 0


if __name__ == "__main__":
    sys.exit(main())
