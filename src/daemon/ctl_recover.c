/*
 * `cluster-ctl recover`: the offline way out when a cluster lost its
 * quorum for good (two signers, one destroyed): with tandemd stopped, the
 * Raft configuration in this node's data directory is replaced by one in
 * which this node is the only voter (cluster_recover).  tandemd then
 * starts as a cluster of one and elects itself.  Every other node must be
 * wiped and added again; the warning says so.
 */
#include "daemon/settings.h"
#include "daemon/control.h"
#include "common/conf.h"
#include "raft/cluster.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int daemon__ctl_recover(const char *conf_path, int argc, char **argv);

/* Is the tandemd of this data directory running?  (pid file + kill 0) */
static long running_pid(const char *pid_file)
{
	FILE *f = fopen(pid_file, "r");
	long pid = 0;
	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
		return pid;
	return 0;
}

int daemon__ctl_recover(const char *conf_path, int argc, char **argv)
{
	struct tdm_conf *conf = NULL;
	struct daemon_config *cfg = NULL;
	struct cluster_peer peers[CLUSTER_MAX_NODES];
	struct cluster_config cc;
	struct tdm_err err = { "" };
	bool yes = argc == 1 && strcmp(argv[0], "--yes") == 0;
	long pid;
	int rc;

	if (argc > 1 || (argc == 1 && !yes)) {
		fprintf(stderr, "usage: cluster-ctl [-c conf.xml] recover [--yes]\n");
		return CONTROL_EXIT_USAGE;
	}
	rc = tdm_conf_load(conf_path, &conf, &err);
	if (rc == 0)
		rc = daemon_config_build(conf, NULL, &cfg, &err);
	if (rc != 0) {
		fprintf(stderr, "cluster-ctl: %s\n", err.msg);
		tdm_conf_free(conf);
		return CONTROL_EXIT_USAGE;
	}
	pid = running_pid(cfg->pid_file);
	if (pid != 0) {
		fprintf(stderr, "cluster-ctl: recover refused: tandemd (pid %ld) is running on %s; stop it first\n",
			pid, cfg->data_dir);
		rc = CONTROL_EXIT_FAIL;
		goto out;
	}
	if (!yes) {
		char line[16] = "";
		if (!isatty(STDIN_FILENO)) {
			fprintf(stderr, "cluster-ctl: recover needs --yes when not run on a terminal\n");
			rc = CONTROL_EXIT_USAGE;
			goto out;
		}
		printf("Make node %llu (%s) the ONLY voter of its cluster?\n%s\nType yes to go on: ",
		       (unsigned long long)cfg->node_id, cfg->data_dir, cluster_recover_warning());
		fflush(stdout);
		if (fgets(line, sizeof line, stdin) == NULL || strcmp(line, "yes\n") != 0) {
			printf("nothing done\n");
			rc = CONTROL_EXIT_FAIL;
			goto out;
		}
	}
	rc = cluster_config_from_conf(&cc, peers, &conf->cluster);
	if (rc == 0)
		rc = cluster_recover(&cc, &err);
	if (rc != 0) {
		fprintf(stderr, "cluster-ctl: recover failed: %s\n",
			err.msg[0] ? err.msg : tdm_strerror(rc));
		rc = CONTROL_EXIT_FAIL;
		goto out;
	}
	printf("node %llu is now the only voter of its cluster; start tandemd.\n%s\n",
	       (unsigned long long)cfg->node_id, cluster_recover_warning());
	rc = CONTROL_EXIT_OK;
out:
	daemon_config_free(cfg);
	tdm_conf_free(conf);
	return rc;
}
