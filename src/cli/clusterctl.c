/*
 * cluster-ctl: operate a Tandem cluster.  A thin main: everything is in
 * src/daemon (daemon_ctl_main).
 */
#include "daemon/daemon.h"

int main(int argc, char **argv)
{
	return daemon_ctl_main(argc, argv);
}
