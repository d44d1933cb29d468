/*
 * tandem-enforcer (see daemon.h): Tandem's ods-enforcer.  It speaks
 * OpenDNSSEC 2.x's ods-enforcer grammar to the local tandemd over the
 * control socket, as cluster-ctl does: the request is the command words,
 * tandemd parses and runs them (forwarding to the leader when needed) and
 * answers with text (or JSON with --json) and an exit status 0/1/2/3.
 *
 * The CLI is thin but has duties of its own, because the leader that runs
 * a command may be another machine:
 *   - files are read here, never by tandemd: `policy import`, `update kasp`,
 *     `update zonelist`, `zonelist import` and `update all` send the bytes
 *     of conf.xml's PolicyFile / ZoneListFile (or -f PATH) appended as
 *     `--content CHUNK...` (chunks of at most ENF_CHUNK bytes, concatenated
 *     by tandemd); `update all` sends `--content-kasp CHUNK...
 *     --content-zonelist CHUNK...`;
 *   - `zonelist export` receives the zonelist.xml text, checks it against
 *     the schema and writes it atomically to ZoneListFile (or -f PATH, or
 *     stdout with -f -); `zone add|delete|set-policy -u|--xml` do the same
 *     export after the change succeeded;
 *   - the command words are checked against the grammar (an unknown command
 *     is a usage error, exit 2, even with no tandemd running), `help` and
 *     --help print the grammar, and with no command it reads commands one
 *     per line (interactive mode, prompt "enforcer> " on a TTY).
 * Everything else passes through unchanged.
 */
#include "daemon/daemon.h"
#include "daemon/control.h"
#include "common/conf.h"
#include "common/json.h"
#include "common/log.h"

#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define PROG "tandem-enforcer"
/* Bytes per --content argument: below CONTROL_MAX_ARG (65535). */
#define ENF_CHUNK 60000
/*
 * Default answer timeout for commands that are not marked ENF_LONG.  Those
 * that may take long (whole zone lists, every zone of a policy, the
 * enforcer itself) wait without limit: a timeout leaves the outcome unknown.
 */
#define ENF_TIMEOUT_MS 60000

enum {
	ENF_LONG = 1u << 0,      /* may run long: no default timeout */
	ENF_KASP = 1u << 1,      /* append PolicyFile as --content */
	ENF_ZONELIST = 1u << 2,  /* append ZoneListFile (or -f PATH) as --content */
	ENF_EXPORT = 1u << 3,    /* zonelist export: write the answer to a file */
	ENF_LOCAL = 1u << 4,     /* answered here (help) */
	ENF_XML = 1u << 5,       /* -u|--xml: then zonelist export to ZoneListFile */
};

struct enf_cmd {
	const char *w1, *w2;  /* command words; w2 NULL for one-word commands */
	unsigned flags;
	const char *usage;
	const char *what;
};

/* The grammar, in ods-enforcer's help order; `+` marks Tandem additions. */
static const struct enf_cmd commands[] = {
	{ "update", "kasp", ENF_KASP | ENF_LONG, "update kasp", "import the PolicyFile (as policy import)" },
	{ "update", "zonelist", ENF_ZONELIST | ENF_LONG, "update zonelist", "import the ZoneListFile (as zonelist import)" },
	{ "update", "all", ENF_KASP | ENF_ZONELIST | ENF_LONG, "update all", "policy import + zonelist import" },
	{ "update", "conf", 0, "update conf", "re-read conf.xml on this node" },
	{ "repository", "list", 0, "repository list", "the HSM repositories of conf.xml" },
	{ "policy", "list", 0, "policy list", "the policies" },
	{ "policy", "export", 0, "policy export (-p|--policy P | -a|--all)", "kasp.xml of one or every policy" },
	{ "policy", "import", ENF_KASP | ENF_LONG, "policy import [-r|--remove-missing-policies]", "import the PolicyFile" },
	{ "policy", "purge", 0, "policy purge", "delete the policies no zone uses" },
	{ "policy", "resalt", ENF_LONG, "policy resalt", "new NSEC3 salts where older than Resalt" },
	{ "zone", "list", 0, "zone list", "the zones" },
	{ "zone", "add", ENF_XML, "zone add -z|--zone Z [-p|--policy P] [-s|--signerconf PATH] [-j|--in-type File|DNS] [-i|--input PATH] [-q|--out-type File|DNS] [-o|--output PATH] [-u|--xml]", "add a zone" },
	{ "zone", "delete", ENF_LONG | ENF_XML, "zone delete (-z|--zone Z | -a|--all) [-u|--xml]", "delete a zone or all" },
	{ "zone", "set-policy", ENF_XML, "zone set-policy -z|--zone Z -p|--policy P [-u|--xml]", "move a zone to another policy" },
	{ "zonelist", "export", ENF_EXPORT, "zonelist export [-f|--file PATH|-]", "write the zones to the ZoneListFile (PATH, - = stdout)" },
	{ "zonelist", "import", ENF_ZONELIST | ENF_LONG, "zonelist import [-r|--remove-missing-zones] [-f|--file PATH]", "import the ZoneListFile (or PATH)" },
	{ "key", "list", 0, "key list [-v|--verbose] [-d|--debug] [-f|--full] [-p|--parsable] [-z|--zone Z] [-k|--keystate S | -a|--all]", "the keys" },
	{ "key", "export", 0, "key export (-z|--zone Z | -a|--all) [-e|--keystate S] [-t|--keytype KSK|ZSK|CSK] [-k|--cka_id ID] [-d|--ds [-s|--sha1]]", "DNSKEY or DS records" },
	{ "key", "import", 0, "key import -k|--cka_id ID -r|--repository R -z|--zone Z -b|--bits N -g|--algorithm A -e|--keystate S -t|--keytype T -w|--inception_time T", "adopt a key already in the HSM" },
	{ "key", "ds-submit", 0, "key ds-submit -z|--zone Z (-x|--keytag TAG | -k|--cka_id ID)", "the DS was submitted to the parent" },
	{ "key", "ds-seen", 0, "key ds-seen (-z|--zone Z (-x|--keytag TAG | -k|--cka_id ID) | -a|--all)", "the DS is seen at the parent" },
	{ "key", "ds-retract", 0, "key ds-retract -z|--zone Z (-x|--keytag TAG | -k|--cka_id ID)", "the DS retraction was submitted" },
	{ "key", "ds-gone", 0, "key ds-gone -z|--zone Z (-x|--keytag TAG | -k|--cka_id ID)", "the DS is gone from the parent" },
	{ "key", "generate", ENF_LONG, "key generate -d|--duration DUR (-p|--policy P | -a|--all)", "pre-generate keys for DUR" },
	{ "key", "purge", ENF_LONG, "key purge (-p|--policy P | -z|--zone Z) [-d|--delete]", "drop dead keys (-d: from the HSM too)" },
	{ "key", "rollover", ENF_LONG, "key rollover (-z|--zone Z | -p|--policy P) [-t|--keytype KSK|ZSK|CSK]", "start a manual rollover" },
	{ "rollover", "list", 0, "rollover list [-z|--zone Z]", "the next rollover of every key" },
	{ "backup", "list", 0, "backup list [-r|--repository R]", "keys and their backup state" },
	{ "backup", "prepare", 0, "backup prepare [-r|--repository R]", "mark keys as about to be backed up" },
	{ "backup", "commit", 0, "backup commit [-r|--repository R]", "the prepared keys are backed up" },
	{ "backup", "rollback", 0, "backup rollback [-r|--repository R]", "forget a backup prepare" },
	{ "enforce", NULL, ENF_LONG, "enforce [-z|--zone Z]", "run the enforcer now" },
	{ "signconf", NULL, ENF_LONG, "signconf [-z|--zone Z]", "write the signconfs now" },
	{ "queue", NULL, 0, "queue", "the scheduled tasks" },
	{ "flush", NULL, ENF_LONG, "flush", "run every scheduled task now" },
	{ "time", "leap", ENF_LONG, "time leap [-t|--time YYYY-MM-DD-HH:MM:SS] [-a|--attach]", "move the enforcer's clock to the next event (testing)" },
	{ "running", NULL, 0, "running", "is tandemd running?" },
	{ "verbosity", NULL, 0, "verbosity N", "this node's log verbosity (0..4)" },
	{ "pool", "list", 0, "+ pool list", "pre-generated keys per (repository, algorithm, bits)" },
	{ "pool", "fill", ENF_LONG, "+ pool fill -g ALG [-b BITS] -n N [-r REPO]", "pre-generate keys until the pool holds N (before a bulk import)" },
	{ "help", NULL, ENF_LOCAL, "help [COMMAND]", "this list (the lines for COMMAND)" },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

struct enf_ctx {
	const char *conf_path;
	const char *sock_opt;
	struct tdm_conf *conf;  /* loaded on first need, owned */
	uint32_t flags;         /* CONTROL_F_JSON */
	int timeout_ms;         /* -1: per command */
};

/* A growing argv of owned strings. */
struct words {
	char **v;
	int n, cap;
};

/*- grammar and help ------------------------------------------------------*/

static void print_command(FILE *f, const struct enf_cmd *c)
{
	size_t n = strlen(c->usage);
	fprintf(f, "  %s%*s  %s\n", c->usage, n < 44 ? (int)(44 - n) : 0, "", c->what);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [-c conf.xml] [-s SOCKET] [--json] [-t MS] [COMMAND [ARGS]]\n"
		"OpenDNSSEC 2.x ods-enforcer commands, run by the cluster's leader (+ = Tandem's):\n\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		print_command(f, &commands[i]);
	fprintf(f,
		"\nWith no COMMAND, commands are read one per line (exit or quit or EOF ends).\n"
		"  -c, --config FILE   conf.xml (control socket, PolicyFile, ZoneListFile;\n"
		"                      default %s)\n"
		"  -s, --socket PATH   the control socket, instead of conf.xml's\n"
		"  -j, --json          JSON output\n"
		"  -t, --timeout MS    give up waiting for tandemd after MS milliseconds\n"
		"  -V, --version, -h, --help\n"
		"Exit status: 0 done, 1 failed or refused, 2 usage, 3 unavailable (no tandemd,\n"
		"no leader, shutting down, outcome unknown: retry).\n",
		DAEMON_DEFAULT_CONF);
}

static const struct enf_cmd *find_command(int argc, char **argv)
{
	if (argc < 1)
		return NULL;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct enf_cmd *c = &commands[i];
		if (strcmp(argv[0], c->w1) != 0)
			continue;
		if (c->w2 == NULL || (argc >= 2 && strcmp(argv[1], c->w2) == 0))
			return c;
	}
	return NULL;
}

/* `help [WORD [WORD2]]`: the grammar, or the lines of one command. */
static int cmd_help(int argc, char **argv)
{
	int found = 0;
	if (argc < 2) {
		usage(stdout);
		return CONTROL_EXIT_OK;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct enf_cmd *c = &commands[i];
		if (strcmp(argv[1], c->w1) != 0)
			continue;
		if (argc >= 3 && (c->w2 == NULL || strcmp(argv[2], c->w2) != 0))
			continue;
		print_command(stdout, c);
		found++;
	}
	if (found == 0) {
		fprintf(stderr, PROG ": help: no command \"%s%s%s\" (try help)\n", argv[1],
			argc >= 3 ? " " : "", argc >= 3 ? argv[2] : "");
		return CONTROL_EXIT_USAGE;
	}
	return CONTROL_EXIT_OK;
}

/*- words ---------------------------------------------------------------*/

static void words_push_own(struct words *w, char *s)
{
	if (w->n + 2 > w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->v = tdm_realloc(w->v, (size_t)w->cap * sizeof *w->v);
	}
	w->v[w->n++] = s;
	w->v[w->n] = NULL;
}

static void words_push(struct words *w, const char *s)
{
	words_push_own(w, tdm_strdup(s));
}

static void words_free(struct words *w)
{
	for (int i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	memset(w, 0, sizeof *w);
}

/*- files ---------------------------------------------------------------*/

/* The whole of `path` (malloc'd, NUL-terminated) or -1 with a message. */
static int read_file(const char *path, char **out, size_t *len, struct tdm_err *err)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 65536, n = 0, r;
	char *buf, *nul;
	if (f == NULL)
		return tdm_err_fail(err, TDM_ENOENT, "cannot read %s: %s", path, strerror(errno));
	buf = tdm_malloc(cap);
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n - 1 == 0) {
			cap *= 2;
			buf = tdm_realloc(buf, cap);
		}
	}
	if (ferror(f)) {
		tdm_err_set(err, "cannot read %s: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return TDM_EIO;
	}
	fclose(f);
	buf[n] = '\0';
	/* A control argument cannot hold a NUL, and no XML file has one. */
	nul = memchr(buf, '\0', n);
	if (nul != NULL) {
		tdm_err_set(err, "%s: NUL byte at offset %zu: not an XML file", path,
			    (size_t)(nul - buf));
		free(buf);
		return TDM_EPARSE;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Append `marker` and the file's bytes in chunks of at most ENF_CHUNK. */
static void push_content(struct words *w, const char *marker, const char *buf, size_t len)
{
	words_push(w, marker);
	for (size_t off = 0; off < len; off += ENF_CHUNK) {
		size_t n = len - off < ENF_CHUNK ? len - off : ENF_CHUNK;
		char *chunk = tdm_malloc(n + 1);
		memcpy(chunk, buf + off, n);
		chunk[n] = '\0';
		words_push_own(w, chunk);
	}
}

/* Read `path` and append it as `marker CHUNKS...`; 0 or an exit status. */
static int attach_file(struct words *w, const char *marker, const char *path)
{
	struct tdm_err err = { "" };
	char *buf = NULL;
	size_t len = 0;
	if (read_file(path, &buf, &len, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return CONTROL_EXIT_FAIL;
	}
	push_content(w, marker, buf, len);
	free(buf);
	return 0;
}

/*
 * Write `len` bytes to `path` so that a reader sees the old file or the
 * new one, never a mix: a temporary file in the same directory, fsync,
 * rename, fsync of the directory.  The mode of an existing file is kept.
 */
static int write_atomic(const char *path, const char *buf, size_t len, struct tdm_err *err)
{
	size_t plen = strlen(path);
	char *tmp = tdm_malloc(plen + 8), *dcopy, *dir;
	struct stat st;
	mode_t mode = 0644;
	int fd, dfd, rc = 0;
	size_t off = 0;

	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = tdm_err_fail(err, TDM_EIO, "cannot create a temporary file next to %s: %s",
				  path, strerror(errno));
		free(tmp);
		return rc;
	}
	if (fchmod(fd, mode) != 0)
		rc = tdm_err_fail(err, TDM_EIO, "%s: chmod: %s", tmp, strerror(errno));
	while (rc == 0 && off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = tdm_err_fail(err, TDM_EIO, "%s: write: %s", tmp, strerror(errno));
		else
			off += (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = tdm_err_fail(err, TDM_EIO, "%s: fsync: %s", tmp, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = tdm_err_fail(err, TDM_EIO, "%s: close: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path) != 0)
		rc = tdm_err_fail(err, TDM_EIO, "rename %s to %s: %s", tmp, path, strerror(errno));
	if (rc != 0) {
		unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	dcopy = tdm_strdup(path);
	dir = dirname(dcopy);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) != 0)
			rc = tdm_err_fail(err, TDM_EIO, "%s: fsync: %s", dir, strerror(errno));
		close(dfd);
	}
	free(dcopy);
	return rc;
}

/*- configuration ---------------------------------------------------------*/

/* conf.xml, loaded once; NULL with a message printed. */
static const struct tdm_conf *ctx_conf(struct enf_ctx *ctx)
{
	struct tdm_err err = { "" };
	if (ctx->conf != NULL)
		return ctx->conf;
	if (tdm_conf_load(ctx->conf_path, &ctx->conf, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		ctx->conf = NULL;
	}
	return ctx->conf;
}

/* A path conf.xml must name (<PolicyFile>, <ZoneListFile>), or NULL with a message. */
static const char *conf_file(struct enf_ctx *ctx, bool kasp)
{
	const struct tdm_conf *conf = ctx_conf(ctx);
	const char *p;
	if (conf == NULL)
		return NULL;
	p = kasp ? conf->policy_file : conf->zonelist_file;
	if (p == NULL || *p == '\0')
		fprintf(stderr, PROG ": %s: no <%s> in <Common>\n", conf->path,
			kasp ? "PolicyFile" : "ZoneListFile");
	return p && *p ? p : NULL;
}

/*- one command -----------------------------------------------------------*/

/*
 * Copy argv[from..] into w, taking out -f PATH / --file PATH / --file=PATH
 * / -fPATH (also inside a cluster of short options such as -rf PATH) and
 * returning the path in *file.  @return 0 or CONTROL_EXIT_USAGE.
 */
static int take_file_option(int argc, char **argv, int from, struct words *w,
			    const char **file)
{
	*file = NULL;
	for (int i = from; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--file") == 0 || strcmp(a, "-f") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, PROG ": %s needs a path\n", a);
				return CONTROL_EXIT_USAGE;
			}
			*file = argv[++i];
		} else if (strncmp(a, "--file=", 7) == 0) {
			*file = a + 7;
		} else if (a[0] == '-' && a[1] != '-' && a[1] != '\0' && strchr(a, 'f') != NULL) {
			/* "-rf PATH", "-fPATH", "-rfPATH": the letters before f stay. */
			const char *f = strchr(a, 'f');
			if (f > a + 1) {
				char *rest = tdm_strdup(a);
				rest[f - a] = '\0';
				words_push_own(w, rest);
			}
			if (f[1] != '\0') {
				*file = f + 1;
			} else if (i + 1 < argc) {
				*file = argv[++i];
			} else {
				fprintf(stderr, PROG ": -f needs a path\n");
				return CONTROL_EXIT_USAGE;
			}
		} else {
			if (strncmp(a, "--content", 9) == 0) {
				fprintf(stderr, PROG ": %s is added by " PROG " itself\n", a);
				return CONTROL_EXIT_USAGE;
			}
			words_push(w, a);
		}
	}
	return 0;
}

/* Does the request fit the control protocol?  Message naming the files if not. */
static bool request_fits(const struct words *w, const char *what)
{
	size_t payload = 6;
	for (int i = 0; i < w->n; i++)
		payload += 2 + strlen(w->v[i]);
	if (w->n <= CONTROL_MAX_ARGS && payload <= CONTROL_MAX_PAYLOAD)
		return true;
	fprintf(stderr,
		PROG ": %s too large to send: %zu bytes in %d arguments (the control protocol takes at most %u bytes and %d arguments)\n",
		what, payload, w->n, (unsigned)CONTROL_MAX_PAYLOAD, CONTROL_MAX_ARGS);
	return false;
}

/* `zonelist export`: check the answer, then write or print it. */
static int export_zonelist(struct enf_ctx *ctx, const struct control_response *resp,
			   const char *target, bool quiet_json)
{
	struct tdm_zonelist *zl = NULL;
	struct tdm_err err = { "" };
	size_t n;
	int rc;

	if (tdm_zonelist_load_buffer("tandemd's zonelist export", resp->body, resp->body_len,
				     &zl, &err) != 0) {
		fprintf(stderr, PROG ": %s; nothing written\n", err.msg);
		return CONTROL_EXIT_FAIL;
	}
	n = zl->n_zones;
	tdm_zonelist_free(zl);
	if (strcmp(target, "-") == 0) {
		fwrite(resp->body, 1, resp->body_len, stdout);
		return fflush(stdout) == 0 ? CONTROL_EXIT_OK : CONTROL_EXIT_FAIL;
	}
	rc = write_atomic(target, resp->body, resp->body_len, &err);
	if (rc != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return CONTROL_EXIT_FAIL;
	}
	if ((ctx->flags & CONTROL_F_JSON) && quiet_json) {
		/* The command's own JSON answer was the one document. */
	} else if (ctx->flags & CONTROL_F_JSON) {
		struct tdm_json j;
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_kv_uint(&j, "zones", n);
		tdm_json_kv_string(&j, "path", target);
		tdm_json_object_end(&j);
		printf("%s\n", tdm_json_text(&j));
		tdm_json_free(&j);
	} else {
		printf("exported %zu zone%s to %s\n", n, n == 1 ? "" : "s", target);
	}
	return CONTROL_EXIT_OK;
}

/* Is -u or --xml among the options? */
static bool has_xml_option(int argc, char **argv, int from)
{
	for (int i = from; i < argc; i++)
		if (strcmp(argv[i], "-u") == 0 || strcmp(argv[i], "--xml") == 0)
			return true;
	return false;
}

/*
 * After `zone add|delete|set-policy -u`: the zone list as it is now, to
 * conf.xml's ZoneListFile (ods-enforcer writes it itself; here the file is
 * on this machine, not the leader's).
 */
static int export_after_change(struct enf_ctx *ctx, const char *sock)
{
	char w1[] = "zonelist", w2[] = "export";
	char *words[] = { w1, w2, NULL };
	struct control_request req = { 0, 2, words };
	struct control_response resp;
	struct tdm_err err = { "" };
	const char *path = conf_file(ctx, false);
	int rc;

	if (path == NULL)
		return CONTROL_EXIT_FAIL;
	rc = control_call(sock, &req, &resp, 0, &err);
	if (rc != 0) {
		fprintf(stderr, PROG ": the change is done, but %s was not written: %s\n", path, err.msg);
		return CONTROL_EXIT_UNAVAILABLE;
	}
	if (resp.status != CONTROL_EXIT_OK) {
		fprintf(stderr, PROG ": the change is done, but %s was not written: %s", path, resp.body);
		rc = resp.status;
	} else {
		rc = export_zonelist(ctx, &resp, path, true);
	}
	control_response_clear(&resp);
	return rc;
}

static int run_command(struct enf_ctx *ctx, int argc, char **argv)
{
	const struct enf_cmd *c = find_command(argc, argv);
	struct control_request req = { 0, 0, NULL };
	struct control_response resp;
	struct tdm_err err = { "" };
	struct words w = { NULL, 0, 0 };
	const char *file = NULL, *sock, *what = "the command";
	char *sockbuf = NULL;
	int rc, timeout, skip;

	if (c == NULL) {
		fprintf(stderr, PROG ": unknown command \"%s%s%s\" (try help)\n", argv[0],
			argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
		return CONTROL_EXIT_USAGE;
	}
	if (c->flags & ENF_LOCAL)
		return cmd_help(argc, argv);

	/* The command words, then the file options and contents. */
	skip = c->w2 ? 2 : 1;
	for (int i = 0; i < skip; i++)
		words_push(&w, argv[i]);
	if (c->flags & (ENF_ZONELIST | ENF_EXPORT | ENF_KASP)) {
		rc = take_file_option(argc, argv, skip, &w, &file);
		if (rc != 0)
			goto out;
		if (file != NULL && !(strcmp(c->w1, "zonelist") == 0)) {
			fprintf(stderr, PROG ": %s %s takes no -f (it reads conf.xml's files)\n",
				c->w1, c->w2);
			rc = CONTROL_EXIT_USAGE;
			goto out;
		}
	} else {
		for (int i = skip; i < argc; i++)
			words_push(&w, argv[i]);
	}
	if ((c->flags & ENF_KASP) && (c->flags & ENF_ZONELIST)) {
		const char *kasp = conf_file(ctx, true), *zl = kasp ? conf_file(ctx, false) : NULL;
		rc = zl == NULL ? CONTROL_EXIT_USAGE : attach_file(&w, "--content-kasp", kasp);
		if (rc == 0)
			rc = attach_file(&w, "--content-zonelist", zl);
		what = "the PolicyFile and ZoneListFile";
	} else if (c->flags & (ENF_KASP | ENF_ZONELIST)) {
		const char *path = file ? file : conf_file(ctx, (c->flags & ENF_KASP) != 0);
		rc = path == NULL ? CONTROL_EXIT_USAGE : attach_file(&w, "--content", path);
		what = path;
	} else if (c->flags & ENF_EXPORT) {
		if (file == NULL && (file = conf_file(ctx, false)) == NULL)
			rc = CONTROL_EXIT_USAGE;
		else
			rc = 0;
	} else {
		rc = 0;
	}
	if (rc != 0)
		goto out;
	if (!request_fits(&w, what)) {
		rc = CONTROL_EXIT_FAIL;
		goto out;
	}

	if (ctx->sock_opt != NULL) {
		sock = ctx->sock_opt;
	} else {
		const struct tdm_conf *conf = ctx_conf(ctx);
		if (conf == NULL) {
			rc = CONTROL_EXIT_USAGE;
			goto out;
		}
		sock = sockbuf = tdm_strdup(conf->cluster.control_socket);
	}
	timeout = ctx->timeout_ms >= 0 ? ctx->timeout_ms
				       : (c->flags & ENF_LONG) ? 0 : ENF_TIMEOUT_MS;
	req.flags = (c->flags & ENF_EXPORT) ? 0 : ctx->flags;
	req.argc = w.n;
	req.argv = w.v;
	rc = control_call(sock, &req, &resp, timeout, &err);
	if (rc != 0) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		rc = rc == TDM_EINVAL ? CONTROL_EXIT_USAGE : CONTROL_EXIT_UNAVAILABLE;
		goto out;
	}
	if ((c->flags & ENF_EXPORT) && resp.status == CONTROL_EXIT_OK) {
		rc = export_zonelist(ctx, &resp, file, false);
	} else {
		/* Answers to stdout, refusals ("error: ...") to stderr. */
		fputs(resp.body, strncmp(resp.body, "error:", 6) == 0 ? stderr : stdout);
		rc = resp.status;
	}
	control_response_clear(&resp);
	if ((c->flags & ENF_XML) && rc == CONTROL_EXIT_OK && has_xml_option(argc, argv, skip)) {
		fflush(stdout);
		rc = export_after_change(ctx, sock);
	}
out:
	free(sockbuf);
	words_free(&w);
	fflush(stdout);
	return rc;
}

/*- interactive mode --------------------------------------------------------*/

/*
 * Split a line into words: blanks separate, "double quotes" group (with
 * \" and \\ inside them).  @return 0, or CONTROL_EXIT_USAGE with a message.
 */
static int split_line(const char *line, struct words *w)
{
	const char *p = line;
	while (*p != '\0') {
		size_t cap = strlen(p) + 1, n = 0;
		char *word;
		bool quoted = false;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		word = tdm_malloc(cap);
		while (*p != '\0') {
			if (quoted) {
				if (*p == '"') {
					quoted = false;
					p++;
					continue;
				}
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
			} else if (*p == '"') {
				quoted = true;
				p++;
				continue;
			} else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
				break;
			}
			word[n++] = *p++;
		}
		word[n] = '\0';
		if (quoted) {
			free(word);
			fprintf(stderr, PROG ": unterminated \" in: %s", line);
			if (line[strlen(line) - 1] != '\n')
				fputc('\n', stderr);
			return CONTROL_EXIT_USAGE;
		}
		words_push_own(w, word);
	}
	return 0;
}

/* Commands from stdin until exit, quit or EOF; the status of the last one. */
static int interactive(struct enf_ctx *ctx)
{
	bool tty = isatty(STDIN_FILENO) == 1;
	char *line = NULL;
	size_t cap = 0;
	int rc = CONTROL_EXIT_OK;

	for (;;) {
		struct words w = { NULL, 0, 0 };
		if (tty) {
			fputs("enforcer> ", stdout);
			fflush(stdout);
		}
		if (getline(&line, &cap, stdin) < 0) {
			if (tty)
				fputc('\n', stdout);
			break;
		}
		if (split_line(line, &w) != 0) {
			rc = CONTROL_EXIT_USAGE;
			words_free(&w);
			continue;
		}
		if (w.n == 0 || w.v[0][0] == '#') {
			words_free(&w);
			continue;
		}
		if (w.n == 1 && (strcmp(w.v[0], "exit") == 0 || strcmp(w.v[0], "quit") == 0)) {
			words_free(&w);
			break;
		}
		rc = run_command(ctx, w.n, w.v);
		words_free(&w);
	}
	free(line);
	return rc;
}

/*- main ------------------------------------------------------------------*/

int daemon_enforcer_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct enf_ctx ctx = { DAEMON_DEFAULT_CONF, NULL, NULL, 0, -1 };
	char *end;
	int c, rc;

	tdm_log_init(PROG, false, 0, true, TDM_LOG_WARN);
	while ((c = getopt_long(argc, argv, "+c:s:jt:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': ctx.conf_path = optarg; break;
		case 's': ctx.sock_opt = optarg; break;
		case 'j': ctx.flags |= CONTROL_F_JSON; break;
		case 't':
			errno = 0;
			ctx.timeout_ms = (int)strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 || ctx.timeout_ms < 0) {
				fprintf(stderr, PROG ": --timeout: not a number of milliseconds: \"%s\"\n",
					optarg);
				return CONTROL_EXIT_USAGE;
			}
			break;
		case 'V': printf(PROG " %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return CONTROL_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		rc = interactive(&ctx);
	else
		rc = run_command(&ctx, argc - optind, argv + optind);
	tdm_conf_free(ctx.conf);
	return rc;
}
