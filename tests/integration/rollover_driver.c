/*
 * rollover_driver: drive the enforcer core through simulated time for one
 * zone, with a simulated parent, and write one signconf per step for
 * tests/integration/enforcer_rollover.sh to sign with tandem-signzone and
 * judge with real validators.
 *
 *   rollover_driver --kasp FILE --zone NAME --out DIR --start T0 --days N
 *                   [--seed S] [--keys POOL | --count-keys]
 *                   [--policy-at SECONDS FILE] [--roll-at SECONDS ROLE]...
 *                   [--salt HEX] [--mutate]
 *
 * The world: at every step (a plan's `next`, a parent event, a policy
 * change or a rollover request, whichever comes first) the driver runs
 * enforcer_zone_update() (again at once while it asks for keys), applies
 * the plan, writes DIR/sc-NNNN.xml with enforcer_signconf_write() and one
 * line to DIR/steps:
 *
 *   STEP T MID SIGNCONF DS PUBLISH KSIGN ZSIGN NOTE...
 *
 * T is the step's time, MID the middle of the time until the next step,
 * DS the locators whose DS the parent publishes from T until the next step,
 * PUBLISH / KSIGN / ZSIGN the locators the signconf (as loaded back with
 * tdm_signconf_load()) publishes, has sign the DNSKEY RRset and has sign
 * the rest; lists are comma-separated, "-" when empty.  NOTE says what
 * happened.  DIR/keys lists every key: LOCATOR ID ROLE ALGORITHM BITS.
 *
 * New keys come from POOL (lines "ALGORITHM BITS CKA_ID", taken in order;
 * BITS as tandem-hsmutil reports them).  --count-keys runs the same world
 * with made-up locators and prints "ALGORITHM BITS N" for each kind of key
 * the run needs (BITS 0: the algorithm's default), so the caller can fill
 * the pool; runs with the same arguments and seed make the same steps.
 *
 * The parent: the DS submissions and retractions of one step are one
 * request, applied at once (a DS swap stays atomic) after the policy's
 * RegistrationDelay plus a random extra of up to one RegistrationDelay (or
 * an hour), never before an earlier request.  Each change is reported
 * (ds-seen / ds-gone) after the parent's PropagationDelay plus a random
 * extra of up to an hour.  The randomness comes from --seed.
 *
 * The driver also asks enforcer_zone_is_safe() at T and at MID and fails
 * when the enforcer itself thinks the zone unsafe.
 *
 * --mutate writes wrong signconfs on purpose, to show that the checks
 * downstream catch a broken enforcer: a KSK or CSK whose goal is retire
 * loses its DNSKEY and its signature over the DNSKEY RRset at once, while
 * its DS may still be all the parent has.
 *
 * Exit: 0; 1 on an enforcer error or an unsafe zone; 2 on bad usage or
 * input; 3 when the pool has no key of a kind that is needed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/error.h"
#include "enforcer/enforcer.h"

#define MAX_KEYS 256
#define MAX_POOL 512
#define MAX_EVENTS 256
#define MAX_ROLLS 8
#define NOTE_MAX 4096

struct dkey {
	char id[16];
	char locator[80];
	enum tdm_key_role role;
	uint8_t algorithm;
	uint32_t bits;
};

struct pool_key {
	uint8_t algorithm;
	uint32_t bits;
	char locator[80];
	bool used;
};

struct need {
	uint8_t algorithm;
	uint32_t bits;
	int n;
};

/* A pending parent event.  kind 'A': apply the request `req` (DS changes
 * of one step); 'S': report ds-seen for key; 'G': report ds-gone for key. */
struct pevent {
	int64_t t;
	char kind;
	int key;                 /* dkey index, for 'S' / 'G' */
	int req;                 /* request index, for 'A' */
};

struct request {
	int add[8], del[8];
	int n_add, n_del;
};

struct roll {
	int64_t t;
	enum tdm_key_role role;
	bool done;
};

struct world {
	const char *zone, *out_dir, *salt;
	struct tdm_kasp *kasp, *kasp_next;
	struct enforcer_policy pol;
	int64_t policy_at;       /* INT64_MAX: no change */
	struct roll rolls[MAX_ROLLS];
	int n_rolls;
	bool count_only;
	bool mutate;

	struct dkey keys[MAX_KEYS];
	int n_keys;
	struct enforcer_key zk[MAX_KEYS];  /* the zone's keys, strings from keys[] */
	size_t n_zk;
	int64_t roll_requested[4];

	struct pool_key pool[MAX_POOL];
	int n_pool;
	struct need needs[16];
	int n_needs;

	bool parent_ds[MAX_KEYS];
	struct pevent ev[MAX_EVENTS];
	int n_ev;
	struct request req[MAX_EVENTS];
	int n_req;
	int64_t last_apply;

	uint64_t rng;
	int64_t now;
	char note[NOTE_MAX];
	size_t note_len;
	int steps;
	int created[4];
};

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("rollover_driver: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(code);
}

static void note(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct world *w, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (w->note_len + 2 >= sizeof w->note)
		return;
	if (w->note_len > 0)
		w->note[w->note_len++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(w->note + w->note_len, sizeof w->note - w->note_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->note_len += (size_t)n < sizeof w->note - w->note_len
				       ? (size_t)n
				       : sizeof w->note - w->note_len - 1;
}

/* xorshift64*: small, deterministic for a seed. */
static uint64_t rnd(struct world *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545F4914F6CDD1DULL;
}

static int64_t rnd_upto(struct world *w, int64_t max)
{
	return max > 0 ? (int64_t)(rnd(w) % (uint64_t)(max + 1)) : 0;
}

static const char *role_name(enum tdm_key_role r)
{
	return tdm_key_role_name(r);
}

static int64_t parse_i64(const char *s, const char *what)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s)
		die(2, "%s: \"%s\" is not a number", what, s);
	return v;
}

static enum tdm_key_role parse_role(const char *s)
{
	if (strcmp(s, "KSK") == 0)
		return TDM_ROLE_KSK;
	if (strcmp(s, "ZSK") == 0)
		return TDM_ROLE_ZSK;
	if (strcmp(s, "CSK") == 0)
		return TDM_ROLE_CSK;
	die(2, "role \"%s\": expected KSK, ZSK or CSK", s);
}

static struct tdm_kasp *load_kasp(const char *path)
{
	struct tdm_err err = { { 0 } };
	struct tdm_kasp *k = NULL;
	if (tdm_kasp_load(path, &k, &err) != 0)
		die(2, "%s", err.msg);
	if (k->n_policies != 1)
		die(2, "%s: expected exactly one policy, found %zu", path, k->n_policies);
	return k;
}

static void set_policy(struct world *w, struct tdm_kasp *k)
{
	struct tdm_err err = { { 0 } };
	struct enforcer_policy p;
	if (enforcer_policy_init(&p, &k->policies[0], &err) != 0)
		die(2, "%s", err.msg);
	if (w->kasp != NULL) {
		enforcer_policy_close(&w->pol);
		tdm_kasp_free(w->kasp);
	}
	w->kasp = k;
	w->pol = p;
}

static void load_pool(struct world *w, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	if (f == NULL)
		die(2, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned alg, bits;
		char loc[80];
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%u %u %79s", &alg, &bits, loc) != 3)
			die(2, "%s: bad line \"%s\"", path, line);
		if (w->n_pool >= MAX_POOL)
			die(2, "%s: more than %d keys", path, MAX_POOL);
		w->pool[w->n_pool] = (struct pool_key){ (uint8_t)alg, bits, "", false };
		snprintf(w->pool[w->n_pool].locator, sizeof w->pool[w->n_pool].locator, "%s", loc);
		w->n_pool++;
	}
	fclose(f);
}

/*- keys -*/

static int key_index(const struct world *w, const char *id)
{
	for (int i = 0; i < w->n_keys; i++)
		if (strcmp(w->keys[i].id, id) == 0)
			return i;
	die(1, "unknown key id %s", id);
}

static struct enforcer_key *zone_key(struct world *w, int ki)
{
	for (size_t i = 0; i < w->n_zk; i++)
		if (strcmp(w->zk[i].id, w->keys[ki].id) == 0)
			return &w->zk[i];
	return NULL;
}

static const char *take_locator(struct world *w, const struct enforcer_action *a)
{
	static char fake[80];
	if (w->count_only) {
		int i;
		for (i = 0; i < w->n_needs; i++)
			if (w->needs[i].algorithm == a->algorithm && w->needs[i].bits == a->bits)
				break;
		if (i == w->n_needs) {
			if (w->n_needs == (int)(sizeof w->needs / sizeof w->needs[0]))
				die(1, "too many kinds of keys");
			w->needs[w->n_needs++] = (struct need){ a->algorithm, a->bits, 0 };
		}
		w->needs[i].n++;
		snprintf(fake, sizeof fake, "%08x", (unsigned)(0xf0000000u + (unsigned)w->n_keys));
		return fake;
	}
	for (int i = 0; i < w->n_pool; i++) {
		struct pool_key *p = &w->pool[i];
		if (p->used || p->algorithm != a->algorithm || (a->bits != 0 && p->bits != a->bits))
			continue;
		p->used = true;
		return p->locator;
	}
	die(3, "need %s algorithm %u bits %u: the key pool has none left", role_name(a->role),
	    a->algorithm, a->bits);
}

static void new_key(struct world *w, const struct enforcer_action *a)
{
	struct dkey *d;
	const char *loc;
	if (w->n_keys >= MAX_KEYS || w->n_zk >= MAX_KEYS)
		die(1, "more than %d keys", MAX_KEYS);
	loc = take_locator(w, a);
	d = &w->keys[w->n_keys];
	snprintf(d->id, sizeof d->id, "k%02d", w->n_keys);
	snprintf(d->locator, sizeof d->locator, "%s", loc);
	d->role = a->role;
	d->algorithm = a->algorithm;
	d->bits = a->bits;
	enforcer_key_init(&w->zk[w->n_zk++], d->id, d->locator, a->role, a->algorithm, a->bits,
			  (uint16_t)w->n_keys, a->goal, a->shared, w->now);
	w->n_keys++;
	w->created[a->role]++;
	note(w, "new-%s:%s/%u", role_name(a->role), d->id, a->algorithm);
}

/*- parent -*/

static void ev_add(struct world *w, int64_t t, char kind, int key, int req)
{
	if (w->n_ev >= MAX_EVENTS)
		die(1, "too many parent events");
	w->ev[w->n_ev++] = (struct pevent){ t, kind, key, req };
}

static int64_t next_event(const struct world *w)
{
	int64_t t = INT64_MAX;
	for (int i = 0; i < w->n_ev; i++)
		if (w->ev[i].t < t)
			t = w->ev[i].t;
	return t;
}

static void parent_events(struct world *w)
{
	const struct tdm_policy *pol = w->pol.conf;
	int64_t report = pol->parent_propagation_delay;
	bool again = true;
	while (again) {
		again = false;
		for (int i = 0; i < w->n_ev; i++) {
			struct pevent e = w->ev[i];
			struct tdm_err err = { { 0 } };
			struct enforcer_key *k;
			if (e.t > w->now)
				continue;
			if (e.t < w->now)
				die(1, "parent event missed (%+" PRId64 " s)", e.t - w->now);
			w->ev[i] = w->ev[--w->n_ev];
			again = true;
			switch (e.kind) {
			case 'A': {
				const struct request *r = &w->req[e.req];
				for (int j = 0; j < r->n_add; j++) {
					w->parent_ds[r->add[j]] = true;
					ev_add(w, w->now + report + rnd_upto(w, 3600), 'S', r->add[j], 0);
					note(w, "parent+DS:%s", w->keys[r->add[j]].id);
				}
				for (int j = 0; j < r->n_del; j++) {
					w->parent_ds[r->del[j]] = false;
					ev_add(w, w->now + report + rnd_upto(w, 3600), 'G', r->del[j], 0);
					note(w, "parent-DS:%s", w->keys[r->del[j]].id);
				}
				break;
			}
			case 'S':
			case 'G':
				k = zone_key(w, e.key);
				if (k == NULL)
					die(1, "ds-%s for key %s, which the zone no longer has",
					    e.kind == 'S' ? "seen" : "gone", w->keys[e.key].id);
				if ((e.kind == 'S' ? enforcer_key_ds_seen(k, w->now, &err)
						   : enforcer_key_ds_gone(k, w->now, &err)) != 0)
					die(1, "%s", err.msg);
				note(w, "ds-%s:%s", e.kind == 'S' ? "seen" : "gone", k->id);
				break;
			}
			break;
		}
	}
}

/*- one step -*/

static void apply_plan(struct world *w, const struct enforcer_plan *p, struct request *r)
{
	struct tdm_err err = { { 0 } };
	if (p->n_keys > MAX_KEYS)
		die(1, "plan with %zu keys", p->n_keys);
	memcpy(w->zk, p->keys, p->n_keys * sizeof *p->keys);
	w->n_zk = p->n_keys;
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct enforcer_action *a = &p->actions[i];
		int ki = a->key_id != NULL ? key_index(w, a->key_id) : -1;
		struct enforcer_key *k = ki >= 0 ? zone_key(w, ki) : NULL;
		switch (a->type) {
		case ENFORCER_ACT_KEY_NEW:
			new_key(w, a);
			break;
		case ENFORCER_ACT_KEY_ADOPT:
			die(1, "KEY_ADOPT without shared keys");
		case ENFORCER_ACT_KEY_GOAL:
			note(w, "%s:goal=%s", a->key_id, enforcer_goal_name(a->goal));
			break;
		case ENFORCER_ACT_RECORD:
			note(w, "%s:%s:%s>%s", a->key_id, enforcer_record_name(a->record),
			     enforcer_state_name(a->from), enforcer_state_name(a->to));
			break;
		case ENFORCER_ACT_DS_SUBMIT:
		case ENFORCER_ACT_DS_RETRACT:
			if (k == NULL)
				die(1, "DS action for key %s, not in the zone", a->key_id);
			if ((a->type == ENFORCER_ACT_DS_SUBMIT ? enforcer_key_ds_submit(k, w->now, &err)
							       : enforcer_key_ds_retract(k, w->now, &err)) != 0)
				die(1, "%s", err.msg);
			if (a->type == ENFORCER_ACT_DS_SUBMIT) {
				if (r->n_add == 8)
					die(1, "too many DS changes in one step");
				r->add[r->n_add++] = ki;
			} else {
				if (r->n_del == 8)
					die(1, "too many DS changes in one step");
				r->del[r->n_del++] = ki;
			}
			note(w, "%s:%s", a->key_id,
			     a->type == ENFORCER_ACT_DS_SUBMIT ? "ds-submit" : "ds-retract");
			break;
		case ENFORCER_ACT_KEY_PURGE:
			note(w, "%s:purged", a->key_id);
			break;
		}
	}
}

static int64_t step_zone(struct world *w)
{
	struct request r = { .n_add = 0 };
	int64_t next = INT64_MAX;
	for (int round = 0;; round++) {
		struct enforcer_zone ez = { .name = w->zone, .policy = &w->pol, .keys = w->zk,
					    .n_keys = w->n_zk };
		struct enforcer_plan p;
		struct tdm_err err = { { 0 } };
		bool again;
		memcpy(ez.roll_requested, w->roll_requested, sizeof ez.roll_requested);
		if (enforcer_zone_update(&ez, w->now, &p, &err) != 0)
			die(1, "enforcer_zone_update: %s", err.msg);
		if (p.next <= w->now)
			die(1, "plan's next time is not after now (%+" PRId64 " s)", p.next - w->now);
		apply_plan(w, &p, &r);
		again = p.keys_needed;
		next = p.next;
		enforcer_plan_clear(&p);
		if (!again)
			break;
		if (round == 3)
			die(1, "keys still needed after 3 rounds");
	}
	if (r.n_add > 0 || r.n_del > 0) {
		const struct tdm_policy *pol = w->pol.conf;
		int64_t dreg = pol->parent_registration_delay;
		int64_t t = w->now + dreg + rnd_upto(w, dreg > 0 ? dreg : 3600);
		if (t <= w->now)
			t = w->now + 1;
		if (t < w->last_apply)
			t = w->last_apply;
		w->last_apply = t;
		if (w->n_req >= MAX_EVENTS)
			die(1, "too many parent requests");
		w->req[w->n_req] = r;
		ev_add(w, t, 'A', -1, w->n_req++);
	}
	return next;
}

/*- output -*/

static void put_list(FILE *f, const struct tdm_signconf *sc, int which)
{
	bool any = false;
	fputc(' ', f);
	for (size_t i = 0; i < sc->n_keys; i++) {
		const struct tdm_signconf_key *k = &sc->keys[i];
		bool in = which == 0 ? k->publish : which == 1 ? k->ksk : k->zsk;
		if (!in)
			continue;
		fprintf(f, "%s%s", any ? "," : "", k->locator);
		any = true;
	}
	if (!any)
		fputc('-', f);
}

static void write_step(struct world *w, FILE *steps, int64_t mid)
{
	static struct enforcer_key mk[MAX_KEYS];
	struct enforcer_signconf_params prm = { .zone = w->zone, .policy = w->pol.conf,
						.keys = w->zk, .n_keys = w->n_zk,
						.nsec3_salt = w->salt };
	struct tdm_err err = { { 0 } };
	struct tdm_signconf *sc = NULL;
	char path[4096];
	bool any = false;

	if (w->mutate) {
		memcpy(mk, w->zk, w->n_zk * sizeof *mk);
		for (size_t i = 0; i < w->n_zk; i++)
			if (mk[i].goal == ENFORCER_GOAL_RETIRE && mk[i].role != TDM_ROLE_ZSK) {
				mk[i].rec[ENFORCER_DNSKEY].state = ENFORCER_HIDDEN;
				mk[i].rec[ENFORCER_RRSIG_DNSKEY].state = ENFORCER_HIDDEN;
			}
		prm.keys = mk;
	}
	snprintf(path, sizeof path, "%s/sc-%04d.xml", w->out_dir, w->steps);
	if (enforcer_signconf_write(&prm, path, &err) != 0)
		die(1, "%s", err.msg);
	if (tdm_signconf_load(path, &sc, &err) != 0)
		die(1, "the signconf does not load back: %s", err.msg);
	fprintf(steps, "%d %" PRId64 " %" PRId64 " %s ", w->steps, w->now, mid, path);
	for (int i = 0; i < w->n_keys; i++)
		if (w->parent_ds[i]) {
			fprintf(steps, "%s%s", any ? "," : "", w->keys[i].locator);
			any = true;
		}
	if (!any)
		fputc('-', steps);
	put_list(steps, sc, 0);
	put_list(steps, sc, 1);
	put_list(steps, sc, 2);
	fprintf(steps, " %s\n", w->note_len > 0 ? w->note : "(signatures only)");
	tdm_signconf_free(sc);
}

static void check_safe(struct world *w, int64_t t)
{
	struct enforcer_zone ez = { .name = w->zone, .policy = &w->pol, .keys = w->zk,
				    .n_keys = w->n_zk };
	if (!enforcer_zone_is_safe(&ez, t))
		die(1, "step %d: the enforcer finds zone %s unsafe at %" PRId64 " (%+.3f d after the step)",
		    w->steps, w->zone, t, (t - w->now) / 86400.0);
}

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
	fputs("usage: rollover_driver --kasp FILE --zone NAME --out DIR --start T0 --days N\n"
	      "                       [--seed S] [--keys POOL | --count-keys] [--salt HEX] [--mutate]\n"
	      "                       [--policy-at SECONDS FILE] [--roll-at SECONDS ROLE]...\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static struct world w;
	const char *kasp_path = NULL, *pool_path = NULL, *next_kasp = NULL;
	int64_t start = -1, days = -1, end;
	uint64_t seed = 1;
	FILE *steps, *keys;
	char path[4096];

	w.policy_at = INT64_MAX;
	w.salt = "";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
#define ARG() (i + 1 < argc ? argv[++i] : (usage(), ""))
		if (strcmp(a, "--kasp") == 0)
			kasp_path = ARG();
		else if (strcmp(a, "--zone") == 0)
			w.zone = ARG();
		else if (strcmp(a, "--out") == 0)
			w.out_dir = ARG();
		else if (strcmp(a, "--start") == 0)
			start = parse_i64(ARG(), "--start");
		else if (strcmp(a, "--days") == 0)
			days = parse_i64(ARG(), "--days");
		else if (strcmp(a, "--seed") == 0)
			seed = (uint64_t)parse_i64(ARG(), "--seed");
		else if (strcmp(a, "--keys") == 0)
			pool_path = ARG();
		else if (strcmp(a, "--count-keys") == 0)
			w.count_only = true;
		else if (strcmp(a, "--mutate") == 0)
			w.mutate = true;
		else if (strcmp(a, "--salt") == 0)
			w.salt = ARG();
		else if (strcmp(a, "--policy-at") == 0) {
			w.policy_at = parse_i64(ARG(), "--policy-at");
			next_kasp = ARG();
		} else if (strcmp(a, "--roll-at") == 0) {
			if (w.n_rolls == MAX_ROLLS)
				die(2, "too many --roll-at");
			w.rolls[w.n_rolls].t = parse_i64(ARG(), "--roll-at");
			w.rolls[w.n_rolls].role = parse_role(ARG());
			w.n_rolls++;
		} else
			usage();
#undef ARG
	}
	if (kasp_path == NULL || w.zone == NULL || w.out_dir == NULL || start < 0 || days <= 0 ||
	    (pool_path == NULL) == !w.count_only)
		usage();
	w.rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	set_policy(&w, load_kasp(kasp_path));
	if (next_kasp != NULL)
		w.kasp_next = load_kasp(next_kasp);
	if (pool_path != NULL)
		load_pool(&w, pool_path);
	end = start + days * 86400;
	for (int i = 0; i < w.n_rolls; i++)
		w.rolls[i].t += start;
	if (w.policy_at != INT64_MAX)
		w.policy_at += start;

	snprintf(path, sizeof path, "%s/steps", w.out_dir);
	steps = fopen(path, "w");
	if (steps == NULL)
		die(2, "%s: %s", path, strerror(errno));

	w.now = start;
	while (w.now <= end) {
		int64_t next, mid;
		w.note_len = 0;
		w.note[0] = '\0';
		parent_events(&w);
		if (w.now >= w.policy_at && w.kasp_next != NULL) {
			set_policy(&w, w.kasp_next);
			w.kasp_next = NULL;
			note(&w, "policy-change");
		}
		for (int i = 0; i < w.n_rolls; i++)
			if (!w.rolls[i].done && w.now >= w.rolls[i].t) {
				w.roll_requested[w.rolls[i].role] = w.now;
				w.rolls[i].done = true;
				note(&w, "key-rollover-%s", role_name(w.rolls[i].role));
			}
		next = step_zone(&w);
		parent_events(&w); /* requests applied at this very second (none with a delay) */
		if (next_event(&w) < next)
			next = next_event(&w);
		if (w.kasp_next != NULL && w.policy_at < next)
			next = w.policy_at;
		for (int i = 0; i < w.n_rolls; i++)
			if (!w.rolls[i].done && w.rolls[i].t < next)
				next = w.rolls[i].t;
		if (next > end + 1)
			next = end + 1;
		mid = w.now + (next - w.now) / 2;
		check_safe(&w, w.now);
		check_safe(&w, mid);
		if (!w.count_only)
			write_step(&w, steps, mid);
		w.steps++;
		w.now = next;
	}
	if (fclose(steps) != 0)
		die(1, "%s: write error", path);

	if (w.count_only) {
		for (int i = 0; i < w.n_needs; i++)
			printf("%u %u %d\n", w.needs[i].algorithm, w.needs[i].bits, w.needs[i].n);
	} else {
		snprintf(path, sizeof path, "%s/keys", w.out_dir);
		keys = fopen(path, "w");
		if (keys == NULL)
			die(2, "%s: %s", path, strerror(errno));
		for (int i = 0; i < w.n_keys; i++)
			fprintf(keys, "%s %s %s %u %u\n", w.keys[i].locator, w.keys[i].id,
				role_name(w.keys[i].role), w.keys[i].algorithm, w.keys[i].bits);
		if (fclose(keys) != 0)
			die(1, "%s: write error", path);
		fprintf(stderr, "rollover_driver: %s: %d steps over %" PRId64
				" days; keys made: %d KSK, %d ZSK, %d CSK\n",
			w.zone, w.steps, days, w.created[TDM_ROLE_KSK], w.created[TDM_ROLE_ZSK],
			w.created[TDM_ROLE_CSK]);
	}
	enforcer_policy_close(&w.pol);
	tdm_kasp_free(w.kasp);
	tdm_kasp_free(w.kasp_next);
	return 0;
}
