/*
 * The checks behind tandem-kaspcheck: clean samples give no findings; each
 * rule fires with its severity, file, line and wording.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common_tests.h"

/* A policy whose parts the tests replace: %s signatures, denial, keys, parent. */
static char *policy_doc(const char *sigs, const char *denial, const char *keys,
			const char *parent)
{
	static char buf[8192];
	snprintf(buf, sizeof buf,
		"<KASP>\n"
		"<Policy name=\"p\">\n"
		"%s\n"
		"%s\n"
		"%s\n"
		"<Zone><PropagationDelay>PT1H</PropagationDelay><SOA><TTL>PT1H</TTL>"
		"<Minimum>PT1H</Minimum><Serial>counter</Serial></SOA></Zone>\n"
		"%s\n"
		"</Policy>\n"
		"</KASP>\n",
		sigs ? sigs : "<Signatures><Resign>PT2H</Resign><Refresh>P3D</Refresh>"
			"<Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>"
			"<Jitter>PT12H</Jitter><InceptionOffset>PT1H</InceptionOffset></Signatures>",
		denial ? denial : "<Denial><NSEC/></Denial>",
		keys ? keys : "<Keys><TTL>PT1H</TTL><RetireSafety>PT1H</RetireSafety>"
			"<PublishSafety>PT1H</PublishSafety><KSK><Algorithm length=\"2048\">8"
			"</Algorithm><Lifetime>P1Y</Lifetime><Repository>SoftHSM</Repository></KSK>"
			"<ZSK><Algorithm length=\"2048\">8</Algorithm><Lifetime>P90D</Lifetime>"
			"<Repository>SoftHSM</Repository></ZSK></Keys>",
		parent ? parent : "<Parent><PropagationDelay>PT1H</PropagationDelay><DS><TTL>PT1H"
			"</TTL></DS><SOA><TTL>PT1H</TTL><Minimum>PT1H</Minimum></SOA></Parent>");
	return buf;
}

static void run_kasp(const char *doc, const struct tdm_conf *conf, struct tdm_check_report *r)
{
	struct tdm_kasp *k = NULL;
	struct tdm_err err = { "" };
	int rc = tdm_kasp_load_buffer("kasp.xml", doc, strlen(doc), &k, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	memset(r, 0, sizeof *r);
	tdm_kasp_check(k, conf, r);
	tdm_kasp_free(k);
}

static void expect_one(const struct tdm_check_report *r, bool error, long line,
		       const char *msg)
{
	const struct tdm_diag *d = error ? r->errors : r->warnings;
	size_t n = error ? r->n_errors : r->n_warnings;
	size_t other = error ? r->n_warnings : r->n_errors;
	ck_assert_msg(n == 1 && other == 0, "%zu errors, %zu warnings (first: %s)",
		      r->n_errors, r->n_warnings,
		      r->n_errors ? r->errors[0].message :
		      r->n_warnings ? r->warnings[0].message : "none");
	ck_assert_str_eq(d[0].file, "kasp.xml");
	ck_assert_int_eq(d[0].line, line);
	ck_assert_str_eq(d[0].message, msg);
}

START_TEST(samples_clean)
{
	struct tdm_conf *conf = NULL;
	struct tdm_kasp *kasp = NULL;
	struct tdm_zonelist *zl = NULL;
	struct tdm_signconf *sc = NULL;
	struct tdm_check_report r = { 0 };
	struct tdm_err err;
	ck_assert_int_eq(tdm_conf_load(data_path("conf.xml"), &conf, &err), 0);
	ck_assert_int_eq(tdm_kasp_load(data_path("kasp.xml"), &kasp, &err), 0);
	ck_assert_int_eq(tdm_zonelist_load(data_path("zonelist.xml"), &zl, &err), 0);
	tdm_kasp_check(kasp, conf, &r);
	tdm_zonelist_check(zl, kasp, &r);
	ck_assert_int_eq(tdm_signconf_load(data_path("signconf-nsec.xml"), &sc, &err), 0);
	tdm_signconf_check(sc, &r);
	tdm_signconf_free(sc);
	ck_assert_int_eq(tdm_signconf_load(data_path("signconf-nsec3.xml"), &sc, &err), 0);
	tdm_signconf_check(sc, &r);
	tdm_signconf_free(sc);
	ck_assert_msg(r.n_errors == 0 && r.n_warnings == 0, "%s",
		      r.n_errors ? r.errors[0].message :
		      r.n_warnings ? r.warnings[0].message : "");
	tdm_check_report_clear(&r);
	ck_assert_ptr_null(r.errors);
	tdm_conf_free(conf);
	tdm_kasp_free(kasp);
	tdm_zonelist_free(zl);
}
END_TEST

struct rule {
	const char *sigs, *denial, *keys, *parent;
	bool error;
	long line;
	const char *msg;
};

#define SIGS(resign, refresh, vdef, vden, jitter, inc) \
	"<Signatures><Resign>" resign "</Resign><Refresh>" refresh "</Refresh>" \
	"<Validity><Default>" vdef "</Default><Denial>" vden "</Denial></Validity>" \
	"<Jitter>" jitter "</Jitter><InceptionOffset>" inc "</InceptionOffset></Signatures>"
#define NSEC3(iter) "<Denial><NSEC3><Resalt>P100D</Resalt><Hash><Algorithm>1</Algorithm>" \
	"<Iterations>" iter "</Iterations><Salt length=\"8\"/></Hash></NSEC3></Denial>"
#define KEYS(ksk, zsk) "<Keys><TTL>PT1H</TTL><RetireSafety>PT1H</RetireSafety>" \
	"<PublishSafety>PT1H</PublishSafety>" ksk zsk "</Keys>"
#define KEY(role, alg, repo) "<" role "><Algorithm" alg "</Algorithm><Lifetime>P1Y</Lifetime>" \
	"<Repository>" repo "</Repository></" role ">"
#define ZSK8 KEY("ZSK", " length=\"2048\">8", "SoftHSM")
#define KSK8 KEY("KSK", " length=\"2048\">8", "SoftHSM")

static const struct rule rules[] = {
	{ SIGS("P3D", "P3D", "P14D", "P14D", "PT12H", "PT1H"), NULL, NULL, NULL, true, 3,
	  "<Policy name=\"p\">: Resign (P3D) must be shorter than Refresh (P3D)" },
	{ SIGS("PT2H", "P3D", "P3D", "P14D", "PT12H", "PT1H"), NULL, NULL, NULL, true, 3,
	  "<Policy name=\"p\">: Validity/Default (P3D) must be longer than Refresh (P3D)" },
	{ SIGS("PT2H", "P3D", "P14D", "P2D", "PT12H", "PT1H"), NULL, NULL, NULL, true, 3,
	  "<Policy name=\"p\">: Validity/Denial (P2D) must be longer than Refresh (P3D)" },
	{ SIGS("PT2H", "P3D", "P14D", "P14D", "P8D", "PT1H"), NULL, NULL, NULL, false, 3,
	  "<Policy name=\"p\">: Jitter (P8D) is large compared to Validity (P14D)" },
	{ SIGS("PT2H", "P3D", "P14D", "P14D", "PT12H", "PT2H"), NULL, NULL, NULL, false, 3,
	  "<Policy name=\"p\">: InceptionOffset (PT2H) is higher than expected (PT1H)" },
	{ NULL, NSEC3("150"), NULL, NULL, false, 4,
	  "<Policy name=\"p\">: NSEC3 Iterations 150 is above 100 (RFC 9276 recommends 0)" },
	{ NULL, NSEC3("501"), NULL, NULL, true, 4,
	  "<Policy name=\"p\">: NSEC3 Iterations 501 is above 500: refused (validators "
	  "treat such zones as insecure, RFC 9276)" },
	{ NULL, NULL, KEYS(KEY("KSK", " length=\"2048\">8", "Nowhere"), ZSK8), NULL, true, 5,
	  "<Policy name=\"p\">: <KSK>: Repository \"Nowhere\" is not in conf.xml" },
	{ NULL, NULL, KEYS(KSK8, KEY("ZSK", " length=\"512\">8", "SoftHSM")), NULL, true, 5,
	  "<Policy name=\"p\">: <ZSK>: algorithm 8 with length 512: RSA keys must be "
	  "1024 to 4096 bits" },
	{ NULL, NULL, KEYS(KSK8, KEY("ZSK", ">8", "SoftHSM")), NULL, true, 5,
	  "<Policy name=\"p\">: <ZSK>: RSA algorithm 8 needs a key length "
	  "(<Algorithm length=\"2048\">)" },
	{ NULL, NULL, KEYS(KEY("CSK", " length=\"384\">13", "SoftHSM"), ""), NULL, true, 5,
	  "<Policy name=\"p\">: <CSK>: algorithm 13 keys are 256 bits, not 384" },
	{ NULL, NULL, KEYS(KEY("CSK", ">3", "SoftHSM"), ""), NULL, true, 5,
	  "<Policy name=\"p\">: <CSK>: algorithm 3 is not supported (RFC 8624: MUST NOT)" },
	{ NULL, NULL, KEYS(KEY("CSK", " length=\"2048\">7", "SoftHSM"), ""), NULL, false, 5,
	  "<Policy name=\"p\">: <CSK>: algorithm 7 (RSASHA1-NSEC3-SHA1) is deprecated for "
	  "signing (RFC 8624)" },
	{ NULL, NULL, KEYS(KSK8, ""), NULL, true, 5,
	  "<Policy name=\"p\">: no ZSK or CSK: nothing would sign the zone" },
	{ NULL, NULL, KEYS(KSK8, KEY("ZSK", ">13", "SoftHSM")), NULL, false, 5,
	  "<Policy name=\"p\">: algorithm 8 has a KSK but no ZSK: every algorithm in the "
	  "DNSKEY set must sign the whole zone (RFC 6840 §5.11)" },
	{ NULL, NULL, NULL, "<Parent><PropagationDelay>PT1H</PropagationDelay><DS><TTL>PT1H"
	  "</TTL></DS><SOA><TTL>PT1H</TTL><Minimum>PT1H</Minimum></SOA><PublishCDS>"
	  "<DigestType>3</DigestType></PublishCDS></Parent>", true, 7,
	  "<Policy name=\"p\">: CDS digest type 3 is not supported (2 = SHA-256, 4 = SHA-384)" },
};

START_TEST(kasp_rule)
{
	const struct rule *ru = &rules[_i];
	struct tdm_conf *conf = NULL;
	struct tdm_check_report r;
	struct tdm_err err;
	char conf_doc[] = "<Configuration><RepositoryList><Repository name='SoftHSM'>"
		"<Module>m</Module><TokenLabel>t</TokenLabel></Repository></RepositoryList>"
		"<Common><PolicyFile>k</PolicyFile><ZoneListFile>z</ZoneListFile></Common>"
		"<Enforcer><Datastore><SQLite>d</SQLite></Datastore></Enforcer></Configuration>";
	ck_assert_int_eq(tdm_conf_load_buffer("conf.xml", conf_doc, strlen(conf_doc), &conf,
					      &err), 0);
	run_kasp(policy_doc(ru->sigs, ru->denial, ru->keys, ru->parent), conf, &r);
	expect_one(&r, ru->error, ru->line, ru->msg);
	tdm_check_report_clear(&r);
	tdm_conf_free(conf);
}
END_TEST

START_TEST(no_conf_no_repository_check)
{
	struct tdm_check_report r;
	run_kasp(policy_doc(NULL, NULL, KEYS(KEY("CSK", ">13", "Nowhere"), ""), NULL), NULL, &r);
	ck_assert_uint_eq(r.n_errors, 0);
	ck_assert_uint_eq(r.n_warnings, 0);
	tdm_check_report_clear(&r);
}
END_TEST

START_TEST(zonelist_rules)
{
	static const char doc[] =
		"<ZoneList>\n"
		"<Zone name=\"a.example\"><Policy>missing</Policy><SignerConfiguration>s"
		"</SignerConfiguration><Adapters><Input><File>f</File></Input><Output>"
		"<File>f</File></Output></Adapters></Zone>\n"
		"<Zone name=\"b..example\"><Policy>default</Policy><SignerConfiguration>s"
		"</SignerConfiguration><Adapters><Input><Adapter type=\"Pipe\">x</Adapter></Input>"
		"<Output><File>o</File></Output></Adapters></Zone>\n"
		"</ZoneList>\n";
	struct tdm_zonelist *zl = NULL;
	struct tdm_kasp *kasp = NULL;
	struct tdm_check_report r = { 0 };
	struct tdm_err err;
	ck_assert_int_eq(tdm_kasp_load(data_path("kasp.xml"), &kasp, &err), 0);
	ck_assert_int_eq(tdm_zonelist_load_buffer("zonelist.xml", doc, strlen(doc), &zl, &err), 0);
	tdm_zonelist_check(zl, kasp, &r);
	ck_assert_uint_eq(r.n_errors, 4);
	ck_assert_uint_eq(r.n_warnings, 0);
	ck_assert_int_eq(r.errors[0].line, 2);
	/* kasp->path is the full path of the sample. */
	ck_assert(strncmp(r.errors[0].message, "<Zone name=\"a.example\">: Policy \"missing\" "
			  "is not in /", 53) == 0);
	ck_assert_ptr_nonnull(strstr(r.errors[0].message, "/data/kasp.xml"));
	ck_assert_str_eq(r.errors[1].message, "<Zone name=\"a.example\">: Input and Output are "
			 "the same file");
	ck_assert_int_eq(r.errors[2].line, 3);
	ck_assert_str_eq(r.errors[2].message, "<Zone name=\"b..example\">: empty label");
	ck_assert_str_eq(r.errors[3].message, "<Zone name=\"b..example\">: Input adapter type "
			 "\"Pipe\" is not supported (File or DNS)");
	tdm_check_report_clear(&r);
	tdm_zonelist_free(zl);
	tdm_kasp_free(kasp);
}
END_TEST

START_TEST(signconf_rules)
{
	static const char doc[] =
		"<SignerConfiguration><Zone name=\"z.example\">"
		"<Signatures><Resign>PT2H</Resign><Refresh>P3D</Refresh>"
		"<Validity><Default>P2D</Default><Denial>P14D</Denial></Validity>"
		"<Jitter>PT1H</Jitter><InceptionOffset>PT1H</InceptionOffset></Signatures>"
		"<Denial><NSEC3><Hash><Algorithm>1</Algorithm><Iterations>120</Iterations>"
		"<Salt>-</Salt></Hash></NSEC3></Denial>"
		"<Keys><TTL>PT1H</TTL>"
		"<Key><Flags>256</Flags><Algorithm>8</Algorithm><Locator>aa</Locator><ZSK/>"
		"</Key><Key><Flags>256</Flags><Algorithm>8</Algorithm><Locator>AA</Locator>"
		"<Publish/></Key></Keys>"
		"<SOA><TTL>PT1H</TTL><Minimum>PT1H</Minimum><Serial>counter</Serial></SOA>"
		"</Zone></SignerConfiguration>";
	struct tdm_signconf *sc = NULL;
	struct tdm_check_report r = { 0 };
	struct tdm_err err;
	ck_assert_int_eq(tdm_signconf_load_buffer("sc.xml", doc, strlen(doc), &sc, &err), 0);
	tdm_signconf_check(sc, &r);
	ck_assert_uint_eq(r.n_errors, 3);
	ck_assert_str_eq(r.errors[0].message, "<Zone name=\"z.example\">: Validity/Default (P2D) "
			 "must be longer than Refresh (P3D)");
	ck_assert_str_eq(r.errors[1].message, "<Zone name=\"z.example\">: <Key> 2: Locator AA "
			 "repeats key 1");
	ck_assert_str_eq(r.errors[2].message, "<Zone name=\"z.example\">: no key marked <KSK/>: "
			 "the DNSKEY set would be unsigned");
	ck_assert_uint_eq(r.n_warnings, 2);
	ck_assert_str_eq(r.warnings[0].message, "<Zone name=\"z.example\">: NSEC3 Iterations 120 "
			 "is above 100 (RFC 9276 recommends 0)");
	ck_assert_str_eq(r.warnings[1].message, "<Zone name=\"z.example\">: <Key> 1: signs but "
			 "is not published");
	ck_assert_str_eq(r.errors[0].file, "sc.xml");
	tdm_check_report_clear(&r);
	tdm_signconf_free(sc);
}
END_TEST

TCase *tcase_kaspcheck(void)
{
	TCase *tc = tcase_create("kaspcheck");
	tcase_add_test(tc, samples_clean);
	tcase_add_loop_test(tc, kasp_rule, 0, (int)(sizeof rules / sizeof rules[0]));
	tcase_add_test(tc, no_conf_no_repository_check);
	tcase_add_test(tc, zonelist_rules);
	tcase_add_test(tc, signconf_rules);
	return tc;
}
