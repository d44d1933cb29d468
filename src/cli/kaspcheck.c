/*
 * tandem-kaspcheck: check conf.xml, kasp.xml, zonelist.xml and signconf
 * files the way ods-kaspcheck does, with Tandem's extensions.  A thin main:
 * loading is tdm_*_load(), the rules are tdm_*_check() in src/common.
 *
 * Exit status: 0 no findings, 1 warnings only, 2 errors (including a file
 * that does not load) or a usage error.
 */
#include "config.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"

#ifndef TDM_SYSCONFDIR
#define TDM_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONF TDM_SYSCONFDIR "/tandem/conf.xml"

enum { EXIT_CLEAN = 0, EXIT_WARNINGS = 1, EXIT_ERRORS = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tandem-kaspcheck [-c conf.xml] [-k kasp.xml] [-z zonelist.xml]\n"
		"                        [-s signconf.xml]... [--json] [-h] [-V]\n"
		"  -c, --conf FILE       conf.xml (default %s, unless only\n"
		"                        -k, -z or -s are given)\n"
		"  -k, --kasp FILE       kasp.xml (default: the PolicyFile of conf.xml)\n"
		"  -z, --zonelist FILE   zonelist.xml (default: the ZoneListFile of conf.xml)\n"
		"  -s, --signconf FILE   a signconf; may be repeated\n"
		"      --json            print the findings as one JSON object\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n"
		"Exit status: 0 clean, 1 warnings only, 2 errors.\n", DEFAULT_CONF);
}

/* A path named inside conf.xml is relative to conf.xml's directory. */
static char *resolve(const char *conf_path, const char *p)
{
	char *dup, *dir, *out;
	size_t n;
	if (p[0] == '/')
		return tdm_strdup(p);
	dup = tdm_strdup(conf_path);
	dir = dirname(dup);
	n = strlen(dir) + strlen(p) + 2;
	out = tdm_malloc(n);
	snprintf(out, n, "%s/%s", dir, p);
	free(dup);
	return out;
}

/*
 * A load failure becomes an error finding.  Its message starts with
 * "path:line: " (or "path: "): split that off so text and JSON output
 * treat it like any other finding.
 */
static void load_failed(struct tdm_check_report *r, const char *path,
			const struct tdm_err *err)
{
	const char *m = err->msg;
	size_t pl = strlen(path);
	long line = 0;
	if (strncmp(m, path, pl) == 0 && m[pl] == ':') {
		const char *p = m + pl + 1;
		char *end;
		long l = strtol(p, &end, 10);
		if (end != p && end[0] == ':' && end[1] == ' ') {
			line = l;
			m = end + 2;
		} else if (p[0] == ' ') {
			m = p + 1;
		}
	}
	r->errors = tdm_realloc(r->errors, (r->n_errors + 1) * sizeof *r->errors);
	r->errors[r->n_errors].file = tdm_strdup(path);
	r->errors[r->n_errors].line = line;
	r->errors[r->n_errors].message = tdm_strdup(m);
	r->n_errors++;
}

static void print_text(const struct tdm_diag *d, const char *tag)
{
	if (d->line <= 0)
		printf("%s: %s%s\n", d->file, tag, d->message);
	else
		printf("%s:%ld: %s%s\n", d->file, d->line, tag, d->message);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_diags(const char *key, const struct tdm_diag *v, size_t n)
{
	printf("\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"file\":", i ? "," : "");
		json_string(v[i].file);
		printf(",\"line\":%ld,\"message\":", v[i].line);
		json_string(v[i].message);
		putchar('}');
	}
	putchar(']');
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "kasp", required_argument, NULL, 'k' },
		{ "zonelist", required_argument, NULL, 'z' },
		{ "signconf", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL, *kasp_arg = NULL, *zl_arg = NULL;
	const char **signconfs = NULL;
	size_t n_signconfs = 0;
	bool json = false;
	struct tdm_check_report r = { 0 };
	struct tdm_conf *conf = NULL;
	struct tdm_kasp *kasp = NULL;
	struct tdm_zonelist *zl = NULL;
	char *kasp_path = NULL, *zl_path = NULL;
	const char **checked = NULL;
	size_t n_checked = 0;
	struct tdm_err err;
	int c, status;

	while ((c = getopt_long(argc, argv, "c:k:z:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 'k': kasp_arg = optarg; break;
		case 'z': zl_arg = optarg; break;
		case 's':
			signconfs = tdm_realloc(signconfs, (n_signconfs + 1) * sizeof *signconfs);
			signconfs[n_signconfs++] = optarg;
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return EXIT_CLEAN;
		case 'V': printf("tandem-kaspcheck (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EXIT_CLEAN;
		default: usage(stderr); free(signconfs); return EXIT_ERRORS;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tandem-kaspcheck: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		free(signconfs);
		return EXIT_ERRORS;
	}
	/* Only files named: check just those.  Otherwise start from conf.xml. */
	if (conf_path == NULL && kasp_arg == NULL && zl_arg == NULL && n_signconfs == 0)
		conf_path = DEFAULT_CONF;
	checked = tdm_calloc(3 + n_signconfs, sizeof *checked);

	if (conf_path != NULL) {
		checked[n_checked++] = conf_path;
		if (tdm_conf_load(conf_path, &conf, &err) != 0)
			load_failed(&r, conf_path, &err);
	}
	if (kasp_arg != NULL)
		kasp_path = tdm_strdup(kasp_arg);
	else if (conf != NULL)
		kasp_path = resolve(conf_path, conf->policy_file);
	if (zl_arg != NULL)
		zl_path = tdm_strdup(zl_arg);
	else if (conf != NULL)
		zl_path = resolve(conf_path, conf->zonelist_file);

	if (kasp_path != NULL) {
		checked[n_checked++] = kasp_path;
		if (tdm_kasp_load(kasp_path, &kasp, &err) != 0)
			load_failed(&r, kasp_path, &err);
		else
			tdm_kasp_check(kasp, conf, &r);
	}
	if (zl_path != NULL) {
		checked[n_checked++] = zl_path;
		if (tdm_zonelist_load(zl_path, &zl, &err) != 0)
			load_failed(&r, zl_path, &err);
		else
			tdm_zonelist_check(zl, kasp, &r);
	}
	for (size_t i = 0; i < n_signconfs; i++) {
		struct tdm_signconf *sc = NULL;
		checked[n_checked++] = signconfs[i];
		if (tdm_signconf_load(signconfs[i], &sc, &err) != 0) {
			load_failed(&r, signconfs[i], &err);
			continue;
		}
		tdm_signconf_check(sc, &r);
		tdm_signconf_free(sc);
	}

	status = r.n_errors ? EXIT_ERRORS : r.n_warnings ? EXIT_WARNINGS : EXIT_CLEAN;
	if (json) {
		printf("{\"status\":\"%s\",\"files\":[",
		       status == EXIT_ERRORS ? "errors" : status == EXIT_WARNINGS ? "warnings" : "ok");
		for (size_t i = 0; i < n_checked; i++) {
			if (i)
				putchar(',');
			json_string(checked[i]);
		}
		printf("],");
		json_diags("errors", r.errors, r.n_errors);
		putchar(',');
		json_diags("warnings", r.warnings, r.n_warnings);
		printf("}\n");
	} else {
		for (size_t i = 0; i < r.n_errors; i++)
			print_text(&r.errors[i], "");
		for (size_t i = 0; i < r.n_warnings; i++)
			print_text(&r.warnings[i], "warning: ");
		if (status == EXIT_CLEAN)
			fprintf(stderr, "tandem-kaspcheck: %zu file%s checked, no problems\n",
				n_checked, n_checked == 1 ? "" : "s");
		else
			fprintf(stderr, "tandem-kaspcheck: %zu error%s, %zu warning%s\n",
				r.n_errors, r.n_errors == 1 ? "" : "s",
				r.n_warnings, r.n_warnings == 1 ? "" : "s");
	}
	tdm_check_report_clear(&r);
	tdm_conf_free(conf);
	tdm_kasp_free(kasp);
	tdm_zonelist_free(zl);
	free(kasp_path);
	free(zl_path);
	free(checked);
	free(signconfs);
	return status;
}
