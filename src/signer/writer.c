/*
 * The signed zone in presentation form: one record per line,
 *   <owner> TAB <ttl> TAB IN TAB <type> TAB <rdata> LF
 * owners absolute and escaped the same way every time, names in canonical
 * order, NSEC3 owners merged into that order, the SOA first at the apex
 * then the RRsets in type order, each followed by its RRSIGs in key order,
 * a node's NSEC in its type position.  The same model always gives the
 * same bytes, and the reader's fast path parses every line of it.
 *
 * signer_zone_write() writes a temporary file in the target's directory,
 * fsyncs it and renames it over the target, so readers see the old zone
 * or the new one, never a part.
 */
#include "signer/zone.h"

#include "signer/codec.h"
#include "signer/name.h"
#include "signer/rdata.h"
#include "signer/rrsig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_CAP ((size_t)4 << 20)
#define OUT_ROOM ((size_t)300 << 10) /* the longest possible record line */

struct out {
	int fd;
	char *buf;
	size_t len;
	int err;         /* errno of the first failed write */
};

static void flush(struct out *o)
{
	size_t off = 0;
	while (off < o->len && o->err == 0) {
		ssize_t r = write(o->fd, o->buf + off, o->len - off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			o->err = errno;
			break;
		}
		off += (size_t)r;
	}
	o->len = 0;
}

static inline char *room(struct out *o)
{
	if (OUT_CAP - o->len < OUT_ROOM)
		flush(o);
	return o->buf + o->len;
}

/* One line; `owner` is the owner's presentation form with a TAB. */
static void line(struct out *o, const char *owner, size_t ol, uint32_t ttl, uint16_t type,
		 const uint8_t *rd, size_t len)
{
	char *p = room(o), tb[16];
	const char *tn = signer__type_name(type, tb);
	size_t tl = strlen(tn);
	memcpy(p, owner, ol);
	p += ol;
	p = signer__u32_format(ttl, p);
	memcpy(p, "\tIN\t", 4);
	p += 4;
	memcpy(p, tn, tl);
	p += tl;
	*p++ = '\t';
	p = signer__rdata_format(type, rd, len, p);
	*p++ = '\n';
	o->len = (size_t)(p - o->buf);
}

/* The RRSIGs over one target: each slot's sig blob with the fields its slot implies. */
static void sigs(struct out *o, const struct signer_zone *z, const char *owner, size_t ol,
		 unsigned labels, uint16_t type, uint32_t ttl, uint32_t first, uint8_t n,
		 int role)
{
	uint8_t rd[18 + SIGNER_NAME_MAX + 1024];
	for (uint8_t i = 0; i < n; i++) {
		const uint8_t *b = z->sigs[first + i];
		size_t hl, sl;
		if (b == NULL)
			continue;
		sl = signer__sb_len(b);
		if (sl > 1024)
			sl = 1024; /* never: signer_sig_max_len() caps what a slot holds */
		hl = signer__rrsig_fields(z, type, labels, ttl, z->role_keys[role][i],
					  signer__sb_inception(b), signer__sb_expiration(b), rd);
		memcpy(rd + hl, b + SIGNER_SB_HDR, sl);
		line(o, owner, ol, ttl, T_RRSIG, rd, hl + sl);
	}
}

static void set_lines(struct out *o, const struct signer_zone *z, const struct signer__rrset *s,
		      const char *owner, size_t ol, unsigned labels)
{
	for (size_t r = 0; r < s->n_rr; r++) {
		const uint8_t *b = z->rrs[s->first_rr + r];
		line(o, owner, ol, s->ttl, s->type, signer__rb_data(b), signer__rb_len(b));
	}
	if (s->n_sig)
		sigs(o, z, owner, ol, labels, s->type, s->ttl, s->first_sig, s->n_sig,
		     signer__set_role(z, s));
}

static void node_lines(struct out *o, const struct signer_zone *z, size_t i)
{
	const struct signer__node *n = &z->nodes[i];
	char owner[SIGNER_NAME_STR_MAX + 2];
	size_t ol;
	bool nsec_done = n->nsec == NULL;
	const struct signer__rrset *soa = NULL;
	unsigned labels = signer__name_rrsig_labels(signer__nb_wire(n->name));

	ol = (size_t)(signer__name_format(signer__nb_wire(n->name), owner) - owner);
	owner[ol++] = '\t';
	if (n->flags & SIGNER_N_APEX) {
		soa = signer__node_set(z, i, T_SOA);
		if (soa)
			set_lines(o, z, soa, owner, ol, labels);
	}
	for (size_t k = 0; k < n->n_sets; k++) {
		const struct signer__rrset *s = &z->sets[n->first_set + k];
		if (s == soa)
			continue;
		if (!nsec_done && s->type > T_NSEC) {
			line(o, owner, ol, z->denial_ttl, T_NSEC, signer__rb_data(n->nsec),
			     signer__rb_len(n->nsec));
			sigs(o, z, owner, ol, labels, T_NSEC, z->denial_ttl, n->nsec_sig,
			     n->nsec_nsig, SIGNER_ROLE_ZSK);
			nsec_done = true;
		}
		set_lines(o, z, s, owner, ol, labels);
	}
	if (!nsec_done) {
		line(o, owner, ol, z->denial_ttl, T_NSEC, signer__rb_data(n->nsec),
		     signer__rb_len(n->nsec));
		sigs(o, z, owner, ol, labels, T_NSEC, z->denial_ttl, n->nsec_sig, n->nsec_nsig,
		     SIGNER_ROLE_ZSK);
	}
}

static void nsec3_lines(struct out *o, const struct signer_zone *z, size_t i,
			const char *apex, size_t al, unsigned labels)
{
	const struct signer__nsec3 *e = &z->nsec3[i];
	char owner[SIGNER_NAME_STR_MAX + 40];
	size_t ol = signer__b32hex_encode(e->hash, 20, owner);
	owner[ol++] = '.';
	if (!(al == 1 && apex[0] == '.')) {
		memcpy(owner + ol, apex, al);
		ol += al;
	}
	owner[ol++] = '\t';
	line(o, owner, ol, z->denial_ttl, T_NSEC3, signer__rb_data(e->rdata),
	     signer__rb_len(e->rdata));
	sigs(o, z, owner, ol, labels, T_NSEC3, z->denial_ttl, e->first_sig, e->n_sig,
	     SIGNER_ROLE_ZSK);
}

static int write_fd(const struct signer_zone *z, int fd)
{
	struct out o = { fd, NULL, 0, 0 };
	uint8_t key[SIGNER_KEY_MAX];
	char apex[SIGNER_NAME_STR_MAX];
	size_t kl = z->apex_key_len, al, j = 0;
	uint8_t lower_apex[SIGNER_NAME_MAX];
	unsigned h_labels = signer__name_labels(z->apex) + 1; /* of an NSEC3 owner */

	signer__name_lower(z->apex, lower_apex);
	al = (size_t)(signer__name_format(lower_apex, apex) - apex);
	o.buf = tdm_malloc(OUT_CAP);
	memcpy(key, z->apex_key, kl);
	key[kl + 32] = 0;
	for (size_t i = 0; i < z->n_nodes; i++) {
		/* NSEC3 owners that sort before this node come first. */
		while (j < z->n_nsec3) {
			signer__b32hex_encode(z->nsec3[j].hash, 20, (char *)key + kl);
			if (signer__key_cmp(key, kl + 33, signer__nb_key(z->nodes[i].name),
					    signer__nb_keylen(z->nodes[i].name)) >= 0)
				break;
			nsec3_lines(&o, z, j++, apex, al, h_labels);
		}
		node_lines(&o, z, i);
	}
	while (j < z->n_nsec3)
		nsec3_lines(&o, z, j++, apex, al, h_labels);
	flush(&o);
	free(o.buf);
	return o.err;
}

int signer_zone_write_fp(const struct signer_zone *z, FILE *f, struct tdm_err *err)
{
	int e;
	fflush(f);
	e = write_fd(z, fileno(f));
	if (e != 0)
		return tdm_err_fail(err, TDM_EIO, "write: %s", strerror(e));
	return 0;
}

int signer_zone_write(const struct signer_zone *z, const char *path, struct tdm_err *err)
{
	size_t pl = strlen(path);
	char *tmp = tdm_malloc(pl + 16);
	int fd, e;
	mode_t um;

	snprintf(tmp, pl + 16, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		e = errno;
		free(tmp);
		return tdm_err_fail(err, TDM_EIO, "%s: cannot create a temporary file: %s", path,
				    strerror(e));
	}
	um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um) != 0) {
		/* Not fatal: the file stays 0600. */
	}
	e = write_fd(z, fd);
	if (e == 0 && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e == 0 && rename(tmp, path) != 0)
		e = errno;
	if (e != 0) {
		unlink(tmp);
		free(tmp);
		return tdm_err_fail(err, TDM_EIO, "%s: %s", path, strerror(e));
	}
	free(tmp);
	return 0;
}
