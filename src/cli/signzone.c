/*
 * tandem-signzone: sign a zone file once, from a signconf, without the
 * daemon.  Keys are found by CKA_ID (the signconf's <Locator>) in the
 * repositories of conf.xml, searched in order (or in the one named by
 * --repository).  When OUTPUT exists its signatures are reused where they
 * are still good (it is streamed once, after the input is prepared).  All logic is in src/signer; this
 * is the command line, the PKCS#11 backend and the summary line.
 *
 * --ledger STATE_DB (emergency signing from a tandemd node's own ledger):
 * a Locator that no repository holds as a token object is looked up in the
 * keys table of STATE_DB, opened read-only with SQLite (WAL: safe while
 * tandemd writes; nothing in src/ledger is used, so the file is never
 * created, migrated or written).  Its wrapped private half is unwrapped
 * under the cluster KEK (hsm_key_unwrap) into a session object of the
 * repository the ledger row names (else --repository, else the first);
 * every worker process does the same after its own hsm_ctx_open().  The
 * DNSKEY RDATA is the row's public_rdata with flags 257 for a KSK or CSK,
 * 256 for a ZSK.
 */
#include "common/clock.h"
#include "common/conf.h"
#include "common/error.h"
#include "common/hex.h"
#include "common/log.h"
#include "hsm/hsm.h"
#include "signer/signer.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tandem-signzone -c CONF -s SIGNCONF [-z ZONE] INPUT OUTPUT\n"
		"                       [--workers N] [--threads] [--now TIME]\n"
		"                       [--repository NAME] [--ledger STATE_DB] [--full]\n"
		"                       [-v] [-h]\n"
		"\n"
		"Sign the zone file INPUT with the keys and parameters of SIGNCONF and\n"
		"write the signed zone to OUTPUT (atomically).  If OUTPUT exists, its\n"
		"signatures are reused where the data is unchanged and they are fresh.\n"
		"\n"
		"  -c, --config CONF      conf.xml (repositories: PKCS#11 module, token, PIN)\n"
		"  -s, --signconf FILE    the zone's signconf\n"
		"  -z, --zone ZONE        zone name (default: the signconf's)\n"
		"      --repository NAME  look for keys only in this repository\n"
		"                         (default: every repository of CONF, in order)\n"
		"      --ledger STATE_DB  keys that no repository holds are taken from this\n"
		"                         tandemd ledger (read-only) and unwrapped under the\n"
		"                         cluster KEK of the node's token\n"
		"      --workers N        signing workers (default: number of CPUs)\n"
		"      --threads          sign in threads instead of processes\n"
		"      --now TIME         the time to sign at (seconds or\n"
		"                         YYYY-MM-DDTHH:MM:SSZ); also TANDEM_FAKE_TIME\n"
		"      --full             ignore OUTPUT's signatures: sign everything\n"
		"  -v, --verbose          more log output (repeat for more)\n"
		"  -h, --help             this text\n");
}

/*- PKCS#11 backend ----------------------------------------------------------*/

/* A key of the ledger (--ledger): what the keys table says of a Locator. */
struct ledger_row {
	uint8_t *wrapped;       /* wrapped private half (hsm_key_unwrap) */
	size_t wrapped_len;
	uint8_t *rdata;         /* DNSKEY RDATA, flags set from the role */
	size_t rdata_len;
	uint8_t algorithm;
	char *key_id;
	int repo;               /* the repository to unwrap in */
};

struct keyref {
	const struct tdm_signconf_key *sk;
	int repo;               /* index into conf->repositories, -1 = search */
	uint8_t *dnskey;
	size_t dnskey_len;
	struct ledger_row *lk;  /* NULL: not in the ledger (or no --ledger) */
};

struct backend_arg {
	const struct tdm_conf *conf;
	struct keyref *keys;
	size_t n_keys;
	int only_repo;          /* --repository, or -1 */
};

struct backend_state {
	struct hsm_ctx **ctx;   /* one per repository, opened on demand */
	struct hsm_key **key;   /* one per signconf key */
	struct hsm_ctx **kctx;  /* the context each key was found in */
	size_t n_repos;
};

static int open_repo(const struct backend_arg *a, struct backend_state *s, size_t r,
		     struct tdm_err *err)
{
	const struct tdm_repository *rep = &a->conf->repositories[r];
	int rc;
	if (s->ctx[r] != NULL)
		return 0;
	rc = hsm_ctx_open(&s->ctx[r], rep->name, rep->module, rep->token_label, rep->pin, err);
	if (rc != 0)
		tdm_err_wrap(err, "repository %s", rep->name);
	return rc;
}

/*
 * Key k is not a token object but a key of the ledger: unwrap it into a
 * session object of the repository its row names (each process and ctx
 * does this once; hsm_key_unwrap returns the same object again).
 */
static int unwrap_key(const struct backend_arg *a, struct backend_state *s, size_t k,
		      int *repo_out, struct tdm_err *err)
{
	const struct keyref *kr = &a->keys[k];
	const struct ledger_row *lk = kr->lk;
	int r = lk->repo, rc;
	if ((rc = open_repo(a, s, (size_t)r, err)) != 0)
		return rc;
	rc = hsm_key_unwrap(s->ctx[r], lk->wrapped, lk->wrapped_len, lk->algorithm,
			    kr->sk->locator, &s->key[k], err);
	if (rc == 0 && hsm_key_algorithm(s->key[k]) != kr->sk->algorithm)
		rc = hsm_key_set_algorithm(s->ctx[r], s->key[k], kr->sk->algorithm, err);
	if (rc != 0) {
		/* The HSM's message names the repository and the CKA_ID. */
		tdm_err_wrap(err, "ledger key %s", lk->key_id);
		return rc;
	}
	*repo_out = r;
	return 0;
}

/* Find key k: in its known repository, or the first repository holding it,
 * else (--ledger) unwrap it from the ledger. */
static int find_key(const struct backend_arg *a, struct backend_state *s, size_t k,
		    int *repo_out, struct tdm_err *err)
{
	const struct keyref *kr = &a->keys[k];
	const char *id = kr->sk->locator;
	size_t first = 0, last = a->conf->n_repositories;
	int rc = TDM_ENOKEY;
	if (id == NULL)
		return tdm_err_fail(err, TDM_ENOKEY, "key %zu of the signconf has no <Locator>", k + 1);
	if (kr->repo >= 0) {
		first = (size_t)kr->repo;
		last = first + 1;
	} else if (a->only_repo >= 0) {
		first = (size_t)a->only_repo;
		last = first + 1;
	}
	for (size_t r = first; r < last; r++) {
		struct tdm_err e2;
		if ((rc = open_repo(a, s, r, err)) != 0)
			return rc;
		rc = hsm_key_find(s->ctx[r], id, &s->key[k], &e2);
		if (rc == 0) {
			*repo_out = (int)r;
			/* RSA keys sign as algorithm 8 or 10: the signconf says which. */
			if (hsm_key_algorithm(s->key[k]) != kr->sk->algorithm &&
			    (rc = hsm_key_set_algorithm(s->ctx[r], s->key[k], kr->sk->algorithm,
							err)) != 0) {
				tdm_err_wrap(err, "key CKA_ID %s", id);
				return rc;
			}
			return 0;
		}
		if (rc != TDM_ENOKEY) {
			memcpy(err, &e2, sizeof e2);
			return rc;
		}
	}
	if (kr->lk != NULL)
		return unwrap_key(a, s, k, repo_out, err);
	if (last - first == 1)
		return tdm_err_fail(err, TDM_ENOKEY, "key CKA_ID %s not found in repository %s", id,
				    a->conf->repositories[first].name);
	return tdm_err_fail(err, TDM_ENOKEY, "key CKA_ID %s not found in any repository of %s", id,
			    a->conf->path ? a->conf->path : "conf.xml");
}

static void be_close(void *state)
{
	struct backend_state *s = state;
	if (s == NULL)
		return;
	for (size_t r = 0; r < s->n_repos; r++)
		if (s->ctx[r] != NULL)
			hsm_ctx_close(s->ctx[r]);
	free(s->ctx);
	free(s->key);
	free(s->kctx);
	free(s);
}

static int be_open(void *arg, void **state, struct tdm_err *err)
{
	struct backend_arg *a = arg;
	struct backend_state *s = tdm_calloc(1, sizeof *s);
	s->n_repos = a->conf->n_repositories;
	s->ctx = tdm_calloc(s->n_repos + 1, sizeof *s->ctx);
	s->key = tdm_calloc(a->n_keys + 1, sizeof *s->key);
	s->kctx = tdm_calloc(a->n_keys + 1, sizeof *s->kctx);
	for (size_t k = 0; k < a->n_keys; k++) {
		struct tdm_err e2 = { "" };
		int repo, rc;
		if (!a->keys[k].sk->ksk && !a->keys[k].sk->zsk)
			continue; /* published only: never signs */
		rc = find_key(a, s, k, &repo, err);
		if (rc != 0) {
			be_close(s);
			return rc;
		}
		s->kctx[k] = s->ctx[repo];
		/* Faster in SoftHSM2; a token that refuses the copy signs as before. */
		if (hsm_key_sign_with_session_copy(s->ctx[repo], s->key[k], &e2) != 0)
			tdm_log_info("%s (signing with the token object)", e2.msg);
	}
	*state = s;
	return 0;
}

static int be_sign(void *state, size_t key, const uint8_t *data, size_t len, uint8_t *sig,
		   size_t *sig_len, struct tdm_err *err)
{
	struct backend_state *s = state;
	uint8_t buf[HSM_MAX_SIG_LEN];
	size_t l = sizeof buf;
	int rc;
	if (s->key[key] == NULL)
		return tdm_err_fail(err, TDM_ENOKEY, "key %zu is not a signing key", key + 1);
	rc = hsm_sign(s->kctx[key], s->key[key], data, len, buf, &l, err);
	if (rc != 0)
		return rc;
	if (l > *sig_len)
		return tdm_err_fail(err, TDM_ERANGE, "signature of %zu octets is longer than expected", l);
	memcpy(sig, buf, l);
	*sig_len = l;
	return 0;
}

/*- the ledger (--ledger) -------------------------------------------------------*/

static void ledger_row_free(struct ledger_row *lk)
{
	if (lk == NULL)
		return;
	free(lk->wrapped);
	free(lk->rdata);
	free(lk->key_id);
	free(lk);
}

static uint8_t *blob_dup(sqlite3_stmt *st, int col, size_t *len)
{
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	const void *p = sqlite3_column_blob(st, col);
	uint8_t *b = tdm_malloc(n + 1);
	if (n > 0)
		memcpy(b, p, n);
	*len = n;
	return b;
}

/*
 * Look every Locator of the signconf up in the keys table of the ledger at
 * `path` (read-only; never created).  A Locator the ledger lacks keeps
 * lk == NULL: it must be a token object.  Roles: 1 KSK, 2 ZSK, 3 CSK
 * (enum ledger_key_role).
 */
static int ledger_rows_load(struct backend_arg *a, const char *path, int only_repo,
			    struct tdm_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = 0, src;
	src = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_busy_timeout(db, 5000);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(db,
					 "SELECT id, role, algorithm, public_rdata, wrapped_private, "
					 "repository FROM keys WHERE cka_id = ?1 ORDER BY id",
					 -1, &st, NULL);
	if (src != SQLITE_OK) {
		rc = tdm_err_fail(err, TDM_EDB, "%s: not a readable tandemd ledger: %s", path,
				  db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
		goto out;
	}
	for (size_t k = 0; k < a->n_keys && rc == 0; k++) {
		const struct tdm_signconf_key *sk = a->keys[k].sk;
		struct ledger_row *lk;
		uint8_t *id = NULL;
		size_t id_len = 0;
		const char *repo;
		int role;
		if (sk->locator == NULL || tdm_hex_decode_alloc(sk->locator, &id, &id_len) != 0) {
			free(id);
			continue; /* find_key reports it */
		}
		sqlite3_reset(st);
		sqlite3_bind_blob(st, 1, id, (int)id_len, SQLITE_TRANSIENT);
		free(id);
		src = sqlite3_step(st);
		if (src == SQLITE_DONE)
			continue;
		if (src != SQLITE_ROW) {
			rc = tdm_err_fail(err, TDM_EDB, "%s: key CKA_ID %s: %s", path, sk->locator,
					  sqlite3_errmsg(db));
			break;
		}
		lk = tdm_calloc(1, sizeof *lk);
		lk->key_id = tdm_strdup((const char *)sqlite3_column_text(st, 0));
		role = sqlite3_column_int(st, 1);
		lk->algorithm = (uint8_t)sqlite3_column_int(st, 2);
		lk->rdata = blob_dup(st, 3, &lk->rdata_len);
		lk->wrapped = blob_dup(st, 4, &lk->wrapped_len);
		repo = (const char *)sqlite3_column_text(st, 5);
		a->keys[k].lk = lk;
		if (lk->rdata_len < 4 || lk->wrapped_len == 0) {
			rc = tdm_err_fail(err, TDM_EINVAL,
					  "%s: key %s (CKA_ID %s): no public key or no wrapped private key",
					  path, lk->key_id, sk->locator);
			break;
		}
		/* The DNSKEY flags follow the role: 257 KSK or CSK, 256 ZSK. */
		lk->rdata[0] = 1;
		lk->rdata[1] = role == 2 ? 0 : 1;
		lk->repo = only_repo >= 0 ? only_repo : 0;
		for (size_t r = 0; repo != NULL && only_repo < 0 && r < a->conf->n_repositories; r++)
			if (strcmp(a->conf->repositories[r].name, repo) == 0)
				lk->repo = (int)r;
		if (sqlite3_step(st) == SQLITE_ROW)
			tdm_log_warn("%s: CKA_ID %s names more than one key; using %s", path,
				     sk->locator, lk->key_id);
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/*- keys ---------------------------------------------------------------------*/

/*
 * The DNSKEY RDATA of every key: from its <ResourceRecord> when the
 * signconf has one (no HSM needed at all when nothing is to be signed),
 * else from the HSM.
 */
static int resolve_keys(struct backend_arg *a, struct tdm_err *err)
{
	struct backend_state *s = NULL;
	int rc = 0;
	for (size_t k = 0; k < a->n_keys && rc == 0; k++) {
		struct keyref *kr = &a->keys[k];
		const struct tdm_signconf_key *sk = kr->sk;
		if (sk->resource_record != NULL) {
			struct tdm_err e2;
			if (signer_dnskey_from_text(sk->resource_record, &kr->dnskey,
						    &kr->dnskey_len, &e2) == 0)
				continue;
			tdm_log_warn("key %s: unusable <ResourceRecord>, asking the HSM",
				     sk->locator ? sk->locator : "-");
			rc = 0;
		}
		if (s == NULL) {
			s = tdm_calloc(1, sizeof *s);
			s->n_repos = a->conf->n_repositories;
			s->ctx = tdm_calloc(s->n_repos + 1, sizeof *s->ctx);
			s->key = tdm_calloc(a->n_keys + 1, sizeof *s->key);
			s->kctx = tdm_calloc(a->n_keys + 1, sizeof *s->kctx);
		}
		{
			struct ledger_row *lk = kr->lk;
			int repo;
			/* A token object first; a key of the ledger only if none. */
			kr->lk = NULL;
			rc = find_key(a, s, k, &repo, err);
			if (rc == TDM_ENOKEY && lk != NULL) {
				kr->lk = lk;
				rc = unwrap_key(a, s, k, &repo, err);
				if (rc == 0) {
					kr->repo = repo;
					kr->dnskey = tdm_malloc(lk->rdata_len);
					memcpy(kr->dnskey, lk->rdata, lk->rdata_len);
					kr->dnskey_len = lk->rdata_len;
					tdm_log_info("key CKA_ID %s: ledger key %s, unwrapped in repository %s",
						     sk->locator, lk->key_id,
						     a->conf->repositories[repo].name);
				}
			} else if (rc == 0) {
				if (lk != NULL)
					tdm_log_info("key CKA_ID %s: a token object of repository %s (not the ledger's)",
						     sk->locator, a->conf->repositories[repo].name);
				ledger_row_free(lk);
				kr->repo = repo;
				rc = hsm_key_dnskey_rdata(s->ctx[repo], s->key[k], sk->flags,
							  &kr->dnskey, &kr->dnskey_len, err);
				if (rc != 0)
					tdm_err_wrap(err, "key CKA_ID %s", sk->locator);
			} else {
				kr->lk = lk;
			}
		}
	}
	/* The workers open their own contexts (after fork). */
	be_close(s);
	return rc;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Zone names compare without case and without the trailing dot. */
static bool same_zone(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	if (al > 1 && a[al - 1] == '.')
		al--;
	if (bl > 1 && b[bl - 1] == '.')
		bl--;
	return al == bl && strncasecmp(a, b, al) == 0;
}

/*- main ---------------------------------------------------------------------*/

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "signconf", required_argument, NULL, 's' },
		{ "zone", required_argument, NULL, 'z' },
		{ "workers", required_argument, NULL, 'w' },
		{ "threads", no_argument, NULL, 't' },
		{ "now", required_argument, NULL, 'n' },
		{ "repository", required_argument, NULL, 'r' },
		{ "full", no_argument, NULL, 'f' },
		{ "ledger", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL, *sc_path = NULL, *zone = NULL, *now_s = NULL;
	const char *repo_name = NULL, *ledger_path = NULL, *input, *output;
	unsigned workers = 0;
	bool threads = false, full = false;
	int verbosity = TDM_LOG_WARN, opt, rc;
	struct tdm_clock clk;
	struct tdm_conf *conf = NULL;
	struct tdm_signconf *sc = NULL;
	struct tdm_err err;
	struct signer_zone *z = NULL;
	const char *prev_path = NULL;
	struct backend_arg ba;
	struct signer_key *keys = NULL;
	struct signer_backend be = { be_open, be_sign, be_close, &ba };
	struct signer_params p;
	struct signer_stats st;
	struct stat sb;
	struct timespec t0, t1;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	tdm_err_clear(&err);
	memset(&ba, 0, sizeof ba);
	while ((opt = getopt_long(argc, argv, "c:s:z:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 's': sc_path = optarg; break;
		case 'z': zone = optarg; break;
		case 'w': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 256) {
				fprintf(stderr, "tandem-signzone: --workers: not a number from 1 to 256: %s\n", optarg);
				return 2;
			}
			workers = (unsigned)v;
			break;
		}
		case 't': threads = true; break;
		case 'n': now_s = optarg; break;
		case 'r': repo_name = optarg; break;
		case 'f': full = true; break;
		case 'l': ledger_path = optarg; break;
		case 'v': verbosity++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (conf_path == NULL || sc_path == NULL || argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	input = argv[optind];
	output = argv[optind + 1];
	tdm_log_init("tandem-signzone", false, 0, true, verbosity);

	if (tdm_clock_init_env(&clk) != 0) {
		fprintf(stderr, "tandem-signzone: TANDEM_FAKE_TIME: not a time\n");
		return 2;
	}
	if (now_s != NULL) {
		int64_t t;
		if (tdm_time_parse(now_s, &t) != 0) {
			fprintf(stderr, "tandem-signzone: --now: not a time: %s\n", now_s);
			return 2;
		}
		tdm_clock_init_fake(&clk, t);
	}
	now = tdm_clock_now(&clk);

	if ((rc = tdm_conf_load(conf_path, &conf, &err)) != 0 ||
	    (rc = tdm_signconf_load(sc_path, &sc, &err)) != 0)
		goto fail;
	if (zone == NULL) {
		zone = sc->zone;
	} else if (!same_zone(zone, sc->zone)) {
		rc = tdm_err_fail(&err, TDM_EINVAL, "%s is the signconf of zone %s, not of %s",
				  sc_path, sc->zone, zone);
		goto fail;
	}
	ba.conf = conf;
	ba.only_repo = -1;
	if (repo_name != NULL) {
		for (size_t r = 0; r < conf->n_repositories; r++)
			if (strcmp(conf->repositories[r].name, repo_name) == 0)
				ba.only_repo = (int)r;
		if (ba.only_repo < 0) {
			rc = tdm_err_fail(&err, TDM_ENOENT, "%s: no repository named %s", conf_path,
					  repo_name);
			goto fail;
		}
	}

	if (!full && stat(output, &sb) == 0)
		prev_path = output;
	rc = signer_zone_read(&z, zone, input, &err);
	if (rc != 0)
		goto fail;
	ba.n_keys = sc->n_keys;
	ba.keys = tdm_calloc(sc->n_keys + 1, sizeof *ba.keys);
	keys = tdm_calloc(sc->n_keys + 1, sizeof *keys);
	for (size_t k = 0; k < sc->n_keys; k++) {
		ba.keys[k].sk = &sc->keys[k];
		ba.keys[k].repo = -1;
	}
	tdm_log_notice("zone %s: read in %.3f s", zone, elapsed(&t0));
	if (ledger_path != NULL) {
		if (conf->n_repositories == 0) {
			rc = tdm_err_fail(&err, TDM_EINVAL,
					  "--ledger: %s has no <Repository> to unwrap keys in",
					  conf_path);
			goto fail;
		}
		if ((rc = ledger_rows_load(&ba, ledger_path, ba.only_repo, &err)) != 0)
			goto fail;
	}
	if ((rc = resolve_keys(&ba, &err)) != 0)
		goto fail;
	tdm_log_notice("zone %s: keys resolved at %.3f s", zone, elapsed(&t0));
	for (size_t k = 0; k < sc->n_keys; k++) {
		const struct tdm_signconf_key *sk = &sc->keys[k];
		keys[k].flags = sk->flags;
		keys[k].algorithm = sk->algorithm;
		keys[k].dnskey = ba.keys[k].dnskey;
		keys[k].dnskey_len = ba.keys[k].dnskey_len;
		keys[k].ksk = sk->ksk;
		keys[k].zsk = sk->zsk;
		keys[k].publish = sk->publish;
		keys[k].active = (sk->ksk || sk->zsk) && !sk->deactivate;
		keys[k].locator = sk->locator;
		keys[k].cds = sk->cds;
		keys[k].cdnskey = sk->cdnskey;
		if (ba.keys[k].dnskey_len < 4 || ba.keys[k].dnskey[3] != sk->algorithm ||
		    ((ba.keys[k].dnskey[0] << 8) | ba.keys[k].dnskey[1]) != sk->flags) {
			rc = tdm_err_fail(&err, TDM_EINVAL,
					  "key CKA_ID %s: DNSKEY flags/algorithm differ from the signconf's",
					  sk->locator ? sk->locator : "-");
			goto fail;
		}
	}

	memset(&p, 0, sizeof p);
	p.sc = sc;
	p.keys = keys;
	p.n_keys = sc->n_keys;
	p.backend = &be;
	p.now = now;
	p.workers = workers;
	p.threads = threads;
	p.progress = isatty(2) != 0;
	if ((rc = signer_zone_prepare(z, &p, &err)) != 0)
		goto fail;
	tdm_log_notice("zone %s: prepared at %.3f s", zone, elapsed(&t0));
	/* The previous output is streamed past the prepared zone (never
	 * loaded); an unusable one means a full signing, except under the
	 * serial policy keep. */
	rc = signer_zone_sign(z, prev_path, &p, &st, &err);
	if (rc != 0) {
		if (prev_path != NULL && sc->serial == TDM_SERIAL_KEEP)
			tdm_log_notice("--full signs without the previous output %s", output);
		goto fail;
	}
	tdm_log_notice("zone %s: prepared in %.3f s, signed in %.3f s, done at %.3f s", zone,
		       st.t_prepare, st.t_sign, elapsed(&t0));
	if (!st.unchanged || stat(output, &sb) != 0) {
		rc = signer_zone_write(z, output, &err);
		if (rc != 0)
			goto fail;
	}
	tdm_log_notice("zone %s: written at %.3f s", zone, elapsed(&t0));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%s: serial %u, %zu RRsets, %zu signatures made, %zu signatures reused, %.2f s\n", zone,
	       (unsigned)st.serial, st.rrsets, st.sigs_made, st.sigs_reused,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "tandem-signzone: %s\n", err.msg[0] ? err.msg : tdm_strerror(rc));
out:
	signer_zone_free(z);
	if (ba.keys != NULL)
		for (size_t k = 0; k < ba.n_keys; k++) {
			free(ba.keys[k].dnskey);
			ledger_row_free(ba.keys[k].lk);
		}
	free(ba.keys);
	free(keys);
	tdm_signconf_free(sc);
	tdm_conf_free(conf);
	return rc == 0 ? 0 : 1;
}
