/*
 * The key, pool, backup and rollover commands of the ods-enforcer grammar
 * inside tandemd (`key list|export|purge|generate|import`, `pool list`,
 * `backup list|prepare|commit|rollback`, `rollover list`).
 *
 * Read-only commands (key list, key export, pool list, backup list,
 * rollover list) answer on any node from its own state.db; the others
 * change state and run on the ready leader (the command table flags them):
 * they commit ledger commands through the writer or hand a job to the
 * enforcer service.  Every handler ends with daemon__reply() exactly once.
 *
 * Times: text shows the enforcer's time as ODS does ("2026-11-23
 * 13:00:00", but always UTC, so that every node prints the same); JSON
 * uses ISO 8601 ("2026-11-23T13:00:00Z").
 *
 * A key's "State" column follows ods-enforcer 2.x (keystate_list_cmd.c):
 * it is derived from two records of the key and its goal.  For a KSK the
 * pair is (DS, DNSKEY), for a ZSK (DNSKEY, RRSIG); a CSK shows the common
 * value of both pairs, or "mixed" when they differ.  With p the upper and
 * c the lower record of the pair:
 *   p and c omnipresent (or p rumoured, c omnipresent, DS seen)  active
 * a key being introduced (goal active or standby):
 *   p and c hidden                                              generate
 *   one of them hidden                                          publish
 *   otherwise one of them rumoured or omnipresent               ready
 * a key on its way out (goal retire):
 *   every record of the key hidden                              dead
 *   one of p, c unretentive, or both hidden                     retire
 *   otherwise one of them rumoured or omnipresent               ready
 * anything else is "unknown".  "dead" is Tandem's: ODS shows those keys as
 * "retire"; they are the ones `key purge` lists and the enforcer deletes
 * once the policy's <Purge> has passed.
 */
#define _GNU_SOURCE
#include "daemon/daemon_int.h"
#include "daemon/custody.h"
#include "daemon/enforce.h"
#include "daemon/writer.h"
#include "common/duration.h"
#include "common/hex.h"
#include "common/json.h"
#include "common/log.h"
#include "hsm/hsm.h"

#include <ctype.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MSG_CAP 256

/*- small helpers ------------------------------------------------------------*/

/* A growing text buffer for answers. */
struct sb {
	char *s;
	size_t len, cap;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (b->cap - b->len < 256 || b->s == NULL) {
		b->cap = b->cap ? 2 * b->cap : 1024;
		b->s = tdm_realloc(b->s, b->cap);
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = 2 * b->cap + (size_t)n;
		b->s = tdm_realloc(b->s, b->cap);
	}
	b->len += (size_t)n;
}

static const char *sb_text(struct sb *b)
{
	return b->s ? b->s : "";
}

static void replyf(struct daemon *d, struct control_conn *conn, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void replyf(struct daemon *d, struct control_conn *conn, int status, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	daemon__reply(d, conn, status, s ? s : "error: out of memory\n");
	free(s);
}

/* Reply with the JSON text (and a newline), freeing it. */
static void reply_json(struct daemon *d, struct control_conn *conn, int status, struct tdm_json *j)
{
	replyf(d, conn, status, "%s\n", tdm_json_text(j));
	tdm_json_free(j);
}

/* The end of a listing: the JSON array, or the text table; frees both. */
static void reply_table(struct daemon *d, struct control_conn *conn, int status, bool json,
			struct tdm_json *j, struct sb *b)
{
	if (json) {
		tdm_json_array_end(j);
		reply_json(d, conn, status, j);
	} else {
		tdm_json_free(j);
		daemon__reply(d, conn, status, sb_text(b));
	}
	free(b->s);
}

/* Parse the options or reply with the error and the usage line. */
static bool args_ok(struct daemon *d, struct control_conn *conn, const struct control_request *req,
		    int argi, struct cmd_opt *o, size_t n, const char *usage)
{
	char msg[MSG_CAP];
	if (daemon__args(req, argi, o, n, msg, sizeof msg) == 0)
		return true;
	replyf(d, conn, CONTROL_EXIT_USAGE, "%susage: %s\n", msg, usage);
	return false;
}

/* ODS's text form of a time, in UTC. */
static void ods_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

static void json_time(struct tdm_json *j, const char *key, int64_t t)
{
	char buf[40];
	if (t <= 0) {
		tdm_json_key(j, key);
		tdm_json_null(j);
		return;
	}
	tdm_time_format(t, buf, sizeof buf);
	tdm_json_kv_string(j, key, buf);
}

static const char *role_name(unsigned role)
{
	return role == LEDGER_ROLE_KSK ? "KSK" : role == LEDGER_ROLE_ZSK ? "ZSK"
	     : role == LEDGER_ROLE_CSK ? "CSK" : "-";
}

/* "KSK", "zsk", ... -> role; 0 if not a key type. */
static unsigned role_parse(const char *s)
{
	if (!strcasecmp(s, "KSK"))
		return LEDGER_ROLE_KSK;
	if (!strcasecmp(s, "ZSK"))
		return LEDGER_ROLE_ZSK;
	if (!strcasecmp(s, "CSK"))
		return LEDGER_ROLE_CSK;
	return 0;
}

static char *hex_of(const uint8_t *b, size_t n)
{
	char *s = tdm_malloc(2 * n + 1);
	tdm_hex_encode(b, n, s);
	return s;
}

static bool enforce_ready(struct daemon *d, struct control_conn *conn)
{
	if (d->enforce != NULL)
		return true;
	daemon__reply(d, conn, CONTROL_EXIT_UNAVAILABLE,
		      "error: the enforcer service is not running on this node\n");
	return false;
}

/* The zones a command names: one (-z, which must exist), a policy's, or all. */
static int zones_of(struct daemon *d, const char *zone, const char *policy, char ***names,
		    size_t *n, struct tdm_err *err)
{
	if (zone == NULL)
		return ledger_zone_names(d->ledger, policy, names, n, err);
	struct ledger_zone_state st;
	int rc = ledger_zone_state_get(d->ledger, zone, &st, err);
	if (rc == TDM_ENOENT)
		return tdm_err_fail(err, TDM_ENOENT, "zone %s not found", zone);
	if (rc != 0)
		return rc;
	ledger_zone_state_clear(&st);
	*names = tdm_calloc(1, sizeof **names);
	(*names)[0] = tdm_strdup(zone);
	*n = 1;
	return 0;
}

static bool policy_exists(struct daemon *d, const char *name)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	struct tdm_err err = { "" };
	int rc = ledger_policy_get(d->ledger, name, &blob, &len, &err);
	free(blob);
	return rc == 0;
}

/*- key states ----------------------------------------------------------------*/

enum { KS_GEN, KS_PUB, KS_RDY, KS_ACT, KS_RET, KS_DEAD, KS_UNK, KS_MIX };
static const char *const ks_names[] = { "generate", "publish", "ready", "active",
					"retire", "dead", "unknown", "mixed" };

static int ks_pair(uint8_t p, uint8_t c, bool introducing, bool ds_seen)
{
	if (p == LEDGER_OMNIPRESENT && c == LEDGER_OMNIPRESENT)
		return KS_ACT;
	if (p == LEDGER_RUMOURED && ds_seen && c == LEDGER_OMNIPRESENT)
		return KS_ACT;
	if (introducing) {
		if (p == LEDGER_HIDDEN && c == LEDGER_HIDDEN)
			return KS_GEN;
		if (p == LEDGER_HIDDEN || c == LEDGER_HIDDEN)
			return KS_PUB;
	} else {
		if (p == LEDGER_UNRETENTIVE || c == LEDGER_UNRETENTIVE ||
		    (p == LEDGER_HIDDEN && c == LEDGER_HIDDEN))
			return KS_RET;
	}
	if (p == LEDGER_OMNIPRESENT || c == LEDGER_OMNIPRESENT || p == LEDGER_RUMOURED ||
	    c == LEDGER_RUMOURED)
		return KS_RDY;
	return introducing ? KS_UNK : KS_RET;
}

static bool key_is_dead(const struct ledger_zone_key *k)
{
	if (k->goal != LEDGER_GOAL_RETIRE)
		return false;
	for (int r = 0; r < 4; r++)
		if (k->rec[r].state != LEDGER_HIDDEN)
			return false;
	return true;
}

/* The ODS key state (index into ks_names); see the top of the file. */
static int key_state(const struct ledger_zone_key *k)
{
	bool intro = k->goal != LEDGER_GOAL_RETIRE;
	const struct ledger_record_state_t *r = k->rec;
	int ksk, zsk;
	if (key_is_dead(k))
		return KS_DEAD;
	ksk = ks_pair(r[LEDGER_REC_DS].state, r[LEDGER_REC_DNSKEY].state, intro,
		      k->ds_at_parent == 3 /* seen */);
	zsk = ks_pair(r[LEDGER_REC_DNSKEY].state, r[LEDGER_REC_RRSIG].state, intro, false);
	switch (k->key.role) {
	case LEDGER_ROLE_KSK:
		return ksk;
	case LEDGER_ROLE_ZSK:
		return zsk;
	case LEDGER_ROLE_CSK:
		return ksk == zsk ? ksk : KS_MIX;
	default:
		return KS_UNK;
	}
}

static bool ks_valid(const char *s)
{
	for (size_t i = 0; i < sizeof ks_names / sizeof ks_names[0]; i++)
		if (!strcasecmp(s, ks_names[i]))
			return true;
	return false;
}

static bool published(uint8_t s)
{
	return s == LEDGER_RUMOURED || s == LEDGER_OMNIPRESENT;
}

/* ODS's "Date of next transition": a DS wait, or the zone's next run. */
static void next_transition(const struct ledger_zone_state *z, const struct ledger_zone_key *k,
			    int64_t now, char *buf, size_t len, int64_t *when)
{
	static const char *const wait[] = { NULL, "waiting for ds-submit", "waiting for ds-seen",
					    NULL, "waiting for ds-retract", "waiting for ds-gone" };
	*when = 0;
	if (k->ds_at_parent <= LEDGER_DS_AT_PARENT_MAX && wait[k->ds_at_parent] != NULL) {
		snprintf(buf, len, "%s", wait[k->ds_at_parent]);
		return;
	}
	if (z->next_due == 0 || z->next_due == UINT64_MAX || z->next_due > INT64_MAX) {
		snprintf(buf, len, "-");
		return;
	}
	*when = (int64_t)z->next_due;
	if (*when <= now)
		snprintf(buf, len, "now");
	else
		ods_time(*when, buf, len);
}

static const char *ds_name(uint8_t ds)
{
	return ds <= LEDGER_DS_AT_PARENT_MAX ? enforcer_ds_name((enum enforcer_ds)ds) : "invalid";
}

static const char *st_name(uint8_t s)
{
	return s <= LEDGER_UNRETENTIVE ? enforcer_state_name((enum enforcer_state)s) : "invalid";
}

/*- key list ----------------------------------------------------------------*/

#define KEY_LIST_USAGE \
	"key list [-v|--verbose] [-d|--debug] [-f|--full] [-p|--parsable] [-z|--zone Z] [-t|--keytype T] [-k|-e|--keystate S | -a|--all]"

void daemon__cmd_ek_key_list(struct daemon *d, struct control_conn *conn,
			     const struct control_request *req, int argi)
{
	enum { O_V, O_D, O_F, O_P, O_Z, O_T, O_K, O_E, O_A, O_N };
	struct cmd_opt o[O_N] = {
		[O_V] = { 'v', "verbose", false }, [O_D] = { 'd', "debug", false },
		[O_F] = { 'f', "full", false }, [O_P] = { 'p', "parsable", false },
		[O_Z] = { 'z', "zone", true }, [O_T] = { 't', "keytype", true },
		[O_K] = { 'k', "keystate", true }, [O_E] = { 'e', NULL, true },
		[O_A] = { 'a', "all", false },
	};
	struct tdm_err err = { "" };
	struct tdm_json j;
	struct sb b = { 0 };
	char **zones = NULL;
	size_t nz = 0;
	bool json = daemon__json(conn);
	const char *state_f, *type_f;
	unsigned role_f = 0;
	int64_t now;

	if (!args_ok(d, conn, req, argi, o, O_N, KEY_LIST_USAGE))
		return;
	state_f = o[O_K].set ? o[O_K].val : o[O_E].set ? o[O_E].val : NULL;
	type_f = o[O_T].set ? o[O_T].val : NULL;
	if (state_f && o[O_A].set) {
		replyf(d, conn, CONTROL_EXIT_USAGE,
		       "error: --keystate and --all cannot be given together\nusage: %s\n", KEY_LIST_USAGE);
		return;
	}
	if (state_f && !ks_valid(state_f)) {
		replyf(d, conn, CONTROL_EXIT_USAGE,
		       "error: unknown key state \"%.40s\" (generate, publish, ready, active, retire, dead, unknown, mixed)\n",
		       state_f);
		return;
	}
	if (type_f && (role_f = role_parse(type_f)) == 0) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: key type \"%.40s\" is not KSK, ZSK or CSK\n",
		       type_f);
		return;
	}
	bool verbose = o[O_V].set || o[O_F].set, debug = o[O_D].set || o[O_F].set;
	bool parsable = o[O_P].set;
	if (zones_of(d, o[O_Z].val, NULL, &zones, &nz, &err) != 0) {
		replyf(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		return;
	}
	now = d->enforce ? enforce_now(d->enforce) : tdm_clock_now(&d->clock);

	tdm_json_init(&j);
	if (json) {
		tdm_json_array_begin(&j);
	} else if (!parsable) {
		sb_printf(&b, "Keys:\n");
		sb_printf(&b, "%-31s %-8s %-9s %-24s", "Zone:", "Keytype:", "State:",
			  "Date of next transition:");
		if (verbose)
			sb_printf(&b, " %-5s %-10s %-32s %-11s %-7s", "Size:", "Algorithm:", "CKA_ID:",
				  "Repository:", "KeyTag:");
		if (debug)
			sb_printf(&b, " %-12s %-12s %-12s %-12s %-4s %-4s %s", "DS:", "DNSKEY:",
				  "RRSIGDNSKEY:", "RRSIG:", "Pub:", "Act:", "DS at parent:");
		sb_printf(&b, "\n");
	}
	for (size_t zi = 0; zi < nz; zi++) {
		struct ledger_zone_state z;
		if (ledger_zone_state_get(d->ledger, zones[zi], &z, &err) != 0)
			continue; /* deleted meanwhile */
		for (size_t i = 0; i < z.nkeys; i++) {
			const struct ledger_zone_key *k = &z.keys[i];
			int ks = key_state(k);
			char next[40];
			int64_t when;
			bool pub = published(k->rec[LEDGER_REC_DNSKEY].state);
			bool act = published(k->rec[LEDGER_REC_RRSIG_DNSKEY].state) ||
				   published(k->rec[LEDGER_REC_RRSIG].state);
			char *cka = hex_of(k->key.cka_id, k->key.cka_id_len);
			if ((state_f && strcasecmp(state_f, ks_names[ks]) != 0) ||
			    (!state_f && !o[O_A].set && ks == KS_DEAD) ||
			    (role_f && k->key.role != role_f)) {
				free(cka);
				continue;
			}
			next_transition(&z, k, now, next, sizeof next, &when);
			if (json) {
				static const char *const rn[4] = { "ds", "dnskey", "rrsig_dnskey", "rrsig" };
				tdm_json_object_begin(&j);
				tdm_json_kv_string(&j, "zone", z.name);
				tdm_json_kv_string(&j, "policy", z.policy);
				tdm_json_kv_string(&j, "key", k->key.key_id);
				tdm_json_kv_string(&j, "keytype", role_name(k->key.role));
				tdm_json_kv_string(&j, "state", ks_names[ks]);
				tdm_json_kv_string(&j, "goal", enforcer_goal_name((enum enforcer_goal)k->goal));
				json_time(&j, "next_transition", when);
				tdm_json_kv_string(&j, "next_transition_text", next);
				tdm_json_kv_uint(&j, "bits", k->key.bits);
				tdm_json_kv_uint(&j, "algorithm", k->key.algorithm);
				tdm_json_kv_string(&j, "cka_id", cka);
				tdm_json_kv_string(&j, "repository", k->key.repository);
				tdm_json_kv_uint(&j, "keytag", k->key.key_tag);
				tdm_json_kv_bool(&j, "shared", k->key.scope == LEDGER_SCOPE_POLICY);
				tdm_json_kv_bool(&j, "publish", pub);
				tdm_json_kv_bool(&j, "active", act);
				for (int r = 0; r < 4; r++) {
					char sk[40];
					tdm_json_kv_string(&j, rn[r], st_name(k->rec[r].state));
					snprintf(sk, sizeof sk, "%s_since", rn[r]);
					json_time(&j, sk, (int64_t)k->rec[r].since);
				}
				tdm_json_kv_string(&j, "ds_at_parent", ds_name(k->ds_at_parent));
				json_time(&j, "ds_at_parent_since", (int64_t)k->ds_at_parent_since);
				json_time(&j, "active_since", (int64_t)k->active_since);
				json_time(&j, "created", (int64_t)k->key.created);
				tdm_json_kv_string(&j, "backup", k->key.backup == LEDGER_BACKUP_DONE ? "done"
						   : k->key.backup == LEDGER_BACKUP_PREPARED ? "prepared" : "none");
				tdm_json_object_end(&j);
			} else if (parsable) {
				sb_printf(&b, "%s;%s;%s;%s", z.name, role_name(k->key.role), ks_names[ks], next);
				if (verbose)
					sb_printf(&b, ";%u;%u;%s;%s;%u", k->key.bits, k->key.algorithm, cka,
						  k->key.repository, k->key.key_tag);
				if (debug)
					sb_printf(&b, ";%s;%s;%s;%s;%d;%d;%s",
						  st_name(k->rec[0].state), st_name(k->rec[1].state),
						  st_name(k->rec[2].state), st_name(k->rec[3].state), pub, act,
						  ds_name(k->ds_at_parent));
				sb_printf(&b, "\n");
			} else {
				sb_printf(&b, "%-31s %-8s %-9s %-24s", z.name, role_name(k->key.role),
					  ks_names[ks], next);
				if (verbose)
					sb_printf(&b, " %-5u %-10u %-32s %-11s %-7u", k->key.bits,
						  k->key.algorithm, cka, k->key.repository, k->key.key_tag);
				if (debug)
					sb_printf(&b, " %-12s %-12s %-12s %-12s %-4d %-4d %s",
						  st_name(k->rec[0].state), st_name(k->rec[1].state),
						  st_name(k->rec[2].state), st_name(k->rec[3].state), pub, act,
						  ds_name(k->ds_at_parent));
				sb_printf(&b, "\n");
			}
			free(cka);
		}
		ledger_zone_state_clear(&z);
	}
	ledger_names_free(zones, nz);
	reply_table(d, conn, CONTROL_EXIT_OK, json, &j, &b);
}

/*- key export ----------------------------------------------------------------*/

#define KEY_EXPORT_USAGE \
	"key export (-z|--zone Z | -a|--all) [-e|--keystate S] [-t|--keytype KSK|ZSK|CSK] [-k|--cka_id ID] [-d|--ds [-s|--sha1]]"

/* A zone name in uncompressed wire form; false if it is not a name. */
static bool name_wire(const char *name, uint8_t out[255], size_t *len)
{
	size_t n = 0;
	const char *p = name;
	if (strcmp(name, ".") == 0 || *name == '\0') {
		out[0] = 0;
		*len = 1;
		return true;
	}
	while (*p) {
		size_t l = strcspn(p, ".");
		if (l == 0 || l > 63 || n + 1 + l + 1 > 255 || memchr(p, '\\', l))
			return false;
		out[n++] = (uint8_t)l;
		memcpy(out + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[n++] = 0;
	*len = n;
	return true;
}

/* RFC 3658 DS digest type 1 (SHA-1), which hsm_ds_rdata() does not make. */
static int ds_sha1(const uint8_t *owner, size_t owner_len, const uint8_t *rdata, size_t rlen,
		   char *hex, size_t cap)
{
	uint8_t low[255], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int ok;
	for (size_t i = 0; i < owner_len; i++) {
		size_t l = owner[i];
		low[i] = (uint8_t)l;
		for (size_t k = 1; k <= l; k++)
			low[i + k] = (uint8_t)tolower(owner[i + k]);
		i += l;
	}
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	ok = c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, low, owner_len) &&
	     EVP_DigestUpdate(c, rdata, rlen) && EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	if (!ok || 2 * mdlen + 1 > cap)
		return TDM_EIO;
	tdm_hex_encode(md, mdlen, hex);
	return 0;
}

static char *b64_of(const uint8_t *b, size_t n)
{
	char *s = tdm_malloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)s, b, (int)n);
	return s;
}

void daemon__cmd_ek_key_export(struct daemon *d, struct control_conn *conn,
			       const struct control_request *req, int argi)
{
	enum { O_Z, O_A, O_E, O_T, O_K, O_D, O_S, O_N };
	struct cmd_opt o[O_N] = {
		[O_Z] = { 'z', "zone", true }, [O_A] = { 'a', "all", false },
		[O_E] = { 'e', "keystate", true }, [O_T] = { 't', "keytype", true },
		[O_K] = { 'k', "cka_id", true }, [O_D] = { 'd', "ds", false },
		[O_S] = { 's', "sha1", false },
	};
	struct tdm_err err = { "" };
	struct tdm_json j;
	struct sb b = { 0 };
	char **zones = NULL;
	size_t nz = 0, found = 0;
	unsigned role_f = 0;
	int status = CONTROL_EXIT_OK;
	bool json = daemon__json(conn);

	if (!args_ok(d, conn, req, argi, o, O_N, KEY_EXPORT_USAGE))
		return;
	if (o[O_Z].set == o[O_A].set) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: expected either --zone or --all\nusage: %s\n",
		       KEY_EXPORT_USAGE);
		return;
	}
	if (o[O_S].set && !o[O_D].set) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: --sha1 goes with --ds\nusage: %s\n",
		       KEY_EXPORT_USAGE);
		return;
	}
	if (o[O_E].set && !ks_valid(o[O_E].val)) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: unknown key state \"%.40s\"\n", o[O_E].val);
		return;
	}
	if (o[O_T].set && (role_f = role_parse(o[O_T].val)) == 0) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: key type \"%.40s\" is not KSK, ZSK or CSK\n",
		       o[O_T].val);
		return;
	}
	if (!enforce_ready(d, conn))
		return;
	if (zones_of(d, o[O_Z].val, NULL, &zones, &nz, &err) != 0) {
		replyf(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		return;
	}
	tdm_json_init(&j);
	if (json)
		tdm_json_array_begin(&j);
	for (size_t zi = 0; zi < nz; zi++) {
		struct ledger_zone_state z;
		const struct enforce_policy *pol;
		uint8_t owner[255];
		size_t owner_len;
		if (ledger_zone_state_get(d->ledger, zones[zi], &z, &err) != 0)
			continue;
		pol = enforce_policy_get(d->enforce, z.policy, &err);
		if (pol == NULL || !name_wire(z.name, owner, &owner_len)) {
			sb_printf(&b, "error: zone %s: %s\n", z.name,
				  pol == NULL ? err.msg : "not a domain name");
			status = CONTROL_EXIT_FAIL;
			ledger_zone_state_clear(&z);
			continue;
		}
		const char *dot = z.name[0] && z.name[strlen(z.name) - 1] == '.' ? "" : ".";
		int64_t ttl = pol->pol.conf->keys_ttl, ds_ttl = pol->pol.conf->parent_ds_ttl;
		for (size_t i = 0; i < z.nkeys; i++) {
			const struct ledger_zone_key *k = &z.keys[i];
			int ks = key_state(k);
			char *cka = hex_of(k->key.cka_id, k->key.cka_id_len);
			bool want;
			if (o[O_E].set)
				want = !strcasecmp(o[O_E].val, ks_names[ks]);
			else
				want = published(k->rec[LEDGER_REC_DNSKEY].state);
			if (role_f)
				want = want && k->key.role == role_f;
			else
				want = want && k->key.role != LEDGER_ROLE_ZSK;
			if (o[O_K].set)
				want = want && !strcasecmp(o[O_K].val, cka);
			if (!want || k->key.public_rdata_len < 4) {
				free(cka);
				continue;
			}
			found++;
			const uint8_t *rd = k->key.public_rdata;
			unsigned flags = (unsigned)rd[0] << 8 | rd[1];
			char *b64 = b64_of(rd + 4, k->key.public_rdata_len - 4);
			char *dnskey = daemon__sprintf("%s%s\t%lld\tIN\tDNSKEY\t%u %u %u %s\n", z.name, dot,
						       (long long)ttl, flags, rd[2], rd[3], b64);
			char *ds256 = NULL, sha1[2 * EVP_MAX_MD_SIZE + 1] = "";
			if (o[O_D].set) {
				uint8_t *ds = NULL;
				size_t dlen = 0;
				if (hsm_ds_rdata(owner, owner_len, rd, k->key.public_rdata_len, 2, &ds, &dlen,
						 &err) != 0 || dlen < 4) {
					sb_printf(&b, "error: zone %s key %s: %s\n", z.name, cka, err.msg);
					status = CONTROL_EXIT_FAIL;
				} else {
					char *h = hex_of(ds + 4, dlen - 4);
					ds256 = daemon__sprintf("%s%s\t%lld\tIN\tDS\t%u %u 2 %s\n", z.name, dot,
								(long long)ds_ttl, k->key.key_tag, rd[3], h);
					free(h);
				}
				free(ds);
				if (o[O_S].set &&
				    ds_sha1(owner, owner_len, rd, k->key.public_rdata_len, sha1, sizeof sha1) != 0) {
					sb_printf(&b, "error: zone %s key %s: SHA-1 digest failed\n", z.name, cka);
					status = CONTROL_EXIT_FAIL;
					sha1[0] = '\0';
				}
			}
			char *ds1 = sha1[0] ? daemon__sprintf("%s%s\t%lld\tIN\tDS\t%u %u 1 %s\n", z.name, dot,
							      (long long)ds_ttl, k->key.key_tag, rd[3], sha1)
					    : NULL;
			if (json) {
				tdm_json_object_begin(&j);
				tdm_json_kv_string(&j, "zone", z.name);
				tdm_json_kv_string(&j, "key", k->key.key_id);
				tdm_json_kv_string(&j, "keytype", role_name(k->key.role));
				tdm_json_kv_string(&j, "state", ks_names[ks]);
				tdm_json_kv_uint(&j, "keytag", k->key.key_tag);
				tdm_json_kv_uint(&j, "algorithm", rd[3]);
				tdm_json_kv_uint(&j, "flags", flags);
				tdm_json_kv_string(&j, "cka_id", cka);
				tdm_json_kv_int(&j, "ttl", ttl);
				dnskey[strlen(dnskey) - 1] = '\0';
				tdm_json_kv_string(&j, "dnskey", dnskey);
				if (o[O_D].set) {
					tdm_json_kv_int(&j, "ds_ttl", ds_ttl);
					if (ds256)
						ds256[strlen(ds256) - 1] = '\0';
					tdm_json_kv_string(&j, "ds_sha256", ds256);
					if (o[O_S].set) {
						if (ds1)
							ds1[strlen(ds1) - 1] = '\0';
						tdm_json_kv_string(&j, "ds_sha1", ds1);
					}
				}
				tdm_json_object_end(&j);
			} else if (o[O_D].set) {
				if (ds1)
					sb_printf(&b, ";%s %s DS record (SHA1):\n%s", ks_names[ks],
						  role_name(k->key.role), ds1);
				if (ds256)
					sb_printf(&b, ";%s %s DS record (SHA256):\n%s", ks_names[ks],
						  role_name(k->key.role), ds256);
			} else {
				sb_printf(&b, "%s", dnskey);
			}
			free(ds1);
			free(ds256);
			free(dnskey);
			free(b64);
			free(cka);
		}
		ledger_zone_state_clear(&z);
	}
	ledger_names_free(zones, nz);
	if (json) {
		tdm_json_array_end(&j);
		if (status != CONTROL_EXIT_OK)
			tdm_log_warn("key export: %s", sb_text(&b));
		reply_json(d, conn, status, &j);
	} else {
		tdm_json_free(&j);
		if (found == 0 && status == CONTROL_EXIT_OK)
			sb_printf(&b, "info: no key matches (default: KSK and CSK keys whose DNSKEY is published; see -e and -t)\n");
		daemon__reply(d, conn, status, sb_text(&b));
	}
	free(b.s);
}

/*- key purge ---------------------------------------------------------------------*/

#define KEY_PURGE_USAGE "key purge (-p|--policy P | -z|--zone Z) [-d|--delete]"

struct purge {
	struct daemon *d;
	struct control_conn *conn;
	struct sb b;
	char **zones;            /* zones with dead keys (copies) */
	size_t n_zones;
	size_t dead;
};

static size_t count_dead(struct daemon *d, char **zones, size_t n)
{
	size_t dead = 0;
	struct tdm_err err = { "" };
	for (size_t i = 0; i < n; i++) {
		struct ledger_zone_state z;
		if (ledger_zone_state_get(d->ledger, zones[i], &z, &err) != 0)
			continue;
		for (size_t k = 0; k < z.nkeys; k++)
			dead += key_is_dead(&z.keys[k]);
		ledger_zone_state_clear(&z);
	}
	return dead;
}

static void on_purge_run(void *arg, int status, const char *report)
{
	struct purge *p = arg;
	size_t left = count_dead(p->d, p->zones, p->n_zones);
	sb_printf(&p->b, "info: enforcer run on %zu zone(s): %zu of %zu dead key(s) purged", p->n_zones,
		  p->dead - (left < p->dead ? left : p->dead), p->dead);
	if (left > 0)
		sb_printf(&p->b, "; %zu kept until their policy's <Purge> delay has passed (or for ever without <Purge>)", left);
	sb_printf(&p->b, "\n");
	if (report && *report)
		sb_printf(&p->b, "%s%s", report, report[strlen(report) - 1] == '\n' ? "" : "\n");
	daemon__reply(p->d, p->conn, status, sb_text(&p->b));
	ledger_names_free(p->zones, p->n_zones);
	free(p->b.s);
	free(p);
}

void daemon__cmd_ek_key_purge(struct daemon *d, struct control_conn *conn,
			      const struct control_request *req, int argi)
{
	enum { O_P, O_Z, O_D, O_N };
	struct cmd_opt o[O_N] = {
		[O_P] = { 'p', "policy", true }, [O_Z] = { 'z', "zone", true },
		[O_D] = { 'd', "delete", false },
	};
	struct tdm_err err = { "" };
	char **zones = NULL;
	size_t nz = 0;

	if (!args_ok(d, conn, req, argi, o, O_N, KEY_PURGE_USAGE))
		return;
	if (o[O_P].set == o[O_Z].set) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: expected either --policy or --zone\nusage: %s\n",
		       KEY_PURGE_USAGE);
		return;
	}
	if (!enforce_ready(d, conn))
		return;
	if (o[O_P].set && !policy_exists(d, o[O_P].val)) {
		replyf(d, conn, CONTROL_EXIT_FAIL, "error: policy %s not found\n", o[O_P].val);
		return;
	}
	if (zones_of(d, o[O_Z].val, o[O_P].val, &zones, &nz, &err) != 0) {
		replyf(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		return;
	}
	struct purge *p = tdm_calloc(1, sizeof *p);
	p->d = d;
	p->conn = conn;
	p->zones = tdm_calloc(nz ? nz : 1, sizeof *p->zones);
	for (size_t i = 0; i < nz; i++) {
		struct ledger_zone_state z;
		size_t before = p->dead;
		if (ledger_zone_state_get(d->ledger, zones[i], &z, &err) != 0)
			continue;
		for (size_t k = 0; k < z.nkeys; k++) {
			const struct ledger_zone_key *key = &z.keys[k];
			if (!key_is_dead(key))
				continue;
			char *cka = hex_of(key->key.cka_id, key->key.cka_id_len);
			sb_printf(&p->b, "zone %s: key %s (%s, keytag %u) is dead\n", z.name, cka,
				  role_name(key->key.role), key->key.key_tag);
			free(cka);
			p->dead++;
		}
		if (p->dead > before)
			p->zones[p->n_zones++] = tdm_strdup(z.name);
		ledger_zone_state_clear(&z);
	}
	ledger_names_free(zones, nz);
	if (o[O_D].set)
		sb_printf(&p->b, "info: --delete: Tandem keeps key material only wrapped in the ledger; purging a key deletes it everywhere\n");
	if (p->dead == 0) {
		sb_printf(&p->b, "info: no keys to purge for %s %s\n", o[O_Z].set ? "zone" : "policy",
			  o[O_Z].set ? o[O_Z].val : o[O_P].val);
		daemon__reply(d, conn, CONTROL_EXIT_OK, sb_text(&p->b));
		ledger_names_free(p->zones, p->n_zones);
		free(p->b.s);
		free(p);
		return;
	}
	struct enforce_request r = { .op = ENFORCE_OP_RUN, .all = false };
	r.n_zones = p->n_zones;
	r.zones = tdm_calloc(p->n_zones, sizeof *r.zones);
	for (size_t i = 0; i < p->n_zones; i++)
		r.zones[i] = tdm_strdup(p->zones[i]);
	enforce_submit(d->enforce, &r, on_purge_run, p);
}

/*- key generate ----------------------------------------------------------------*/

#define KEY_GENERATE_USAGE "key generate -d|--duration DUR (-p|--policy P | -a|--all)"

/* One (repository, algorithm, bits) a command asks the pool to hold. */
struct want {
	char *repository;
	uint8_t algorithm;
	uint32_t bits;
	uint64_t total;          /* over every policy handled so far */
	uint64_t need;           /* this policy's share */
};

struct keygen_job {
	struct daemon *d;
	struct control_conn *conn;
	int64_t duration;
	struct ledger_policy *pols;
	size_t n_pols, pos;
	struct want *w;
	size_t n_w;
	unsigned pending;        /* fills of the current policy not yet done */
	uint64_t before;         /* pool keys of the current policy's triples */
	bool failed;
	struct sb b;
	struct tdm_json j;
};

static uint64_t pool_count(struct daemon *d, const char *repo, uint8_t alg, uint32_t bits)
{
	struct ledger_pool_count *pc = NULL;
	size_t n = 0;
	uint64_t have = 0;
	struct tdm_err err = { "" };
	if (ledger_pool_counts(d->ledger, &pc, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (pc[i].algorithm == alg && pc[i].bits == bits && !strcmp(pc[i].repository, repo))
				have = pc[i].count;
		ledger_pool_counts_free(pc, n);
	}
	return have;
}

/* Pool keys now of the triples the current policy needs. */
static uint64_t pool_of_policy(struct keygen_job *g)
{
	uint64_t have = 0;
	for (size_t i = 0; i < g->n_w; i++)
		if (g->w[i].need > 0)
			have += pool_count(g->d, g->w[i].repository, g->w[i].algorithm, g->w[i].bits);
	return have;
}

static void keygen_next(struct keygen_job *g);

static void keygen_policy_done(struct keygen_job *g)
{
	const char *name = g->pols[g->pos].name;
	uint64_t after = pool_of_policy(g), made = after > g->before ? after - g->before : 0;
	if (daemon__json(g->conn)) {
		tdm_json_kv_uint(&g->j, "generated", made);
		tdm_json_object_end(&g->j);
	}
	sb_printf(&g->b, "%llu keys generated for policy %s\n", (unsigned long long)made, name);
	g->pos++;
	keygen_next(g);
}

static void on_fill(void *arg, int status, const char *msg)
{
	struct keygen_job *g = arg;
	if (status != 0) {
		g->failed = true;
		sb_printf(&g->b, "error: policy %s: %s\n", g->pols[g->pos].name, msg);
	}
	if (--g->pending == 0)
		keygen_policy_done(g);
}

static struct want *want_of(struct keygen_job *g, const char *repo, uint8_t alg, uint32_t bits)
{
	for (size_t i = 0; i < g->n_w; i++)
		if (g->w[i].algorithm == alg && g->w[i].bits == bits && !strcmp(g->w[i].repository, repo))
			return &g->w[i];
	g->w = tdm_realloc(g->w, (g->n_w + 1) * sizeof *g->w);
	g->w[g->n_w] = (struct want){ tdm_strdup(repo), alg, bits, 0, 0 };
	return &g->w[g->n_w++];
}

static void keygen_finish(struct keygen_job *g)
{
	bool json = daemon__json(g->conn);
	int status = g->failed ? CONTROL_EXIT_FAIL : CONTROL_EXIT_OK;
	if (json) {
		tdm_json_array_end(&g->j);
		if (g->failed)
			tdm_log_warn("key generate: %s", sb_text(&g->b));
		reply_json(g->d, g->conn, status, &g->j);
	} else {
		tdm_json_free(&g->j);
		daemon__reply(g->d, g->conn, status, sb_text(&g->b));
	}
	for (size_t i = 0; i < g->n_w; i++)
		free(g->w[i].repository);
	free(g->w);
	ledger_policy_list_free(g->pols, g->n_pols);
	free(g->b.s);
	free(g);
}

/* Start the fills of policy pos (or finish). */
static void keygen_next(struct keygen_job *g)
{
	struct tdm_err err = { "" };
	bool json = daemon__json(g->conn);
	for (; g->pos < g->n_pols; g->pos++) {
		const char *name = g->pols[g->pos].name;
		const struct enforce_policy *ep = enforce_policy_get(g->d->enforce, name, &err);
		char **zn = NULL;
		size_t nzones = 0;
		if (ep == NULL) {
			sb_printf(&g->b, "error: policy %s: %s\n", name, err.msg);
			g->failed = true;
			continue;
		}
		if (ledger_zone_names(g->d->ledger, name, &zn, &nzones, &err) != 0) {
			sb_printf(&g->b, "error: policy %s: %s\n", name, err.msg);
			g->failed = true;
			continue;
		}
		ledger_names_free(zn, nzones);
		for (size_t i = 0; i < g->n_w; i++)
			g->w[i].need = 0;
		if (json) {
			tdm_json_object_begin(&g->j);
			tdm_json_kv_string(&g->j, "policy", name);
			tdm_json_kv_uint(&g->j, "zones", nzones);
			tdm_json_key(&g->j, "slots");
			tdm_json_array_begin(&g->j);
		}
		for (size_t s = 0; s < ep->pol.n_slots; s++) {
			const struct enforcer_slot *sl = &ep->pol.slots[s];
			const char *repo = sl->conf && sl->conf->repository ? sl->conf->repository : "";
			uint64_t per = 1, n = 0;
			if (sl->lifetime > 0)
				per = (uint64_t)((g->duration + sl->lifetime - 1) / sl->lifetime) + 1;
			if (nzones > 0)
				n = ep->pol.share_keys ? per + sl->standby : nzones * per + sl->standby;
			struct want *w = want_of(g, repo, sl->algorithm, sl->bits);
			w->need += n;
			if (json) {
				tdm_json_object_begin(&g->j);
				tdm_json_kv_string(&g->j, "role", role_name((unsigned)sl->role));
				tdm_json_kv_uint(&g->j, "algorithm", sl->algorithm);
				tdm_json_kv_uint(&g->j, "bits", sl->bits);
				tdm_json_kv_string(&g->j, "repository", repo);
				tdm_json_kv_int(&g->j, "lifetime", sl->lifetime);
				tdm_json_kv_uint(&g->j, "needed", n);
				tdm_json_object_end(&g->j);
			} else {
				sb_printf(&g->b, "info: policy %s: %s algorithm %u, %u bits in %s: %llu key(s) for %zu zone(s)\n",
					  name, role_name((unsigned)sl->role), sl->algorithm, sl->bits, repo,
					  (unsigned long long)n, nzones);
			}
		}
		if (json)
			tdm_json_array_end(&g->j);
		g->before = pool_of_policy(g);
		g->pending = 1; /* held while the fills start: done may run at once */
		for (size_t i = 0; i < g->n_w; i++) {
			struct want *w = &g->w[i];
			if (w->need == 0)
				continue;
			w->total += w->need;
			g->pending++;
			if (enforce_pool_fill(g->d->enforce, w->repository, w->algorithm, w->bits, w->total,
					      true, on_fill, g, &err) != 0) {
				g->pending--;
				g->failed = true;
				sb_printf(&g->b, "error: policy %s: %s\n", name, err.msg);
			}
		}
		if (--g->pending == 0)
			keygen_policy_done(g); /* continues with the next policy */
		return;
	}
	keygen_finish(g);
}

void daemon__cmd_ek_key_generate(struct daemon *d, struct control_conn *conn,
				 const struct control_request *req, int argi)
{
	enum { O_D, O_P, O_A, O_N };
	struct cmd_opt o[O_N] = {
		[O_D] = { 'd', "duration", true }, [O_P] = { 'p', "policy", true },
		[O_A] = { 'a', "all", false },
	};
	struct tdm_err err = { "" };
	struct keygen_job *g;
	int64_t dur;

	if (!args_ok(d, conn, req, argi, o, O_N, KEY_GENERATE_USAGE))
		return;
	if (!o[O_D].set || o[O_P].set == o[O_A].set) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: expected --duration and either --policy or --all\nusage: %s\n",
		       KEY_GENERATE_USAGE);
		return;
	}
	if (tdm_duration_parse(o[O_D].val, &dur) != 0 || dur <= 0) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: --duration %.60s: not an ISO 8601 duration (P1Y, P30D, PT12H)\n",
		       o[O_D].val);
		return;
	}
	if (!enforce_ready(d, conn))
		return;
	g = tdm_calloc(1, sizeof *g);
	g->d = d;
	g->conn = conn;
	g->duration = dur;
	if (ledger_policy_list(d->ledger, &g->pols, &g->n_pols, &err) != 0) {
		replyf(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		free(g);
		return;
	}
	if (o[O_P].set) {
		size_t k = g->n_pols;
		for (size_t i = 0; i < g->n_pols; i++)
			if (!strcmp(g->pols[i].name, o[O_P].val))
				k = i;
		if (k == g->n_pols) {
			replyf(d, conn, CONTROL_EXIT_FAIL, "error: policy %s not found\n", o[O_P].val);
			ledger_policy_list_free(g->pols, g->n_pols);
			free(g);
			return;
		}
		/* keep only policy k: move it to the front, free the others */
		struct ledger_policy keep = g->pols[k];
		g->pols[k] = g->pols[0];
		g->pols[0] = keep;
		for (size_t i = 1; i < g->n_pols; i++) {
			free(g->pols[i].name);
			free(g->pols[i].blob);
		}
		g->n_pols = 1;
	}
	tdm_json_init(&g->j);
	if (daemon__json(conn))
		tdm_json_array_begin(&g->j);
	keygen_next(g);
}

/*- pool list -----------------------------------------------------------------*/

void daemon__cmd_ek_pool_list(struct daemon *d, struct control_conn *conn,
			      const struct control_request *req, int argi)
{
	struct cmd_opt none[1] = { { .shrt = 0 } };
	struct ledger_pool_count *pc = NULL;
	struct tdm_err err = { "" };
	size_t n = 0;
	unsigned busy = d->enforce ? enforce_pool_busy(d->enforce) : 0;

	if (!args_ok(d, conn, req, argi, none, 0, "pool list"))
		return;
	if (ledger_pool_counts(d->ledger, &pc, &n, &err) != 0) {
		replyf(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		return;
	}
	if (daemon__json(conn)) {
		struct tdm_json j;
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_key(&j, "pools");
		tdm_json_array_begin(&j);
		for (size_t i = 0; i < n; i++) {
			tdm_json_object_begin(&j);
			tdm_json_kv_string(&j, "repository", pc[i].repository);
			tdm_json_kv_uint(&j, "algorithm", pc[i].algorithm);
			tdm_json_kv_uint(&j, "bits", pc[i].bits);
			tdm_json_kv_uint(&j, "keys", pc[i].count);
			tdm_json_kv_uint(&j, "backed_up", pc[i].backed_up);
			tdm_json_object_end(&j);
		}
		tdm_json_array_end(&j);
		tdm_json_kv_uint(&j, "generating", busy);
		tdm_json_object_end(&j);
		reply_json(d, conn, CONTROL_EXIT_OK, &j);
	} else {
		struct sb b = { 0 };
		sb_printf(&b, "%-20s %-10s %-6s %-8s %s\n", "Repository:", "Algorithm:", "Bits:", "Keys:",
			  "Backed up:");
		for (size_t i = 0; i < n; i++)
			sb_printf(&b, "%-20s %-10u %-6u %-8llu %llu\n", pc[i].repository, pc[i].algorithm,
				  pc[i].bits, (unsigned long long)pc[i].count,
				  (unsigned long long)pc[i].backed_up);
		sb_printf(&b, "Key generations running: %u\n", busy);
		daemon__reply(d, conn, CONTROL_EXIT_OK, sb_text(&b));
		free(b.s);
	}
	ledger_pool_counts_free(pc, n);
}

/*- backup --------------------------------------------------------------------*/

struct backup_job {
	struct daemon *d;
	struct control_conn *conn;
	uint8_t action;
	uint64_t count;
	char repo[LEDGER_NAME_MAX + 1];
};

static const char *backup_info(uint8_t action)
{
	return action == LEDGER_BACKUP_PREPARE ? "info: keys flagged for backup: %llu\n"
	     : action == LEDGER_BACKUP_COMMIT ? "info: keys marked backup done: %llu\n"
					      : "info: keys unflagged for backed up: %llu\n";
}

static void on_backup(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct backup_job *bj = data;
	if (status != 0) {
		replyf(bj->d, bj->conn, CONTROL_EXIT_UNAVAILABLE, "error: backup not committed: %s\n", msg);
	} else if (res->status == LEDGER_NOT_FOUND) {
		/* commit / rollback without a prepare: ODS answers with 0 */
		char *line = daemon__sprintf(backup_info(bj->action), 0ULL);
		replyf(bj->d, bj->conn, CONTROL_EXIT_OK, "%sinfo: %s\n", line, res->msg);
		free(line);
	} else if (res->status != LEDGER_OK && res->status != LEDGER_DUPLICATE) {
		replyf(bj->d, bj->conn, CONTROL_EXIT_FAIL, "error: backup: %s %s\n",
		       ledger_status_name(res->status), res->msg);
	} else {
		tdm_log_notice("backup %s%s%s: %llu key(s), index %llu",
			       bj->action == LEDGER_BACKUP_PREPARE ? "prepare"
			       : bj->action == LEDGER_BACKUP_COMMIT ? "commit" : "rollback",
			       bj->repo[0] ? " repository " : "", bj->repo,
			       (unsigned long long)bj->count, (unsigned long long)res->index);
		char *line = daemon__sprintf(backup_info(bj->action), (unsigned long long)bj->count);
		daemon__reply(bj->d, bj->conn, CONTROL_EXIT_OK, line);
		free(line);
	}
	free(bj);
}

struct repo_count {
	const char *name;
	uint64_t n[3];           /* by enum ledger_backup_flag */
};

static struct repo_count *repo_slot(struct repo_count **rc, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*rc)[i].name, name))
			return &(*rc)[i];
	*rc = tdm_realloc(*rc, (*n + 1) * sizeof **rc);
	(*rc)[*n] = (struct repo_count){ name, { 0, 0, 0 } };
	return &(*rc)[(*n)++];
}

void daemon__cmd_ek_backup(struct daemon *d, struct control_conn *conn,
			   const struct control_request *req, int argi)
{
	enum { O_R, O_N };
	struct cmd_opt o[O_N] = { [O_R] = { 'r', "repository", true } };
	const char *verb = argi > 0 ? req->argv[argi - 1] : "";
	struct ledger_key *keys = NULL;
	struct tdm_err err = { "" };
	struct repo_count *rc = NULL;
	size_t nk = 0, nr = 0;
	uint8_t action;
	char usage[80];

	snprintf(usage, sizeof usage, "backup %.20s [-r|--repository R]", verb);
	if (!args_ok(d, conn, req, argi, o, O_N, usage))
		return;
	if (!strcmp(verb, "list"))
		action = 0;
	else if (!strcmp(verb, "prepare"))
		action = LEDGER_BACKUP_PREPARE;
	else if (!strcmp(verb, "commit"))
		action = LEDGER_BACKUP_COMMIT;
	else if (!strcmp(verb, "rollback"))
		action = LEDGER_BACKUP_ROLLBACK;
	else {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE,
			      "usage: backup list|prepare|commit|rollback [-r|--repository R]\n");
		return;
	}
	const char *repo = o[O_R].set ? o[O_R].val : NULL;
	if (repo && strlen(repo) > LEDGER_NAME_MAX) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "error: repository name too long\n");
		return;
	}
	if (action != 0 && !cluster_is_leader_ready(d->cluster)) {
		daemon__not_leader(d, conn, req);
		return;
	}
	if (ledger_key_list(d->ledger, NULL, &keys, &nk, &err) != 0) {
		replyf(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		return;
	}
	bool known = repo == NULL || tdm_conf_repository(d->conf, repo) != NULL;
	for (size_t i = 0; i < d->conf->n_repositories; i++)
		if (!repo || !strcmp(repo, d->conf->repositories[i].name))
			repo_slot(&rc, &nr, d->conf->repositories[i].name);
	for (size_t i = 0; i < nk; i++) {
		if (repo && strcmp(repo, keys[i].repository) != 0)
			continue;
		known = true;
		repo_slot(&rc, &nr, keys[i].repository)->n[keys[i].backup <= 2 ? keys[i].backup : 0]++;
	}
	if (!known) {
		replyf(d, conn, CONTROL_EXIT_FAIL, "error: repository %s: not in conf.xml and holds no keys\n",
		       repo);
		free(rc);
		ledger_key_list_free(keys, nk);
		return;
	}
	if (action == 0) {
		if (daemon__json(conn)) {
			struct tdm_json j;
			tdm_json_init(&j);
			tdm_json_array_begin(&j);
			for (size_t i = 0; i < nr; i++) {
				const struct tdm_repository *cr = tdm_conf_repository(d->conf, rc[i].name);
				tdm_json_object_begin(&j);
				tdm_json_kv_string(&j, "repository", rc[i].name);
				tdm_json_kv_bool(&j, "require_backup", cr && cr->require_backup);
				tdm_json_kv_uint(&j, "keys", rc[i].n[0] + rc[i].n[1] + rc[i].n[2]);
				tdm_json_kv_uint(&j, "not_backed_up", rc[i].n[LEDGER_BACKUP_NONE]);
				tdm_json_kv_uint(&j, "prepared", rc[i].n[LEDGER_BACKUP_PREPARED]);
				tdm_json_kv_uint(&j, "backed_up", rc[i].n[LEDGER_BACKUP_DONE]);
				tdm_json_object_end(&j);
			}
			tdm_json_array_end(&j);
			reply_json(d, conn, CONTROL_EXIT_OK, &j);
		} else {
			struct sb b = { 0 };
			sb_printf(&b, "%-20s %-15s %-7s %-15s %-9s %s\n", "Repository:", "RequireBackup:",
				  "Keys:", "Not backed up:", "Prepared:", "Backed up:");
			for (size_t i = 0; i < nr; i++) {
				const struct tdm_repository *cr = tdm_conf_repository(d->conf, rc[i].name);
				sb_printf(&b, "%-20s %-15s %-7llu %-15llu %-9llu %llu\n", rc[i].name,
					  cr == NULL ? "(not in conf)" : cr->require_backup ? "yes" : "no",
					  (unsigned long long)(rc[i].n[0] + rc[i].n[1] + rc[i].n[2]),
					  (unsigned long long)rc[i].n[0], (unsigned long long)rc[i].n[1],
					  (unsigned long long)rc[i].n[2]);
			}
			daemon__reply(d, conn, CONTROL_EXIT_OK, sb_text(&b));
			free(b.s);
		}
		free(rc);
		ledger_key_list_free(keys, nk);
		return;
	}
	/* The keys the command moves: none -> prepared, or prepared -> done / none. */
	uint64_t count = 0;
	for (size_t i = 0; i < nr; i++)
		count += rc[i].n[action == LEDGER_BACKUP_PREPARE ? LEDGER_BACKUP_NONE : LEDGER_BACKUP_PREPARED];
	free(rc);
	ledger_key_list_free(keys, nk);
	struct backup_job *bj = tdm_calloc(1, sizeof *bj);
	bj->d = d;
	bj->conn = conn;
	bj->action = action;
	bj->count = count;
	snprintf(bj->repo, sizeof bj->repo, "%s", repo ? repo : "");
	struct ledger_cmd cmd = { .type = LEDGER_CMD_BACKUP };
	cmd.backup.repository = ledger_str(bj->repo);
	cmd.backup.action = action;
	cmd.backup.time = (uint64_t)(d->enforce ? enforce_now(d->enforce) : tdm_clock_now(&d->clock));
	if (writer_submit(d->writer, &cmd, on_backup, bj, &err) != 0) {
		if (err.msg[0] == '\0')
			snprintf(err.msg, sizeof err.msg, "%s", tdm_strerror(TDM_ENOTLEADER));
		replyf(d, conn, CONTROL_EXIT_UNAVAILABLE, "error: backup %s: %s\n", verb, err.msg);
		free(bj);
	}
}

/*- rollover list -------------------------------------------------------------*/

/* The roll jitter the enforcer service gives a zone (enforce_zone.c). */
static int64_t zone_jitter(const char *zone, const struct enforcer_policy *p)
{
	int64_t window = 0;
	for (size_t s = 0; s < p->n_slots; s++) {
		int64_t w = p->slots[s].lifetime / 20;
		if (w > 86400)
			w = 86400;
		if (window == 0 || w < window)
			window = w;
	}
	return enforcer_roll_jitter(zone, window);
}

void daemon__cmd_ek_rollover_list(struct daemon *d, struct control_conn *conn,
				  const struct control_request *req, int argi)
{
	enum { O_Z, O_N };
	struct cmd_opt o[O_N] = { [O_Z] = { 'z', "zone", true } };
	struct tdm_err err = { "" };
	struct tdm_json j;
	struct sb b = { 0 };
	char **zones = NULL;
	size_t nz = 0;
	int status = CONTROL_EXIT_OK;
	bool json = daemon__json(conn);

	if (!args_ok(d, conn, req, argi, o, O_N, "rollover list [-z|--zone Z]"))
		return;
	if (!enforce_ready(d, conn))
		return;
	if (zones_of(d, o[O_Z].val, NULL, &zones, &nz, &err) != 0) {
		replyf(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		return;
	}
	tdm_json_init(&j);
	if (json)
		tdm_json_array_begin(&j);
	else
		sb_printf(&b, "Keys:\n%-31s %-8s %s\n", "Zone:", "Keytype:", "Rollover expected:");
	for (size_t zi = 0; zi < nz; zi++) {
		struct ledger_zone_state z;
		const struct enforce_policy *pol;
		if (ledger_zone_state_get(d->ledger, zones[zi], &z, &err) != 0)
			continue;
		pol = enforce_policy_get(d->enforce, z.policy, &err);
		if (pol == NULL) {
			sb_printf(&b, "error: zone %s: %s\n", z.name, err.msg);
			status = CONTROL_EXIT_FAIL;
			ledger_zone_state_clear(&z);
			continue;
		}
		int64_t jitter = zone_jitter(z.name, &pol->pol);
		for (size_t s = 0; s < pol->pol.n_slots; s++) {
			const struct enforcer_slot *sl = &pol->pol.slots[s];
			const struct ledger_zone_key *cur = NULL;
			char text[48];
			int64_t when = 0;
			/* the slot's newest active key */
			for (size_t i = 0; i < z.nkeys; i++) {
				const struct ledger_zone_key *k = &z.keys[i];
				if (k->goal != LEDGER_GOAL_ACTIVE || k->key.role != (unsigned)sl->role ||
				    k->key.algorithm != sl->algorithm ||
				    (sl->bits && k->key.bits != sl->bits))
					continue;
				if (cur == NULL || k->active_since > cur->active_since)
					cur = k;
			}
			if (cur == NULL) {
				snprintf(text, sizeof text, "no active key yet");
			} else if (cur->ds_at_parent == ENFORCER_DS_SUBMIT) {
				snprintf(text, sizeof text, "waiting for ds-submit");
			} else if (cur->ds_at_parent == ENFORCER_DS_SUBMITTED) {
				snprintf(text, sizeof text, "waiting for ds-seen");
			} else if (sl->manual_rollover) {
				snprintf(text, sizeof text, "manual");
			} else if (sl->lifetime <= 0) {
				snprintf(text, sizeof text, "never");
			} else {
				when = (int64_t)cur->active_since + sl->lifetime -
				       (cur->key.scope == LEDGER_SCOPE_POLICY ? 0 : jitter);
				ods_time(when, text, sizeof text);
			}
			if (json) {
				tdm_json_object_begin(&j);
				tdm_json_kv_string(&j, "zone", z.name);
				tdm_json_kv_string(&j, "keytype", role_name((unsigned)sl->role));
				tdm_json_kv_uint(&j, "algorithm", sl->algorithm);
				tdm_json_kv_string(&j, "key", cur ? cur->key.key_id : NULL);
				json_time(&j, "active_since", cur ? (int64_t)cur->active_since : 0);
				tdm_json_kv_int(&j, "lifetime", sl->lifetime);
				json_time(&j, "rollover", when);
				tdm_json_kv_string(&j, "rollover_text", text);
				tdm_json_object_end(&j);
			} else {
				sb_printf(&b, "%-31s %-8s %s\n", z.name, role_name((unsigned)sl->role), text);
			}
		}
		ledger_zone_state_clear(&z);
	}
	ledger_names_free(zones, nz);
	reply_table(d, conn, status, json, &j, &b);
}

/*- key import ------------------------------------------------------------------*/

#define KEY_IMPORT_USAGE \
	"key import -k|--cka_id ID -r|--repository R -z|--zone Z -b|--bits N -g|--algorithm A -e|--keystate S -t|--keytype T -w|--inception_time T"

struct import_job {
	uv_work_t work;
	struct daemon *d;
	struct control_conn *conn;
	char cka[2 * 64 + 1];
	char zone[LEDGER_NAME_MAX + 1];
	char repo[LEDGER_NAME_MAX + 1];
	uint8_t algorithm;
	uint32_t bits;
	int64_t created;
	unsigned role;                   /* LEDGER_ROLE_* of -t */
	char state[16];                  /* -e */
	int rc;
	bool not_extractable;
	struct tdm_err err;
	uint8_t *rdata, *wrapped;
	size_t rdata_len, wrapped_len;
};

static void import_free(struct import_job *ij)
{
	free(ij->rdata);
	free(ij->wrapped);
	free(ij);
}

static void import_work(uv_work_t *w)
{
	struct import_job *ij = w->data;
	struct hsm_ctx *hsm = custody_hsm(ij->d->custody);
	struct hsm_key *key = NULL;
	ij->rc = hsm_key_find(hsm, ij->cka, &key, &ij->err);
	if (ij->rc == 0 && hsm_key_algorithm(key) != ij->algorithm)
		ij->rc = hsm_key_set_algorithm(hsm, key, ij->algorithm, &ij->err);
	if (ij->rc == 0)
		ij->rc = hsm_key_dnskey_rdata(hsm, key, 256, &ij->rdata, &ij->rdata_len, &ij->err);
	if (ij->rc == 0) {
		ij->rc = hsm_key_wrap(hsm, key, &ij->wrapped, &ij->wrapped_len, &ij->err);
		ij->not_extractable = ij->rc == TDM_EHSM || ij->rc == TDM_EALGO;
	}
}

static void import_enforced(void *arg, int status, const char *report)
{
	struct import_job *ij = arg;
	if (status == CONTROL_EXIT_OK && strstr(report, "error:") == NULL)
		replyf(ij->d, ij->conn, CONTROL_EXIT_OK,
		       "info: key %s (algorithm %u, %u bits) imported into zone %s as %s since %lld\n",
		       ij->cka, ij->algorithm, ij->bits, ij->zone, ij->state, (long long)ij->created);
	else
		replyf(ij->d, ij->conn, status == CONTROL_EXIT_OK ? CONTROL_EXIT_FAIL : status,
		       "error: key %s is in the key pool but zone %s did not take it:\n%s", ij->cka,
		       ij->zone, report);
	import_free(ij);
}

static void on_import(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct import_job *ij = data;
	if (status != 0)
		replyf(ij->d, ij->conn, CONTROL_EXIT_UNAVAILABLE, "error: key %s not committed: %s\n",
		       ij->cka, msg);
	else if (res->status != LEDGER_OK && res->status != LEDGER_DUPLICATE)
		replyf(ij->d, ij->conn, CONTROL_EXIT_FAIL, "error: key %s: %s %s\n", ij->cka,
		       ledger_status_name(res->status), res->msg);
	else {
		/* Wrapped and in the ledger: now the zone takes it, in the state
		 * asked, in one ENFORCE entry (enforce_zone.c import_key). */
		struct enforce_request r = { .op = ENFORCE_OP_IMPORT, .keytag = -1, .signconf = true };
		r.zones = tdm_calloc(1, sizeof *r.zones);
		r.zones[0] = tdm_strdup(ij->zone);
		r.n_zones = 1;
		r.cka_id = tdm_strdup(ij->cka);
		r.role = (enum tdm_key_role)ij->role;
		r.import_state = tdm_strdup(ij->state);
		r.import_time = ij->created;
		enforce_submit(ij->d->enforce, &r, import_enforced, ij);
		return;
	}
	import_free(ij);
}

static void import_after(uv_work_t *w, int status)
{
	struct import_job *ij = w->data;
	struct daemon *d = ij->d;
	if (status != 0 || ij->rc != 0) {
		if (ij->not_extractable)
			replyf(d, ij->conn, CONTROL_EXIT_FAIL,
			       "error: key %s is not extractable: Tandem keeps every key wrapped under the cluster KEK; "
			       "generate a new key and roll instead (%s)\n", ij->cka, ij->err.msg);
		else
			replyf(d, ij->conn, CONTROL_EXIT_FAIL, "error: key import %s: %s\n", ij->cka,
			       status != 0 ? "cancelled" : ij->err.msg);
		import_free(ij);
		return;
	}
	if (d->stopping || !cluster_is_leader_ready(d->cluster)) {
		daemon__reply(d, ij->conn, CONTROL_EXIT_UNAVAILABLE,
			      "error: leadership lost while the key was read: nothing committed\n");
		import_free(ij);
		return;
	}
	uint8_t cka[64];
	size_t cka_len = 0;
	struct tdm_err err = { "" };
	tdm_hex_decode(ij->cka, cka, sizeof cka, &cka_len);
	struct ledger_cmd cmd = { .type = LEDGER_CMD_KEY_CREATE };
	cmd.key_create.key_id = ledger_str(ij->cka);
	cmd.key_create.scope = LEDGER_SCOPE_POOL;
	cmd.key_create.scope_name = ledger_str("");
	cmd.key_create.role = 0;
	cmd.key_create.algorithm = ij->algorithm;
	cmd.key_create.bits = (uint16_t)ij->bits;
	cmd.key_create.public_rdata = (struct ledger_bytes){ ij->rdata, ij->rdata_len };
	cmd.key_create.cka_id = (struct ledger_bytes){ cka, cka_len };
	cmd.key_create.repository = ledger_str(ij->repo);
	cmd.key_create.wrapped_private = (struct ledger_bytes){ ij->wrapped, ij->wrapped_len };
	cmd.key_create.created = (uint64_t)ij->created;
	if (writer_submit(d->writer, &cmd, on_import, ij, &err) != 0) {
		replyf(d, ij->conn, CONTROL_EXIT_UNAVAILABLE, "error: key %s: %s\n", ij->cka, err.msg);
		import_free(ij);
	}
}

void daemon__cmd_ek_key_import(struct daemon *d, struct control_conn *conn,
			       const struct control_request *req, int argi)
{
	enum { O_K, O_R, O_Z, O_B, O_G, O_E, O_T, O_W, O_N };
	struct cmd_opt o[O_N] = {
		[O_K] = { 'k', "cka_id", true }, [O_R] = { 'r', "repository", true },
		[O_Z] = { 'z', "zone", true }, [O_B] = { 'b', "bits", true },
		[O_G] = { 'g', "algorithm", true }, [O_E] = { 'e', "keystate", true },
		[O_T] = { 't', "keytype", true }, [O_W] = { 'w', "inception_time", true },
	};
	struct tdm_err err = { "" };
	struct ledger_zone_state z;
	char *end;
	unsigned long alg, bits;
	int64_t created;
	uint8_t tmp[64];
	size_t tmp_len;

	if (!args_ok(d, conn, req, argi, o, O_N, KEY_IMPORT_USAGE))
		return;
	for (int i = 0; i < O_N; i++)
		if (!o[i].set) {
			replyf(d, conn, CONTROL_EXIT_USAGE, "error: key import needs every option\nusage: %s\n",
			       KEY_IMPORT_USAGE);
			return;
		}
	alg = strtoul(o[O_G].val, &end, 10);
	if (*end || alg == 0 || alg > 255) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: --algorithm %.20s: not a DNSSEC algorithm number\n",
		       o[O_G].val);
		return;
	}
	bits = strtoul(o[O_B].val, &end, 10);
	if (*end || bits > 65535) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: --bits %.20s: not a key size\n", o[O_B].val);
		return;
	}
	if (!role_parse(o[O_T].val) || !ks_valid(o[O_E].val)) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: --keytype is KSK, ZSK or CSK and --keystate a key state\n");
		return;
	}
	if (tdm_time_parse(o[O_W].val, &created) != 0) {
		replyf(d, conn, CONTROL_EXIT_USAGE,
		       "error: --inception_time %.40s: expected YYYY-MM-DD-HH:MM:SS, YYYY-MM-DDTHH:MM:SSZ or seconds\n",
		       o[O_W].val);
		return;
	}
	if (strlen(o[O_K].val) > 2 * sizeof tmp ||
	    tdm_hex_decode(o[O_K].val, tmp, sizeof tmp, &tmp_len) != 0 || tmp_len == 0) {
		replyf(d, conn, CONTROL_EXIT_USAGE, "error: --cka_id %.140s: not a hex CKA_ID\n", o[O_K].val);
		return;
	}
	if (strlen(o[O_Z].val) > LEDGER_NAME_MAX ||
	    ledger_zone_state_get(d->ledger, o[O_Z].val, &z, &err) != 0) {
		replyf(d, conn, CONTROL_EXIT_FAIL, "error: zone %.255s not found\n", o[O_Z].val);
		return;
	}
	ledger_zone_state_clear(&z);
	if (!custody_enabled(d->custody) || !custody_has_kek(d->custody)) {
		daemon__reply(d, conn, CONTROL_EXIT_FAIL,
			      "error: key import: this node has no key custody or no cluster KEK yet\n");
		return;
	}
	if (strcmp(o[O_R].val, custody_repository(d->custody)) != 0) {
		replyf(d, conn, CONTROL_EXIT_FAIL,
		       "error: key import: the cluster keeps its keys in repository %s, not %.60s\n",
		       custody_repository(d->custody), o[O_R].val);
		return;
	}
	struct import_job *ij = tdm_calloc(1, sizeof *ij);
	ij->d = d;
	ij->conn = conn;
	tdm_hex_encode(tmp, tmp_len, ij->cka); /* lower case, as the ledger keeps ids */
	snprintf(ij->zone, sizeof ij->zone, "%s", o[O_Z].val);
	snprintf(ij->repo, sizeof ij->repo, "%s", o[O_R].val);
	ij->algorithm = (uint8_t)alg;
	ij->bits = (uint32_t)bits;
	ij->created = created;
	ij->role = role_parse(o[O_T].val);
	snprintf(ij->state, sizeof ij->state, "%s", o[O_E].val);
	ij->work.data = ij;
	tdm_log_notice("key import: key %s for zone %s (%s, state %s)", ij->cka, ij->zone,
		       o[O_T].val, o[O_E].val);
	if (uv_queue_work(&d->loop, &ij->work, import_work, import_after) != 0) {
		import_free(ij);
		daemon__reply(d, conn, CONTROL_EXIT_FAIL, "error: cannot queue the key import\n");
	}
}
