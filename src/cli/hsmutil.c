/*
 * tandem-hsmutil: inspect and exercise the HSM repositories of conf.xml,
 * with the ods-hsmutil command grammar where it applies (list, generate,
 * remove, purge, dnskey, test, info) plus `speed`, a C_Sign throughput
 * benchmark over threads and processes.  Human output by default, --json
 * for scripts.  All the work is done by src/hsm; this is argument parsing
 * and printing.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/conf.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/control.h"
#include "hsm/hsm.h"

#define PROG "tandem-hsmutil"

static bool opt_json;
static bool opt_verbose;
static const char *opt_conf = TDM_SYSCONFDIR "/tandem/conf.xml";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [-c conf.xml] [-v] [--json] COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  list [REPO]                 list the keys of one or every repository\n"
"  generate REPO ALG [BITS] [--local]\n"
"                              generate a key pair: with a <Cluster> in conf.xml,\n"
"                              through tandemd (made on the leader, wrapped under\n"
"                              the cluster KEK, replicated); otherwise, or with\n"
"                              --local, a token object in REPO\n"
"                              ALG: rsasha256 rsasha512 ecdsap256sha256\n"
"                              ecdsap384sha384 ed25519, a number, rsa, ecdsa\n"
"  remove CKA_ID               remove a key pair\n"
"  purge REPO [-f]             remove every DNSSEC key of a repository\n"
"  dnskey CKA_ID NAME FLAGS ALG  print the DNSKEY record of a key\n"
"  test REPO                   generate, sign, verify, remove per algorithm\n"
"  info                        describe the modules and tokens\n"
"  speed REPO [--alg N] [--threads N] [--processes N] [--seconds S] [--session]\n"
"                              measure C_Sign throughput\n"
"\n"
"Options:\n"
"  -c, --config FILE   conf.xml (default %s)\n"
"  -v, --verbose       more detail\n"
"      --json          machine-readable output\n"
"  -h, --help          this text\n", opt_conf);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/*- algorithms -*/

static const struct {
	const char *name;
	uint8_t alg;
} alg_names[] = {
	{ "rsasha256", 8 }, { "rsasha512", 10 }, { "ecdsap256sha256", 13 },
	{ "ecdsap384sha384", 14 }, { "ed25519", 15 },
};

static const char *alg_name(uint8_t alg)
{
	size_t i;

	for (i = 0; i < sizeof alg_names / sizeof alg_names[0]; i++)
		if (alg_names[i].alg == alg)
			return alg_names[i].name;
	return "unknown";
}

/* ALG [BITS] as ods-hsmutil takes them ("rsa 2048", "ecdsa 384") or as
 * Tandem names them; 0 when unknown. */
static uint8_t parse_alg(const char *s, unsigned bits)
{
	size_t i;
	char *end;
	unsigned long n;

	for (i = 0; i < sizeof alg_names / sizeof alg_names[0]; i++)
		if (strcasecmp(s, alg_names[i].name) == 0)
			return alg_names[i].alg;
	if (strcasecmp(s, "rsa") == 0)
		return 8;
	if (strcasecmp(s, "ecdsa") == 0)
		return bits == 384 ? 14 : 13;
	n = strtoul(s, &end, 10);
	if (*s != '\0' && *end == '\0' && n > 0 && n < 256)
		return (uint8_t)n;
	return 0;
}

/*- repositories -*/

static struct tdm_conf *conf;

static int load_conf(void)
{
	struct tdm_err err = { "" };
	int rc;

	rc = tdm_conf_load(opt_conf, &conf, &err);
	if (rc != 0)
		return fail("%s", err.msg);
	return 0;
}

static int open_repo(const struct tdm_repository *r, struct hsm_ctx **out)
{
	struct tdm_err err = { "" };

	if (hsm_ctx_open(out, r->name, r->module, r->token_label, r->pin,
			 &err) != 0)
		return fail("%s", err.msg);
	return 0;
}

static const struct tdm_repository *repo_named(const char *name)
{
	const struct tdm_repository *r = tdm_conf_repository(conf, name);

	if (r == NULL)
		fail("no repository \"%s\" in %s", name, opt_conf);
	return r;
}

/* Find CKA_ID in every repository; *ctx is opened for the caller. */
static int find_anywhere(const char *id, struct hsm_ctx **ctx,
			 struct hsm_key **key)
{
	struct tdm_err err = { "" };
	size_t i;
	int rc;

	for (i = 0; i < conf->n_repositories; i++) {
		if (open_repo(&conf->repositories[i], ctx) != 0)
			continue;
		rc = hsm_key_find(*ctx, id, key, &err);
		if (rc == 0)
			return 0;
		if (rc != TDM_ENOKEY)
			fail("%s", err.msg);
		hsm_ctx_close(*ctx);
		if (rc == TDM_EINVAL)
			return 1;
	}
	*ctx = NULL;
	return fail("key %s: not found in any repository", id);
}

/*- list -*/

static int list_repo(struct tdm_json *j, const struct tdm_repository *r)
{
	struct hsm_key_info *l = NULL;
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx;
	size_t n = 0, i;

	if (open_repo(r, &ctx) != 0)
		return 1;
	if (hsm_key_list(ctx, &l, &n, &err) != 0) {
		hsm_ctx_close(ctx);
		return fail("%s", err.msg);
	}
	for (i = 0; i < n; i++) {
		const struct hsm_key_info *k = &l[i];
		if (opt_json) {
			tdm_json_object_begin(j);
			tdm_json_kv_string(j, "repository", r->name);
			tdm_json_kv_string(j, "id", k->cka_id);
			tdm_json_kv_string(j, "label", k->label);
			tdm_json_kv_uint(j, "algorithm", k->algorithm);
			tdm_json_kv_uint(j, "bits", k->bits);
			tdm_json_kv_bool(j, "private", k->has_private);
			tdm_json_kv_bool(j, "public", k->has_public);
			tdm_json_object_end(j);
		} else {
			printf("%-16s %-32s %-16s %5u  %s%s\n", r->name, k->cka_id,
			       k->algorithm ? alg_name(k->algorithm) :
			       (k->bits ? "RSA" : "other"),
			       k->bits, k->label,
			       !k->has_private ? "  (public only)" :
			       !k->has_public ? "  (no public key)" : "");
		}
	}
	if (!opt_json)
		fprintf(stderr, "%zu key%s in repository %s\n", n,
			n == 1 ? "" : "s", r->name);
	free(l);
	hsm_ctx_close(ctx);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	struct tdm_json j;
	size_t i;
	int rc = 0;

	tdm_json_init(&j);
	tdm_json_array_begin(&j);
	if (!opt_json)
		printf("%-16s %-32s %-16s %5s  %s\n", "Repository", "ID", "Type",
		       "Bits", "Label");
	if (argc > 1) {
		const struct tdm_repository *r = repo_named(argv[1]);
		rc = r == NULL ? 1 : list_repo(&j, r);
	} else {
		for (i = 0; i < conf->n_repositories; i++)
			rc |= list_repo(&j, &conf->repositories[i]);
	}
	tdm_json_array_end(&j);
	if (opt_json && rc == 0)
		puts(tdm_json_text(&j));
	tdm_json_free(&j);
	return rc;
}

/*- generate, remove, purge -*/

/*
 * Key custody (DESIGN.md): in a cluster a DNSSEC key is made by the leader
 * as an extractable session object, wrapped under the cluster KEK and
 * committed; every node unwraps it.  So `generate` asks the local tandemd,
 * which forwards to the leader, and prints its answer.
 */
static int generate_via_tandemd(const char *repo, uint8_t alg, unsigned bits)
{
	char a[8], b[16];
	const char *words[10];
	struct control_request req = { opt_json ? CONTROL_F_JSON : 0, 0, NULL };
	struct control_response resp;
	struct tdm_err err = { "" };
	int n = 0, rc;

	words[n++] = "key";
	words[n++] = "generate";
	words[n++] = "--algorithm";
	snprintf(a, sizeof a, "%u", alg);
	words[n++] = a;
	if (bits != 0) {
		snprintf(b, sizeof b, "%u", bits);
		words[n++] = "--bits";
		words[n++] = b;
	}
	words[n++] = "--repository";
	words[n++] = repo;
	words[n] = NULL;
	req.argc = n;
	req.argv = (char **)words;
	rc = control_call(conf->cluster.control_socket, &req, &resp, 0, &err);
	if (rc != 0)
		return fail("%s (use --local for a key outside the cluster)", err.msg);
	if (resp.status == 0 && !opt_json)
		printf("Generated %s key %s in repository %s, replicated through the cluster\n",
		       alg_name(alg), strtok(resp.body, "\n") ? resp.body : "", repo);
	else
		fputs(resp.body, resp.status == 0 ? stdout : stderr);
	rc = resp.status;
	control_response_clear(&resp);
	return rc;
}

static int cmd_generate(int argc, char **argv)
{
	const struct tdm_repository *r;
	struct hsm_keygen o = { 0 };
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx;
	struct hsm_key *k;
	unsigned bits = 0;
	bool local = false;

	if (argc > 1 && strcmp(argv[argc - 1], "--local") == 0) {
		local = true;
		argc--;
	}
	if (argc < 3 || argc > 4)
		return fail("usage: generate REPO ALG [BITS] [--local]");
	if (argc == 4)
		bits = (unsigned)strtoul(argv[3], NULL, 10);
	o.algorithm = parse_alg(argv[2], bits);
	if (o.algorithm == 0)
		return fail("unknown algorithm \"%s\"", argv[2]);
	o.bits = bits;
	r = repo_named(argv[1]);
	if (r == NULL)
		return 1;
	if (conf->cluster.present && !local)
		return generate_via_tandemd(r->name, o.algorithm, bits);
	/* <AllowExtraction/>, as OpenDNSSEC: such a key can later be wrapped
	 * into a cluster (tandem-enforcer key import). */
	o.extractable = r->allow_extraction;
	if (open_repo(r, &ctx) != 0)
		return 1;
	if (hsm_key_generate(ctx, &o, &k, &err) != 0) {
		hsm_ctx_close(ctx);
		return fail("%s", err.msg);
	}
	if (opt_json)
		printf("{\"repository\":\"%s\",\"id\":\"%s\",\"algorithm\":%u,\"bits\":%u}\n",
		       r->name, hsm_key_id(k), o.algorithm,
		       o.algorithm <= 10 ? (bits ? bits : 2048) :
		       o.algorithm == 14 ? 384 : 256);
	else
		printf("Generated %s key %s in repository %s\n",
		       alg_name(o.algorithm), hsm_key_id(k), r->name);
	hsm_ctx_close(ctx);
	return 0;
}

static int cmd_remove(int argc, char **argv)
{
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx;
	struct hsm_key *k;
	int rc;

	if (argc != 2)
		return fail("usage: remove CKA_ID");
	if (find_anywhere(argv[1], &ctx, &k) != 0)
		return 1;
	rc = hsm_key_remove(ctx, k, &err);
	if (rc == 0 && !opt_json)
		printf("Removed key %s from repository %s\n", argv[1],
		       hsm_ctx_name(ctx));
	if (rc == 0 && opt_json)
		printf("{\"repository\":\"%s\",\"id\":\"%s\",\"removed\":true}\n",
		       hsm_ctx_name(ctx), argv[1]);
	hsm_ctx_close(ctx);
	return rc == 0 ? 0 : fail("%s", err.msg);
}

static int cmd_purge(int argc, char **argv)
{
	const struct tdm_repository *r;
	struct hsm_key_info *l = NULL;
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx;
	struct hsm_key *k;
	bool force = false;
	size_t n = 0, i, removed = 0, kept = 0;
	int a, rc = 0;
	char answer[16];

	for (a = 2; a < argc; a++) {
		if (strcmp(argv[a], "-f") == 0 || strcmp(argv[a], "--force") == 0)
			force = true;
		else
			return fail("usage: purge REPO [-f]");
	}
	if (argc < 2)
		return fail("usage: purge REPO [-f]");
	r = repo_named(argv[1]);
	if (r == NULL || open_repo(r, &ctx) != 0)
		return 1;
	if (hsm_key_list(ctx, &l, &n, &err) != 0) {
		hsm_ctx_close(ctx);
		return fail("%s", err.msg);
	}
	if (!force) {
		printf("Remove all %zu DNSSEC keys of repository %s? "
		       "Type YES to confirm: ", n, r->name);
		fflush(stdout);
		if (fgets(answer, sizeof answer, stdin) == NULL ||
		    strcmp(answer, "YES\n") != 0) {
			printf("Nothing removed.\n");
			free(l);
			hsm_ctx_close(ctx);
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		/* The node's key-custody objects are not DNSSEC keys. */
		if (strncmp(l[i].label, "tandem-", 7) == 0 || !l[i].has_private ||
		    l[i].algorithm == 0) {
			kept++;
			continue;
		}
		if (hsm_key_find(ctx, l[i].cka_id, &k, &err) != 0 ||
		    hsm_key_remove(ctx, k, &err) != 0) {
			rc = fail("%s", err.msg);
			continue;
		}
		removed++;
	}
	if (opt_json)
		printf("{\"repository\":\"%s\",\"removed\":%zu,\"kept\":%zu}\n",
		       r->name, removed, kept);
	else
		printf("Removed %zu key%s from repository %s (kept %zu other objects)\n",
		       removed, removed == 1 ? "" : "s", r->name, kept);
	free(l);
	hsm_ctx_close(ctx);
	return rc;
}

/*- dnskey -*/

static int cmd_dnskey(int argc, char **argv)
{
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx;
	struct hsm_key *k;
	uint8_t *rd = NULL, alg;
	size_t len;
	unsigned long flags;
	char *b64, *end;
	const char *name;
	int rc;

	if (argc != 5)
		return fail("usage: dnskey CKA_ID NAME FLAGS ALG");
	flags = strtoul(argv[3], &end, 10);
	if (*end != '\0' || flags > 0xffff)
		return fail("FLAGS \"%s\": not a number of 0..65535", argv[3]);
	alg = parse_alg(argv[4], 0);
	if (alg == 0)
		return fail("unknown algorithm \"%s\"", argv[4]);
	if (find_anywhere(argv[1], &ctx, &k) != 0)
		return 1;
	rc = hsm_key_set_algorithm(ctx, k, alg, &err);
	if (rc == 0)
		rc = hsm_key_dnskey_rdata(ctx, k, (uint16_t)flags, &rd, &len, &err);
	hsm_ctx_close(ctx);
	if (rc != 0)
		return fail("%s", err.msg);
	b64 = tdm_malloc(4 * ((len - 4 + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, rd + 4, (int)(len - 4));
	name = argv[2];
	if (opt_json)
		printf("{\"name\":\"%s%s\",\"flags\":%lu,\"protocol\":3,"
		       "\"algorithm\":%u,\"public_key\":\"%s\",\"keytag\":%u}\n",
		       name, name[strlen(name) - 1] == '.' ? "" : ".", flags, alg,
		       b64, hsm_keytag(rd, len));
	else
		printf("%s%s\t3600\tIN\tDNSKEY\t%lu 3 %u %s ;{id = %u (%s)}\n",
		       name, name[strlen(name) - 1] == '.' ? "" : ".", flags, alg,
		       b64, hsm_keytag(rd, len), flags & 1 ? "ksk" : "zsk");
	free(b64);
	free(rd);
	return 0;
}

/*- test -*/

static int test_alg(struct hsm_ctx *ctx, uint8_t alg, struct tdm_json *j)
{
	static const uint8_t data[] = "tandem-hsmutil test";
	struct hsm_keygen o = { .algorithm = alg, .bits = 2048 };
	uint8_t sig[HSM_MAX_SIG_LEN], *rd = NULL;
	struct tdm_err err = { "" };
	struct hsm_key *k = NULL;
	const char *step = "generate";
	size_t sig_len, len;
	char id[65] = "";
	int rc;

	rc = hsm_key_generate(ctx, &o, &k, &err);
	if (rc == 0) {
		snprintf(id, sizeof id, "%s", hsm_key_id(k));
		step = "dnskey";
		rc = hsm_key_dnskey_rdata(ctx, k, 256, &rd, &len, &err);
	}
	if (rc == 0) {
		step = "sign";
		rc = hsm_sign(ctx, k, data, sizeof data, sig, &sig_len, &err);
	}
	if (rc == 0) {
		step = "verify";
		rc = hsm_verify(rd, len, data, sizeof data, sig, sig_len, &err);
	}
	if (k != NULL) {
		struct tdm_err err2 = { "" };
		int rc2 = hsm_key_remove(ctx, k, &err2);
		if (rc == 0 && rc2 != 0) {
			step = "remove";
			rc = rc2;
			err = err2;
		}
	}
	free(rd);
	if (opt_json) {
		tdm_json_object_begin(j);
		tdm_json_kv_uint(j, "algorithm", alg);
		tdm_json_kv_string(j, "name", alg_name(alg));
		tdm_json_kv_bool(j, "ok", rc == 0);
		if (rc != 0) {
			tdm_json_kv_string(j, "step", step);
			tdm_json_kv_string(j, "error", err.msg);
		}
		tdm_json_object_end(j);
	} else if (rc == 0) {
		printf("%-16s (%2u): generate, sign, verify, remove: OK  (key %s)\n",
		       alg_name(alg), alg, id);
	} else {
		printf("%-16s (%2u): %s FAILED: %s\n", alg_name(alg), alg, step,
		       err.msg);
	}
	return rc == 0 ? 0 : 1;
}

static int cmd_test(int argc, char **argv)
{
	const struct tdm_repository *r;
	struct hsm_ctx *ctx;
	struct tdm_json j;
	size_t i;
	int rc = 0;

	if (argc != 2)
		return fail("usage: test REPO");
	r = repo_named(argv[1]);
	if (r == NULL || open_repo(r, &ctx) != 0)
		return 1;
	tdm_json_init(&j);
	tdm_json_array_begin(&j);
	for (i = 0; i < sizeof alg_names / sizeof alg_names[0]; i++) {
		uint8_t alg = alg_names[i].alg;
		if (!hsm_algorithm_supported(ctx, alg)) {
			if (opt_json) {
				tdm_json_object_begin(&j);
				tdm_json_kv_uint(&j, "algorithm", alg);
				tdm_json_kv_string(&j, "name", alg_name(alg));
				tdm_json_kv_bool(&j, "ok", false);
				tdm_json_kv_string(&j, "error", "not supported by the token");
				tdm_json_object_end(&j);
			} else {
				printf("%-16s (%2u): not supported by the token\n",
				       alg_name(alg), alg);
			}
			continue;
		}
		rc |= test_alg(ctx, alg, &j);
	}
	tdm_json_array_end(&j);
	if (opt_json)
		puts(tdm_json_text(&j));
	tdm_json_free(&j);
	hsm_ctx_close(ctx);
	return rc;
}

/*- info -*/

static int cmd_info(int argc, char **argv)
{
	struct hsm_token_info ti;
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx;
	struct tdm_json j;
	size_t i, a;
	int rc = 0;

	tdm_json_init(&j);
	tdm_json_array_begin(&j);
	for (i = 0; i < conf->n_repositories; i++) {
		const struct tdm_repository *r = &conf->repositories[i];
		if (open_repo(r, &ctx) != 0) {
			rc = 1;
			continue;
		}
		if (hsm_ctx_token_info(ctx, &ti, &err) != 0) {
			rc = fail("%s", err.msg);
			hsm_ctx_close(ctx);
			continue;
		}
		if (opt_json) {
			tdm_json_object_begin(&j);
			tdm_json_kv_string(&j, "repository", r->name);
			tdm_json_kv_string(&j, "module", ti.module);
			tdm_json_kv_string(&j, "module_description",
					   ti.module_description);
			tdm_json_kv_uint(&j, "slot", ti.slot);
			tdm_json_kv_string(&j, "token_label", ti.label);
			tdm_json_kv_string(&j, "manufacturer", ti.manufacturer);
			tdm_json_kv_string(&j, "model", ti.model);
			tdm_json_kv_string(&j, "serial", ti.serial);
			tdm_json_key(&j, "algorithms");
			tdm_json_array_begin(&j);
			for (a = 0; a < sizeof alg_names / sizeof alg_names[0]; a++)
				if (hsm_algorithm_supported(ctx, alg_names[a].alg))
					tdm_json_uint(&j, alg_names[a].alg);
			tdm_json_array_end(&j);
			tdm_json_object_end(&j);
		} else {
			printf("Repository:    %s\n", r->name);
			printf("  Module:      %s (%s %u.%u)\n", ti.module,
			       ti.module_description, ti.module_version_major,
			       ti.module_version_minor);
			printf("  Slot:        %lu\n", ti.slot);
			printf("  Token Label: %s\n", ti.label);
			printf("  Manufacturer:%s%s\n", " ", ti.manufacturer);
			printf("  Model:       %s\n", ti.model);
			printf("  Serial:      %s\n", ti.serial);
			printf("  Algorithms: ");
			for (a = 0; a < sizeof alg_names / sizeof alg_names[0]; a++)
				if (hsm_algorithm_supported(ctx, alg_names[a].alg))
					printf(" %s(%u)", alg_names[a].name,
					       alg_names[a].alg);
			printf("\n");
		}
		hsm_ctx_close(ctx);
	}
	tdm_json_array_end(&j);
	if (opt_json)
		puts(tdm_json_text(&j));
	tdm_json_free(&j);
	return rc;
}

/*- speed -*/

struct speed_opts {
	const struct tdm_repository *repo;
	uint8_t alg;
	unsigned threads, processes;
	double seconds;
	bool session;
	char key_id[65];
};

struct speed_result {
	unsigned long long sigs, errors;
	double elapsed;               /* the longest worker's */
	char error[256];
};

struct speed_worker {
	struct hsm_ctx *ctx;
	struct hsm_key *key;
	double seconds;
	pthread_barrier_t *start;
	unsigned long long sigs, errors;
	double elapsed;
	char error[256];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *speed_thread(void *p)
{
	struct speed_worker *w = p;
	uint8_t data[100], sig[HSM_MAX_SIG_LEN];
	struct tdm_err err = { "" };
	double t0, t, end;
	size_t n;
	unsigned i = 0;

	memset(data, 0x5a, sizeof data);
	/* Warm up: the first call opens this thread's session. */
	if (hsm_sign(w->ctx, w->key, data, sizeof data, sig, &n, &err) != 0)
		snprintf(w->error, sizeof w->error, "%s", err.msg);
	pthread_barrier_wait(w->start);
	t0 = now_s();
	end = t0 + w->seconds;
	do {
		data[i++ % sizeof data]++;
		if (hsm_sign(w->ctx, w->key, data, sizeof data, sig, &n, &err) == 0) {
			w->sigs++;
		} else {
			if (w->errors++ == 0)
				snprintf(w->error, sizeof w->error, "%s", err.msg);
		}
		t = now_s();
	} while (t < end);
	w->elapsed = t - t0;
	return NULL;
}

/* One process's share: `threads` threads on `ctx`.  `go` is called after
 * every thread is warmed up and before they start counting. */
static void speed_process(struct hsm_ctx *ctx, const struct speed_opts *o,
			  void (*go)(void *), void *go_arg,
			  struct speed_result *res)
{
	struct speed_worker *w = tdm_calloc(o->threads, sizeof *w);
	pthread_t *th = tdm_calloc(o->threads, sizeof *th);
	struct hsm_keygen kg = { .algorithm = o->alg, .bits = 2048,
				 .session = true };
	struct tdm_err err = { "" };
	pthread_barrier_t start;
	struct hsm_key *key;
	unsigned i;
	int rc;

	memset(res, 0, sizeof *res);
	if (o->session)
		rc = hsm_key_generate(ctx, &kg, &key, &err);
	else
		rc = hsm_key_find(ctx, o->key_id, &key, &err);
	if (rc == 0 && o->alg == 10)
		rc = hsm_key_set_algorithm(ctx, key, 10, &err);
	if (rc != 0) {
		snprintf(res->error, sizeof res->error, "%s", err.msg);
		res->errors = 1;
		go(go_arg);
		goto out;
	}
	pthread_barrier_init(&start, NULL, o->threads + 1);
	for (i = 0; i < o->threads; i++) {
		w[i] = (struct speed_worker){ .ctx = ctx, .key = key,
					      .seconds = o->seconds,
					      .start = &start };
		pthread_create(&th[i], NULL, speed_thread, &w[i]);
	}
	go(go_arg);
	pthread_barrier_wait(&start);
	for (i = 0; i < o->threads; i++) {
		pthread_join(th[i], NULL);
		res->sigs += w[i].sigs;
		res->errors += w[i].errors;
		if (w[i].elapsed > res->elapsed)
			res->elapsed = w[i].elapsed;
		if (res->error[0] == '\0' && w[i].error[0] != '\0')
			snprintf(res->error, sizeof res->error, "%s", w[i].error);
	}
	pthread_barrier_destroy(&start);
out:
	free(w);
	free(th);
}

static void go_now(void *arg) { (void)arg; }

/* In a child: tell the parent we are ready, wait for its word. */
struct go_pipes { int ready, go; };
static void go_child(void *arg)
{
	struct go_pipes *p = arg;
	char c = 'r';

	/* The parent closes its end to start everyone: read returns 0. */
	if (write(p->ready, &c, 1) != 1 || read(p->go, &c, 1) < 0)
		_exit(3);
}

static int cmd_speed(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "alg", required_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 't' },
		{ "processes", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' },
		{ "session", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct speed_opts o = { .alg = 13, .threads = 1, .processes = 1,
				.seconds = 3 };
	struct speed_result total = { 0 }, res;
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx = NULL;
	struct hsm_key *key = NULL;
	int c, rc = 0, ready[2], go[2], results[2];
	pid_t *pids = NULL;
	unsigned i;

	optind = 0;     /* glibc: re-initialise (main used "+" mode) */
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a': o.alg = parse_alg(optarg, 0); break;
		case 't': o.threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': o.processes = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': o.seconds = strtod(optarg, NULL); break;
		case 'S': o.session = true; break;
		default: return fail("usage: speed REPO [--alg N] [--threads N] "
				     "[--processes N] [--seconds S] [--session]");
		}
	}
	if (optind + 1 != argc)
		return fail("usage: speed REPO [options]");
	if (o.alg == 0 || o.threads == 0 || o.threads > 256 ||
	    o.processes == 0 || o.processes > 64 || !(o.seconds > 0))
		return fail("speed: bad --alg, --threads, --processes or --seconds");
	o.repo = repo_named(argv[optind]);
	if (o.repo == NULL || open_repo(o.repo, &ctx) != 0)
		return 1;
	if (!o.session) {
		struct hsm_keygen kg = { .algorithm = o.alg, .bits = 2048 };
		if (hsm_key_generate(ctx, &kg, &key, &err) != 0) {
			hsm_ctx_close(ctx);
			return fail("%s", err.msg);
		}
		snprintf(o.key_id, sizeof o.key_id, "%s", hsm_key_id(key));
	}

	if (o.processes == 1) {
		speed_process(ctx, &o, go_now, NULL, &total);
	} else {
		struct go_pipes gp;
		if (pipe(ready) != 0 || pipe(go) != 0 || pipe(results) != 0) {
			rc = fail("pipe: %s", strerror(errno));
			goto out;
		}
		pids = tdm_calloc(o.processes, sizeof *pids);
		gp.ready = ready[1];
		gp.go = go[0];
		fflush(NULL);
		for (i = 0; i < o.processes; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				struct hsm_ctx *cctx;
				close(ready[0]);
				close(go[1]);
				close(results[0]);
				memset(&res, 0, sizeof res);
				if (hsm_ctx_open(&cctx, o.repo->name, o.repo->module,
						 o.repo->token_label, o.repo->pin,
						 &err) != 0) {
					snprintf(res.error, sizeof res.error, "%s",
						 err.msg);
					res.errors = 1;
					go_child(&gp);
				} else {
					speed_process(cctx, &o, go_child, &gp, &res);
					hsm_ctx_close(cctx);
				}
				if (write(results[1], &res, sizeof res) != sizeof res)
					_exit(2);
				_exit(0);
			}
			if (pids[i] < 0) {
				rc = fail("fork: %s", strerror(errno));
				o.processes = i;
				break;
			}
		}
		close(ready[1]);
		close(go[0]);
		close(results[1]);
		for (i = 0; i < o.processes; i++) {
			char ch;
			if (read(ready[0], &ch, 1) != 1)
				break;
		}
		/* Closing the pipe is the word "go" for every child. */
		close(go[1]);
		for (i = 0; i < o.processes; i++) {
			if (read(results[0], &res, sizeof res) != sizeof res) {
				rc = fail("speed: a worker process died");
				break;
			}
			total.sigs += res.sigs;
			total.errors += res.errors;
			if (res.elapsed > total.elapsed)
				total.elapsed = res.elapsed;
			if (total.error[0] == '\0' && res.error[0] != '\0')
				memcpy(total.error, res.error, sizeof res.error);
		}
		close(ready[0]);
		close(results[0]);
		for (i = 0; i < o.processes; i++)
			waitpid(pids[i], NULL, 0);
	}
	if (total.errors > 0)
		rc = fail("speed: %llu failed signatures; first: %s", total.errors,
			  total.error);
	if (opt_json) {
		printf("{\"alg\":%u,\"threads\":%u,\"processes\":%u,"
		       "\"signatures\":%llu,\"seconds\":%.3f,\"rate\":%.1f,"
		       "\"session\":%s}\n", o.alg, o.threads, o.processes,
		       total.sigs, total.elapsed,
		       total.elapsed > 0 ? (double)total.sigs / total.elapsed : 0.0,
		       o.session ? "true" : "false");
	} else {
		printf("%s (%u), %s key, %u process%s x %u thread%s: "
		       "%llu signatures in %.2f s = %.0f/s\n",
		       alg_name(o.alg), o.alg, o.session ? "session" : "token",
		       o.processes, o.processes == 1 ? "" : "es", o.threads,
		       o.threads == 1 ? "" : "s", total.sigs, total.elapsed,
		       total.elapsed > 0 ? (double)total.sigs / total.elapsed : 0.0);
	}
out:
	free(pids);
	if (key != NULL && hsm_key_remove(ctx, key, &err) != 0)
		rc = fail("%s", err.msg);
	hsm_ctx_close(ctx);
	return rc;
}

/*- main -*/

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int c, rc;

	/* "+": stop at the command, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+c:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': opt_conf = optarg; break;
		case 'v': opt_verbose = true; break;
		case 'j': opt_json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	tdm_log_init(PROG, false, 0, true,
		     opt_verbose ? TDM_LOG_DEBUG : TDM_LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	argc -= optind;
	argv += optind;
	cmd = argv[0];
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (load_conf() != 0)
		return 1;
	if (strcmp(cmd, "list") == 0)
		rc = cmd_list(argc, argv);
	else if (strcmp(cmd, "generate") == 0)
		rc = cmd_generate(argc, argv);
	else if (strcmp(cmd, "remove") == 0)
		rc = cmd_remove(argc, argv);
	else if (strcmp(cmd, "purge") == 0)
		rc = cmd_purge(argc, argv);
	else if (strcmp(cmd, "dnskey") == 0)
		rc = cmd_dnskey(argc, argv);
	else if (strcmp(cmd, "test") == 0)
		rc = cmd_test(argc, argv);
	else if (strcmp(cmd, "info") == 0)
		rc = cmd_info(argc, argv);
	else if (strcmp(cmd, "speed") == 0)
		rc = cmd_speed(argc, argv);
	else
		rc = fail("unknown command \"%s\" (try --help)", cmd);
	tdm_conf_free(conf);
	return rc;
}
