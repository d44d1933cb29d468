/*
 * One zone through the enforcer: state.db -> struct enforcer_zone ->
 * enforcer_zone_update() -> the zone's part of an ENFORCE entry, and after
 * the commit its signconf.
 *
 * A plan that asks for new keys (KEY_NEW) gets them from the pool cursors
 * of its chunk and is planned again from the same loaded state with the
 * claimed keys added, so the entry holds the claims and every decision
 * about them at once.  A key the pool cannot give leaves the zone waiting
 * (its old keys stay in service) and is asked of pool.c after the chunk.
 */
#define _GNU_SOURCE
#include "daemon/daemon_int.h"
#include "daemon/enforce_int.h"
#include "common/hex.h"
#include "common/log.h"
#include "hsm/hsm.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *own(struct zplan *zp, char *s)
{
	if (zp->n_strs == zp->cap_strs) {
		zp->cap_strs = zp->cap_strs ? 2 * zp->cap_strs : 8;
		zp->strs = tdm_realloc(zp->strs, zp->cap_strs * sizeof *zp->strs);
	}
	zp->strs[zp->n_strs++] = s;
	return s;
}

static char *hex_of(const uint8_t *b, size_t n)
{
	char *s = tdm_malloc(2 * n + 1);
	tdm_hex_encode(b, n, s);
	return s;
}

static struct enforcer_key *add_key(struct zplan *zp)
{
	if (zp->n_keys == zp->cap_keys) {
		zp->cap_keys = zp->cap_keys ? 2 * zp->cap_keys : 8;
		zp->keys = tdm_realloc(zp->keys, zp->cap_keys * sizeof *zp->keys);
	}
	struct enforcer_key *k = &zp->keys[zp->n_keys++];
	memset(k, 0, sizeof *k);
	return k;
}

static void key_from_ledger(struct zplan *zp, const struct ledger_zone_key *lk)
{
	const struct ledger_key *id = &lk->key;
	struct enforcer_key *k = add_key(zp);
	k->id = id->key_id;
	k->locator = own(zp, hex_of(id->cka_id, id->cka_id_len));
	k->repository = id->repository;
	k->role = (enum tdm_key_role)id->role;
	k->algorithm = id->algorithm;
	k->bits = id->bits;
	k->key_tag = id->key_tag;
	k->shared = id->scope == LEDGER_SCOPE_POLICY;
	k->goal = (enum enforcer_goal)lk->goal;
	k->created = (int64_t)id->created;
	k->active_since = (int64_t)lk->active_since;
	for (int r = 0; r < ENFORCER_NRECORDS; r++) {
		k->rec[r].state = lk->rec[r].state;
		k->rec[r].since = (int64_t)lk->rec[r].since;
	}
	k->ds = lk->ds_at_parent;
	k->ds_since = (int64_t)lk->ds_at_parent_since;
}

/* Key tag of a pool key once its DNSKEY flags say `role`. */
static uint16_t tag_as(const struct ledger_key *k, enum tdm_key_role role)
{
	uint8_t buf[2048];
	if (k->public_rdata_len < 4 || k->public_rdata_len > sizeof buf)
		return k->key_tag;
	memcpy(buf, k->public_rdata, k->public_rdata_len);
	buf[0] = 0x01;
	buf[1] = role == TDM_ROLE_ZSK ? 0x00 : 0x01;
	return hsm_keytag(buf, k->public_rdata_len);
}

static struct pool_cursor *cursor(struct enforce *e, struct chunk *c, const char *repo,
				  uint8_t alg, uint32_t bits)
{
	for (size_t i = 0; i < c->n_pools; i++) {
		struct pool_cursor *p = &c->pools[i];
		if (p->algorithm == alg && p->bits == bits && !strcmp(p->repository, repo))
			return p;
	}
	const struct tdm_repository *r = tdm_conf_repository(e->d->conf, repo);
	struct tdm_err err = { "" };
	c->pools = tdm_realloc(c->pools, (c->n_pools + 1) * sizeof *c->pools);
	struct pool_cursor *p = &c->pools[c->n_pools++];
	memset(p, 0, sizeof *p);
	p->repository = tdm_strdup(repo);
	p->algorithm = alg;
	p->bits = bits;
	/* Enough for a whole chunk needing two keys of this kind per zone. */
	if (ledger_pool_keys(e->d->ledger, repo, alg, (uint16_t)bits, r && r->require_backup,
			     2 * ENFORCE_CHUNK + 8, &p->keys, &p->n, &err) != 0) {
		tdm_log_err("enforcer: pool %s/%u/%u: %s", repo, alg, bits, err.msg);
		p->keys = NULL;
		p->n = 0;
	}
	return p;
}

static struct shared_set *shared_of(struct enforce *e, struct chunk *c, const char *policy)
{
	for (size_t i = 0; i < c->n_shared; i++)
		if (!strcmp(c->shared[i].policy, policy))
			return &c->shared[i];
	struct tdm_err err = { "" };
	c->shared = tdm_realloc(c->shared, (c->n_shared + 1) * sizeof *c->shared);
	struct shared_set *s = &c->shared[c->n_shared++];
	memset(s, 0, sizeof *s);
	s->policy = tdm_strdup(policy);
	if (ledger_key_list(e->d->ledger, policy, &s->keys, &s->n, &err) != 0) {
		tdm_log_err("enforcer: shared keys of policy %s: %s", policy, err.msg);
		s->keys = NULL;
		s->n = 0;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct ledger_key *lk = &s->keys[i];
		if (lk->scope != LEDGER_SCOPE_POLICY)
			continue;
		if (s->n_ek == s->cap_ek) {
			s->cap_ek = s->cap_ek ? 2 * s->cap_ek : 8;
			s->ek = tdm_realloc(s->ek, s->cap_ek * sizeof *s->ek);
		}
		s->strs = tdm_realloc(s->strs, (s->n_strs + 1) * sizeof *s->strs);
		s->strs[s->n_strs] = hex_of(lk->cka_id, lk->cka_id_len);
		enforcer_key_init(&s->ek[s->n_ek++], lk->key_id, s->strs[s->n_strs++],
				  (enum tdm_key_role)lk->role, lk->algorithm, lk->bits, lk->key_tag,
				  ENFORCER_GOAL_ACTIVE, true, (int64_t)lk->created);
		s->ek[s->n_ek - 1].repository = lk->repository;
	}
	return s;
}

/* A key just claimed as shared: the other zones of the chunk may adopt it. */
static void shared_add(struct shared_set *s, const struct enforcer_key *k)
{
	if (s->n_ek == s->cap_ek) {
		s->cap_ek = s->cap_ek ? 2 * s->cap_ek : 8;
		s->ek = tdm_realloc(s->ek, s->cap_ek * sizeof *s->ek);
	}
	s->strs = tdm_realloc(s->strs, (s->n_strs + 2) * sizeof *s->strs);
	s->strs[s->n_strs] = tdm_strdup(k->id);
	s->strs[s->n_strs + 1] = tdm_strdup(k->locator);
	enforcer_key_init(&s->ek[s->n_ek++], s->strs[s->n_strs], s->strs[s->n_strs + 1], k->role,
			  k->algorithm, k->bits, k->key_tag, ENFORCER_GOAL_ACTIVE, true, k->created);
	s->ek[s->n_ek - 1].repository = k->repository;
	s->n_strs += 2;
}

/* Take a pool key for a KEY_NEW action.  false: the pool is empty. */
static bool claim(struct enforce *e, struct chunk *c, struct zplan *zp,
		  const struct enforcer_action *a, const char *default_repo)
{
	const char *repo = a->repository ? a->repository : default_repo;
	struct pool_cursor *p = cursor(e, c, repo, a->algorithm, a->bits);
	if (p->next >= p->n) {
		/* One shared key serves every zone of the policy: ask once. */
		if (a->shared)
			p->shared_wanted = true;
		else
			p->wanted++;
		return false;
	}
	struct ledger_key *lk = &p->keys[p->next++];
	zp->claimed = tdm_realloc(zp->claimed, (zp->n_claimed + 1) * sizeof *zp->claimed);
	zp->claim_scope = tdm_realloc(zp->claim_scope, (zp->n_claimed + 1) * sizeof *zp->claim_scope);
	/* Move the row: the cursor's array keeps a hollow copy, freed with it. */
	zp->claimed[zp->n_claimed] = *lk;
	memset(lk, 0, sizeof *lk);
	zp->claim_scope[zp->n_claimed] = a->shared ? LEDGER_SCOPE_POLICY : LEDGER_SCOPE_ZONE;
	const struct ledger_key *ck = &zp->claimed[zp->n_claimed++];

	struct enforcer_key *k = add_key(zp);
	enforcer_key_init(k, ck->key_id, own(zp, hex_of(ck->cka_id, ck->cka_id_len)), a->role,
			  a->algorithm, a->bits, tag_as(ck, a->role), a->goal, a->shared, c->now);
	k->repository = ck->repository;
	if (a->shared)
		shared_add(shared_of(e, c, zp->st.policy), k);
	return true;
}

static const struct ledger_key *claimed_row(const struct zplan *zp, const char *id, uint8_t *scope)
{
	for (size_t i = 0; i < zp->n_claimed; i++)
		if (!strcmp(zp->claimed[i].key_id, id)) {
			if (scope)
				*scope = zp->claim_scope[i];
			return &zp->claimed[i];
		}
	return NULL;
}

static const struct ledger_key *identity(const struct zplan *zp, struct chunk *c, const char *id)
{
	const struct ledger_key *k = claimed_row(zp, id, NULL);
	if (k)
		return k;
	for (size_t i = 0; i < zp->st.nkeys; i++)
		if (!strcmp(zp->st.keys[i].key.key_id, id))
			return &zp->st.keys[i].key;
	for (size_t i = 0; i < c->n_shared; i++)
		for (size_t j = 0; j < c->shared[i].n; j++)
			if (c->shared[i].keys[j].key_id && !strcmp(c->shared[i].keys[j].key_id, id))
				return &c->shared[i].keys[j];
	return NULL;
}

/*
 * key import: the pool key `cka_id` joins the zone in the state OpenDNSSEC
 * names (generate, publish, ready, active, retire) since `import_time`.
 * Its lifetime starts now, so it is the youngest key of its slot: keys
 * the zone got before (at zone add) retire in its favour.
 */
static int import_key(struct enforce *e, struct zplan *zp, const struct enforce_request *r,
		      int64_t now, struct tdm_err *err)
{
	/* Pool keys are named by their CKA_ID in lower-case hex (pool.c, key import). */
	struct ledger_key *lk = NULL;
	int rc = ledger_key_get(e->d->ledger, r->cka_id, &lk, err);
	if (rc == 0 && lk->scope != LEDGER_SCOPE_POOL) {
		ledger_key_list_free(lk, 1);
		rc = TDM_ENOENT;
	}
	if (rc == TDM_ENOENT)
		return tdm_err_fail(err, TDM_ENOENT, "zone %s: key %s is not in the key pool (used already?)",
				    zp->zone, r->cka_id);
	if (rc != 0)
		return rc;
	const char *st = r->import_state ? r->import_state : "active";
	bool shared = zp->pol->pol.share_keys;
	zp->claimed = tdm_realloc(zp->claimed, (zp->n_claimed + 1) * sizeof *zp->claimed);
	zp->claim_scope = tdm_realloc(zp->claim_scope, (zp->n_claimed + 1) * sizeof *zp->claim_scope);
	zp->claimed[zp->n_claimed] = *lk;
	free(lk); /* the row's contents now belong to zp->claimed */
	zp->claim_scope[zp->n_claimed] = shared ? LEDGER_SCOPE_POLICY : LEDGER_SCOPE_ZONE;
	const struct ledger_key *ck = &zp->claimed[zp->n_claimed++];

	struct enforcer_key *k = add_key(zp);
	bool retire = !strcasecmp(st, "retire");
	enforcer_key_init(k, ck->key_id, own(zp, hex_of(ck->cka_id, ck->cka_id_len)), r->role,
			  ck->algorithm, ck->bits, tag_as(ck, r->role),
			  retire ? ENFORCER_GOAL_RETIRE : ENFORCER_GOAL_ACTIVE, shared, now);
	k->repository = ck->repository;
	int64_t w = r->import_time > 0 && r->import_time <= now ? r->import_time : now;
	uint8_t dnskey = ENFORCER_HIDDEN, sigs = ENFORCER_HIDDEN;
	if (!strcasecmp(st, "publish"))
		dnskey = ENFORCER_RUMOURED;
	else if (!strcasecmp(st, "ready"))
		dnskey = ENFORCER_OMNIPRESENT;
	else if (!strcasecmp(st, "active") || retire)
		dnskey = sigs = ENFORCER_OMNIPRESENT;
	for (int rec = 0; rec < ENFORCER_NRECORDS; rec++) {
		if (!enforcer_record_applies(r->role, (enum enforcer_record)rec))
			continue;
		uint8_t v = rec == ENFORCER_DNSKEY ? dnskey
			  : rec == ENFORCER_RRSIG_DNSKEY ? (dnskey == ENFORCER_OMNIPRESENT ? dnskey : ENFORCER_HIDDEN)
			  : sigs;
		k->rec[rec].state = v;
		k->rec[rec].since = w;
	}
	/* An active KSK or CSK has its DS at the parent. */
	if (sigs == ENFORCER_OMNIPRESENT && enforcer_record_applies(r->role, ENFORCER_DS)) {
		k->ds = ENFORCER_DS_SEEN;
		k->ds_since = w;
	}
	return 0;
}

static int apply_op(struct enforce *e, struct zplan *zp, const struct job *j, int64_t now,
		    struct tdm_err *err)
{
	const struct enforce_request *r = &j->req;
	if (r->op == ENFORCE_OP_IMPORT)
		return import_key(e, zp, r, now, err);
	if (r->op == ENFORCE_OP_ROLL) {
		bool any = false;
		for (size_t s = 0; s < zp->pol->pol.n_slots; s++) {
			enum tdm_key_role role = zp->pol->pol.slots[s].role;
			if (r->role == 0 || r->role == role) {
				zp->roll[role] = (uint64_t)now;
				any = true;
			}
		}
		if (!any)
			return tdm_err_fail(err, TDM_EINVAL, "zone %s: policy %s has no %s",
					    zp->zone, zp->st.policy, tdm_key_role_name(r->role));
		return 0;
	}
	if (r->op < ENFORCE_OP_DS_SUBMIT || r->op > ENFORCE_OP_DS_GONE)
		return 0;
	struct enforcer_key *k = NULL;
	for (size_t i = 0; i < zp->n_keys; i++) {
		struct enforcer_key *x = &zp->keys[i];
		if (r->cka_id ? strcasecmp(x->locator, r->cka_id) == 0 : x->key_tag == r->keytag) {
			k = x;
			break;
		}
	}
	if (k == NULL) {
		if (r->cka_id)
			return tdm_err_fail(err, TDM_ENOENT, "zone %s: no key with CKA_ID %s",
					    zp->zone, r->cka_id);
		return tdm_err_fail(err, TDM_ENOENT, "zone %s: no key with key tag %d", zp->zone,
				    r->keytag);
	}
	switch (r->op) {
	case ENFORCE_OP_DS_SUBMIT: return enforcer_key_ds_submit(k, now, err);
	case ENFORCE_OP_DS_SEEN: return enforcer_key_ds_seen(k, now, err);
	case ENFORCE_OP_DS_RETRACT: return enforcer_key_ds_retract(k, now, err);
	default: return enforcer_key_ds_gone(k, now, err);
	}
}

static void maybe_resalt(struct zplan *zp, int64_t now)
{
	const struct tdm_policy *p = zp->pol->pol.conf;
	if (!p->nsec3) {
		if (zp->salt[0] != '\0') {
			free(zp->salt);
			zp->salt = tdm_strdup("");
			zp->signconf = true;
		}
		return;
	}
	if (p->nsec3_salt_length == 0) {
		if (zp->salt[0] != '\0') {
			free(zp->salt);
			zp->salt = tdm_strdup("");
			zp->salt_time = (uint64_t)now;
			zp->signconf = true;
		}
		return;
	}
	if (zp->salt[0] != '\0' && strlen(zp->salt) == 2u * p->nsec3_salt_length &&
	    (p->nsec3_resalt <= 0 || (int64_t)zp->salt_time + p->nsec3_resalt > now))
		return;
	/* The leader chooses the salt; it travels in the ENFORCE entry. */
	uint8_t b[255];
	if (RAND_bytes(b, p->nsec3_salt_length) != 1)
		return;
	free(zp->salt);
	zp->salt = hex_of(b, p->nsec3_salt_length);
	zp->salt_time = (uint64_t)now;
	zp->signconf = true;
}

static char *dnskey_rr(const char *zone, const struct ledger_key *k, enum tdm_key_role role,
		       int64_t ttl)
{
	if (k->public_rdata_len < 4)
		return NULL;
	size_t n = k->public_rdata_len - 4;
	char *b64 = tdm_malloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, k->public_rdata + 4, (int)n);
	char *rr = daemon__sprintf("%s.\t%lld\tIN\tDNSKEY\t%u 3 %u %s\n", zone, (long long)ttl,
				   role == TDM_ROLE_ZSK ? 256u : 257u, k->algorithm, b64);
	free(b64);
	return rr;
}

/*
 * <RolloverNotification>: a notice when an automatic rollover is less than
 * that long away, and a run scheduled for the moment it comes within the
 * window, so the notice is on time.
 */
static void rollover_notification(struct enforce *e, struct zplan *zp, int64_t now, int64_t jitter)
{
	int64_t ahead = e->d->conf->rollover_notification;
	if (ahead < 0)
		return;
	for (size_t i = 0; i < zp->plan.n_keys; i++) {
		const struct enforcer_key *k = &zp->plan.keys[i];
		const struct enforcer_slot *slot = enforcer_policy_slot(&zp->pol->pol, k);
		if (k->goal != ENFORCER_GOAL_ACTIVE || slot == NULL || slot->manual_rollover)
			continue;
		int64_t due = k->active_since + slot->lifetime - (k->shared ? 0 : jitter);
		if (due <= now)
			continue;
		if (now >= due - ahead) {
			char when[32];
			tdm_time_format(due, when, sizeof when);
			tdm_log_notice("enforcer: zone %s: the %s %s (key tag %u) rolls over at %s (RolloverNotification)",
				       zp->zone, tdm_key_role_name(k->role), k->id, k->key_tag, when);
		} else if ((uint64_t)(due - ahead) < zp->next_due) {
			zp->next_due = (uint64_t)(due - ahead);
		}
	}
}

int enforce__zone_plan(struct enforce *e, struct chunk *c, const struct job *j,
		       const char *zone, struct zplan *zp, struct tdm_err *err)
{
	int64_t now = c->now;
	int rc;
	zp->zone = tdm_strdup(zone);
	rc = ledger_zone_state_get(e->d->ledger, zone, &zp->st, err);
	if (rc == TDM_ENOENT)
		return tdm_err_fail(err, rc, "zone %s: no such zone", zone);
	if (rc != 0)
		return rc;
	zp->pol = enforce_policy_get(e, zp->st.policy, err);
	if (zp->pol == NULL) {
		tdm_err_wrap(err, "zone %s", zone);
		return TDM_EINVAL;
	}
	for (size_t i = 0; i < zp->st.nkeys; i++)
		key_from_ledger(zp, &zp->st.keys[i]);
	memcpy(zp->roll, zp->st.roll, sizeof zp->roll);
	zp->salt = tdm_strdup(zp->st.salt ? zp->st.salt : "");
	zp->salt_time = zp->st.salt_time;
	rc = apply_op(e, zp, j, now, err);
	if (rc != 0)
		return rc;
	maybe_resalt(zp, now);

	struct shared_set *shared = zp->pol->pol.share_keys ? shared_of(e, c, zp->st.policy) : NULL;
	int64_t window = 0;
	for (size_t s = 0; s < zp->pol->pol.n_slots; s++) {
		int64_t w = zp->pol->pol.slots[s].lifetime / 20;
		if (w > 86400)
			w = 86400;
		if (window == 0 || w < window)
			window = w;
	}
	const char *default_repo = e->d->conf->n_repositories ? e->d->conf->repositories[0].name : "";
	for (int iter = 0; iter < 4; iter++) {
		struct enforcer_zone z = {
			.name = zone, .policy = &zp->pol->pol,
			.keys = zp->keys, .n_keys = zp->n_keys,
			.shared_pool = shared ? shared->ek : NULL,
			.n_shared_pool = shared ? shared->n_ek : 0,
			.roll_jitter = enforcer_roll_jitter(zone, window),
		};
		for (int r = 0; r < 4; r++)
			z.roll_requested[r] = (int64_t)zp->roll[r];
		enforcer_plan_clear(&zp->plan);
		rc = enforcer_zone_update(&z, now, &zp->plan, err);
		if (rc != 0) {
			tdm_err_wrap(err, "zone %s", zone);
			return rc;
		}
		if (!zp->plan.keys_needed)
			break;
		bool got = false;
		for (size_t a = 0; a < zp->plan.n_actions; a++) {
			const struct enforcer_action *act = &zp->plan.actions[a];
			if (act->type == ENFORCER_ACT_KEY_NEW && claim(e, c, zp, act, default_repo))
				got = true;
		}
		if (!got)
			break;
		/* claim() may have grown the shared set: refresh the view. */
	}
	zp->waits_for_keys = zp->plan.keys_needed;
	zp->pool_epoch = e->pool_epoch;

	/* The entry: every key of the plan, DROP for the purged ones. */
	zp->ek = tdm_calloc(zp->plan.n_keys + zp->st.nkeys + 1, sizeof *zp->ek);
	for (size_t i = 0; i < zp->plan.n_keys; i++) {
		const struct enforcer_key *k = &zp->plan.keys[i];
		struct ledger_enforce_key *x = &zp->ek[zp->n_ek++];
		uint8_t scope = 0;
		x->key_id = ledger_str(k->id);
		x->op = LEDGER_EK_SET;
		if (claimed_row(zp, k->id, &scope)) {
			x->claim_scope = scope;
			x->claim_role = (uint8_t)k->role;
		}
		x->goal = (uint8_t)k->goal;
		x->ds_at_parent = k->ds;
		x->ds_at_parent_since = (uint64_t)(k->ds_since > 0 ? k->ds_since : 0);
		x->active_since = (uint64_t)(k->active_since > 0 ? k->active_since : 0);
		for (int r = 0; r < 4; r++) {
			x->rec[r].state = k->rec[r].state;
			x->rec[r].since = (uint64_t)(k->rec[r].since > 0 ? k->rec[r].since : 0);
		}
	}
	for (size_t i = 0; i < zp->st.nkeys; i++) {
		const char *id = zp->st.keys[i].key.key_id;
		bool kept = false;
		for (size_t k = 0; k < zp->plan.n_keys && !kept; k++)
			kept = !strcmp(zp->plan.keys[k].id, id);
		if (!kept) {
			struct ledger_enforce_key *x = &zp->ek[zp->n_ek++];
			x->key_id = ledger_str(id);
			x->op = LEDGER_EK_DROP;
		}
	}

	if (zp->plan.next == INT64_MAX)
		zp->next_due = UINT64_MAX;
	else
		zp->next_due = (uint64_t)(zp->plan.next > now ? zp->plan.next : now + 1);
	if (zp->waits_for_keys && zp->next_due > (uint64_t)(now + ENFORCE_KEY_RETRY))
		zp->next_due = (uint64_t)(now + ENFORCE_KEY_RETRY);
	rollover_notification(e, zp, now, enforcer_roll_jitter(zone, window));

	char *path = enforce_signconf_path(e, zone, zp->st.signconf);
	if (zp->plan.changed || zp->st.next_due == 0 || j->req.signconf || access(path, F_OK) != 0)
		zp->signconf = true;
	/* A zone still waiting for its first keys gets no signconf: the
	 * signer would publish it unsigned. */
	if (zp->waits_for_keys && zp->plan.n_keys == 0)
		zp->signconf = false;
	free(path);

	/* DelegationSigner{Submit,Retract}Command after the commit. */
	const struct tdm_conf *conf = e->d->conf;
	for (size_t a = 0; a < zp->plan.n_actions; a++) {
		const struct enforcer_action *act = &zp->plan.actions[a];
		bool sub = act->type == ENFORCER_ACT_DS_SUBMIT;
		if (!sub && act->type != ENFORCER_ACT_DS_RETRACT)
			continue;
		if ((sub ? conf->ds_submit_command : conf->ds_retract_command) == NULL)
			continue;
		const struct ledger_key *lk = identity(zp, c, act->key_id);
		const struct enforcer_key *pk = NULL;
		for (size_t k = 0; k < zp->plan.n_keys && pk == NULL; k++)
			if (!strcmp(zp->plan.keys[k].id, act->key_id))
				pk = &zp->plan.keys[k];
		if (lk == NULL || pk == NULL)
			continue;
		enum tdm_key_role role = pk->role;
		zp->calls = tdm_realloc(zp->calls, (zp->n_calls + 1) * sizeof *zp->calls);
		struct ds_call *dc = &zp->calls[zp->n_calls++];
		dc->submit = sub;
		dc->zone = tdm_strdup(zone);
		dc->key_id = tdm_strdup(act->key_id);
		dc->locator = tdm_strdup(pk->locator);
		dc->dnskey_rr = dnskey_rr(zone, lk, role, zp->pol->pol.conf->keys_ttl);
	}
	return 0;
}

void enforce__ds_call_clear(struct ds_call *dc)
{
	free(dc->zone);
	free(dc->key_id);
	free(dc->locator);
	free(dc->dnskey_rr);
	memset(dc, 0, sizeof *dc);
}

bool enforce__zone_defer(struct zplan *zp, int64_t now)
{
	if (zp->st.name == NULL)
		return false;
	enforcer_plan_clear(&zp->plan);
	free(zp->ek);
	zp->ek = NULL;
	zp->n_ek = 0;
	memcpy(zp->roll, zp->st.roll, sizeof zp->roll);
	free(zp->salt);
	zp->salt = tdm_strdup(zp->st.salt ? zp->st.salt : "");
	zp->salt_time = zp->st.salt_time;
	zp->next_due = (uint64_t)(now + ENFORCE_FAIL_RETRY);
	zp->deferred = true;
	zp->signconf = false;
	zp->waits_for_keys = false;
	for (size_t i = 0; i < zp->n_calls; i++)
		enforce__ds_call_clear(&zp->calls[i]);
	free(zp->calls);
	zp->calls = NULL;
	zp->n_calls = 0;
	/* Claims made before the failure go back to the pool: no key row. */
	return true;
}

void enforce__zone_to_ledger(struct zplan *zp, struct ledger_enforce_zone *out)
{
	memset(out, 0, sizeof *out);
	out->zone = ledger_str(zp->zone);
	out->next_due = zp->next_due;
	memcpy(out->roll, zp->roll, sizeof out->roll);
	out->salt = ledger_str(zp->salt);
	out->salt_time = zp->salt_time;
	out->nkeys = (uint32_t)zp->n_ek;
	out->keys = zp->ek;
}

char *enforce_signconf_path(struct enforce *e, const char *zone, const char *stored)
{
	if (stored != NULL && stored[0] != '\0')
		return tdm_strdup(stored);
	return daemon__sprintf("%s/signconf/%s.xml", e->d->cfg->data_dir, zone);
}

static int mkdir_parent(const char *path)
{
	char *dir = tdm_strdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			if (mkdir(dir, 0755) != 0 && errno != EEXIST)
				rc = -1;
			*p = '/';
		}
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			rc = -1;
	}
	free(dir);
	return rc;
}

/*
 * Written with rename but without an fsync per file: a signconf is derived
 * from state.db and rewritten by the next leader start if it is missing,
 * and fsync per file would cost seconds at 50,000 zones.  The chunk ends
 * with one syncfs (enforce.c).
 */
int enforce__zone_signconf(struct enforce *e, struct zplan *zp, struct tdm_err *err)
{
	struct enforcer_signconf_params p = {
		.zone = zp->zone, .policy = zp->pol->pol.conf,
		.keys = zp->plan.keys, .n_keys = zp->plan.n_keys,
		.nsec3_salt = zp->salt,
		.cds = zp->plan.cds, .n_cds = zp->plan.n_cds, .cds_delete = zp->plan.cds_delete,
	};
	char *text = NULL, *path, *tmp;
	size_t len = 0;
	int rc = enforcer_signconf_render(&p, &text, &len, err);
	if (rc != 0) {
		tdm_err_wrap(err, "zone %s: signconf", zp->zone);
		return rc;
	}
	path = enforce_signconf_path(e, zp->zone, zp->st.signconf);
	tmp = daemon__sprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT && mkdir_parent(path) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = tdm_err_fail(err, TDM_EIO, "zone %s: signconf %s: %s", zp->zone, tmp,
				  strerror(errno));
	} else {
		size_t off = 0;
		while (off < len) {
			ssize_t w = write(fd, text + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		if (close(fd) != 0 || off != len || rename(tmp, path) != 0) {
			rc = tdm_err_fail(err, TDM_EIO, "zone %s: signconf %s: %s", zp->zone, path,
					  strerror(errno));
			unlink(tmp);
		}
	}
	free(tmp);
	free(path);
	free(text);
	return rc;
}

void enforce__zone_free(struct zplan *zp)
{
	enforcer_plan_clear(&zp->plan);
	ledger_zone_state_clear(&zp->st);
	ledger_key_list_free(zp->claimed, zp->n_claimed);
	free(zp->claim_scope);
	for (size_t i = 0; i < zp->n_strs; i++)
		free(zp->strs[i]);
	free(zp->strs);
	free(zp->keys);
	free(zp->ek);
	free(zp->salt);
	free(zp->zone);
	free(zp->signconf_err);
	for (size_t i = 0; i < zp->n_calls; i++)
		enforce__ds_call_clear(&zp->calls[i]);
	free(zp->calls);
	memset(zp, 0, sizeof *zp);
}

void enforce__chunk_clear(struct chunk *c)
{
	for (size_t i = 0; i < c->n; i++)
		enforce__zone_free(&c->z[i]);
	free(c->z);
	for (size_t i = 0; i < c->n_pools; i++) {
		free(c->pools[i].repository);
		ledger_key_list_free(c->pools[i].keys, c->pools[i].n);
	}
	free(c->pools);
	for (size_t i = 0; i < c->n_shared; i++) {
		struct shared_set *s = &c->shared[i];
		free(s->policy);
		ledger_key_list_free(s->keys, s->n);
		free(s->ek);
		for (size_t k = 0; k < s->n_strs; k++)
			free(s->strs[k]);
		free(s->strs);
	}
	free(c->shared);
	free(c->lz);
	memset(c, 0, sizeof *c);
}
