/*
 * The command codec: round trips, truncations, byte flips, bounds, framing.
 */
#define _GNU_SOURCE /* memmem */
#include "hsm/hsm.h"
#include "ledger_tests.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static void be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

/* Every command type survives encode -> decode -> encode unchanged. */
START_TEST(test_roundtrip)
{
	struct ledger_cmd m, d;
	struct tdm_err err;
	size_t len, len2;
	sample_cmd(&m, (unsigned)_i, 42);
	uint8_t *buf = enc(&m, &len);
	ck_assert_uint_eq(len, ledger_cmd_encoded_size(&m));
	tdm_err_clear(&err);
	ck_assert_msg(ledger_cmd_decode(buf, len, &d, &err) == 0, "%s", err.msg);
	assert_cmd_equal(&m, &d);
	ck_assert_uint_eq(d.version, LEDGER_FORMAT_VERSION);
	uint8_t *buf2 = enc(&d, &len2);
	ck_assert_uint_eq(len, len2);
	ck_assert(memcmp(buf, buf2, len) == 0);
	/* Padding is zero. */
	uint16_t type;
	struct ledger_cmd_id id;
	ck_assert_int_eq(ledger_cmd_peek(buf, len, &type, &id, NULL), 0);
	ck_assert_uint_eq(type, (unsigned)_i);
	ck_assert_uint_eq(id.seq, 42);
	ledger_cmd_clear(&d);
	free(buf);
	free(buf2);
}
END_TEST

/*
 * Every truncation is rejected: raw prefixes (the framing catches them) and
 * prefixes of the payload behind a consistent header (the fields do).
 */
START_TEST(test_truncations)
{
	struct ledger_cmd m, d;
	struct tdm_err err;
	size_t len;
	sample_cmd(&m, (unsigned)_i, 1);
	uint8_t *buf = enc(&m, &len);
	uint32_t plen = (uint32_t)buf[12] << 24 | buf[13] << 16 | buf[14] << 8 | buf[15];

	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *p = malloc(cut ? cut : 1); /* exact size: ASan sees any over-read */
		memcpy(p, buf, cut);
		tdm_err_clear(&err);
		ck_assert_msg(ledger_cmd_decode(p, cut, &d, &err) == TDM_ECODEC,
			      "%s cut at %zu accepted", ledger_cmd_type_name(m.type), cut);
		ck_assert(err.msg[0] != '\0');
		ledger_cmd_clear(&d);
		free(p);
	}
	for (uint32_t keep = 0; keep < plen; keep++) {
		size_t n = (LEDGER_HEADER_SIZE + keep + 7) & ~(size_t)7;
		uint8_t *p = calloc(1, n);
		memcpy(p, buf, LEDGER_HEADER_SIZE + keep);
		be32(p + 12, keep);
		tdm_err_clear(&err);
		ck_assert_msg(ledger_cmd_decode(p, n, &d, &err) == TDM_ECODEC,
			      "%s payload cut to %u accepted", ledger_cmd_type_name(m.type), keep);
		ck_assert_msg(strstr(err.msg, "offset") != NULL, "message without offset: %s", err.msg);
		ledger_cmd_clear(&d);
		free(p);
	}
	free(buf);
}
END_TEST

/*
 * Random byte flips never crash or over-read, and whatever still decodes
 * re-encodes to the very same bytes (the encoding is canonical).
 */
START_TEST(test_flips)
{
	struct ledger_cmd m, d;
	struct tdm_err err;
	size_t len;
	unsigned seed = 1234u + (unsigned)_i;
	sample_cmd(&m, (unsigned)_i, 9);
	uint8_t *buf = enc(&m, &len);
	uint8_t *p = malloc(len);
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(p, buf, len);
		int flips = 1 + rand_r(&seed) % 4;
		for (int f = 0; f < flips; f++)
			p[rand_r(&seed) % len] ^= (uint8_t)(1 + rand_r(&seed) % 255);
		tdm_err_clear(&err);
		int rc = ledger_cmd_decode(p, len, &d, &err);
		if (rc == 0) {
			size_t len2;
			uint8_t *q = enc(&d, &len2);
			ck_assert_uint_eq(len2, len);
			ck_assert_msg(memcmp(p, q, len) == 0, "non-canonical accept of %s", ledger_cmd_type_name(d.type));
			free(q);
		} else {
			ck_assert(rc == TDM_ECODEC || rc == TDM_EVERSION);
			ck_assert(err.msg[0] != '\0');
		}
		ledger_cmd_clear(&d);
	}
	free(p);
	free(buf);
}
END_TEST

static void enc_ok_free(const struct ledger_cmd *m)
{
	size_t len;
	free(enc(m, &len));
}

static int decode_rc(const uint8_t *p, size_t n, char *msg)
{
	struct ledger_cmd d;
	struct tdm_err err;
	tdm_err_clear(&err);
	int rc = ledger_cmd_decode(p, n, &d, &err);
	ledger_cmd_clear(&d);
	if (msg)
		strcpy(msg, err.msg);
	return rc;
}

START_TEST(test_framing)
{
	struct ledger_cmd m;
	size_t len;
	char msg[TDM_ERRMSG_SIZE];
	sample_cmd(&m, LEDGER_CMD_ZONE_ADD, 1);
	uint8_t *buf = enc(&m, &len);
	uint8_t *p = calloc(1, len + 16);

	/* Trailing garbage after the padding, zero or not. */
	memcpy(p, buf, len);
	ck_assert_int_eq(decode_rc(p, len + 8, msg), TDM_ECODEC);
	ck_assert_ptr_nonnull(strstr(msg, "trailing"));
	/* Not a multiple of 8. */
	ck_assert_int_eq(decode_rc(p, len + 3, msg), TDM_ECODEC);
	/* Non-zero padding, if there is padding. */
	uint32_t plen = (uint32_t)buf[12] << 24 | buf[13] << 16 | buf[14] << 8 | buf[15];
	if (LEDGER_HEADER_SIZE + plen < len) {
		p[len - 1] = 1;
		ck_assert_int_eq(decode_rc(p, len, msg), TDM_ECODEC);
		ck_assert_ptr_nonnull(strstr(msg, "padding"));
		p[len - 1] = 0;
	}
	/* Garbage inside the payload: a longer payload length over the same fields. */
	memcpy(p, buf, len);
	memset(p + len, 0xee, 8);
	be32(p + 12, plen + 8);
	size_t n = (LEDGER_HEADER_SIZE + plen + 8 + 7) & ~(size_t)7;
	memset(p + LEDGER_HEADER_SIZE + plen, 0xee, 8);
	memset(p + LEDGER_HEADER_SIZE + plen + 8, 0, n - (LEDGER_HEADER_SIZE + plen + 8));
	ck_assert_int_eq(decode_rc(p, n, msg), TDM_ECODEC);
	ck_assert_msg(strstr(msg, "trailing garbage") != NULL, "%s", msg);
	/* Payload length beyond the buffer. */
	memcpy(p, buf, len);
	be32(p + 12, (uint32_t)len);
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_ECODEC);
	ck_assert_ptr_nonnull(strstr(msg, "payload_length"));
	/* Magic, version, type, flags. */
	memcpy(p, buf, len);
	p[0] = 'X';
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_ECODEC);
	ck_assert_ptr_nonnull(strstr(msg, "magic"));
	memcpy(p, buf, len);
	p[5] = LEDGER_FORMAT_VERSION + 1;
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_EVERSION);
	ck_assert_ptr_nonnull(strstr(msg, "version"));
	p[5] = 0;
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_EVERSION);
	memcpy(p, buf, len);
	p[7] = LEDGER_CMD__COUNT;
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_ECODEC);
	ck_assert_ptr_nonnull(strstr(msg, "type"));
	memcpy(p, buf, len);
	p[11] = 1;
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_ECODEC);
	ck_assert_ptr_nonnull(strstr(msg, "flags"));
	/* A NUL inside a string. */
	memcpy(p, buf, len);
	p[LEDGER_HEADER_SIZE + 2 + 3] = 0; /* inside "example.com" */
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_ECODEC);
	ck_assert_ptr_nonnull(strstr(msg, "name"));
	free(p);
	free(buf);
}
END_TEST

/* A truncated field is named, with its offset. */
START_TEST(test_messages)
{
	struct ledger_cmd m;
	size_t len;
	char msg[TDM_ERRMSG_SIZE];
	sample_cmd(&m, LEDGER_CMD_SIG_BATCH, 1);
	uint8_t *buf = enc(&m, &len);
	/* Make the last signature's rdata length claim more than there is. */
	uint32_t plen = (uint32_t)buf[12] << 24 | buf[13] << 16 | buf[14] << 8 | buf[15];
	size_t rdlen_off = LEDGER_HEADER_SIZE + plen - 70 - 2;
	ck_assert_uint_eq(buf[rdlen_off + 1], 70);
	buf[rdlen_off + 1] = 71;
	ck_assert_int_eq(decode_rc(buf, len, msg), TDM_ECODEC);
	ck_assert_msg(strstr(msg, "SIG_BATCH: field sigs[2].rdata at offset") != NULL, "%s", msg);
	ck_assert_msg(strstr(msg, "truncated") != NULL, "%s", msg);
	free(buf);

	/* A count that cannot fit is refused before anything is allocated. */
	sample_cmd(&m, LEDGER_CMD_SIG_BATCH, 1);
	buf = enc(&m, &len);
	size_t count_off = LEDGER_HEADER_SIZE + 2 + 11 + 4 + 4;
	be32(buf + count_off, 0xffffffffu);
	ck_assert_int_eq(decode_rc(buf, len, msg), TDM_ECODEC);
	ck_assert_msg(strstr(msg, "field count at offset") != NULL, "%s", msg);
	free(buf);
}
END_TEST

START_TEST(test_bounds)
{
	struct ledger_cmd m;
	struct tdm_err err;
	uint8_t *buf = NULL;
	size_t len;
	char name[LEDGER_NAME_MAX + 2];

	/* Largest TEST that fits, and one byte more. */
	size_t max_payload = LEDGER_ENTRY_MAX - LEDGER_HEADER_SIZE - 4;
	uint8_t *big = calloc(1, max_payload + 1);
	sample_cmd(&m, LEDGER_CMD_TEST, 1);
	m.test.payload.data = big;
	m.test.payload.len = max_payload;
	ck_assert_int_eq(ledger_cmd_encode(&m, &buf, &len, &err), 0);
	ck_assert_uint_eq(len, LEDGER_ENTRY_MAX);
	ck_assert_int_eq(decode_rc(buf, len, NULL), 0);
	free(buf);
	m.test.payload.len = max_payload + 1;
	ck_assert_int_eq(ledger_cmd_encode(&m, &buf, &len, &err), TDM_ERANGE);
	ck_assert_uint_eq(ledger_cmd_encoded_size(&m), 0);
	/* An entry over 1 MiB is refused by decode whatever it says. */
	uint8_t *huge = calloc(1, LEDGER_ENTRY_MAX + 8);
	ck_assert_int_eq(decode_rc(huge, LEDGER_ENTRY_MAX + 8, NULL), TDM_ECODEC);
	free(huge);
	free(big);

	/* Names are bounded and NUL-free. */
	memset(name, 'a', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	sample_cmd(&m, LEDGER_CMD_ZONE_ADD, 1);
	m.zone.name = ledger_str(name);
	ck_assert_int_eq(ledger_cmd_encode(&m, &buf, &len, &err), TDM_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "name"));
	m.zone.name.len = LEDGER_NAME_MAX;
	ck_assert_int_eq(ledger_cmd_encode(&m, &buf, &len, &err), 0);
	free(buf);
	m.zone.name.data = (const uint8_t *)"exa\0mple";
	m.zone.name.len = 8;
	ck_assert_int_eq(ledger_cmd_encode(&m, &buf, &len, &err), TDM_EINVAL);
	/* Unknown type, flags, future version. */
	sample_cmd(&m, LEDGER_CMD_NOOP, 1);
	m.type = LEDGER_CMD__COUNT;
	ck_assert_int_eq(ledger_cmd_encode(&m, &buf, &len, &err), TDM_EINVAL);
	sample_cmd(&m, LEDGER_CMD_NOOP, 1);
	m.flags = 1;
	ck_assert_int_eq(ledger_cmd_encode(&m, &buf, &len, &err), TDM_EINVAL);
	m.flags = 0;
	m.version = LEDGER_FORMAT_VERSION + 1;
	ck_assert_int_eq(ledger_cmd_encode(&m, &buf, &len, &err), TDM_EVERSION);
	/* encode_into with a small buffer. */
	uint8_t small[16];
	sample_cmd(&m, LEDGER_CMD_NOOP, 1);
	ck_assert_int_eq(ledger_cmd_encode_into(&m, small, sizeof small, &len, &err), TDM_ERANGE);
	/* Every size is a multiple of 8, whatever the payload length. */
	for (size_t n = 0; n < 40; n++) {
		uint8_t pl[40] = { 0 };
		m.test.payload.data = pl;
		m.test.payload.len = n;
		buf = enc(&m, &len);
		ck_assert_uint_eq(len % 8, 0);
		ck_assert_uint_eq(len, (LEDGER_HEADER_SIZE + 4 + n + 7) / 8 * 8);
		free(buf);
	}
}
END_TEST

/* Offset of the first occurrence of @p s in the entry (it must be there). */
static size_t find(const uint8_t *buf, size_t len, const char *s)
{
	const uint8_t *p = memmem(buf, len, s, strlen(s));
	ck_assert_msg(p != NULL, "%s not in the entry", s);
	return (size_t)(p - buf);
}

/* Decode of @p buf with byte @p off set to @p v: TDM_ECODEC naming @p field. */
static void patched_refused(const uint8_t *buf, size_t len, size_t off, uint8_t v, const char *field)
{
	char msg[TDM_ERRMSG_SIZE];
	uint8_t *p = malloc(len);
	memcpy(p, buf, len);
	p[off] = v;
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_ECODEC);
	ck_assert_msg(strstr(msg, field) != NULL, "want %s in: %s", field, msg);
	free(p);
}

static void encode_refused(const struct ledger_cmd *m, const char *field)
{
	struct tdm_err err;
	uint8_t *buf = NULL;
	size_t len;
	tdm_err_clear(&err);
	ck_assert_int_eq(ledger_cmd_encode(m, &buf, &len, &err), TDM_EINVAL);
	ck_assert_msg(strstr(err.msg, field) != NULL, "want %s in: %s", field, err.msg);
	ck_assert_uint_eq(ledger_cmd_encoded_size(m), 0);
}

/* The format-2 commands: version-1 headers, value ranges, counts, the salt. */
START_TEST(test_format2)
{
	static const unsigned types[3] = { LEDGER_CMD_ZONE_BATCH, LEDGER_CMD_ENFORCE, LEDGER_CMD_BACKUP };
	struct ledger_cmd m;
	size_t len;
	char msg[TDM_ERRMSG_SIZE];

	/* A format-2 command in a version-1 header: malformed, naming the type. */
	for (int i = 0; i < 3; i++) {
		sample_cmd(&m, types[i], 1);
		uint8_t *buf = enc(&m, &len);
		buf[5] = 1;
		ck_assert_int_eq(decode_rc(buf, len, msg), TDM_ECODEC);
		ck_assert_msg(strstr(msg, ledger_cmd_type_name(types[i])) && strstr(msg, "version"), "%s", msg);
		free(buf);
		m.version = 1;
		encode_refused(&m, "version");
	}
	/* An old command in a version-1 header is fine. */
	sample_cmd(&m, LEDGER_CMD_ZONE_ADD, 1);
	m.version = 1;
	uint8_t *buf = enc(&m, &len);
	ck_assert_int_eq(decode_rc(buf, len, NULL), 0);
	free(buf);

	/* ENFORCE: every enumerated field out of range, at decode and at encode. */
	sample_cmd(&m, LEDGER_CMD_ENFORCE, 1);
	buf = enc(&m, &len);
	size_t k0 = find(buf, len, "cafebabe0102") + 12; /* zones[0].keys[0].op */
	size_t k1 = find(buf, len, "pool-1") + 6;        /* zones[0].keys[1].op */
	patched_refused(buf, len, k0, 0, "zones[0].keys[0].op");
	patched_refused(buf, len, k0, 3, "zones[0].keys[0].op");
	patched_refused(buf, len, k0 + 1, 3, "claim_scope");
	patched_refused(buf, len, k1 + 2, 0, "zones[0].keys[1].claim_role");
	patched_refused(buf, len, k1 + 2, 4, "claim_role");
	patched_refused(buf, len, k0 + 3, 3, "goal");
	patched_refused(buf, len, k0 + 4, LEDGER_DS_AT_PARENT_MAX + 1, "ds_at_parent");
	patched_refused(buf, len, k0 + 5 + 16, 4, "ds.state");
	patched_refused(buf, len, k0 + 5 + 16 + 3 * 9, 4, "rrsig.state");
	size_t salt = find(buf, len, "0a1B2c3D");
	patched_refused(buf, len, salt + 3, 'g', "zones[0].salt");
	/* Without a claim the role byte is not interpreted (and stays canonical). */
	uint8_t *p = malloc(len);
	memcpy(p, buf, len);
	p[k0 + 2] = 9;
	struct ledger_cmd d;
	struct tdm_err err;
	ck_assert_int_eq(ledger_cmd_decode(p, len, &d, &err), 0);
	ck_assert_uint_eq(d.enforce.zones[0].keys[0].claim_role, 9);
	size_t len2;
	uint8_t *q = enc(&d, &len2);
	ck_assert(len2 == len && memcmp(p, q, len) == 0);
	free(q);
	ledger_cmd_clear(&d);
	free(p);
	/* Counts that cannot fit are refused before allocating. */
	memcpy(msg, "", 1);
	p = malloc(len);
	memcpy(p, buf, len);
	be32(p + LEDGER_HEADER_SIZE + 8, 0xffffffffu);
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_ECODEC);
	ck_assert_msg(strstr(msg, "field count at offset 40"), "%s", msg);
	memcpy(p, buf, len);
	be32(p + salt + 8 + 8, 0x10000000u); /* zones[0].nkeys, after the salt and salt_time */
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_ECODEC);
	ck_assert_msg(strstr(msg, "zones[0].nkeys"), "%s", msg);
	free(p);
	free(buf);

	struct ledger_enforce_key ek;
	struct ledger_enforce_zone ez;
	memset(&ez, 0, sizeof ez);
	ez.zone = ledger_str("example.com");
	ez.nkeys = 1;
	ez.keys = &ek;
	memset(&m, 0, sizeof m);
	m.type = LEDGER_CMD_ENFORCE;
	m.enforce.time = 1;
	m.enforce.nzones = 1;
	m.enforce.zones = &ez;
	sample_enforce_key(&ek, "k", LEDGER_EK_SET, 0, 0);
	enc_ok_free(&m);
	ek.op = 3;
	encode_refused(&m, "keys[0].op");
	sample_enforce_key(&ek, "k", LEDGER_EK_SET, LEDGER_SCOPE_POOL, LEDGER_ROLE_KSK);
	encode_refused(&m, "claim_scope");
	sample_enforce_key(&ek, "k", LEDGER_EK_SET, LEDGER_SCOPE_ZONE, 0);
	encode_refused(&m, "claim_role");
	sample_enforce_key(&ek, "k", LEDGER_EK_SET, 0, 0);
	ek.goal = 3;
	encode_refused(&m, "goal");
	sample_enforce_key(&ek, "k", LEDGER_EK_SET, 0, 0);
	ek.rec[LEDGER_REC_DNSKEY].state = 4;
	encode_refused(&m, "dnskey.state");
	sample_enforce_key(&ek, "k", LEDGER_EK_SET, 0, 0);
	ez.salt = ledger_str("xyz");
	encode_refused(&m, "salt");
	char salt_buf[512];
	memset(salt_buf, 'a', 511);
	salt_buf[511] = '\0';
	ez.salt = ledger_str(salt_buf);
	encode_refused(&m, "salt");
	ez.salt.len = 510;
	enc_ok_free(&m);
	ez.keys = NULL;
	encode_refused(&m, "NULL array");

	/* ZONE_BATCH: operation out of range, count too large. */
	sample_cmd(&m, LEDGER_CMD_ZONE_BATCH, 1);
	buf = enc(&m, &len);
	patched_refused(buf, len, LEDGER_HEADER_SIZE + 4, 0, "zones[0].op");
	patched_refused(buf, len, LEDGER_HEADER_SIZE + 4, 4, "zones[0].op");
	p = malloc(len);
	memcpy(p, buf, len);
	be32(p + LEDGER_HEADER_SIZE, 0x7fffffffu);
	ck_assert_int_eq(decode_rc(p, len, msg), TDM_ECODEC);
	ck_assert_msg(strstr(msg, "count"), "%s", msg);
	free(p);
	free(buf);
	struct ledger_zone_op op = { .op = 0, .name = ledger_str("a") };
	m.zone_batch.zones = &op;
	m.zone_batch.nzones = 1;
	encode_refused(&m, "op");

	/* BACKUP: action out of range. */
	sample_cmd(&m, LEDGER_CMD_BACKUP, 1);
	buf = enc(&m, &len);
	size_t act = find(buf, len, "SoftHSM") + 7;
	patched_refused(buf, len, act, 0, "action");
	patched_refused(buf, len, act, 4, "action");
	free(buf);
	m.backup.action = 4;
	encode_refused(&m, "action");
}
END_TEST

START_TEST(test_key_tag)
{
	/* RFC 4034 Appendix B over a known DNSKEY: the root KSK-2017, tag 20326. */
	static const char b64[] =
		"AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=";
	uint8_t rdata[4 + 300] = { 0x01, 0x01, 3, 8 };
	int n = EVP_DecodeBlock(rdata + 4, (const unsigned char *)b64, (int)strlen(b64));
	ck_assert_int_gt(n, 0);
	n -= 1; /* one '=' of padding */
	ck_assert_uint_eq(hsm_keytag(rdata, 4 + (size_t)n), 20326);
}
END_TEST

TCase *tcase_codec(void)
{
	TCase *tc = tcase_create("codec");
	tcase_add_loop_test(tc, test_roundtrip, 0, LEDGER_CMD__COUNT);
	tcase_add_loop_test(tc, test_truncations, 0, LEDGER_CMD__COUNT);
	tcase_add_loop_test(tc, test_flips, 0, LEDGER_CMD__COUNT);
	tcase_add_test(tc, test_framing);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_format2);
	tcase_add_test(tc, test_key_tag);
	return tc;
}
