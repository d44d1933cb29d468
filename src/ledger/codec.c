/*
 * The ledger command codec: struct ledger_cmd <-> entry bytes.
 *
 * An entry is a 32-byte header, a payload of typed big-endian fields and
 * zero padding to a multiple of 8 bytes (libraft 0.15 corrupts other
 * sizes, notes/libraft-0.15.md §5.1); at most LEDGER_ENTRY_MAX bytes.
 *
 *   0  magic u32 "TDML"     4  version u16     6  type u16
 *   8  flags u32            12 payload length u32
 *   16 origin u64           24 sequence u64    32 payload, padding
 *
 * Fields: u8/u16/u32/u64; "str" = u16 length + bytes, bounded, no NUL;
 * "bytes" = u32 length + bytes; "blob16" = u16 length + bytes.
 *
 * Format 2 added ZONE_BATCH, ENFORCE and BACKUP; an entry of one of these
 * types with version 1 in its header is malformed.  Their enumerated fields
 * (operations, scopes, roles, goals, DS and record states, backup actions)
 * are range-checked here: a value out of range is TDM_ECODEC at decode and
 * TDM_EINVAL at encode.  Arrays are bounded by the bytes left before
 * anything is allocated.
 *
 * Each command's payload is described once, by a walk function that the
 * size, encode and decode passes all run, so the three cannot disagree.
 * Decode never reads past the buffer: every field checks the bytes left
 * before it reads, and reports its name and offset when they are missing.
 */
#include "ledger/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mode { SIZE, ENCODE, DECODE };

struct codec {
	enum mode mode;
	uint8_t *out;           /* ENCODE: the entry buffer (capacity checked before) */
	const uint8_t *in;      /* DECODE: the entry */
	size_t end;             /* DECODE: end of the payload */
	size_t off;             /* offset from the start of the entry */
	uint16_t version;       /* the entry's format version */
	const char *cmd;        /* command name, for messages */
	char elem[48];          /* "sigs[12]." inside arrays */
	struct tdm_err *err;
};

static const char *const type_names[LEDGER_CMD__COUNT] = {
	[LEDGER_CMD_NOOP] = "NOOP",
	[LEDGER_CMD_TEST] = "TEST",
	[LEDGER_CMD_POLICY_PUT] = "POLICY_PUT",
	[LEDGER_CMD_POLICY_DEL] = "POLICY_DEL",
	[LEDGER_CMD_ZONE_ADD] = "ZONE_ADD",
	[LEDGER_CMD_ZONE_DEL] = "ZONE_DEL",
	[LEDGER_CMD_ZONE_SET] = "ZONE_SET",
	[LEDGER_CMD_KEY_CREATE] = "KEY_CREATE",
	[LEDGER_CMD_KEY_STATE] = "KEY_STATE",
	[LEDGER_CMD_KEY_DEL] = "KEY_DEL",
	[LEDGER_CMD_ZONE_INPUT] = "ZONE_INPUT",
	[LEDGER_CMD_SIG_BATCH] = "SIG_BATCH",
	[LEDGER_CMD_ZONE_PUBLISH] = "ZONE_PUBLISH",
	[LEDGER_CMD_NODE_ADD] = "NODE_ADD",
	[LEDGER_CMD_NODE_DEL] = "NODE_DEL",
	[LEDGER_CMD_CLUSTER_VERSION] = "CLUSTER_VERSION",
	[LEDGER_CMD_ZONE_BATCH] = "ZONE_BATCH",
	[LEDGER_CMD_ENFORCE] = "ENFORCE",
	[LEDGER_CMD_BACKUP] = "BACKUP",
};

const char *ledger_cmd_type_name(unsigned type)
{
	return type < LEDGER_CMD__COUNT ? type_names[type] : "UNKNOWN";
}

struct ledger_bytes ledger_str(const char *s)
{
	struct ledger_bytes b = { (const uint8_t *)(s ? s : ""), s ? strlen(s) : 0 };
	return b;
}

/*- private: big-endian helpers -*/

static void be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void be32(uint8_t *p, uint32_t v) { be16(p, v >> 16); be16(p + 2, v); }
static void be64(uint8_t *p, uint64_t v) { be32(p, v >> 32); be32(p + 4, v); }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) << 16 | rd16(p + 2); }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) << 32 | rd32(p + 4); }

/*- private: field codecs -*/

static int fail(struct codec *c, const char *field, size_t off, const char *what)
{
	return tdm_err_fail(c->err, TDM_ECODEC, "%s: field %s%s at offset %zu: %s",
			    c->cmd, c->elem, field, off, what);
}

/* In DECODE, check that n bytes remain in the payload. */
static int need(struct codec *c, const char *field, size_t n)
{
	if (c->mode == DECODE && c->end - c->off < n) {
		char what[96];
		snprintf(what, sizeof what, "truncated (needs %zu bytes, %zu left)", n,
			 c->end - c->off);
		return fail(c, field, c->off, what);
	}
	return 0;
}

static int f_uint(struct codec *c, const char *field, void *v, size_t width)
{
	int rc = need(c, field, width);
	if (rc)
		return rc;
	if (c->mode == ENCODE) {
		uint8_t *p = c->out + c->off;
		switch (width) {
		case 1: *p = *(uint8_t *)v; break;
		case 2: be16(p, *(uint16_t *)v); break;
		case 4: be32(p, *(uint32_t *)v); break;
		default: be64(p, *(uint64_t *)v); break;
		}
	} else if (c->mode == DECODE) {
		const uint8_t *p = c->in + c->off;
		switch (width) {
		case 1: *(uint8_t *)v = *p; break;
		case 2: *(uint16_t *)v = rd16(p); break;
		case 4: *(uint32_t *)v = rd32(p); break;
		default: *(uint64_t *)v = rd64(p); break;
		}
	}
	c->off += width;
	return 0;
}

#define f_u8(c, f, v) f_uint(c, f, (uint8_t *)(v), 1)
#define f_u16(c, f, v) f_uint(c, f, (uint16_t *)(v), 2)
#define f_u32(c, f, v) f_uint(c, f, (uint32_t *)(v), 4)
#define f_u64(c, f, v) f_uint(c, f, (uint64_t *)(v), 8)

/*
 * A length-prefixed field: prefix of @p width bytes (2 or 4), at most
 * @p max bytes, no NUL when @p is_str.
 */
static int f_lp(struct codec *c, const char *field, struct ledger_bytes *b, size_t width,
		size_t max, bool is_str)
{
	size_t start = c->off;
	uint32_t n32 = 0;
	uint16_t n16 = 0;
	int rc;

	if (c->mode != DECODE) {
		if (b->len > max || (b->len > 0 && b->data == NULL))
			return tdm_err_fail(c->err, TDM_EINVAL, "%s: field %s%s: %zu bytes, at most %zu",
					    c->cmd, c->elem, field, b->len, max);
		if (is_str && b->len > 0 && memchr(b->data, 0, b->len) != NULL)
			return tdm_err_fail(c->err, TDM_EINVAL, "%s: field %s%s: string holds a NUL byte",
					    c->cmd, c->elem, field);
		n32 = (uint32_t)b->len;
		n16 = (uint16_t)b->len;
	}
	rc = width == 2 ? f_u16(c, field, &n16) : f_u32(c, field, &n32);
	if (rc)
		return rc;
	if (c->mode == DECODE) {
		size_t n = width == 2 ? n16 : n32;
		if (n > max) {
			char what[80];
			snprintf(what, sizeof what, "length %zu exceeds the bound %zu", n, max);
			return fail(c, field, start, what);
		}
		if ((rc = need(c, field, n)) != 0)
			return rc;
		b->data = c->in + c->off;
		b->len = n;
		if (is_str && n > 0 && memchr(b->data, 0, n) != NULL)
			return fail(c, field, start, "string holds a NUL byte");
	} else if (c->mode == ENCODE && b->len > 0) {
		memcpy(c->out + c->off, b->data, b->len);
	}
	c->off += b->len;
	return 0;
}

static int f_str(struct codec *c, const char *field, struct ledger_bytes *b, size_t max)
{
	return f_lp(c, field, b, 2, max, true);
}

static int f_bytes(struct codec *c, const char *field, struct ledger_bytes *b)
{
	return f_lp(c, field, b, 4, LEDGER_ENTRY_MAX, false);
}

static int f_fixed(struct codec *c, const char *field, uint8_t *p, size_t n)
{
	int rc = need(c, field, n);
	if (rc)
		return rc;
	if (c->mode == ENCODE)
		memcpy(c->out + c->off, p, n);
	else if (c->mode == DECODE)
		memcpy(p, c->in + c->off, n);
	c->off += n;
	return 0;
}

/*- private: one walk per command -*/

#define F(call) do { int rc_ = (call); if (rc_) return rc_; } while (0)

static int walk_test(struct codec *c, struct ledger_cmd *m)
{
	F(f_bytes(c, "payload", &m->test.payload));
	return 0;
}

static int walk_policy(struct codec *c, struct ledger_cmd *m)
{
	F(f_str(c, "name", &m->policy.name, LEDGER_NAME_MAX));
	if (m->type == LEDGER_CMD_POLICY_PUT)
		F(f_bytes(c, "policy", &m->policy.blob));
	return 0;
}

static int walk_zone(struct codec *c, struct ledger_cmd *m)
{
	F(f_str(c, "name", &m->zone.name, LEDGER_NAME_MAX));
	if (m->type == LEDGER_CMD_ZONE_DEL)
		return 0;
	F(f_str(c, "policy", &m->zone.policy, LEDGER_NAME_MAX));
	F(f_str(c, "input_type", &m->zone.in_type, LEDGER_PATH_MAX));
	F(f_str(c, "input_uri", &m->zone.in_uri, LEDGER_PATH_MAX));
	F(f_str(c, "output_type", &m->zone.out_type, LEDGER_PATH_MAX));
	F(f_str(c, "output_uri", &m->zone.out_uri, LEDGER_PATH_MAX));
	F(f_str(c, "signconf", &m->zone.signconf, LEDGER_PATH_MAX));
	return 0;
}

static int walk_key_create(struct codec *c, struct ledger_cmd *m)
{
	F(f_str(c, "key_id", &m->key_create.key_id, LEDGER_NAME_MAX));
	F(f_u8(c, "scope", &m->key_create.scope));
	F(f_str(c, "scope_name", &m->key_create.scope_name, LEDGER_NAME_MAX));
	F(f_u8(c, "role", &m->key_create.role));
	F(f_u8(c, "algorithm", &m->key_create.algorithm));
	F(f_u16(c, "bits", &m->key_create.bits));
	F(f_lp(c, "public_rdata", &m->key_create.public_rdata, 2, 65535, false));
	F(f_lp(c, "cka_id", &m->key_create.cka_id, 2, LEDGER_NAME_MAX, false));
	F(f_str(c, "repository", &m->key_create.repository, LEDGER_NAME_MAX));
	F(f_bytes(c, "wrapped_private", &m->key_create.wrapped_private));
	F(f_u64(c, "created", &m->key_create.created));
	return 0;
}

static int walk_key_state(struct codec *c, struct ledger_cmd *m)
{
	static const char *const st[4] = { "ds.state", "dnskey.state", "rrsig_dnskey.state", "rrsig.state" };
	static const char *const tm[4] = { "ds.since", "dnskey.since", "rrsig_dnskey.since", "rrsig.since" };
	F(f_str(c, "key_id", &m->key_state.key_id, LEDGER_NAME_MAX));
	for (int i = 0; i < 4; i++) {
		F(f_u8(c, st[i], &m->key_state.rec[i].state));
		F(f_u64(c, tm[i], &m->key_state.rec[i].since));
	}
	return 0;
}

static int walk_key_del(struct codec *c, struct ledger_cmd *m)
{
	F(f_str(c, "key_id", &m->key_del.key_id, LEDGER_NAME_MAX));
	return 0;
}

static int walk_zone_input(struct codec *c, struct ledger_cmd *m)
{
	F(f_str(c, "zone", &m->zone_input.zone, LEDGER_NAME_MAX));
	F(f_u32(c, "serial", &m->zone_input.serial));
	F(f_u8(c, "kind", &m->zone_input.kind));
	F(f_u32(c, "base_serial", &m->zone_input.base_serial));
	F(f_u32(c, "chunk_index", &m->zone_input.chunk_index));
	F(f_u32(c, "chunk_count", &m->zone_input.chunk_count));
	F(f_u64(c, "time", &m->zone_input.time));
	F(f_bytes(c, "content", &m->zone_input.content));
	return 0;
}

/* The smallest encoded signature: four empty/zero fields of 2 bytes. */
#define SIG_MIN_SIZE 8

static int walk_sig_batch(struct codec *c, struct ledger_cmd *m)
{
	size_t count_off;
	F(f_str(c, "zone", &m->sig_batch.zone, LEDGER_NAME_MAX));
	F(f_u32(c, "input_serial", &m->sig_batch.input_serial));
	F(f_u32(c, "batch", &m->sig_batch.batch));
	count_off = c->off;
	F(f_u32(c, "count", &m->sig_batch.nsigs));
	if (c->mode == DECODE) {
		/* Bound the allocation by what the payload can hold. */
		if (m->sig_batch.nsigs > (c->end - c->off) / SIG_MIN_SIZE) {
			char what[96];
			snprintf(what, sizeof what, "%u signatures cannot fit in %zu bytes",
				 m->sig_batch.nsigs, c->end - c->off);
			return fail(c, "count", count_off, what);
		}
		m->sig_batch.sigs = m->sig_batch.nsigs
			? tdm_calloc(m->sig_batch.nsigs, sizeof *m->sig_batch.sigs) : NULL;
	} else if (m->sig_batch.nsigs > 0 && m->sig_batch.sigs == NULL) {
		return tdm_err_fail(c->err, TDM_EINVAL, "%s: field sigs: NULL array", c->cmd);
	}
	for (uint32_t i = 0; i < m->sig_batch.nsigs; i++) {
		struct ledger_sig *s = &m->sig_batch.sigs[i];
		snprintf(c->elem, sizeof c->elem, "sigs[%u].", i);
		F(f_lp(c, "owner", &s->owner, 2, LEDGER_NAME_MAX, false));
		F(f_u16(c, "type_covered", &s->type_covered));
		F(f_u16(c, "key_tag", &s->key_tag));
		F(f_lp(c, "rdata", &s->rdata, 2, 65535, false));
	}
	c->elem[0] = '\0';
	return 0;
}

static int walk_publish(struct codec *c, struct ledger_cmd *m)
{
	F(f_str(c, "zone", &m->publish.zone, LEDGER_NAME_MAX));
	F(f_u32(c, "serial", &m->publish.serial));
	F(f_fixed(c, "sha256", m->publish.sha256, 32));
	F(f_u64(c, "time", &m->publish.time));
	return 0;
}

static int walk_node(struct codec *c, struct ledger_cmd *m)
{
	F(f_u64(c, "node_id", &m->node.node_id));
	if (m->type == LEDGER_CMD_NODE_DEL)
		return 0;
	F(f_str(c, "address", &m->node.address, LEDGER_PATH_MAX));
	F(f_u8(c, "witness", &m->node.witness));
	F(f_lp(c, "transport_pubkey", &m->node.transport_pubkey, 2, 65535, false));
	F(f_lp(c, "wrapped_kek", &m->node.wrapped_kek, 2, 65535, false));
	return 0;
}

static int walk_cluster_version(struct codec *c, struct ledger_cmd *m)
{
	F(f_u16(c, "version", &m->cluster_version.version));
	return 0;
}

/* A value out of range: TDM_ECODEC when decoding, TDM_EINVAL when encoding. */
static int bad(struct codec *c, const char *field, size_t off, const char *what)
{
	if (c->mode == DECODE)
		return fail(c, field, off, what);
	return tdm_err_fail(c->err, TDM_EINVAL, "%s: field %s%s: %s", c->cmd, c->elem, field, what);
}

/* A u8 that must lie in [lo, hi]. */
static int f_enum(struct codec *c, const char *field, uint8_t *v, unsigned lo, unsigned hi)
{
	size_t off = c->off;
	F(f_u8(c, field, v));
	if (*v < lo || *v > hi) {
		char what[64];
		snprintf(what, sizeof what, "value %u is not in %u..%u", *v, lo, hi);
		return bad(c, field, off, what);
	}
	return 0;
}

/* The three format-2 commands need version >= 2 in the header. */
static int need_v2(struct codec *c)
{
	if (c->version >= 2)
		return 0;
	return bad(c, "version", 4, "a format-2 command in a format-1 entry");
}

/*
 * An array count: at most what the bytes left can hold at @p min_size bytes
 * per element (DECODE; checked before allocating), then the array: calloc'd
 * when decoding, required non-NULL when encoding.
 */
static int f_count(struct codec *c, const char *field, uint32_t *n, size_t min_size,
		   void **arr, size_t elem_size)
{
	size_t off = c->off;
	F(f_u32(c, field, n));
	if (c->mode == DECODE) {
		if (*n > (c->end - c->off) / min_size) {
			char what[96];
			snprintf(what, sizeof what, "%u elements cannot fit in %zu bytes", *n,
				 c->end - c->off);
			return fail(c, field, off, what);
		}
		*arr = *n ? tdm_calloc(*n, elem_size) : NULL;
	} else if (*n > 0 && *arr == NULL) {
		return tdm_err_fail(c->err, TDM_EINVAL, "%s: field %s%s: NULL array", c->cmd, c->elem, field);
	}
	return 0;
}

/* Smallest encoded ZONE_BATCH element: op and an empty name (a DEL). */
#define ZONE_OP_MIN_SIZE 3

static int walk_zone_batch(struct codec *c, struct ledger_cmd *m)
{
	F(need_v2(c));
	F(f_count(c, "count", &m->zone_batch.nzones, ZONE_OP_MIN_SIZE,
		  (void **)&m->zone_batch.zones, sizeof *m->zone_batch.zones));
	for (uint32_t i = 0; i < m->zone_batch.nzones; i++) {
		struct ledger_zone_op *z = &m->zone_batch.zones[i];
		snprintf(c->elem, sizeof c->elem, "zones[%u].", i);
		F(f_enum(c, "op", &z->op, LEDGER_ZONE_OP_ADD, LEDGER_ZONE_OP_DEL));
		F(f_str(c, "name", &z->name, LEDGER_NAME_MAX));
		if (z->op == LEDGER_ZONE_OP_DEL)
			continue;
		F(f_str(c, "policy", &z->policy, LEDGER_NAME_MAX));
		F(f_str(c, "input_type", &z->in_type, LEDGER_PATH_MAX));
		F(f_str(c, "input_uri", &z->in_uri, LEDGER_PATH_MAX));
		F(f_str(c, "output_type", &z->out_type, LEDGER_PATH_MAX));
		F(f_str(c, "output_uri", &z->out_uri, LEDGER_PATH_MAX));
		F(f_str(c, "signconf", &z->signconf, LEDGER_PATH_MAX));
	}
	c->elem[0] = '\0';
	return 0;
}

#define SALT_MAX 510

/* Smallest encoded ENFORCE zone and key. */
#define ENFORCE_ZONE_MIN_SIZE (2 + 8 + 3 * 8 + 2 + 8 + 4)
#define ENFORCE_KEY_MIN_SIZE (2 + 5 + 8 + 8 + 4 * 9)

static int walk_enforce_key(struct codec *c, struct ledger_enforce_key *k)
{
	static const char *const st[4] = { "ds.state", "dnskey.state", "rrsig_dnskey.state", "rrsig.state" };
	static const char *const tm[4] = { "ds.since", "dnskey.since", "rrsig_dnskey.since", "rrsig.since" };
	F(f_str(c, "key_id", &k->key_id, LEDGER_NAME_MAX));
	F(f_enum(c, "op", &k->op, LEDGER_EK_SET, LEDGER_EK_DROP));
	F(f_enum(c, "claim_scope", &k->claim_scope, 0, LEDGER_SCOPE_POLICY));
	if (k->claim_scope != 0)
		F(f_enum(c, "claim_role", &k->claim_role, LEDGER_ROLE_KSK, LEDGER_ROLE_CSK));
	else
		F(f_u8(c, "claim_role", &k->claim_role));
	F(f_enum(c, "goal", &k->goal, LEDGER_GOAL_ACTIVE, LEDGER_GOAL_RETIRE));
	F(f_enum(c, "ds_at_parent", &k->ds_at_parent, 0, LEDGER_DS_AT_PARENT_MAX));
	F(f_u64(c, "ds_at_parent_since", &k->ds_at_parent_since));
	F(f_u64(c, "active_since", &k->active_since));
	for (int i = 0; i < 4; i++) {
		F(f_enum(c, st[i], &k->rec[i].state, LEDGER_HIDDEN, LEDGER_UNRETENTIVE));
		F(f_u64(c, tm[i], &k->rec[i].since));
	}
	return 0;
}

static bool is_hex(struct ledger_bytes b)
{
	for (size_t i = 0; i < b.len; i++) {
		uint8_t ch = b.data[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
			return false;
	}
	return true;
}

static int walk_enforce(struct codec *c, struct ledger_cmd *m)
{
	F(need_v2(c));
	F(f_u64(c, "time", &m->enforce.time));
	F(f_count(c, "count", &m->enforce.nzones, ENFORCE_ZONE_MIN_SIZE,
		  (void **)&m->enforce.zones, sizeof *m->enforce.zones));
	for (uint32_t i = 0; i < m->enforce.nzones; i++) {
		struct ledger_enforce_zone *z = &m->enforce.zones[i];
		size_t off;
		snprintf(c->elem, sizeof c->elem, "zones[%u].", i);
		F(f_str(c, "zone", &z->zone, LEDGER_NAME_MAX));
		F(f_u64(c, "next_due", &z->next_due));
		F(f_u64(c, "roll_ksk", &z->roll[LEDGER_ROLE_KSK]));
		F(f_u64(c, "roll_zsk", &z->roll[LEDGER_ROLE_ZSK]));
		F(f_u64(c, "roll_csk", &z->roll[LEDGER_ROLE_CSK]));
		off = c->off;
		F(f_str(c, "salt", &z->salt, SALT_MAX));
		if (!is_hex(z->salt))
			return bad(c, "salt", off, "not hexadecimal");
		F(f_u64(c, "salt_time", &z->salt_time));
		F(f_count(c, "nkeys", &z->nkeys, ENFORCE_KEY_MIN_SIZE, (void **)&z->keys, sizeof *z->keys));
		for (uint32_t j = 0; j < z->nkeys; j++) {
			snprintf(c->elem, sizeof c->elem, "zones[%u].keys[%u].", i, j);
			F(walk_enforce_key(c, &z->keys[j]));
		}
	}
	c->elem[0] = '\0';
	return 0;
}

static int walk_backup(struct codec *c, struct ledger_cmd *m)
{
	F(need_v2(c));
	F(f_str(c, "repository", &m->backup.repository, LEDGER_NAME_MAX));
	F(f_enum(c, "action", &m->backup.action, LEDGER_BACKUP_PREPARE, LEDGER_BACKUP_ROLLBACK));
	F(f_u64(c, "time", &m->backup.time));
	return 0;
}

typedef int (*walk_fn)(struct codec *, struct ledger_cmd *);

static const walk_fn walks[LEDGER_CMD__COUNT] = {
	[LEDGER_CMD_NOOP] = walk_test,
	[LEDGER_CMD_TEST] = walk_test,
	[LEDGER_CMD_POLICY_PUT] = walk_policy,
	[LEDGER_CMD_POLICY_DEL] = walk_policy,
	[LEDGER_CMD_ZONE_ADD] = walk_zone,
	[LEDGER_CMD_ZONE_DEL] = walk_zone,
	[LEDGER_CMD_ZONE_SET] = walk_zone,
	[LEDGER_CMD_KEY_CREATE] = walk_key_create,
	[LEDGER_CMD_KEY_STATE] = walk_key_state,
	[LEDGER_CMD_KEY_DEL] = walk_key_del,
	[LEDGER_CMD_ZONE_INPUT] = walk_zone_input,
	[LEDGER_CMD_SIG_BATCH] = walk_sig_batch,
	[LEDGER_CMD_ZONE_PUBLISH] = walk_publish,
	[LEDGER_CMD_NODE_ADD] = walk_node,
	[LEDGER_CMD_NODE_DEL] = walk_node,
	[LEDGER_CMD_CLUSTER_VERSION] = walk_cluster_version,
	[LEDGER_CMD_ZONE_BATCH] = walk_zone_batch,
	[LEDGER_CMD_ENFORCE] = walk_enforce,
	[LEDGER_CMD_BACKUP] = walk_backup,
};

/*- public -*/

static size_t padded(size_t n)
{
	return (n + LEDGER_ENTRY_ALIGN - 1) & ~(size_t)(LEDGER_ENTRY_ALIGN - 1);
}

/* Payload size, or a negative code when a field is out of bounds. */
static int payload_size(const struct ledger_cmd *cmd, size_t *size, struct tdm_err *err)
{
	struct codec c = { .mode = SIZE, .off = 0, .err = err, .cmd = ledger_cmd_type_name(cmd->type),
			   .version = cmd->version ? cmd->version : LEDGER_FORMAT_VERSION };
	int rc;
	if (cmd->type >= LEDGER_CMD__COUNT)
		return tdm_err_fail(err, TDM_EINVAL, "unknown command type %u", cmd->type);
	/* The walk never writes the command in SIZE mode. */
	rc = walks[cmd->type](&c, (struct ledger_cmd *)cmd);
	if (rc)
		return rc;
	*size = c.off;
	return 0;
}

size_t ledger_cmd_encoded_size(const struct ledger_cmd *cmd)
{
	size_t n;
	if (payload_size(cmd, &n, NULL) != 0)
		return 0;
	n = padded(LEDGER_HEADER_SIZE + n);
	return n <= LEDGER_ENTRY_MAX ? n : 0;
}

int ledger_cmd_encode_into(const struct ledger_cmd *cmd, uint8_t *buf, size_t cap,
			   size_t *len, struct tdm_err *err)
{
	size_t plen, total;
	uint16_t version = cmd->version ? cmd->version : LEDGER_FORMAT_VERSION;
	int rc = payload_size(cmd, &plen, err);
	if (rc)
		return rc;
	if (version > LEDGER_FORMAT_VERSION)
		return tdm_err_fail(err, TDM_EVERSION, "%s: format version %u, this build writes up to %u",
				    ledger_cmd_type_name(cmd->type), version, LEDGER_FORMAT_VERSION);
	if (cmd->flags != 0)
		return tdm_err_fail(err, TDM_EINVAL, "%s: flags 0x%x: no flag is defined",
				    ledger_cmd_type_name(cmd->type), cmd->flags);
	total = padded(LEDGER_HEADER_SIZE + plen);
	if (total > LEDGER_ENTRY_MAX)
		return tdm_err_fail(err, TDM_ERANGE, "%s: entry of %zu bytes exceeds the %u-byte limit",
				    ledger_cmd_type_name(cmd->type), total, LEDGER_ENTRY_MAX);
	if (total > cap)
		return tdm_err_fail(err, TDM_ERANGE, "%s: entry of %zu bytes, buffer of %zu",
				    ledger_cmd_type_name(cmd->type), total, cap);

	be32(buf, LEDGER_MAGIC);
	be16(buf + 4, version);
	be16(buf + 6, cmd->type);
	be32(buf + 8, cmd->flags);
	be32(buf + 12, (uint32_t)plen);
	be64(buf + 16, cmd->id.origin);
	be64(buf + 24, cmd->id.seq);
	struct codec c = { .mode = ENCODE, .out = buf, .off = LEDGER_HEADER_SIZE, .err = err,
			   .cmd = ledger_cmd_type_name(cmd->type), .version = version };
	rc = walks[cmd->type](&c, (struct ledger_cmd *)cmd);
	if (rc)
		return rc;
	memset(buf + c.off, 0, total - c.off);
	*len = total;
	return 0;
}

int ledger_cmd_encode(const struct ledger_cmd *cmd, uint8_t **out, size_t *len,
		      struct tdm_err *err)
{
	size_t plen;
	int rc = payload_size(cmd, &plen, err);
	if (rc)
		return rc;
	size_t cap = padded(LEDGER_HEADER_SIZE + plen);
	if (cap > LEDGER_ENTRY_MAX)
		return tdm_err_fail(err, TDM_ERANGE, "%s: entry of %zu bytes exceeds the %u-byte limit",
				    ledger_cmd_type_name(cmd->type), cap, LEDGER_ENTRY_MAX);
	uint8_t *buf = tdm_malloc(cap);
	rc = ledger_cmd_encode_into(cmd, buf, cap, len, err);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}

/* Header checks shared by peek and decode; sets *plen. */
static int check_header(const uint8_t *p, size_t len, uint32_t *plen, struct tdm_err *err)
{
	if (len < LEDGER_HEADER_SIZE)
		return tdm_err_fail(err, TDM_ECODEC, "entry of %zu bytes is shorter than the %u-byte header",
				    len, LEDGER_HEADER_SIZE);
	if (len > LEDGER_ENTRY_MAX)
		return tdm_err_fail(err, TDM_ECODEC, "entry of %zu bytes exceeds the %u-byte limit",
				    len, LEDGER_ENTRY_MAX);
	if (rd32(p) != LEDGER_MAGIC)
		return tdm_err_fail(err, TDM_ECODEC, "field magic at offset 0: 0x%08x is not a ledger entry",
				    rd32(p));
	uint16_t version = rd16(p + 4);
	if (version == 0 || version > LEDGER_FORMAT_VERSION)
		return tdm_err_fail(err, TDM_EVERSION,
				    "field version at offset 4: format version %u, this build reads 1..%u",
				    version, LEDGER_FORMAT_VERSION);
	uint16_t type = rd16(p + 6);
	if (type >= LEDGER_CMD__COUNT)
		return tdm_err_fail(err, TDM_ECODEC, "field type at offset 6: unknown command type %u", type);
	if (rd32(p + 8) != 0)
		return tdm_err_fail(err, TDM_ECODEC, "%s: field flags at offset 8: unknown flags 0x%x",
				    type_names[type], rd32(p + 8));
	if (len % LEDGER_ENTRY_ALIGN != 0)
		return tdm_err_fail(err, TDM_ECODEC, "%s: entry of %zu bytes is not a multiple of %u",
				    type_names[type], len, LEDGER_ENTRY_ALIGN);
	*plen = rd32(p + 12);
	if (*plen > len - LEDGER_HEADER_SIZE)
		return tdm_err_fail(err, TDM_ECODEC,
				    "%s: field payload_length at offset 12: %u bytes, only %zu follow the header",
				    type_names[type], *plen, len - LEDGER_HEADER_SIZE);
	if (len != padded(LEDGER_HEADER_SIZE + *plen))
		return tdm_err_fail(err, TDM_ECODEC,
				    "%s: %zu bytes of trailing data after the padding at offset %zu",
				    type_names[type], len - padded(LEDGER_HEADER_SIZE + *plen),
				    padded(LEDGER_HEADER_SIZE + *plen));
	return 0;
}

int ledger_cmd_peek(const void *buf, size_t len, uint16_t *type, struct ledger_cmd_id *id,
		    struct tdm_err *err)
{
	const uint8_t *p = buf;
	uint32_t plen;
	int rc = check_header(p, len, &plen, err);
	if (rc)
		return rc;
	if (type)
		*type = rd16(p + 6);
	if (id) {
		id->origin = rd64(p + 16);
		id->seq = rd64(p + 24);
	}
	return 0;
}

int ledger_cmd_decode(const void *buf, size_t len, struct ledger_cmd *cmd, struct tdm_err *err)
{
	const uint8_t *p = buf;
	uint32_t plen;
	int rc;

	memset(cmd, 0, sizeof *cmd);
	cmd->type = LEDGER_CMD__COUNT;
	if ((rc = check_header(p, len, &plen, err)) != 0)
		return rc;
	cmd->version = rd16(p + 4);
	cmd->type = rd16(p + 6);
	cmd->flags = rd32(p + 8);
	cmd->id.origin = rd64(p + 16);
	cmd->id.seq = rd64(p + 24);

	struct codec c = { .mode = DECODE, .in = p, .end = LEDGER_HEADER_SIZE + (size_t)plen,
			   .off = LEDGER_HEADER_SIZE, .err = err, .cmd = type_names[cmd->type],
			   .version = cmd->version };
	rc = walks[cmd->type](&c, cmd);
	if (rc)
		return rc;
	if (c.off != c.end)
		return tdm_err_fail(err, TDM_ECODEC, "%s: %zu bytes of trailing garbage in the payload at offset %zu",
				    c.cmd, c.end - c.off, c.off);
	for (size_t i = c.end; i < len; i++)
		if (p[i] != 0)
			return tdm_err_fail(err, TDM_ECODEC, "%s: padding byte at offset %zu is not zero",
					    c.cmd, i);
	return 0;
}

void ledger_cmd_clear(struct ledger_cmd *cmd)
{
	if (cmd->type == LEDGER_CMD_SIG_BATCH) {
		free(cmd->sig_batch.sigs);
	} else if (cmd->type == LEDGER_CMD_ZONE_BATCH) {
		free(cmd->zone_batch.zones);
	} else if (cmd->type == LEDGER_CMD_ENFORCE) {
		for (uint32_t i = 0; cmd->enforce.zones && i < cmd->enforce.nzones; i++)
			free(cmd->enforce.zones[i].keys);
		free(cmd->enforce.zones);
	}
	memset(cmd, 0, sizeof *cmd);
}
