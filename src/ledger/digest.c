/*
 * ledger_digest(): SHA-256 over the logical content of state.db, for
 * `cluster-ctl verify` to compare nodes.  It hashes rows, not file bytes,
 * so page layout, free pages and WAL state do not matter.
 *
 * Encoding, in the table order below: for each table "T" + name + u32
 * column count; for each row (in primary-key order, BINARY collation) "R"
 * and each value as a type byte (I integer, F real, S text, B blob,
 * N null) followed by the 8-byte big-endian integer, the IEEE bits of the
 * real, or a u32 length and the bytes; after the rows "E" + u64 row count.
 * meta.applied_index is left out: it is reported next to the digest.
 */
#include "ledger/ledger_int.h"

#include <string.h>

#include <openssl/evp.h>

static const struct {
	const char *name;
	const char *sql;
} tables[] = {
	{ "meta", "SELECT key, value FROM meta WHERE key <> 'applied_index' ORDER BY key" },
	{ "policies", "SELECT name, blob FROM policies ORDER BY name" },
	{ "zones", "SELECT name, policy, in_type, in_uri, out_type, out_uri, signconf, input_serial, "
		   "next_due, roll_ksk, roll_zsk, roll_csk, salt, salt_time FROM zones ORDER BY name" },
	{ "keys", "SELECT id, scope, scope_name, role, algorithm, bits, key_tag, public_rdata, cka_id, "
		  "repository, wrapped_private, created, backup FROM keys ORDER BY id" },
	{ "key_states", "SELECT key_id, ds, ds_since, dnskey, dnskey_since, rrsig_dnskey, "
			"rrsig_dnskey_since, rrsig, rrsig_since FROM key_states ORDER BY key_id" },
	{ "key_zone", "SELECT zone, key_id, goal, ds_at_parent, ds_at_parent_since, active_since, ds, "
		      "ds_since, dnskey, dnskey_since, rrsig_dnskey, rrsig_dnskey_since, rrsig, rrsig_since "
		      "FROM key_zone ORDER BY zone, key_id" },
	{ "zone_inputs", "SELECT zone, pos, kind, base_serial, serial, time, content "
			 "FROM zone_inputs ORDER BY zone, pos" },
	{ "zone_input_chunks", "SELECT zone, idx, count, kind, base_serial, serial, time, content "
			       "FROM zone_input_chunks ORDER BY zone, idx" },
	{ "signatures", "SELECT zone, owner, type, key_tag, input_serial, rdata "
			"FROM signatures ORDER BY zone, owner, type, key_tag" },
	{ "sig_batches", "SELECT zone, input_serial, batch, nsigs FROM sig_batches "
			 "ORDER BY zone, input_serial, batch" },
	{ "publications", "SELECT zone, pos, serial, sha256, time FROM publications ORDER BY zone, pos" },
	{ "nodes", "SELECT id, address, witness, transport_pubkey, wrapped_kek FROM nodes ORDER BY id" },
	{ "dedupe", "SELECT origin, seq FROM dedupe ORDER BY origin" },
};

static void put_u32(EVP_MD_CTX *md, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };
	EVP_DigestUpdate(md, b, 4);
}

static void put_u64(EVP_MD_CTX *md, uint64_t v)
{
	put_u32(md, (uint32_t)(v >> 32));
	put_u32(md, (uint32_t)v);
}

static void put_tag(EVP_MD_CTX *md, char t)
{
	EVP_DigestUpdate(md, &t, 1);
}

static int hash_table(struct ledger *l, EVP_MD_CTX *md, int t, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, tables[t].sql, err);
	uint64_t rows = 0;
	int s;
	if (st == NULL)
		return TDM_EDB;
	int ncol = sqlite3_column_count(st);
	put_tag(md, 'T');
	EVP_DigestUpdate(md, tables[t].name, strlen(tables[t].name));
	put_u32(md, (uint32_t)ncol);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		put_tag(md, 'R');
		for (int i = 0; i < ncol; i++) {
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				put_tag(md, 'I');
				put_u64(md, (uint64_t)sqlite3_column_int64(st, i));
				break;
			case SQLITE_FLOAT: {
				double d = sqlite3_column_double(st, i);
				uint64_t bits;
				memcpy(&bits, &d, 8);
				put_tag(md, 'F');
				put_u64(md, bits);
				break;
			}
			case SQLITE_TEXT: {
				const unsigned char *p = sqlite3_column_text(st, i);
				uint32_t n = (uint32_t)sqlite3_column_bytes(st, i);
				put_tag(md, 'S');
				put_u32(md, n);
				EVP_DigestUpdate(md, p, n);
				break;
			}
			case SQLITE_BLOB: {
				const void *p = sqlite3_column_blob(st, i);
				uint32_t n = (uint32_t)sqlite3_column_bytes(st, i);
				put_tag(md, 'B');
				put_u32(md, n);
				if (n)
					EVP_DigestUpdate(md, p, n);
				break;
			}
			default:
				put_tag(md, 'N');
				break;
			}
		}
		rows++;
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE)
		return ledger__db_fail(l->db, err, tables[t].name);
	put_tag(md, 'E');
	put_u64(md, rows);
	return 0;
}

int ledger_digest(struct ledger *l, uint8_t out[32], uint64_t *index, struct tdm_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 32;
	int rc = 0;
	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return tdm_err_fail(err, TDM_ENOMEM, "SHA-256 context");
	}
	/* One read transaction, so the tables come from one state. */
	if ((rc = ledger__exec(l, "BEGIN", err)) != 0)
		goto out;
	for (size_t t = 0; t < sizeof tables / sizeof tables[0] && rc == 0; t++)
		rc = hash_table(l, md, (int)t, err);
	sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
	if (rc == 0) {
		EVP_DigestFinal_ex(md, out, &n);
		if (index)
			*index = l->applied;
	}
out:
	EVP_MD_CTX_free(md);
	if (rc)
		tdm_err_wrap(err, "ledger %s: digest", l->path);
	return rc;
}
