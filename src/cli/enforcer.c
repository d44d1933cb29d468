/*
 * tandem-enforcer: Tandem's ods-enforcer.  A thin main: everything is in
 * src/daemon (daemon_enforcer_main, enforcer_ctl.c).
 */
#include "daemon/daemon.h"

int main(int argc, char **argv)
{
	return daemon_enforcer_main(argc, argv);
}
