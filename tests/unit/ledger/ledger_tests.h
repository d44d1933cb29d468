/*
 * The TCases of check_ledger and the helpers they share: sample commands
 * of every type, a ledger in a temporary directory, apply shortcuts.
 */
#ifndef TDM_TESTS_LEDGER_H
#define TDM_TESTS_LEDGER_H

#include <check.h>
#include <stdint.h>

#include "ledger/ledger.h"

TCase *tcase_codec(void);
TCase *tcase_apply(void);
TCase *tcase_snapshot(void);
TCase *tcase_enforce(void);

/** Fill @p m with a valid sample command of @p type (static data), id (7, seq). */
void sample_cmd(struct ledger_cmd *m, unsigned type, uint64_t seq);

/** Fill an ENFORCE key (sample states and times). */
void sample_enforce_key(struct ledger_enforce_key *k, const char *id, uint8_t op, uint8_t claim_scope,
			uint8_t claim_role);

/** A KEY_CREATE of a pool key @p id (SoftHSM, algorithm 13, 256 bits, flags 256). */
void sample_pool_key(struct ledger_cmd *m, const char *id, uint64_t seq);

/** Encode or fail the test; the caller frees the result. */
uint8_t *enc(const struct ledger_cmd *m, size_t *len);

/** Field-by-field equality of two commands of the same type. */
void assert_cmd_equal(const struct ledger_cmd *a, const struct ledger_cmd *b);

/** A ledger at <tmpdir>/state.db. */
struct tl {
	char *dir;
	char *path;
	struct ledger *l;
};
void tl_open(struct tl *t);
void tl_reopen(struct tl *t);
void tl_close(struct tl *t);

/** Encode @p m and apply it at @p index; returns the status (apply must return 0). */
enum ledger_status apply_cmd(struct ledger *l, uint64_t index, const struct ledger_cmd *m);

/** Like apply_cmd, also copying the result. */
enum ledger_status apply_cmd_res(struct ledger *l, uint64_t index, const struct ledger_cmd *m,
				 struct ledger_result *res);

/** Digest or fail. */
void digest_of(struct ledger *l, uint8_t out[32]);

/**
 * Apply a fixed scenario touching every table from index @p *index + 1 on;
 * advances *index.  Same scenario, same digest.  It ends with a ZONE_BATCH
 * (example.net added), pool keys pool-1 and pool-2, the sample ENFORCE
 * (pool-1 claimed as example.com's CSK, pool-2 as a shared KSK of
 * "default") and a BACKUP PREPARE of SoftHSM; the last seq is 119.
 */
void apply_scenario(struct ledger *l, uint64_t *index);

#endif
