/*
 * conf.xml: an OpenDNSSEC 2.x default-style file and a Tandem cluster node
 * file load into struct tdm_conf with every field as written or defaulted.
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/conf.h"
#include "common/duration.h"
#include "common_tests.h"

START_TEST(ods_default_conf)
{
	struct tdm_conf *c = NULL;
	struct tdm_err err = { "" };
	const struct tdm_repository *r;
	int rc = tdm_conf_load(data_path("conf.xml"), &c, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(c->n_repositories, 1);
	r = tdm_conf_repository(c, "SoftHSM");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(tdm_conf_repository(c, "sca6000"));
	ck_assert_str_eq(r->module, "/usr/lib/softhsm/libsofthsm2.so");
	ck_assert_str_eq(r->token_label, "OpenDNSSEC");
	ck_assert_str_eq(r->pin, "1234");
	ck_assert_uint_eq(r->capacity, 0);
	ck_assert(r->skip_public_key);
	ck_assert(!r->require_backup && !r->allow_extraction && !r->shared);

	ck_assert_int_eq(c->log_verbosity, 3);
	ck_assert_str_eq(c->syslog_facility, "local0");
	ck_assert_int_eq(tdm_conf_syslog_facility(c), LOG_LOCAL0);
	ck_assert_ptr_null(c->log_file);
	ck_assert_str_eq(c->policy_file, "/etc/opendnssec/kasp.xml");
	ck_assert_str_eq(c->zonelist_file, "/etc/opendnssec/zonelist.xml");

	ck_assert_str_eq(c->enforcer_user, "opendnssec");
	ck_assert_str_eq(c->enforcer_group, "opendnssec");
	ck_assert_ptr_null(c->enforcer_chroot);
	ck_assert_str_eq(c->datastore, "/var/lib/opendnssec/kasp.db");
	ck_assert(!c->manual_key_generation);
	ck_assert_int_eq(c->automatic_keygen_period, 365 * 86400);
	ck_assert_int_eq(c->rollover_notification, -1);
	ck_assert_str_eq(c->ds_submit_command, "/usr/sbin/ds-submit.sh");
	ck_assert_ptr_null(c->ds_retract_command);
	ck_assert_int_eq(c->enforcer_worker_threads, 4);
	ck_assert_ptr_null(c->enforcer_pid_file);

	ck_assert_str_eq(c->signer_user, "opendnssec");
	ck_assert_str_eq(c->signer_workdir, "/var/lib/opendnssec/signer");
	ck_assert_int_eq(c->signer_worker_threads, 4);
	ck_assert_int_eq(c->signer_signer_threads, 2);
	ck_assert_str_eq(c->notify_command, "/usr/sbin/rndc reload %zone");
	ck_assert_uint_eq(c->n_listeners, 2);
	ck_assert_str_eq(c->listener_addresses[0], "127.0.0.1:53");
	ck_assert_str_eq(c->listener_addresses[1], "[::1]:15354");

	/* No <Cluster>: a cluster of one with the documented defaults. */
	ck_assert(!c->cluster.present);
	ck_assert_uint_eq(c->cluster.node_id, 1);
	ck_assert_uint_eq(c->cluster.n_peers, 0);
	ck_assert_str_eq(c->cluster.listen, "127.0.0.1:5400");
	ck_assert_ptr_nonnull(strstr(c->cluster.data_directory, "/lib/tandem"));
	ck_assert_ptr_nonnull(strstr(c->cluster.control_socket, "/run/tandem/control.sock"));
	ck_assert_ptr_null(c->cluster.http);
	ck_assert_int_eq(c->cluster.election_timeout_ms, 500);
	ck_assert_int_eq(c->cluster.heartbeat_ms, 50);
	ck_assert_ptr_null(c->cluster.forward_listen);
	ck_assert(!c->cluster.witness);
	ck_assert_str_eq(c->path, data_path("conf.xml"));
	tdm_conf_free(c);
}
END_TEST

START_TEST(cluster_conf)
{
	struct tdm_conf *c = NULL;
	struct tdm_err err = { "" };
	int rc = tdm_conf_load(data_path("conf-cluster.xml"), &c, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(c->n_repositories, 2);
	ck_assert_uint_eq(c->repositories[0].capacity, 1000);
	ck_assert(c->repositories[0].require_backup);
	ck_assert(c->repositories[0].allow_extraction);
	ck_assert(!c->repositories[0].shared);
	ck_assert(c->repositories[1].shared);
	ck_assert_ptr_null(c->repositories[1].pin);
	ck_assert_int_eq(c->log_verbosity, 3);
	ck_assert_ptr_null(c->syslog_facility);
	ck_assert_int_eq(tdm_conf_syslog_facility(c), LOG_DAEMON);
	ck_assert(c->manual_key_generation);
	ck_assert_int_eq(c->rollover_notification, 14 * 86400);
	/* No <Signer>: defaults. */
	ck_assert_int_eq(c->signer_worker_threads, 4);
	ck_assert_int_eq(c->signer_signer_threads, 4);
	ck_assert_uint_eq(c->n_listeners, 0);

	ck_assert(c->cluster.present);
	ck_assert_uint_eq(c->cluster.node_id, 1);
	ck_assert_str_eq(c->cluster.data_directory, "/var/lib/tandem");
	ck_assert_str_eq(c->cluster.listen, "192.0.2.1:5400");
	ck_assert_uint_eq(c->cluster.n_peers, 2);
	ck_assert_uint_eq(c->cluster.peers[0].id, 2);
	ck_assert_str_eq(c->cluster.peers[0].address, "192.0.2.2:5400");
	ck_assert_str_eq(c->cluster.peers[0].forward, "192.0.2.2:5411");
	ck_assert_ptr_null(c->cluster.peers[1].forward);
	ck_assert_str_eq(c->cluster.forward_listen, "192.0.2.1:5401");
	ck_assert(!c->cluster.peers[0].witness);
	ck_assert_uint_eq(c->cluster.peers[1].id, 3);
	ck_assert_str_eq(c->cluster.peers[1].address, "198.51.100.3:5400");
	ck_assert(c->cluster.peers[1].witness);
	ck_assert_str_eq(c->cluster.control_socket, "/run/tandem/control.sock");
	ck_assert_str_eq(c->cluster.http, "127.0.0.1:8053");
	ck_assert_int_eq(c->cluster.election_timeout_ms, 1000);
	ck_assert_int_eq(c->cluster.heartbeat_ms, 100);
	ck_assert(!c->cluster.witness);
	tdm_conf_free(c);
}
END_TEST

static const char witness_conf[] =
	"<Configuration>\n"
	"<RepositoryList/>\n"
	"<Common><PolicyFile>k</PolicyFile><ZoneListFile>z</ZoneListFile></Common>\n"
	"<Enforcer><Datastore><SQLite>db</SQLite></Datastore></Enforcer>\n"
	"<Cluster><NodeId>3</NodeId><Witness/><Listen>[2001:db8::3]:5400</Listen>\n"
	"<Peer id='1'>a.example:5400</Peer><Peer id='2' role='voter'>[::1]:5401</Peer>\n"
	"<ElectionTimeout>PT2.5S</ElectionTimeout></Cluster>\n"
	"</Configuration>\n";

START_TEST(witness_node_from_memory)
{
	struct tdm_conf *c = NULL;
	struct tdm_err err = { "" };
	int rc = tdm_conf_load_buffer("mem.xml", witness_conf, strlen(witness_conf), &c, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(c->n_repositories, 0);
	ck_assert(c->cluster.witness);
	ck_assert_uint_eq(c->cluster.node_id, 3);
	ck_assert_str_eq(c->cluster.listen, "[2001:db8::3]:5400");
	ck_assert_uint_eq(c->cluster.n_peers, 2);
	ck_assert_str_eq(c->cluster.peers[0].address, "a.example:5400");
	ck_assert_str_eq(c->cluster.peers[1].address, "[::1]:5401");
	ck_assert_int_eq(c->cluster.election_timeout_ms, 2500);
	ck_assert_int_eq(c->cluster.heartbeat_ms, 250); /* a tenth, when absent */
	ck_assert_str_eq(c->path, "mem.xml");
	tdm_conf_free(c);
}
END_TEST

START_TEST(missing_file)
{
	struct tdm_conf *c = (struct tdm_conf *)0x1;
	struct tdm_err err = { "" };
	int rc = tdm_conf_load("/nonexistent/conf.xml", &c, &err);
	ck_assert_int_eq(rc, TDM_ENOENT);
	ck_assert_str_eq(err.msg, "/nonexistent/conf.xml: No such file or directory");
	ck_assert_ptr_eq(c, (struct tdm_conf *)0x1); /* untouched */
}
END_TEST

START_TEST(free_null)
{
	tdm_conf_free(NULL);
	tdm_signconf_free(NULL);
}
END_TEST

TCase *tcase_conf(void)
{
	TCase *tc = tcase_create("conf");
	tcase_add_test(tc, ods_default_conf);
	tcase_add_test(tc, cluster_conf);
	tcase_add_test(tc, witness_node_from_memory);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, free_null);
	return tc;
}
