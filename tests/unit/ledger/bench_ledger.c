/*
 * bench_ledger: apply rate of SIG_BATCH entries and snapshot/restore time.
 *
 *   tests/unit/ledger/bench_ledger DIR [NSIGS [BATCH_BYTES]]
 *
 * Creates DIR/state.db with one zone, applies SIG_BATCH entries of about
 * BATCH_BYTES (default 256 KiB) until NSIGS signatures (default 1,000,000)
 * are stored, each signature an ECDSA P-256-sized RRSIG (95 bytes of RDATA)
 * over a distinct owner.  Then takes a snapshot, restores it into
 * DIR/restored.db, and times digest, snapshot and restore.  Prints one line
 * per figure.  DIR must exist; its state.db and restored.db are removed first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct tdm_err *err)
{
	fprintf(stderr, "bench_ledger: %s: %s\n", what, err->msg);
	exit(1);
}

static void rm_db(const char *p)
{
	char q[4200];
	unlink(p);
	snprintf(q, sizeof q, "%s-wal", p);
	unlink(q);
	snprintf(q, sizeof q, "%s-shm", p);
	unlink(q);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_ledger DIR [NSIGS [BATCH_BYTES]]\n");
		return 2;
	}
	const char *dir = argv[1];
	long nsigs = argc > 2 ? atol(argv[2]) : 1000000;
	long batch_bytes = argc > 3 ? atol(argv[3]) : 256 * 1024;
	char path[4096], path2[4096];
	struct ledger *l, *l2;
	struct tdm_err err;
	struct ledger_result res;
	struct ledger_cmd m;
	uint64_t idx = 0, seq = 0;

	snprintf(path, sizeof path, "%s/state.db", dir);
	snprintf(path2, sizeof path2, "%s/restored.db", dir);
	rm_db(path);
	rm_db(path2);
	if (ledger_open(&l, path, &err))
		die("open", &err);

	uint8_t *buf;
	size_t len;
#define APPLY() do { \
	if (ledger_cmd_encode(&m, &buf, &len, &err)) die("encode", &err); \
	if (ledger_apply(l, ++idx, buf, len, &res, &err)) die("apply", &err); \
	if (res.status != LEDGER_OK) { fprintf(stderr, "status %s: %s\n", ledger_status_name(res.status), res.msg); return 1; } \
	free(buf); } while (0)

	memset(&m, 0, sizeof m);
	m.id.origin = 1;
	m.type = LEDGER_CMD_POLICY_PUT;
	m.id.seq = ++seq;
	m.policy.name = ledger_str("default");
	m.policy.blob = ledger_str("<Policy/>");
	APPLY();
	memset(&m, 0, sizeof m);
	m.id.origin = 1;
	m.type = LEDGER_CMD_ZONE_ADD;
	m.id.seq = ++seq;
	m.zone.name = ledger_str("example.com");
	m.zone.policy = ledger_str("default");
	APPLY();
	memset(&m, 0, sizeof m);
	m.id.origin = 1;
	m.type = LEDGER_CMD_ZONE_INPUT;
	m.id.seq = ++seq;
	m.zone_input.zone = ledger_str("example.com");
	m.zone_input.serial = 1;
	m.zone_input.chunk_count = 1;
	m.zone_input.content = ledger_str("unsigned");
	APPLY();

	/* One signature: owner "nNNNNNNN.example.com" in wire form, 95 bytes of RDATA. */
	const size_t per_sig = 2 + 22 + 2 + 2 + 2 + 95;
	size_t per_batch = (size_t)batch_bytes / per_sig;
	struct ledger_sig *sigs = calloc(per_batch, sizeof *sigs);
	uint8_t *owners = malloc(per_batch * 22);
	uint8_t rdata[95];
	for (size_t i = 0; i < sizeof rdata; i++)
		rdata[i] = (uint8_t)(i * 7 + 3);

	long done = 0;
	uint32_t batch = 0;
	size_t bytes = 0, entries = 0;
	double apply_time = 0;
	while (done < nsigs) {
		size_t k = (size_t)(nsigs - done) < per_batch ? (size_t)(nsigs - done) : per_batch;
		for (size_t i = 0; i < k; i++) {
			uint8_t *o = owners + i * 22;
			o[0] = 8;
			snprintf((char *)o + 1, 9, "n%07ld", done + (long)i);
			memcpy(o + 9, "\x07" "example" "\x03" "com" "\x00", 13);
			sigs[i].owner.data = o;
			sigs[i].owner.len = 22;
			sigs[i].type_covered = 1;
			sigs[i].key_tag = 4242;
			rdata[20] = (uint8_t)i;
			sigs[i].rdata.data = rdata;
			sigs[i].rdata.len = sizeof rdata;
		}
		memset(&m, 0, sizeof m);
		m.id.origin = 1;
		m.id.seq = ++seq;
		m.type = LEDGER_CMD_SIG_BATCH;
		m.sig_batch.zone = ledger_str("example.com");
		m.sig_batch.input_serial = 1;
		m.sig_batch.batch = ++batch;
		m.sig_batch.nsigs = (uint32_t)k;
		m.sig_batch.sigs = sigs;
		if (ledger_cmd_encode(&m, &buf, &len, &err))
			die("encode", &err);
		double t0 = now();
		if (ledger_apply(l, ++idx, buf, len, &res, &err))
			die("apply", &err);
		apply_time += now() - t0;
		if (res.status != LEDGER_OK) {
			fprintf(stderr, "status %s: %s\n", ledger_status_name(res.status), res.msg);
			return 1;
		}
		bytes += len;
		entries++;
		free(buf);
		done += (long)k;
	}
	printf("sig_batch: %zu entries of %zu bytes (%zu sigs each), %ld signatures\n", entries,
	       bytes / entries, per_batch, nsigs);
	printf("apply: %.2f s, %.0f signatures/s, %.1f entries/s, %.1f MB/s, %.2f ms/entry\n", apply_time,
	       (double)nsigs / apply_time, (double)entries / apply_time, (double)bytes / apply_time / 1e6,
	       apply_time * 1e3 / (double)entries);

	uint8_t d1[32], d2[32];
	double t0 = now();
	if (ledger_digest(l, d1, NULL, &err))
		die("digest", &err);
	printf("digest: %.2f s\n", now() - t0);

	void *snap;
	size_t snap_len;
	t0 = now();
	if (ledger_snapshot(l, NULL, &snap, &snap_len, &err))
		die("snapshot", &err);
	printf("snapshot: %.2f s, %.1f MB\n", now() - t0, (double)snap_len / 1e6);

	struct ledger_snapshot_job *job;
	void *snap2;
	size_t snap2_len;
	t0 = now();
	if (ledger_snapshot_begin(l, &job, &err))
		die("snapshot_begin", &err);
	double t_begin = now() - t0;
	if (ledger_snapshot_write(job, NULL, &snap2, &snap2_len, &err))
		die("snapshot_write", &err);
	ledger_snapshot_end(job);
	printf("snapshot job: begin %.1f ms, total %.2f s\n", t_begin * 1e3, now() - t0);
	free(snap2);

	if (ledger_open(&l2, path2, &err))
		die("open restored", &err);
	t0 = now();
	if (ledger_restore(l2, snap, snap_len, &err))
		die("restore", &err);
	printf("restore: %.2f s (hash, write+fsync, integrity_check, rename, reopen)\n", now() - t0);
	if (ledger_digest(l2, d2, NULL, &err))
		die("digest", &err);
	printf("digests %s\n", memcmp(d1, d2, 32) == 0 ? "equal" : "DIFFER");
	free(snap);
	ledger_close(l2);
	ledger_close(l);
	free(sigs);
	free(owners);
	return memcmp(d1, d2, 32) == 0 ? 0 : 1;
}
