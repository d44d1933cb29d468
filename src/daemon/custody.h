/*
 * Key custody in tandemd (DESIGN.md "Key custody"): the node's transport
 * key pair, the cluster KEK, NODE_ADD records, and replicated DNSSEC keys.
 *
 *  - On first start a node creates its transport key pair in its token
 *    (the first <Repository> of conf.xml); `custody pubkey` hands out the
 *    public half.
 *  - The first leader of a new cluster creates the KEK in its token.
 *  - The leader keeps the ledger's node table in step with the Raft
 *    configuration: a member without a NODE_ADD gets one, carrying its
 *    address, role, transport public key and the KEK wrapped for it.
 *  - A node that applies a NODE_ADD for itself unwraps the KEK into its
 *    token (once; after the entry is committed, on the loop thread).
 *  - `key generate` on the leader makes an extractable session key pair,
 *    wraps the private half under the KEK and commits KEY_CREATE; every
 *    node unwraps keys into session objects on first use.
 *
 * Without a <Repository> in conf.xml the node runs without custody: NODE_ADD
 * records carry no key material and `key generate` is refused.
 */
#ifndef TDM_DAEMON_CUSTODY_H
#define TDM_DAEMON_CUSTODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger.h"

struct daemon;
struct custody;

/** Open the token and make sure the transport key pair exists.  0 or a code. */
int custody_new(struct custody **out, struct daemon *d, struct tdm_err *err);
void custody_close(struct custody *cu);

/** Is a token configured and open? */
bool custody_enabled(const struct custody *cu);

struct hsm_ctx;
/** The node's HSM context (NULL without custody) and its repository name. */
struct hsm_ctx *custody_hsm(struct custody *cu);
const char *custody_repository(const struct custody *cu);
/** Does this node hold the cluster KEK (needed to wrap new keys)? */
bool custody_has_kek(struct custody *cu);

/** Leader ready: create the KEK if the cluster has none, reconcile the node table. */
void custody_on_leader(struct custody *cu);
/** After every applied entry (loop thread): notice a NODE_ADD for this node. */
void custody_on_apply(struct custody *cu, const struct ledger_result *res, const void *buf,
		      size_t len);
/** state.db was replaced by a snapshot: look for this node's NODE_ADD again. */
void custody_on_restore(struct custody *cu);
/** The node started (its log replayed): look for this node's NODE_ADD. */
void custody_on_start(struct custody *cu);
/** The Raft configuration changed (add/remove): reconcile soon. */
void custody_members_changed(struct custody *cu);

/**
 * The transport public key of this node (borrowed), NULL without custody.
 */
const uint8_t *custody_transport_pubkey(struct custody *cu, size_t *len);

struct hsm_key;

/**
 * The ledger key `key_id` as a signing key of this node: unwrapped under
 * the KEK into a session object on first use, then cached by the HSM
 * layer.  @param key (out) borrowed from the custody's HSM context;
 * @param info (out) the ledger row, free with custody_key_info_free().
 * @return 0, TDM_ENOKEY (no custody, no such key, no KEK), TDM_EHSM, TDM_EALGO.
 */
int custody_key_get(struct custody *cu, const char *key_id, struct hsm_key **key,
		    struct ledger_key **info, struct tdm_err *err);
void custody_key_info_free(struct ledger_key *info);

#endif
