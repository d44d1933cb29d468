/*
 * tandemd: the Tandem node daemon.  A thin main: options here, the daemon
 * in src/daemon (daemon_run).
 */
#include "daemon/daemon.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tandemd [-c conf.xml] [-p PIDFILE] [--join] [--stderr | --no-syslog] [-v N]\n"
		"  -c, --config FILE     conf.xml (default %s)\n"
		"  -p, --pidfile FILE    pid file (default <DataDirectory>/tandemd.pid)\n"
		"      --join            start with an empty data directory and wait to be added\n"
		"                        with `cluster-ctl add`; never bootstrap a cluster\n"
		"  -d, --stderr          log to stderr as well as syslog\n"
		"      --no-syslog       log to stderr only\n"
		"  -v, --verbosity N     log verbosity 0..4 (default <Logging><Verbosity>)\n"
		"  -V, --version         print the version\n"
		"  -h, --help            this help\n"
		"tandemd runs in the foreground; SIGTERM stops it cleanly, SIGHUP reloads conf.xml.\n",
		DAEMON_DEFAULT_CONF);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "join", no_argument, NULL, 'j' },
		{ "stderr", no_argument, NULL, 'd' },
		{ "no-syslog", no_argument, NULL, 'n' },
		{ "verbosity", required_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_options opt = { .conf_path = DAEMON_DEFAULT_CONF, .verbosity = -1 };
	int c;
	while ((c = getopt_long(argc, argv, "c:p:dv:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opt.conf_path = optarg; break;
		case 'p': opt.pid_file = optarg; break;
		case 'j': opt.join = true; break;
		case 'd': opt.use_stderr = true; break;
		case 'n': opt.no_syslog = true; break;
		case 'v':
			opt.verbosity = atoi(optarg);
			if (opt.verbosity < 0 || opt.verbosity > 4 || strspn(optarg, "0123456789") != strlen(optarg)) {
				fprintf(stderr, "tandemd: --verbosity must be 0..4\n");
				return 2;
			}
			break;
		case 'V': printf("tandemd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return daemon_run(&opt);
}
