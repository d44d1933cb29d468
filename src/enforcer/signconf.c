/*
 * The signconf: what the enforcer tells the signer about one zone, in
 * OpenDNSSEC 2.x form (the file tdm_signconf_load() reads back).  The key
 * flags follow the record states as OpenDNSSEC's set_key_flags() does: a
 * record that is rumoured or omnipresent is in the zone, so
 *   <Publish/>  DNSKEY        rumoured or omnipresent
 *   <KSK/>      RRSIG-DNSKEY  rumoured or omnipresent (signs the DNSKEY RRset)
 *   <ZSK/>      RRSIG         rumoured or omnipresent (signs the other RRsets)
 * and a key with none of them is left out.  <Flags> is 257 for KSKs and
 * CSKs, 256 for ZSKs.  The NSEC3 salt comes from the caller (the leader
 * chooses it); everything else from the policy.
 *
 * Tandem extension for RFC 7344 / RFC 8078 (OpenDNSSEC 2.1 has none): a
 * policy with <PublishCDS> gets a <Keys><CDS> section with its digest
 * types, one with <PublishCDNSKEY/> a <Keys><CDNSKEY> section; while a DS
 * change is pending, the keys whose DS the parent should hold (the plan's
 * cds set) carry <CDS/> and/or <CDNSKEY/>, and when that set is empty the
 * sections carry <Delete/> instead.  With the section present and no key
 * marked, the signer publishes no such RRset (and drops the input's).
 * Only digest types 2 (SHA-256) and 4 (SHA-384) are written, the ones the
 * signer makes; the policy check warns about 1 (SHA-1, RFC 8624 §3.3) and
 * refuses the rest, and a policy left with none gets no <CDS> section.
 */
#include "enforcer/enforcer_int.h"

#include "common/duration.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len)
			break;
		b->cap = 2 * b->cap + (size_t)n + 64;
		b->s = tdm_realloc(b->s, b->cap);
	}
	b->len += (size_t)n;
}

static void put_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': put(b, "&amp;"); break;
		case '<': put(b, "&lt;"); break;
		case '>': put(b, "&gt;"); break;
		case '"': put(b, "&quot;"); break;
		case '\'': put(b, "&apos;"); break;
		default: put(b, "%c", *s);
		}
	}
}

static void put_duration(struct buf *b, const char *indent, const char *elem, int64_t secs)
{
	char d[64];
	tdm_duration_format(secs, d, sizeof d);
	put(b, "%s<%s>%s</%s>\n", indent, elem, d, elem);
}

static bool is_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
			return false;
	return true;
}

static bool in_zone(uint8_t st)
{
	return st == ENFORCER_RUMOURED || st == ENFORCER_OMNIPRESENT;
}

static bool in_cds(const struct enforcer_signconf_params *prm, size_t i)
{
	for (size_t j = 0; j < prm->n_cds; j++)
		if (prm->cds[j] == i)
			return true;
	return false;
}

int enforcer_signconf_render(const struct enforcer_signconf_params *prm, char **out,
			     size_t *len, struct tdm_err *err)
{
	const struct tdm_policy *pol = prm->policy;
	const char *salt = prm->nsec3_salt != NULL ? prm->nsec3_salt : "";
	struct buf b = { .s = tdm_malloc(4096), .len = 0, .cap = 4096 };
	uint8_t digests[sizeof pol->cds_digests];
	size_t n_digests = 0;
	bool with_cds, with_cdnskey = pol->publish_cdnskey;

	for (size_t i = 0; i < pol->n_cds_digests && i < sizeof digests; i++)
		if (pol->cds_digests[i] == 2 || pol->cds_digests[i] == 4)
			digests[n_digests++] = pol->cds_digests[i];
	if (pol->publish_cds && pol->n_cds_digests == 0)
		digests[n_digests++] = 2; /* the kasp.xml default, RFC 4509 */
	with_cds = pol->publish_cds && n_digests > 0;

	if (!is_hex(salt) || strlen(salt) % 2 != 0 || strlen(salt) > 510) {
		free(b.s);
		return tdm_err_fail(err, TDM_EINVAL, "zone %s: NSEC3 salt \"%s\" is not hex",
				    prm->zone, salt);
	}
	for (size_t i = 0; i < prm->n_cds; i++)
		if (prm->cds[i] >= prm->n_keys || prm->keys[prm->cds[i]].locator == NULL ||
		    !*prm->keys[prm->cds[i]].locator) {
			free(b.s);
			return tdm_err_fail(err, TDM_EINVAL, "zone %s: CDS key %zu: %s", prm->zone,
					    prm->cds[i], prm->cds[i] >= prm->n_keys
					    ? "no such key" : "no locator");
		}
	for (size_t i = 0; i < prm->n_keys; i++)
		if (prm->keys[i].locator != NULL && !is_hex(prm->keys[i].locator)) {
			free(b.s);
			return tdm_err_fail(err, TDM_EINVAL, "zone %s: key %s: locator is not hex",
					    prm->zone, prm->keys[i].id);
		}

	put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	put(&b, "<!-- written by the Tandem enforcer (policy ");
	put_escaped(&b, pol->name);
	put(&b, ") -->\n<SignerConfiguration>\n\t<Zone name=\"");
	put_escaped(&b, prm->zone);
	put(&b, "\">\n");
	if (pol->passthrough)
		put(&b, "\t\t<Passthrough/>\n");

	put(&b, "\t\t<Signatures>\n");
	put_duration(&b, "\t\t\t", "Resign", pol->resign);
	put_duration(&b, "\t\t\t", "Refresh", pol->refresh);
	put(&b, "\t\t\t<Validity>\n");
	put_duration(&b, "\t\t\t\t", "Default", pol->validity_default);
	put_duration(&b, "\t\t\t\t", "Denial", pol->validity_denial);
	if (pol->validity_keyset > 0)
		put_duration(&b, "\t\t\t\t", "Keyset", pol->validity_keyset);
	put(&b, "\t\t\t</Validity>\n");
	put_duration(&b, "\t\t\t", "Jitter", pol->jitter);
	put_duration(&b, "\t\t\t", "InceptionOffset", pol->inception_offset);
	if (pol->max_zone_ttl > 0)
		put_duration(&b, "\t\t\t", "MaxZoneTTL", pol->max_zone_ttl);
	put(&b, "\t\t</Signatures>\n");

	put(&b, "\t\t<Denial>\n");
	if (!pol->nsec3) {
		put(&b, "\t\t\t<NSEC/>\n");
	} else {
		put(&b, "\t\t\t<NSEC3>\n");
		if (pol->nsec3_ttl >= 0)
			put_duration(&b, "\t\t\t\t", "TTL", pol->nsec3_ttl);
		if (pol->nsec3_optout)
			put(&b, "\t\t\t\t<OptOut/>\n");
		put_duration(&b, "\t\t\t\t", "Resalt", pol->nsec3_resalt);
		put(&b, "\t\t\t\t<Hash>\n");
		put(&b, "\t\t\t\t\t<Algorithm>%u</Algorithm>\n", pol->nsec3_algorithm);
		put(&b, "\t\t\t\t\t<Iterations>%u</Iterations>\n", pol->nsec3_iterations);
		put(&b, "\t\t\t\t\t<Salt length=\"%zu\">%s</Salt>\n", strlen(salt) / 2,
		    *salt ? salt : "-");
		put(&b, "\t\t\t\t</Hash>\n");
		put(&b, "\t\t\t</NSEC3>\n");
	}
	put(&b, "\t\t</Denial>\n");

	put(&b, "\t\t<Keys>\n");
	put_duration(&b, "\t\t\t", "TTL", pol->keys_ttl);
	for (size_t i = 0; i < prm->n_keys; i++) {
		const struct enforcer_key *k = &prm->keys[i];
		bool publish = in_zone(k->rec[ENFORCER_DNSKEY].state);
		bool ksk = enforcer__ksk_capable(k->role) &&
			   in_zone(k->rec[ENFORCER_RRSIG_DNSKEY].state);
		bool zsk = enforcer__zsk_capable(k->role) && in_zone(k->rec[ENFORCER_RRSIG].state);
		/* Only keys whose DNSKEY is published: parents (and kzonecheck)
		 * refuse a CDS/CDNSKEY that matches no DNSKEY of the zone, so a
		 * double-DS rollover announces its new key once it is published. */
		bool cds = in_cds(prm, i) && publish;
		if (!publish && !ksk && !zsk && !(cds && (with_cds || with_cdnskey)))
			continue;
		put(&b, "\t\t\t<Key>\n");
		put(&b, "\t\t\t\t<Flags>%u</Flags>\n", enforcer__ksk_capable(k->role) ? 257u : 256u);
		put(&b, "\t\t\t\t<Algorithm>%u</Algorithm>\n", k->algorithm);
		if (k->locator != NULL && *k->locator)
			put(&b, "\t\t\t\t<Locator>%s</Locator>\n", k->locator);
		if (ksk)
			put(&b, "\t\t\t\t<KSK/>\n");
		if (zsk)
			put(&b, "\t\t\t\t<ZSK/>\n");
		if (publish)
			put(&b, "\t\t\t\t<Publish/>\n");
		if (cds && with_cds)
			put(&b, "\t\t\t\t<CDS/>\n");
		if (cds && with_cdnskey)
			put(&b, "\t\t\t\t<CDNSKEY/>\n");
		put(&b, "\t\t\t</Key>\n");
	}
	if (with_cds) {
		put(&b, "\t\t\t<CDS>\n");
		for (size_t i = 0; i < n_digests; i++)
			put(&b, "\t\t\t\t<DigestType>%u</DigestType>\n", digests[i]);
		if (prm->cds_delete)
			put(&b, "\t\t\t\t<Delete/>\n");
		put(&b, "\t\t\t</CDS>\n");
	}
	if (with_cdnskey)
		put(&b, prm->cds_delete ? "\t\t\t<CDNSKEY>\n\t\t\t\t<Delete/>\n\t\t\t</CDNSKEY>\n"
					: "\t\t\t<CDNSKEY/>\n");
	put(&b, "\t\t</Keys>\n");

	put(&b, "\t\t<SOA>\n");
	put_duration(&b, "\t\t\t", "TTL", pol->zone_soa_ttl);
	put_duration(&b, "\t\t\t", "Minimum", pol->zone_soa_minimum);
	put(&b, "\t\t\t<Serial>%s</Serial>\n", tdm_serial_policy_name(pol->zone_serial));
	put(&b, "\t\t</SOA>\n");
	put(&b, "\t</Zone>\n</SignerConfiguration>\n");

	*out = b.s;
	if (len != NULL)
		*len = b.len;
	return 0;
}

int enforcer_signconf_write(const struct enforcer_signconf_params *p, const char *path,
			    struct tdm_err *err)
{
	char *text, *tmp;
	size_t len, off = 0, plen = strlen(path);
	int rc, fd;

	rc = enforcer_signconf_render(p, &text, &len, err);
	if (rc != 0)
		return rc;
	tmp = tdm_malloc(plen + 16);
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = tdm_err_fail(err, TDM_EIO, "%s: cannot create a temporary file: %s", path,
				  strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = tdm_err_fail(err, TDM_EIO, "%s: write: %s", tmp, strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	if (rc == 0 && fchmod(fd, 0644) != 0)
		rc = tdm_err_fail(err, TDM_EIO, "%s: chmod: %s", tmp, strerror(errno));
	if (rc == 0 && fsync(fd) != 0)
		rc = tdm_err_fail(err, TDM_EIO, "%s: fsync: %s", tmp, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = tdm_err_fail(err, TDM_EIO, "%s: close: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path) != 0)
		rc = tdm_err_fail(err, TDM_EIO, "%s: rename to %s: %s", tmp, path, strerror(errno));
	if (rc != 0)
		unlink(tmp);
out:
	free(tmp);
	free(text);
	return rc;
}
