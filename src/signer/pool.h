/*
 * The worker pool: makes the signatures of a work list, in worker
 * processes (default) or threads.
 *
 * Processes: the pool forks after the zone is loaded and the work list
 * built, so every child sees the zone through copy-on-write pages and
 * needs nothing sent to it.  Each child opens the backend itself (for
 * PKCS#11: hsm_ctx_open() again, PKCS#11 v2.40 §5.4) and claims chunks of
 * the work list from a counter in a MAP_SHARED area; it builds the
 * canonical signing input, signs, and writes a sig blob (zone.h:
 * inception, expiration, length, signature) into that item's slot of the
 * same area.  SoftHSM2 does not scale across the
 * threads of one process, processes do (see ANCHORS.md).
 *
 * Threads: the same loop on threads sharing one opened backend.
 */
#ifndef SIGNER_POOL_H
#define SIGNER_POOL_H

#include "signer/rrsig.h"

/**
 * Sign every item.  On success *area is a shared mapping of *area_len
 * bytes (unmap with signer__shm_free) whose last n * slot_size bytes hold
 * item i's sig blob at i * slot_size from their start.
 * @return 0, or the first error of any worker (err says which and why).
 */
int signer__pool_run(const struct signer__sigctx *c, const struct signer__work *items,
		     size_t n, uint8_t **area, size_t *area_len, size_t *slot_size,
		     struct tdm_err *err);

#endif
