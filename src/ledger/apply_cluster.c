/*
 * Apply of the cluster commands: NOOP, TEST, NODE_ADD, NODE_DEL and
 * CLUSTER_VERSION.
 *
 * NOOP changes nothing but the applied index.  TEST folds its payload into
 * a running hash in meta (test_hash = SHA-256(test_hash || payload),
 * test_count + 1), so replication tests and benchmarks see a corrupted or
 * reordered entry as a digest mismatch at constant storage.
 *
 * NODE_ADD: node id not 0 and not present, address not empty.  NODE_DEL:
 * the node exists.  CLUSTER_VERSION never goes down; a version above what
 * this build supports stops apply with TDM_EVERSION (ledger.h).
 */
#include "ledger/ledger_int.h"

#include <inttypes.h>
#include <string.h>

#include <openssl/evp.h>

void ledger__sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

static int apply_test(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	sqlite3_stmt *st = ledger__stmt(l, "SELECT value FROM meta WHERE key = 'test_hash'", c->err);
	uint8_t h[32] = { 0 };
	if (st == NULL)
		return TDM_EDB;
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32)
		memcpy(h, sqlite3_column_blob(st, 0), 32);
	sqlite3_reset(st);
	if (s != SQLITE_ROW)
		return ledger__db_fail(l->db, c->err, "reading test_hash");

	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 32;
	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(md, h, 32) ||
	    !EVP_DigestUpdate(md, m->test.payload.len ? m->test.payload.data : (const uint8_t *)"",
			      m->test.payload.len) ||
	    !EVP_DigestFinal_ex(md, h, &n)) {
		EVP_MD_CTX_free(md);
		return tdm_err_fail(c->err, TDM_ENOMEM, "SHA-256 failed");
	}
	EVP_MD_CTX_free(md);

	st = ledger__stmt(l, "UPDATE meta SET value = ?1 WHERE key = 'test_hash'", c->err);
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
	int rc = ledger__step(l, st, "storing test_hash", c->err);
	if (rc)
		return rc;
	st = ledger__stmt(l, "UPDATE meta SET value = value + 1 WHERE key = 'test_count'", c->err);
	if (st == NULL)
		return TDM_EDB;
	return ledger__step(l, st, "storing test_count", c->err);
}

static int node_exists(struct ledger *l, uint64_t id, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT 1 FROM nodes WHERE id = ?1", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	if (s == SQLITE_ROW)
		return 1;
	if (s == SQLITE_DONE)
		return 0;
	ledger__db_fail(l->db, err, "reading nodes");
	return -1;
}

static int node_add(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	if (m->node.node_id == 0)
		return ledger__reject(c, LEDGER_INVALID, "node id 0");
	if (m->node.address.len == 0)
		return ledger__reject(c, LEDGER_INVALID, "node %" PRIu64 ": empty address", m->node.node_id);
	if (m->node.witness > 1)
		return ledger__reject(c, LEDGER_INVALID, "node %" PRIu64 ": witness flag %u", m->node.node_id,
				      m->node.witness);
	int e = node_exists(l, m->node.node_id, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e)
		return ledger__reject(c, LEDGER_EXISTS, "node %" PRIu64 ": already a member", m->node.node_id);
	sqlite3_stmt *st = ledger__stmt(l, "INSERT INTO nodes (id, address, witness, transport_pubkey, "
				       "wrapped_kek) VALUES (?1, ?2, ?3, ?4, ?5)", c->err);
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)m->node.node_id);
	ledger__bind_text(st, 2, m->node.address);
	sqlite3_bind_int(st, 3, m->node.witness);
	ledger__bind_blob(st, 4, m->node.transport_pubkey);
	ledger__bind_blob(st, 5, m->node.wrapped_kek);
	return ledger__step(l, st, "storing the node", c->err);
}

static int node_del(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	int e = node_exists(l, m->node.node_id, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return ledger__reject(c, LEDGER_NOT_FOUND, "node %" PRIu64 ": not a member", m->node.node_id);
	sqlite3_stmt *st = ledger__stmt(l, "DELETE FROM nodes WHERE id = ?1", c->err);
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)m->node.node_id);
	return ledger__step(l, st, "deleting the node", c->err);
}

static int cluster_version(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	uint16_t v = m->cluster_version.version;
	if (v == 0 || v < l->cluster_version)
		return ledger__reject(c, LEDGER_STALE, "cluster version %u: the cluster is at %u", v,
				      l->cluster_version);
	if (v > LEDGER_FORMAT_VERSION)
		return tdm_err_fail(c->err, TDM_EVERSION,
				    "the cluster moved to ledger format %u, this build supports up to %u; upgrade this node",
				    v, LEDGER_FORMAT_VERSION);
	int rc = ledger__meta_set(l, "cluster_version", v, c->err);
	if (rc == 0)
		l->cluster_version = v;
	return rc;
}

int ledger__apply_cluster(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	switch (m->type) {
	case LEDGER_CMD_NOOP:
		return 0;
	case LEDGER_CMD_TEST:
		return apply_test(c, m);
	case LEDGER_CMD_NODE_ADD:
		return node_add(c, m);
	case LEDGER_CMD_NODE_DEL:
		return node_del(c, m);
	default:
		return cluster_version(c, m);
	}
}
