/*
 * Snapshots: the whole state.db as one buffer, and an atomic restore.
 *
 * A snapshot is a 64-byte header and the database image:
 *
 *   0  "TDMSNAP1"     8  schema version u32    12 reserved u32 (0)
 *   16 applied index u64                       24 image size u64
 *   32 SHA-256 of the image (32 bytes)         64 image
 *
 * The image comes from sqlite3_serialize() inside a read transaction, so it
 * is one consistent state, WAL content included.  The two-step job lets the
 * raft wrapper pin that read transaction on the loop thread (begin) and copy
 * the pages on libraft's threadpool (write) while apply continues on a
 * second connection.
 *
 * Restore never touches state.db until the new image has been written to a
 * temporary file, synced, and passed PRAGMA integrity_check and the schema
 * check; then the ledger's connection is closed, stale WAL files removed,
 * the temporary file renamed over state.db, the directory synced and the
 * database reopened.  A crash at any point leaves either the old or the new
 * state.db, both complete.
 */
#include "ledger/ledger_int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char snap_magic[8] = { 'T', 'D', 'M', 'S', 'N', 'A', 'P', '1' };

static void be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static void be64(uint8_t *p, uint64_t v) { be32(p, v >> 32); be32(p + 4, (uint32_t)v); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) << 32 | rd32(p + 4); }

struct ledger_snapshot_job {
	struct ledger *l;
	sqlite3 *db;
	uint64_t index;
};

/* Serialize @p db (inside its current read transaction if one is open). */
static int serialize(sqlite3 *db, uint64_t index, void *(*alloc)(size_t), void **out,
		     size_t *len, struct tdm_err *err)
{
	sqlite3_int64 size = 0;
	unsigned char *img = sqlite3_serialize(db, "main", &size, 0);
	if (img == NULL)
		return ledger__db_fail(db, err, "serializing the database");
	size_t total = LEDGER_SNAPSHOT_HEADER + (size_t)size;
	uint8_t *buf = alloc ? alloc(total) : malloc(total);
	if (buf == NULL) {
		sqlite3_free(img);
		return tdm_err_fail(err, TDM_ENOMEM, "snapshot of %zu bytes: out of memory", total);
	}
	memset(buf, 0, LEDGER_SNAPSHOT_HEADER);
	memcpy(buf, snap_magic, 8);
	be32(buf + 8, LEDGER_SCHEMA_VERSION);
	be64(buf + 16, index);
	be64(buf + 24, (uint64_t)size);
	ledger__sha256(img, (size_t)size, buf + 32);
	memcpy(buf + LEDGER_SNAPSHOT_HEADER, img, (size_t)size);
	sqlite3_free(img);
	*out = buf;
	*len = total;
	return 0;
}

int ledger_snapshot(struct ledger *l, void *(*alloc)(size_t), void **out, size_t *len,
		    struct tdm_err *err)
{
	/* No transaction is open between applies: the image is the applied state. */
	int rc = serialize(l->db, l->applied, alloc, out, len, err);
	if (rc)
		tdm_err_wrap(err, "ledger %s: snapshot", l->path);
	return rc;
}

int ledger_snapshot_begin(struct ledger *l, struct ledger_snapshot_job **out, struct tdm_err *err)
{
	struct ledger_snapshot_job *job;
	int rc;
	if (l->snapshot_job)
		return tdm_err_fail(err, TDM_EAGAIN, "ledger %s: a snapshot is already being taken", l->path);
	job = tdm_calloc(1, sizeof *job);
	job->l = l;
	if (sqlite3_open_v2(l->path, &job->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = ledger__db_fail(job->db, err, "opening the snapshot connection");
		goto fail;
	}
	sqlite3_busy_timeout(job->db, 2000);
	sqlite3_stmt *st = NULL;
	/* BEGIN is deferred: the SELECT starts the read transaction and pins the state. */
	if (sqlite3_exec(job->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(job->db, "SELECT value FROM meta WHERE key = 'applied_index'", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = ledger__db_fail(job->db, err, "starting the snapshot read");
		sqlite3_finalize(st);
		goto fail;
	}
	job->index = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	l->snapshot_job = true;
	*out = job;
	return 0;
fail:
	sqlite3_close(job->db);
	free(job);
	tdm_err_wrap(err, "ledger %s", l->path);
	return rc;
}

int ledger_snapshot_write(struct ledger_snapshot_job *job, void *(*alloc)(size_t), void **out,
			  size_t *len, struct tdm_err *err)
{
	int rc = serialize(job->db, job->index, alloc, out, len, err);
	if (rc)
		tdm_err_wrap(err, "ledger %s: snapshot", job->l->path);
	return rc;
}

void ledger_snapshot_end(struct ledger_snapshot_job *job)
{
	if (job == NULL)
		return;
	sqlite3_exec(job->db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(job->db);
	job->l->snapshot_job = false;
	free(job);
}

/* Validate the header and hash; set the image pointer and size. */
static int snap_check(const void *buf, size_t len, const uint8_t **img, size_t *size,
		      uint64_t *index, bool hash, struct tdm_err *err)
{
	const uint8_t *p = buf;
	if (len < LEDGER_SNAPSHOT_HEADER)
		return tdm_err_fail(err, TDM_ECODEC, "snapshot of %zu bytes is shorter than its header", len);
	if (memcmp(p, snap_magic, 8) != 0)
		return tdm_err_fail(err, TDM_ECODEC, "snapshot: bad magic at offset 0");
	if (rd32(p + 8) != LEDGER_SCHEMA_VERSION)
		return tdm_err_fail(err, TDM_EVERSION, "snapshot: schema version %u, this build uses %d",
				    rd32(p + 8), LEDGER_SCHEMA_VERSION);
	uint64_t n = rd64(p + 24);
	if (n != len - LEDGER_SNAPSHOT_HEADER)
		return tdm_err_fail(err, TDM_ECODEC, "snapshot: header says %" PRIu64 " image bytes, %zu follow",
				    n, len - LEDGER_SNAPSHOT_HEADER);
	if (hash) {
		uint8_t h[32];
		ledger__sha256(p + LEDGER_SNAPSHOT_HEADER, (size_t)n, h);
		if (memcmp(h, p + 32, 32) != 0)
			return tdm_err_fail(err, TDM_ECODEC, "snapshot: SHA-256 of the image does not match");
	}
	*img = p + LEDGER_SNAPSHOT_HEADER;
	*size = (size_t)n;
	*index = rd64(p + 16);
	return 0;
}

int ledger_snapshot_index(const void *buf, size_t len, uint64_t *index, struct tdm_err *err)
{
	const uint8_t *img;
	size_t size;
	return snap_check(buf, len, &img, &size, index, false, err);
}

static int write_file(const char *path, const uint8_t *data, size_t len, struct tdm_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return tdm_err_fail(err, -errno, "%s: %s", path, strerror(errno));
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			return tdm_err_fail(err, -e, "%s: %s", path, strerror(e));
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		return tdm_err_fail(err, TDM_EIO, "%s: %s", path, strerror(errno));
	return 0;
}

/* "path" + "suffix" in a new string; the caller frees it. */
static char *path_with(const char *path, const char *suffix)
{
	size_t a = strlen(path), b = strlen(suffix);
	char *p = tdm_malloc(a + b + 1);
	memcpy(p, path, a);
	memcpy(p + a, suffix, b + 1);
	return p;
}

/* Remove a database's WAL and shared-memory files, and the file itself if @p all. */
static void unlink_db(const char *path, bool all)
{
	char *p;
	if (all)
		unlink(path);
	p = path_with(path, "-wal");
	unlink(p);
	free(p);
	p = path_with(path, "-shm");
	unlink(p);
	free(p);
}

static int sync_dir(const char *path)
{
	char *copy = tdm_strdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) ? -errno : 0;
	close(fd);
	return rc;
}

/* Open the candidate file and check it is a sound ledger of our schema. */
static int check_candidate(const char *tmp, uint64_t index, struct tdm_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = tdm_err_fail(err, TDM_ECODEC, "snapshot image: %s", db ? sqlite3_errmsg(db) : "no memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
		rc = tdm_err_fail(err, TDM_ECODEC, "snapshot image: %s", sqlite3_errmsg(db));
		goto out;
	}
	int s = sqlite3_step(st);
	if (s != SQLITE_ROW) {
		rc = tdm_err_fail(err, TDM_ECODEC, "snapshot image: integrity_check: %s", sqlite3_errmsg(db));
		goto out;
	}
	const char *res = (const char *)sqlite3_column_text(st, 0);
	if (res == NULL || strcmp(res, "ok") != 0) {
		rc = tdm_err_fail(err, TDM_ECODEC, "snapshot image: integrity_check: %s", res ? res : "?");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = ledger__schema_check(db, err)) != 0) {
		if (rc == TDM_EDB)
			rc = TDM_ECODEC;
		tdm_err_wrap(err, "snapshot image");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'applied_index'", -1, &st,
			       NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		rc = tdm_err_fail(err, TDM_ECODEC, "snapshot image: no applied index");
		goto out;
	}
	if ((uint64_t)sqlite3_column_int64(st, 0) != index)
		rc = tdm_err_fail(err, TDM_ECODEC, "snapshot image: applied index %" PRId64 ", header says %" PRIu64,
				  (int64_t)sqlite3_column_int64(st, 0), index);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

int ledger_restore(struct ledger *l, const void *buf, size_t len, struct tdm_err *err)
{
	const uint8_t *img;
	size_t size;
	uint64_t index;
	char *tmp = NULL;
	int rc;

	if (l->snapshot_job)
		return tdm_err_fail(err, TDM_EAGAIN, "ledger %s: restore while a snapshot is being taken",
				    l->path);
	if ((rc = snap_check(buf, len, &img, &size, &index, true, err)) != 0)
		goto fail;
	tmp = path_with(l->path, ".restore");
	unlink_db(tmp, true);
	if ((rc = write_file(tmp, img, size, err)) != 0)
		goto fail_tmp;
	if ((rc = check_candidate(tmp, index, err)) != 0)
		goto fail_tmp;

	/* The candidate is sound: switch.  Closing checkpoints and removes our WAL. */
	ledger__stmt_clear(l);
	if (sqlite3_close(l->db) != SQLITE_OK) {
		rc = ledger__db_fail(l->db, err, "closing for restore");
		goto fail_tmp;
	}
	l->db = NULL;
	unlink_db(l->path, false);
	if (rename(tmp, l->path) != 0) {
		rc = tdm_err_fail(err, -errno, "rename %s: %s", tmp, strerror(errno));
		unlink_db(tmp, true);
		free(tmp);
		/* The old file is still in place: reopen it. */
		struct tdm_err e2;
		ledger__db_open(l, l->path, &e2);
		return rc;
	}
	free(tmp);
	sync_dir(l->path);
	rc = ledger__db_open(l, l->path, err);
	if (rc)
		tdm_err_wrap(err, "reopening after restore");
	return rc;

fail_tmp:
	unlink_db(tmp, true);
	free(tmp);
fail:
	tdm_err_wrap(err, "ledger %s: restore refused", l->path);
	return rc;
}
