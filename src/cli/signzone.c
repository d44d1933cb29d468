/*
 * tandem-signzone: sign a zone file once, from a signconf, without the
 * daemon.  Keys are found by CKA_ID (the signconf's <Locator>) in the
 * repositories of conf.xml, searched in order (or in the one named by
 * --repository).  When OUTPUT exists its signatures are reused where they
 * are still good (it is streamed once, after the input is prepared).  All logic is in src/signer; this
 * is the command line, the PKCS#11 backend and the summary line.
 */
#include "common/clock.h"
#include "common/conf.h"
#include "common/error.h"
#include "common/log.h"
#include "hsm/hsm.h"
#include "signer/signer.h"

#include <getopt.h>
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
		"                       [--repository NAME] [--full] [-v] [-h]\n"
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
		"      --workers N        signing workers (default: number of CPUs)\n"
		"      --threads          sign in threads instead of processes\n"
		"      --now TIME         the time to sign at (seconds or\n"
		"                         YYYY-MM-DDTHH:MM:SSZ); also TANDEM_FAKE_TIME\n"
		"      --full             ignore OUTPUT's signatures: sign everything\n"
		"  -v, --verbose          more log output (repeat for more)\n"
		"  -h, --help             this text\n");
}

/*- PKCS#11 backend ----------------------------------------------------------*/

struct keyref {
	const struct tdm_signconf_key *sk;
	int repo;               /* index into conf->repositories, -1 = search */
	uint8_t *dnskey;
	size_t dnskey_len;
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

/* Find key k: in its known repository, or the first repository holding it. */
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
			int repo;
			rc = find_key(a, s, k, &repo, err);
			if (rc == 0) {
				kr->repo = repo;
				rc = hsm_key_dnskey_rdata(s->ctx[repo], s->key[k], sk->flags,
							  &kr->dnskey, &kr->dnskey_len, err);
				if (rc != 0)
					tdm_err_wrap(err, "key CKA_ID %s", sk->locator);
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
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL, *sc_path = NULL, *zone = NULL, *now_s = NULL;
	const char *repo_name = NULL, *input, *output;
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
		for (size_t k = 0; k < ba.n_keys; k++)
			free(ba.keys[k].dnskey);
	free(ba.keys);
	free(keys);
	tdm_signconf_free(sc);
	tdm_conf_free(conf);
	return rc == 0 ? 0 : 1;
}
