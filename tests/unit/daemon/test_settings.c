/* tandemd's view of conf.xml: forward ports, peers, restart-needing changes. */
#include "daemon/settings.h"
#include "daemon/address.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

TCase *tcase_settings(void);

static const char *conf_fmt =
	"<?xml version=\"1.0\"?>\n<Configuration>\n<RepositoryList/>\n"
	"<Common><Logging><Verbosity>%d</Verbosity></Logging>"
	"<PolicyFile>/k.xml</PolicyFile><ZoneListFile>/z.xml</ZoneListFile></Common>\n"
	"<Enforcer><Datastore><SQLite>/x.db</SQLite></Datastore></Enforcer>\n"
	"<Cluster><NodeId>2</NodeId><DataDirectory>/tmp/n2</DataDirectory>"
	"<Listen>127.0.0.1:%d</Listen>"
	"<Peer id=\"1\">127.0.0.1:5400</Peer>"
	"<Peer id=\"3\" role=\"witness\">10.0.0.3:6000</Peer>"
	"<ControlSocket>/tmp/n2.sock</ControlSocket>"
	"<ElectionTimeout>PT0.5S</ElectionTimeout><Heartbeat>PT0.05S</Heartbeat></Cluster>\n"
	"</Configuration>\n";

static struct tdm_conf *load(int verbosity, int port)
{
	char buf[2048];
	struct tdm_conf *conf = NULL;
	struct tdm_err err = { "" };
	int n = snprintf(buf, sizeof buf, conf_fmt, verbosity, port);
	ck_assert_msg(tdm_conf_load_buffer("conf.xml", buf, (size_t)n, &conf, &err) == 0, "%s",
		      err.msg);
	return conf;
}

START_TEST(build)
{
	struct tdm_conf *conf = load(3, 5402);
	struct daemon_config *cfg;
	struct tdm_err err = { "" };
	char fwd[DAEMON_ADDR_MAX];
	ck_assert_int_eq(daemon_config_build(conf, NULL, &cfg, &err), 0);
	ck_assert_uint_eq(cfg->node_id, 2);
	ck_assert_str_eq(cfg->raft, "127.0.0.1:5402");
	ck_assert_str_eq(cfg->forward, "127.0.0.1:5403");
	ck_assert_str_eq(cfg->state_db, "/tmp/n2/state.db");
	ck_assert_str_eq(cfg->pid_file, "/tmp/n2/tandemd.pid");
	ck_assert_uint_eq(cfg->election_timeout_ms, 500);
	ck_assert_uint_eq(cfg->n_peers, 2);
	ck_assert_str_eq(daemon_config_peer(cfg, 3)->forward, "10.0.0.3:6001");
	ck_assert(daemon_config_peer(cfg, 3)->witness);
	ck_assert_int_eq(daemon_config_forward_of(cfg, 1, NULL, fwd), 0);
	ck_assert_str_eq(fwd, "127.0.0.1:5401");
	ck_assert_int_eq(daemon_config_forward_of(cfg, 9, "10.1.1.1:7000", fwd), 0);
	ck_assert_str_eq(fwd, "10.1.1.1:7001");
	ck_assert_int_eq(daemon_config_forward_of(cfg, 9, NULL, fwd), TDM_ENOENT);
	daemon_config_free(cfg);
	tdm_conf_free(conf);
}
END_TEST

START_TEST(restart_needed)
{
	struct tdm_conf *a = load(3, 5402), *b = load(4, 5402), *c = load(3, 5500);
	struct daemon_config *ca, *cb, *cc;
	struct tdm_err err = { "" };
	char what[256];
	ck_assert_int_eq(daemon_config_build(a, NULL, &ca, &err), 0);
	ck_assert_int_eq(daemon_config_build(b, NULL, &cb, &err), 0);
	ck_assert_int_eq(daemon_config_build(c, "/run/x.pid", &cc, &err), 0);
	ck_assert_str_eq(cc->pid_file, "/run/x.pid");
	ck_assert(!daemon_config_needs_restart(ca, cb, what, sizeof what)); /* verbosity only */
	ck_assert(daemon_config_needs_restart(ca, cc, what, sizeof what));
	ck_assert_str_eq(what, "Listen");
	daemon_config_free(ca);
	daemon_config_free(cb);
	daemon_config_free(cc);
	tdm_conf_free(a);
	tdm_conf_free(b);
	tdm_conf_free(c);
}
END_TEST

START_TEST(address_shift)
{
	struct tdm_err err = { "" };
	char out[64];
	ck_assert_int_eq(daemon_address_shift_port("192.0.2.1:5400", 1, out, sizeof out, &err), 0);
	ck_assert_str_eq(out, "192.0.2.1:5401");
	ck_assert_int_eq(daemon_address_shift_port("[2001:db8::1]:80", 1, out, sizeof out, &err), 0);
	ck_assert_str_eq(out, "[2001:db8::1]:81");
	ck_assert_int_eq(daemon_address_shift_port("127.0.0.1:65535", 1, out, sizeof out, &err),
			 TDM_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "out of range"));
	ck_assert_int_eq(daemon_address_shift_port("host:1", 1, out, sizeof out, &err), TDM_EINVAL);
}
END_TEST

TCase *tcase_settings(void)
{
	TCase *tc = tcase_create("settings");
	tcase_add_test(tc, build);
	tcase_add_test(tc, restart_needed);
	tcase_add_test(tc, address_shift);
	return tc;
}
