/*
 * cluster-ctl (see daemon.h): the command line, the control socket call,
 * and the output.  Nearly every command runs inside tandemd, which also
 * writes the output (text, or JSON with --json); this side picks the
 * socket, sends the words, prints the answer and exits with its status.
 * `recover` is the exception: it works offline on the data directory
 * (ctl_recover.c).  `health` maps "cannot reach tandemd" to UNKNOWN (3),
 * as monitoring plugins expect.
 */
#include "daemon/daemon.h"
#include "daemon/control.h"
#include "common/conf.h"
#include "common/log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int daemon__ctl_recover(const char *conf_path, int argc, char **argv);

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cluster-ctl [-c conf.xml | -s SOCKET] [--json] [-t MS] COMMAND [ARGS]\n"
		"\n"
		"  status                       every node: role, term, commit and applied index, lag,\n"
		"                               last contact, version, state.db size, health\n"
		"  leader                       the current leader\n"
		"  transfer [NODE]              hand leadership to NODE (or the best other voter)\n"
		"  add NODE ADDRESS [--witness] add a node started with `tandemd --join`; ADDRESS is\n"
		"                               its Raft a.b.c.d:port\n"
		"  remove NODE                  remove a node from the cluster\n"
		"  recover [--yes]              OFFLINE, tandemd stopped: make this node the only\n"
		"                               voter after the others are lost for good\n"
		"  health                       one status line; exit 0 OK, 1 WARNING, 2 CRITICAL,\n"
		"                               3 UNKNOWN\n"
		"  verify                       compare every node's ledger digest at one index\n"
		"  bench write [--count N] [--size BYTES] [--inflight K]\n"
		"                               commit N TEST commands of BYTES bytes, K in flight;\n"
		"                               prints throughput and p50/p99 latency\n"
		"  key ledger                   every key in the ledger\n"
		"  key generate ...             a replicated key (see cluster-ctl(8))\n"
		"  verbosity N | reload | stop  this node's logging, configuration, shutdown\n"
		"\n"
		"  -c, --config FILE   conf.xml naming the control socket (default %s)\n"
		"  -s, --socket PATH   the control socket, instead of reading conf.xml\n"
		"  -j, --json          JSON output\n"
		"  -t, --timeout MS    give up waiting for tandemd after MS milliseconds\n"
		"  -V, --version, -h, --help\n"
		"Exit status: 0 done, 1 failed or refused, 2 usage, 3 unavailable (no tandemd,\n"
		"no leader, shutting down, outcome unknown: retry).\n",
		DAEMON_DEFAULT_CONF);
}

/* The control socket named in conf.xml (malloc'd) or NULL with a message printed. */
static char *socket_from_conf(const char *path)
{
	struct tdm_conf *conf = NULL;
	struct tdm_err err = { "" };
	char *sock;
	if (tdm_conf_load(path, &conf, &err) != 0) {
		fprintf(stderr, "cluster-ctl: %s\n", err.msg);
		return NULL;
	}
	sock = tdm_strdup(conf->cluster.control_socket);
	tdm_conf_free(conf);
	return sock;
}

static int default_timeout(const char *cmd)
{
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "health") == 0 ||
	    strcmp(cmd, "leader") == 0)
		return 10000;
	return 0;
}

int daemon_ctl_main(int argc, char **argv)
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
	const char *conf_path = DAEMON_DEFAULT_CONF, *sock_opt = NULL;
	struct control_request req = { 0, 0, NULL };
	struct control_response resp;
	struct tdm_err err = { "" };
	bool health;
	char *sock;
	int c, timeout = -1, rc;

	tdm_log_init("cluster-ctl", false, 0, true, TDM_LOG_WARN);
	while ((c = getopt_long(argc, argv, "+c:s:jt:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_path = optarg; break;
		case 's': sock_opt = optarg; break;
		case 'j': req.flags |= CONTROL_F_JSON; break;
		case 't': timeout = atoi(optarg); break;
		case 'V': printf("cluster-ctl %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return CONTROL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CONTROL_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[optind], "recover") == 0)
		return daemon__ctl_recover(conf_path, argc - optind - 1, argv + optind + 1);
	health = strcmp(argv[optind], "health") == 0;
	sock = sock_opt ? tdm_strdup(sock_opt) : socket_from_conf(conf_path);
	if (sock == NULL)
		return health ? 3 : CONTROL_EXIT_USAGE;
	req.argc = argc - optind;
	req.argv = argv + optind;
	if (timeout < 0)
		timeout = default_timeout(argv[optind]);
	rc = control_call(sock, &req, &resp, timeout, &err);
	free(sock);
	if (rc != 0) {
		if (health)
			printf("TANDEM UNKNOWN - %s\n", err.msg);
		else
			fprintf(stderr, "cluster-ctl: %s\n", err.msg);
		return CONTROL_EXIT_UNAVAILABLE;
	}
	/* Answers go to stdout (a status table with an unreachable node exits 1
	 * but is still the answer); refusals ("error: ...") to stderr. */
	fputs(resp.body, strncmp(resp.body, "error:", 6) == 0 ? stderr : stdout);
	rc = resp.status;
	control_response_clear(&resp);
	return rc;
}
