/*
 * libFuzzer target for the ledger: decode and apply.
 *
 * The input is a sequence of entries, each a big-endian u32 length and that
 * many bytes (a short tail is one last entry).  Every entry is decoded; what
 * decodes must re-encode to the same bytes (the encoding is canonical).
 * The whole sequence is then applied, at indexes 1, 2, ..., to two fresh
 * in-memory ledgers, which must both accept it without an I/O error and end
 * with the same digest: apply is deterministic and never fails for what an
 * entry says.  Seeds in tests/fuzz/corpus/ledger/ are encoded command
 * sequences that build a zone, keys, inputs and signatures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 64

static void check_codec(const uint8_t *p, size_t n)
{
	struct ledger_cmd m;
	struct tdm_err err;
	/* A private copy of the exact size, so any over-read is caught. */
	uint8_t *copy = malloc(n ? n : 1);
	memcpy(copy, p, n);
	if (ledger_cmd_decode(copy, n, &m, &err) == 0) {
		uint8_t *out = NULL;
		size_t len = 0;
		if (ledger_cmd_encode(&m, &out, &len, &err) != 0 || len != n ||
		    memcmp(out, copy, n) != 0) {
			fprintf(stderr, "fuzz_ledger: %s decodes but does not re-encode to the same bytes\n",
				ledger_cmd_type_name(m.type));
			abort();
		}
		free(out);
	}
	ledger_cmd_clear(&m);
	free(copy);
}

static void apply_all(struct ledger_entry *e, size_t n, uint8_t digest[32])
{
	struct ledger *l;
	struct tdm_err err;
	struct ledger_result res;
	if (ledger_open(&l, ":memory:", &err) != 0) {
		fprintf(stderr, "fuzz_ledger: %s\n", err.msg);
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		int rc = ledger_apply(l, i + 1, e[i].buf, e[i].len, &res, &err);
		/* Only a newer format version may stop apply; everything else is a result. */
		if (rc == TDM_EVERSION)
			break;
		if (rc != 0) {
			fprintf(stderr, "fuzz_ledger: apply of entry %zu failed: %s\n", i + 1, err.msg);
			abort();
		}
	}
	if (ledger_digest(l, digest, NULL, &err) != 0) {
		fprintf(stderr, "fuzz_ledger: digest: %s\n", err.msg);
		abort();
	}
	ledger_close(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ledger_entry e[MAX_ENTRIES];
	uint8_t *bufs[MAX_ENTRIES];
	size_t n = 0, off = 0;
	uint8_t d1[32], d2[32];

	while (off < size && n < MAX_ENTRIES) {
		size_t len = size - off;
		if (len >= 4) {
			size_t want = (size_t)data[off] << 24 | (size_t)data[off + 1] << 16 |
				      (size_t)data[off + 2] << 8 | data[off + 3];
			off += 4;
			len = size - off;
			if (want < len)
				len = want;
		}
		bufs[n] = malloc(len ? len : 1);
		memcpy(bufs[n], data + off, len);
		e[n].buf = bufs[n];
		e[n].len = len;
		check_codec(data + off, len);
		off += len;
		n++;
	}
	apply_all(e, n, d1);
	apply_all(e, n, d2);
	if (memcmp(d1, d2, 32) != 0) {
		fprintf(stderr, "fuzz_ledger: the same entries gave two digests\n");
		abort();
	}
	for (size_t i = 0; i < n; i++)
		free(bufs[i]);
	return 0;
}
