/*
 * Malformed and invalid files: each gets exactly one message naming the
 * file, the line and the element, a negative code, and no partial result.
 * The table lists the full expected message so a regression in wording,
 * line numbers or context shows up at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common_tests.h"

enum loader { CONF, SIGNCONF, KASP, ZONELIST };

struct bad {
	enum loader loader;
	const char *xml;
	int code;
	const char *msg;
};

#define HEAD "<?xml version=\"1.0\"?>\n<Configuration>\n"
#define REPO_OK "<RepositoryList><Repository name=\"SoftHSM\"><Module>m</Module>" \
	"<TokenLabel>t</TokenLabel></Repository></RepositoryList>\n"
#define COMMON "<Common><PolicyFile>k</PolicyFile><ZoneListFile>z</ZoneListFile></Common>\n"
#define ENF "<Enforcer><Datastore><SQLite>db</SQLite></Datastore></Enforcer>\n"
#define TAIL "</Configuration>\n"

#define SC_HEAD "<SignerConfiguration>\n<Zone name=\"example.com\">\n"
#define SC_SIGS "<Signatures><Resign>PT2H</Resign><Refresh>P3D</Refresh>" \
	"<Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>" \
	"<Jitter>PT12H</Jitter><InceptionOffset>PT1H</InceptionOffset></Signatures>\n"
#define SC_NSEC "<Denial><NSEC/></Denial>\n"
#define SC_KEYS "<Keys><TTL>PT1H</TTL></Keys>\n"
#define SC_SOA "<SOA><TTL>PT1H</TTL><Minimum>PT1H</Minimum><Serial>unixtime</Serial></SOA>\n"
#define SC_TAIL "</Zone>\n</SignerConfiguration>\n"

static const struct bad conf_cases[] = {
	/* Not XML at all, or not ours. */
	{ CONF, "", TDM_EPARSE, "conf.xml:1: not well-formed XML: Document is empty" },
	{ CONF, HEAD "<RepositoryList>\n" TAIL, TDM_EPARSE,
	  "conf.xml:4: not well-formed XML: Opening and ending tag mismatch: "
	  "RepositoryList line 3 and Configuration" },
	{ CONF, "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
		"<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n"
		"<Configuration>&lol2;</Configuration>\n", TDM_EPARSE,
	  "conf.xml:2: <!DOCTYPE> not allowed (no DTDs or entities)" },
	{ CONF, "<?xml version=\"1.0\"?>\n<!DOCTYPE Configuration SYSTEM "
		"\"http://192.0.2.1/conf.dtd\">\n<Configuration/>\n", TDM_EPARSE,
	  "conf.xml:2: <!DOCTYPE> not allowed (no DTDs or entities)" },
	{ CONF, "<?xml version=\"1.0\"?>\n\n<KASP/>\n", TDM_EPARSE,
	  "conf.xml:3: <KASP>: expected <Configuration> as the document element" },
	/* Missing, repeated and unknown elements. */
	{ CONF, HEAD "<RepositoryList>\n<Repository name=\"SoftHSM\">\n<Module>m</Module>\n"
		"</Repository>\n</RepositoryList>\n" COMMON ENF TAIL, TDM_ESCHEMA,
	  "conf.xml:4: <Repository name=\"SoftHSM\">: element TokenLabel missing" },
	{ CONF, HEAD "<RepositoryList>\n<Repository>\n<Module>m</Module>\n"
		"<TokenLabel>t</TokenLabel></Repository>\n</RepositoryList>\n" COMMON ENF TAIL,
	  TDM_ESCHEMA, "conf.xml:4: <Repository>: attribute name missing" },
	{ CONF, HEAD "<RepositoryList>\n<Repository name=\"SoftHSM\">\n<Module>m</Module>\n"
		"<TokenLabel>t</TokenLabel><Bogus/></Repository>\n</RepositoryList>\n"
		COMMON ENF TAIL, TDM_ESCHEMA,
	  "conf.xml:4: <Repository name=\"SoftHSM\">: element Bogus not expected here" },
	{ CONF, HEAD REPO_OK "<Common>\n<PolicyFile>k</PolicyFile>\n"
		"<PolicyFile>k2</PolicyFile><ZoneListFile>z</ZoneListFile></Common>\n" ENF TAIL,
	  TDM_ESCHEMA, "conf.xml:6: <PolicyFile>: element PolicyFile repeated (first on line 5)" },
	{ CONF, HEAD REPO_OK ENF TAIL, TDM_ESCHEMA,
	  "conf.xml:2: <Configuration>: element Common missing" },
	{ CONF, HEAD "<RepositoryList>\n<Repository name=\"A\"><Module>m</Module>"
		"<TokenLabel>t</TokenLabel></Repository>\n<Repository name=\"A\">"
		"<Module>m</Module><TokenLabel>t</TokenLabel></Repository>\n</RepositoryList>\n"
		COMMON ENF TAIL, TDM_ESCHEMA,
	  "conf.xml:5: <Repository name=\"A\">: repository name used twice" },
	{ CONF, HEAD REPO_OK COMMON "<Enforcer>\nhello<Datastore><SQLite>db</SQLite></Datastore>"
		"</Enforcer>\n" TAIL, TDM_ESCHEMA,
	  "conf.xml:5: <Enforcer>: unexpected text in element" },
	/* Values. */
	{ CONF, HEAD "<RepositoryList>\n<Repository name=\"SoftHSM\">\n<Module>m</Module>\n"
		"<TokenLabel>t</TokenLabel>\n<Capacity>lots</Capacity></Repository>\n"
		"</RepositoryList>\n" COMMON ENF TAIL, TDM_ESCHEMA,
	  "conf.xml:7: <Repository name=\"SoftHSM\">: <Capacity>: not a number: \"lots\"" },
	{ CONF, HEAD "<RepositoryList>\n<Repository name=\"SoftHSM\">\n<Module>m</Module>\n"
		"<TokenLabel>t</TokenLabel>\n<SkipPublicKey>yes</SkipPublicKey></Repository>\n"
		"</RepositoryList>\n" COMMON ENF TAIL, TDM_ESCHEMA,
	  "conf.xml:7: <Repository name=\"SoftHSM\">: <SkipPublicKey>: must be empty" },
	{ CONF, HEAD "<RepositoryList>\n<Repository name=\"SoftHSM\">\n"
		"<Module extra=\"1\">m</Module>\n<TokenLabel>t</TokenLabel></Repository>\n"
		"</RepositoryList>\n" COMMON ENF TAIL, TDM_ESCHEMA,
	  "conf.xml:5: <Repository name=\"SoftHSM\">: <Module>: attribute extra not expected" },
	{ CONF, HEAD REPO_OK "<Common>\n<Logging><Verbosity>12</Verbosity></Logging>\n"
		"<PolicyFile>k</PolicyFile><ZoneListFile>z</ZoneListFile></Common>\n" ENF TAIL,
	  TDM_ESCHEMA, "conf.xml:5: <Verbosity>: 12 out of range 0..9" },
	{ CONF, HEAD REPO_OK "<Common>\n<Logging><Syslog>\n<Facility>local9</Facility>"
		"</Syslog></Logging>\n<PolicyFile>k</PolicyFile><ZoneListFile>z</ZoneListFile>"
		"</Common>\n" ENF TAIL, TDM_ESCHEMA,
	  "conf.xml:6: <Facility>: unknown syslog facility \"local9\"" },
	{ CONF, HEAD REPO_OK COMMON "<Enforcer>\n<Datastore>\n<MySQL><Host>h</Host>"
		"<Database>d</Database><Username>u</Username><Password>p</Password></MySQL>\n"
		"</Datastore></Enforcer>\n" TAIL, TDM_ESCHEMA,
	  "conf.xml:7: <MySQL>: MySQL datastore not supported: use <SQLite> "
	  "(Tandem keeps its state in the cluster ledger)" },
	{ CONF, HEAD REPO_OK COMMON "<Enforcer><Datastore><SQLite>db</SQLite></Datastore>\n"
		"<AutomaticKeyGenerationPeriod>1 year</AutomaticKeyGenerationPeriod>\n"
		"</Enforcer>\n" TAIL, TDM_ESCHEMA,
	  "conf.xml:6: <AutomaticKeyGenerationPeriod>: not a duration: \"1 year\"" },
	{ CONF, HEAD REPO_OK COMMON ENF "<Signer><Listener>\n<Interface>\n"
		"<Address>localhost</Address></Interface></Listener></Signer>\n" TAIL,
	  TDM_ESCHEMA, "conf.xml:8: <Address>: not an IP address: \"localhost\"" },
	{ CONF, HEAD REPO_OK COMMON ENF "<Signer><WorkerThreads>0</WorkerThreads></Signer>\n"
		TAIL, TDM_ESCHEMA, "conf.xml:6: <WorkerThreads>: 0 out of range 1..1024" },
	/* <Cluster>. */
	{ CONF, HEAD REPO_OK COMMON ENF "<Cluster>\n<Peer id=\"2\" role=\"boss\">"
		"192.0.2.2:5400</Peer>\n</Cluster>\n" TAIL, TDM_ESCHEMA,
	  "conf.xml:7: <Peer id=\"2\">: attribute role must be \"voter\" or \"witness\", "
	  "not \"boss\"" },
	{ CONF, HEAD REPO_OK COMMON ENF "<Cluster>\n<Peer id=\"2\">192.0.2.2:5400</Peer>\n"
		"<Peer id=\"2\">192.0.2.3:5400</Peer>\n</Cluster>\n" TAIL, TDM_ESCHEMA,
	  "conf.xml:8: <Peer id=\"2\">: peer id used twice" },
	{ CONF, HEAD REPO_OK COMMON ENF "<Cluster>\n<NodeId>2</NodeId>\n"
		"<Peer id=\"2\">192.0.2.2:5400</Peer>\n</Cluster>\n" TAIL, TDM_ESCHEMA,
	  "conf.xml:8: <Peer id=\"2\">: peer id 2 is this node's own NodeId" },
	{ CONF, HEAD REPO_OK COMMON ENF "<Cluster>\n<Peer id=\"x\">192.0.2.2:5400</Peer>\n"
		"</Cluster>\n" TAIL, TDM_ESCHEMA,
	  "conf.xml:7: <Peer id=\"x\">: attribute id: not a number: \"x\"" },
	{ CONF, HEAD REPO_OK COMMON ENF "<Cluster>\n<Peer id=\"2\">2001:db8::2:5400</Peer>\n"
		"</Cluster>\n" TAIL, TDM_ESCHEMA,
	  "conf.xml:7: <Peer id=\"2\">: \"2001:db8::2:5400\" is not an address:port "
	  "(IPv6 in brackets)" },
	{ CONF, HEAD REPO_OK COMMON ENF "<Cluster>\n<Listen>192.0.2.1:70000</Listen>\n"
		"</Cluster>\n" TAIL, TDM_ESCHEMA,
	  "conf.xml:7: <Listen>: \"192.0.2.1:70000\" is not an address:port (IPv6 in brackets)" },
	{ CONF, HEAD REPO_OK COMMON ENF "<Cluster>\n<ElectionTimeout>PT0.1S</ElectionTimeout>\n"
		"<Heartbeat>PT0.2S</Heartbeat></Cluster>\n" TAIL, TDM_ESCHEMA,
	  "conf.xml:6: <Cluster>: Heartbeat (200 ms) must be shorter than ElectionTimeout (100 ms)" },
	{ CONF, HEAD REPO_OK COMMON ENF "<Cluster>\n<Witness>no</Witness>\n</Cluster>\n" TAIL,
	  TDM_ESCHEMA, "conf.xml:7: <Witness>: must be empty" },
	{ CONF, HEAD REPO_OK COMMON ENF "<Cluster>\n<Http>:8053</Http>\n</Cluster>\n" TAIL,
	  TDM_ESCHEMA, "conf.xml:7: <Http>: \":8053\" is not an address:port (IPv6 in brackets)" },
};

static const struct bad signconf_cases[] = {
	{ SIGNCONF, "<SignerConfiguration>\n<Zone>\n" SC_SIGS SC_NSEC SC_KEYS SC_SOA SC_TAIL,
	  TDM_ESCHEMA, "signconf.xml:2: <Zone>: attribute name missing" },
	{ SIGNCONF, SC_HEAD SC_SIGS SC_NSEC SC_SOA SC_TAIL, TDM_ESCHEMA,
	  "signconf.xml:2: <Zone name=\"example.com\">: element Keys missing" },
	{ SIGNCONF, SC_HEAD "<Signatures><Resign>PT2Q</Resign><Refresh>P3D</Refresh>"
		"<Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>"
		"<Jitter>PT12H</Jitter><InceptionOffset>PT1H</InceptionOffset></Signatures>\n"
		SC_NSEC SC_KEYS SC_SOA SC_TAIL, TDM_ESCHEMA,
	  "signconf.xml:3: <Zone name=\"example.com\">: <Resign>: not a duration: \"PT2Q\"" },
	{ SIGNCONF, SC_HEAD SC_SIGS "<Denial>\n</Denial>\n" SC_KEYS SC_SOA SC_TAIL,
	  TDM_ESCHEMA, "signconf.xml:4: <Zone name=\"example.com\">: <Denial>: "
	  "element NSEC or NSEC3 missing" },
	{ SIGNCONF, SC_HEAD SC_SIGS "<Denial><NSEC/>\n<NSEC3/></Denial>\n" SC_KEYS SC_SOA SC_TAIL,
	  TDM_ESCHEMA, "signconf.xml:4: <Zone name=\"example.com\">: <Denial>: "
	  "NSEC and NSEC3 both given" },
	{ SIGNCONF, SC_HEAD SC_SIGS "<Denial><NSEC3><Hash><Algorithm>1</Algorithm>"
		"<Iterations>0</Iterations>\n<Salt>xyz</Salt></Hash></NSEC3></Denial>\n"
		SC_KEYS SC_SOA SC_TAIL, TDM_ESCHEMA,
	  "signconf.xml:5: <Zone name=\"example.com\">: <Salt>: not a hex salt: \"xyz\"" },
	{ SIGNCONF, SC_HEAD SC_SIGS "<Denial><NSEC3><Hash><Algorithm>1</Algorithm>"
		"<Iterations>70000</Iterations>\n<Salt/></Hash></NSEC3></Denial>\n"
		SC_KEYS SC_SOA SC_TAIL, TDM_ESCHEMA,
	  "signconf.xml:4: <Zone name=\"example.com\">: <Iterations>: 70000 out of range 0..65535" },
	{ SIGNCONF, SC_HEAD SC_SIGS SC_NSEC "<Keys><TTL>PT1H</TTL>\n<Key><Flags>257</Flags>"
		"<Algorithm>8</Algorithm><KSK/></Key></Keys>\n" SC_SOA SC_TAIL, TDM_ESCHEMA,
	  "signconf.xml:6: <Zone name=\"example.com\">: <Key>: element Locator missing "
	  "(a signing key needs its CKA_ID)" },
	{ SIGNCONF, SC_HEAD SC_SIGS SC_NSEC "<Keys><TTL>PT1H</TTL>\n<Key><Flags>1</Flags>"
		"<Algorithm>8</Algorithm><Locator>ab</Locator></Key></Keys>\n" SC_SOA SC_TAIL,
	  TDM_ESCHEMA, "signconf.xml:6: <Zone name=\"example.com\">: <Key>: "
	  "Flags 1 lack the Zone Key bit (256)" },
	{ SIGNCONF, SC_HEAD SC_SIGS SC_NSEC "<Keys><TTL>PT1H</TTL>\n<Key><Flags>256</Flags>"
		"<Algorithm>8</Algorithm>\n<Locator>CKA-1</Locator><ZSK/></Key></Keys>\n"
		SC_SOA SC_TAIL, TDM_ESCHEMA,
	  "signconf.xml:7: <Zone name=\"example.com\">: <Locator>: not a hex CKA_ID: \"CKA-1\"" },
	{ SIGNCONF, SC_HEAD SC_SIGS SC_NSEC SC_KEYS "<SOA><TTL>PT1H</TTL><Minimum>PT1H</Minimum>\n"
		"<Serial>sometimes</Serial></SOA>\n" SC_TAIL, TDM_ESCHEMA,
	  "signconf.xml:7: <Zone name=\"example.com\">: <Serial>: serial must be counter, "
	  "datecounter, unixtime or keep, not \"sometimes\"" },
	{ SIGNCONF, "<SignerConfiguration>\n<Zone name=\"a\"/>\n<Zone name=\"b\"/>\n"
		"</SignerConfiguration>\n", TDM_ESCHEMA,
	  "signconf.xml:3: <Zone name=\"b\">: element Zone repeated (first on line 2)" },
	{ SIGNCONF, "<SignerConfiguration>\n<Zone name=\"a\">\n<Signatures/>\n</Zone>\n"
		"</SignerConfiguration>\n", TDM_ESCHEMA,
	  "signconf.xml:3: <Zone name=\"a\">: <Signatures>: element Resign missing" },
};

#define K_HEAD "<KASP>\n<Policy name=\"lab\">\n"
#define K_SIGS "<Signatures><Resign>PT2H</Resign><Refresh>P3D</Refresh>" \
	"<Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>" \
	"<Jitter>PT12H</Jitter><InceptionOffset>PT1H</InceptionOffset></Signatures>\n"
#define K_NSEC "<Denial><NSEC/></Denial>\n"
#define K_KEYS_OPEN "<Keys><TTL>PT1H</TTL><RetireSafety>PT1H</RetireSafety>" \
	"<PublishSafety>PT1H</PublishSafety>\n"
#define K_KEYS K_KEYS_OPEN "<CSK><Algorithm>13</Algorithm><Lifetime>P1Y</Lifetime>" \
	"<Repository>SoftHSM</Repository></CSK></Keys>\n"
#define K_ZONE "<Zone><PropagationDelay>PT1H</PropagationDelay><SOA><TTL>PT1H</TTL>" \
	"<Minimum>PT1H</Minimum><Serial>counter</Serial></SOA></Zone>\n"
#define K_PARENT "<Parent><PropagationDelay>PT1H</PropagationDelay><DS><TTL>PT1H</TTL></DS>" \
	"<SOA><TTL>PT1H</TTL><Minimum>PT1H</Minimum></SOA></Parent>\n"
#define K_TAIL "</Policy>\n</KASP>\n"

static const struct bad kasp_cases[] = {
	{ KASP, K_HEAD K_SIGS K_NSEC K_KEYS_OPEN "<KSK>\n<Algorithm length=\"2048\">8</Algorithm>\n"
		"<Lifetime>one year</Lifetime>\n<Repository>SoftHSM</Repository></KSK></Keys>\n"
		K_ZONE K_PARENT K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:8: <Policy name=\"lab\">: <Lifetime>: not a duration: \"one year\"" },
	{ KASP, K_HEAD K_SIGS K_NSEC K_KEYS_OPEN "<KSK>\n<Algorithm length=\"2048\">8</Algorithm>\n"
		"<Lifetime>P1Y</Lifetime>\n</KSK></Keys>\n" K_ZONE K_PARENT K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:6: <Policy name=\"lab\">: <KSK>: element Repository missing" },
	{ KASP, K_HEAD K_SIGS K_NSEC K_KEYS_OPEN "<ZSK>\n<Algorithm>13</Algorithm>"
		"<Lifetime>P1Y</Lifetime><Repository>r</Repository>\n<RFC5011/></ZSK></Keys>\n"
		K_ZONE K_PARENT K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:6: <Policy name=\"lab\">: <ZSK>: element RFC5011 not expected here" },
	{ KASP, K_HEAD K_SIGS K_NSEC K_KEYS_OPEN "<KSK><Algorithm>13</Algorithm>"
		"<Lifetime>P1Y</Lifetime><Repository>r</Repository>\n"
		"<KskRollType>ZskPrePublication</KskRollType></KSK></Keys>\n"
		K_ZONE K_PARENT K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:7: <Policy name=\"lab\">: <KskRollType>: \"ZskPrePublication\" is not one "
	  "of KskDoubleRRset, KskDoubleDS, KskDoubleSignature" },
	{ KASP, K_HEAD K_SIGS K_NSEC K_KEYS_OPEN "<KSK><Algorithm length=\"big\">8</Algorithm>"
		"<Lifetime>P1Y</Lifetime><Repository>r</Repository></KSK></Keys>\n"
		K_ZONE K_PARENT K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:6: <Policy name=\"lab\">: <Algorithm>: attribute length: not a number: \"big\"" },
	{ KASP, K_HEAD K_SIGS "<Denial><NSEC3>\n<Hash><Algorithm>1</Algorithm><Iterations>0"
		"</Iterations><Salt length=\"8\"/></Hash></NSEC3></Denial>\n" K_KEYS K_ZONE K_PARENT
		K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:4: <Policy name=\"lab\">: <NSEC3>: element Resalt missing" },
	{ KASP, K_HEAD K_SIGS "<Denial><NSEC3><Resalt>P1D</Resalt>\n<Hash><Algorithm>1</Algorithm>"
		"<Iterations>0</Iterations><Salt/></Hash></NSEC3></Denial>\n" K_KEYS K_ZONE K_PARENT
		K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:5: <Policy name=\"lab\">: <Salt>: attribute length missing" },
	{ KASP, K_HEAD K_SIGS "<Denial><NSEC3><Resalt>P1D</Resalt>\n<Hash><Algorithm>1</Algorithm>"
		"<Iterations>0</Iterations><Salt length=\"300\"/></Hash></NSEC3></Denial>\n" K_KEYS
		K_ZONE K_PARENT K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:5: <Policy name=\"lab\">: <Salt>: attribute length: 300 out of range 0..255" },
	{ KASP, K_HEAD K_SIGS K_NSEC K_KEYS "<Zone><PropagationDelay>PT1H</PropagationDelay>\n"
		"<SOA><TTL>PT1H</TTL><Minimum>PT1H</Minimum>\n<Serial>date</Serial></SOA></Zone>\n"
		K_PARENT K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:9: <Policy name=\"lab\">: <Serial>: serial must be counter, datecounter, "
	  "unixtime or keep, not \"date\"" },
	{ KASP, K_HEAD K_SIGS K_NSEC K_KEYS K_ZONE K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:2: <Policy name=\"lab\">: element Parent missing" },
	{ KASP, K_HEAD K_SIGS K_NSEC K_KEYS K_ZONE "<Parent><PropagationDelay>PT1H"
		"</PropagationDelay><DS><TTL>PT1H</TTL></DS><SOA><TTL>PT1H</TTL><Minimum>PT1H"
		"</Minimum></SOA>\n<PublishCDS><DigestType>2</DigestType>\n<DigestType>2"
		"</DigestType></PublishCDS></Parent>\n" K_TAIL, TDM_ESCHEMA,
	  "kasp.xml:10: <Policy name=\"lab\">: <DigestType>: digest type 2 repeated" },
	{ KASP, "<KASP>\n" "<Policy name=\"a\">" K_SIGS K_NSEC K_KEYS K_ZONE K_PARENT "</Policy>\n"
		"<Policy name=\"a\">" K_SIGS K_NSEC K_KEYS K_ZONE K_PARENT "</Policy>\n</KASP>\n",
	  TDM_ESCHEMA,
	  "kasp.xml:9: <Policy name=\"a\">: policy name used twice (first on line 2)" },
	{ KASP, "<KASP>\n<policy name=\"a\"/>\n</KASP>\n", TDM_ESCHEMA,
	  "kasp.xml:1: <KASP>: element policy not expected here" },
};

#define Z_ADAPTERS "<Adapters><Input><File>i</File></Input><Output><File>o</File>" \
	"</Output></Adapters>"

static const struct bad zonelist_cases[] = {
	{ ZONELIST, "<ZoneList>\n<Zone name=\"a.example\">\n<SignerConfiguration>s"
		"</SignerConfiguration>" Z_ADAPTERS "</Zone>\n</ZoneList>\n", TDM_ESCHEMA,
	  "zonelist.xml:2: <Zone name=\"a.example\">: element Policy missing" },
	{ ZONELIST, "<ZoneList>\n<Zone name=\"a.example\">\n<Policy>p</Policy><SignerConfiguration>"
		"s</SignerConfiguration><Adapters>\n<Input><File>i</File><Adapter type=\"DNS\">a"
		"</Adapter></Input><Output><File>o</File></Output></Adapters></Zone>\n</ZoneList>\n",
	  TDM_ESCHEMA, "zonelist.xml:4: <Zone name=\"a.example\">: <Input>: File and Adapter "
	  "both given" },
	{ ZONELIST, "<ZoneList>\n<Zone name=\"a.example\">\n<Policy>p</Policy><SignerConfiguration>"
		"s</SignerConfiguration><Adapters>\n<Input><Adapter>a</Adapter></Input>"
		"<Output><File>o</File></Output></Adapters></Zone>\n</ZoneList>\n",
	  TDM_ESCHEMA, "zonelist.xml:4: <Zone name=\"a.example\">: <Adapter>: attribute type "
	  "missing" },
	{ ZONELIST, "<ZoneList>\n<Zone name=\"a.example\">\n<Policy>p</Policy><SignerConfiguration>"
		"s</SignerConfiguration><Adapters>\n<Input><File>i</File></Input></Adapters></Zone>\n"
		"</ZoneList>\n", TDM_ESCHEMA,
	  "zonelist.xml:3: <Zone name=\"a.example\">: <Adapters>: element Output missing" },
	{ ZONELIST, "<ZoneList>\n<Zone name=\"a.example\"><Policy>p</Policy><SignerConfiguration>"
		"s</SignerConfiguration>" Z_ADAPTERS "</Zone>\n<Zone name=\"A.Example.\">"
		"<Policy>p</Policy><SignerConfiguration>s</SignerConfiguration>" Z_ADAPTERS
		"</Zone>\n</ZoneList>\n", TDM_ESCHEMA,
	  "zonelist.xml:3: <Zone name=\"A.Example.\">: zone listed twice (first on line 2)" },
	{ ZONELIST, "<ZoneList>\n<Zone name=\"\"><Policy>p</Policy><SignerConfiguration>"
		"s</SignerConfiguration>" Z_ADAPTERS "</Zone>\n</ZoneList>\n", TDM_ESCHEMA,
	  "zonelist.xml:2: <Zone name=\"\">: attribute name empty" },
	{ ZONELIST, "<ZoneList>\n<Zone name=\"a.example\"><Policy>p</Policy>"
		"<SignerConfiguration>  </SignerConfiguration>" Z_ADAPTERS "</Zone>\n</ZoneList>\n",
	  TDM_ESCHEMA, "zonelist.xml:2: <Zone name=\"a.example\">: <SignerConfiguration>: "
	  "empty value" },
	{ ZONELIST, "<ZoneList>\n<Zone name=\"a.example\"><Policy>p</Policy>\n"
		"<SignerConfiguration>s</SignerConfiguration>" Z_ADAPTERS "</Zone>\n</Zonelist>\n",
	  TDM_EPARSE, "zonelist.xml:4: not well-formed XML: Opening and ending tag mismatch: "
	  "ZoneList line 1 and Zonelist" },
};

static void check_case(const struct bad *b)
{
	static const char *const names[] = { "conf.xml", "signconf.xml", "kasp.xml",
		"zonelist.xml" };
	struct tdm_err err;
	void *out = (void *)0x1;
	const char *name = names[b->loader];
	int rc;
	memset(&err, 0, sizeof err);
	switch (b->loader) {
	case CONF:
		rc = tdm_conf_load_buffer(name, b->xml, strlen(b->xml),
					  (struct tdm_conf **)&out, &err);
		break;
	case SIGNCONF:
		rc = tdm_signconf_load_buffer(name, b->xml, strlen(b->xml),
					      (struct tdm_signconf **)&out, &err);
		break;
	case KASP:
		rc = tdm_kasp_load_buffer(name, b->xml, strlen(b->xml),
					  (struct tdm_kasp **)&out, &err);
		break;
	case ZONELIST:
		rc = tdm_zonelist_load_buffer(name, b->xml, strlen(b->xml),
					      (struct tdm_zonelist **)&out, &err);
		break;
	default:
		ck_abort_msg("no loader %d", (int)b->loader);
	}
	ck_assert_msg(rc == b->code, "expected code %d, got %d (%s) for:\n%s",
		      b->code, rc, err.msg, b->xml);
	ck_assert_ptr_eq(out, (void *)0x1);
	ck_assert_str_eq(err.msg, b->msg);
	ck_assert_ptr_null(strchr(err.msg, '\n'));
}

START_TEST(bad_conf)
{
	check_case(&conf_cases[_i]);
}
END_TEST

START_TEST(bad_kasp)
{
	check_case(&kasp_cases[_i]);
}
END_TEST

START_TEST(bad_zonelist)
{
	check_case(&zonelist_cases[_i]);
}
END_TEST

START_TEST(bad_signconf)
{
	check_case(&signconf_cases[_i]);
}
END_TEST

/* The same through a real file: the path as given names the file. */
START_TEST(bad_conf_file)
{
	char dir[] = "/tmp/tdm-conf-XXXXXX";
	char path[256];
	struct tdm_conf *c = NULL;
	struct tdm_err err;
	FILE *f;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/conf.xml", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(conf_cases[5].xml, f);
	fclose(f);
	ck_assert_int_eq(tdm_conf_load(path, &c, &err), TDM_ESCHEMA);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err.msg, "/conf.xml:4: <Repository name=\"SoftHSM\">: "
					    "element TokenLabel missing"));
	ck_assert(strncmp(err.msg, dir, strlen(dir)) == 0);
	unlink(path);
	rmdir(dir);
}
END_TEST

TCase *tcase_bad_files(void)
{
	TCase *tc = tcase_create("bad_files");
	tcase_add_loop_test(tc, bad_conf, 0, (int)(sizeof conf_cases / sizeof conf_cases[0]));
	tcase_add_loop_test(tc, bad_signconf, 0,
			    (int)(sizeof signconf_cases / sizeof signconf_cases[0]));
	tcase_add_loop_test(tc, bad_kasp, 0, (int)(sizeof kasp_cases / sizeof kasp_cases[0]));
	tcase_add_loop_test(tc, bad_zonelist, 0,
			    (int)(sizeof zonelist_cases / sizeof zonelist_cases[0]));
	tcase_add_test(tc, bad_conf_file);
	return tc;
}
