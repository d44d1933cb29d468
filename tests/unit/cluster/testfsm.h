/*
 * A tiny replicated state machine for the cluster tests: it counts the
 * commands it applies, hashes them (FNV-1a, in order) and ignores a
 * command id (origin, seq) it has already applied, as the ledger does.
 *
 * Entry layout: [origin u64][seq u64][filler], little endian, a multiple of
 * 8 bytes, at least 16.  Snapshots hold the counters and the id set.
 */
#ifndef TDM_TEST_TESTFSM_H
#define TDM_TEST_TESTFSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/cluster.h"

struct testfsm {
	uint64_t count;       /* unique commands applied */
	uint64_t dups;        /* duplicates ignored */
	uint64_t hash;        /* FNV-1a over unique entries, in order */
	uint64_t last_index;  /* index of the last entry applied */
	uint64_t restores, snapshots;
	uint64_t *ids;        /* pairs (origin, seq) */
	size_t n_ids, cap_ids;
	int fail_next_apply;  /* > 0: fail that many applies (transient error) */
};

struct testfsm_result {
	uint64_t index;
	bool dup;
	uint64_t count;
};

extern const struct cluster_fsm_ops testfsm_ops;

void testfsm_init(struct testfsm *f);
void testfsm_free(struct testfsm *f);

/** Fill @p buf with an entry of @p size bytes (multiple of 8, >= 16). */
void testfsm_entry(void *buf, size_t size, uint64_t origin, uint64_t seq);

/** Number of results freed so far (result_free calls), process-wide. */
extern unsigned long testfsm_results_freed;

#endif
