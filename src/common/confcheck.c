/*
 * Checks beyond the schemas, for tandem-kaspcheck (and for the enforcer
 * before it imports a policy): tdm_kasp_check(), tdm_zonelist_check(),
 * tdm_signconf_check() and tdm_check_report_clear().
 *
 * They follow OpenDNSSEC's kaspcheck where it has a rule and keep its
 * severity: an error is a configuration that cannot work or is refused
 * (Validity not longer than Refresh, an unknown repository, an algorithm
 * whose key length is impossible, NSEC3 iterations above 500); a warning is
 * one that works but is probably not what was meant (NSEC3 iterations above
 * 100, a large Jitter, a deprecated algorithm).  Every finding names the
 * file, the line of the element concerned and the policy or zone.
 */
#include "common/conf.h"
#include "common/duration.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NSEC3_ITERATIONS_WARN 100
#define NSEC3_ITERATIONS_MAX 500
#define INCEPTION_OFFSET_WARN 3600

/*- private: recording findings ---------------------------------------------*/

static void add(struct tdm_check_report *r, bool error, const char *file, long line,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add(struct tdm_check_report *r, bool error, const char *file, long line,
		const char *fmt, ...)
{
	char msg[1024];
	struct tdm_diag **v = error ? &r->errors : &r->warnings;
	size_t *n = error ? &r->n_errors : &r->n_warnings;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	*v = tdm_realloc(*v, (*n + 1) * sizeof **v);
	(*v)[*n].file = tdm_strdup(file ? file : "");
	(*v)[*n].line = line;
	(*v)[*n].message = tdm_strdup(msg);
	(*n)++;
}

static void diags_free(struct tdm_diag *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].file);
		free(v[i].message);
	}
	free(v);
}

void tdm_check_report_clear(struct tdm_check_report *r)
{
	diags_free(r->errors, r->n_errors);
	diags_free(r->warnings, r->n_warnings);
	memset(r, 0, sizeof *r);
}

/* Durations in findings read as the operator wrote them: "P14D". */
struct dur {
	char s[48];
};

static struct dur D(int64_t seconds)
{
	struct dur d;
	tdm_duration_format(seconds, d.s, sizeof d.s);
	return d;
}

/*- shared rules (kasp and signconf) -----------------------------------------*/

struct timing {
	int64_t resign, refresh, validity_default, validity_denial, validity_keyset;
	int64_t jitter, inception_offset;
};

static void check_timing(struct tdm_check_report *r, const char *file, long line,
			 const char *who, const struct timing *t)
{
	/* OpenDNSSEC kaspcheck: Refresh must exceed Resign, Validity Refresh. */
	if (t->refresh <= t->resign)
		add(r, true, file, line, "%sResign (%s) must be shorter than Refresh (%s)",
		    who, D(t->resign).s, D(t->refresh).s);
	if (t->validity_default <= t->refresh)
		add(r, true, file, line,
		    "%sValidity/Default (%s) must be longer than Refresh (%s)",
		    who, D(t->validity_default).s, D(t->refresh).s);
	if (t->validity_denial <= t->refresh)
		add(r, true, file, line,
		    "%sValidity/Denial (%s) must be longer than Refresh (%s)",
		    who, D(t->validity_denial).s, D(t->refresh).s);
	if (t->validity_keyset != 0 && t->validity_keyset <= t->refresh)
		add(r, true, file, line,
		    "%sValidity/Keyset (%s) must be longer than Refresh (%s)",
		    who, D(t->validity_keyset).s, D(t->refresh).s);
	{
		int64_t v = t->validity_default < t->validity_denial ? t->validity_default
								      : t->validity_denial;
		if (t->jitter > v / 2)
			add(r, false, file, line,
			    "%sJitter (%s) is large compared to Validity (%s)",
			    who, D(t->jitter).s, D(v).s);
		else if (t->refresh > t->resign && t->validity_default > t->refresh &&
			 t->jitter > t->validity_default - t->refresh)
			add(r, false, file, line,
			    "%sJitter (%s) is longer than Validity/Default minus Refresh (%s): "
			    "signatures may expire before they are refreshed",
			    who, D(t->jitter).s, D(t->validity_default - t->refresh).s);
	}
	if (t->inception_offset > INCEPTION_OFFSET_WARN)
		add(r, false, file, line, "%sInceptionOffset (%s) is higher than expected (%s)",
		    who, D(t->inception_offset).s, D(INCEPTION_OFFSET_WARN).s);
}

static void check_nsec3(struct tdm_check_report *r, const char *file, long line,
			const char *who, uint8_t algorithm, uint16_t iterations)
{
	if (algorithm != 1)
		add(r, true, file, line,
		    "%sNSEC3 hash algorithm %u is not defined (1 = SHA-1, RFC 5155)",
		    who, algorithm);
	if (iterations > NSEC3_ITERATIONS_MAX)
		add(r, true, file, line,
		    "%sNSEC3 Iterations %u is above %d: refused (validators treat such "
		    "zones as insecure, RFC 9276)", who, iterations, NSEC3_ITERATIONS_MAX);
	else if (iterations > NSEC3_ITERATIONS_WARN)
		add(r, false, file, line,
		    "%sNSEC3 Iterations %u is above %d (RFC 9276 recommends 0)",
		    who, iterations, NSEC3_ITERATIONS_WARN);
}

static bool is_rsa(uint8_t alg)
{
	return alg == 5 || alg == 7 || alg == 8 || alg == 10;
}

/* Algorithm support and key length agreement; bits 0 = not known. */
static void check_algorithm(struct tdm_check_report *r, const char *file, long line,
			    const char *who, uint8_t alg, uint32_t bits, bool have_bits)
{
	switch (alg) {
	case 5:
	case 7:
		add(r, false, file, line, "%salgorithm %u (%s) is deprecated for signing "
		    "(RFC 8624)", who, alg, alg == 5 ? "RSASHA1" : "RSASHA1-NSEC3-SHA1");
		break;
	case 8:
	case 10:
	case 13:
	case 14:
	case 15:
	case 16:
		break;
	case 1:
	case 3:
	case 6:
	case 12:
		add(r, true, file, line, "%salgorithm %u is not supported (RFC 8624: MUST NOT)",
		    who, alg);
		return;
	default:
		add(r, true, file, line, "%salgorithm %u is not a known DNSSEC signing algorithm",
		    who, alg);
		return;
	}
	if (!have_bits)
		return;
	if (is_rsa(alg)) {
		if (bits == 0)
			add(r, true, file, line, "%sRSA algorithm %u needs a key length "
			    "(<Algorithm length=\"2048\">)", who, alg);
		else if (bits < 1024 || bits > 4096)
			add(r, true, file, line, "%salgorithm %u with length %u: RSA keys must "
			    "be 1024 to 4096 bits", who, alg, bits);
	} else {
		uint32_t want = alg == 13 ? 256 : alg == 14 ? 384 : alg == 15 ? 256 : 456;
		if (bits != want)
			add(r, true, file, line, "%salgorithm %u keys are %u bits, not %u",
			    who, alg, want, bits);
	}
}

/*- kasp ---------------------------------------------------------------------*/

static void check_policy(const struct tdm_kasp *kasp, const struct tdm_policy *p,
			 const struct tdm_conf *conf, struct tdm_check_report *r)
{
	const char *f = kasp->path;
	char who[200];
	struct timing t = { p->resign, p->refresh, p->validity_default, p->validity_denial,
			    p->validity_keyset, p->jitter, p->inception_offset };
	bool signs_keyset = false, signs_zone = false;
	bool keyset_algs[256] = { false }, zone_algs[256] = { false };

	snprintf(who, sizeof who, "<Policy name=\"%.100s\">: ", p->name);
	check_timing(r, f, p->signatures_line, who, &t);

	if (p->nsec3) {
		check_nsec3(r, f, p->denial_line, who, p->nsec3_algorithm, p->nsec3_iterations);
		if (p->nsec3_resalt > 0 && p->nsec3_resalt < p->validity_denial)
			add(r, false, f, p->denial_line,
			    "%sNSEC3 Resalt (%s) is shorter than Validity/Denial (%s)",
			    who, D(p->nsec3_resalt).s, D(p->validity_denial).s);
		if (p->nsec3_resalt == 0)
			add(r, true, f, p->denial_line, "%sNSEC3 Resalt must be longer than zero",
			    who);
	}

	for (size_t i = 0; i < p->n_keys; i++) {
		const struct tdm_policy_key *k = &p->keys[i];
		char kwho[260];
		snprintf(kwho, sizeof kwho, "%s<%s>: ", who, tdm_key_role_name(k->role));
		if (conf != NULL && tdm_conf_repository(conf, k->repository) == NULL)
			add(r, true, f, k->line, "%sRepository \"%s\" is not in %s", kwho,
			    k->repository, conf->path);
		check_algorithm(r, f, k->line, kwho, k->algorithm, k->bits, true);
		if (k->lifetime == 0 && !k->manual_rollover)
			add(r, false, f, k->line, "%sLifetime is zero: the key would roll "
			    "continuously", kwho);
		if (k->role != TDM_ROLE_ZSK) {
			signs_keyset = true;
			keyset_algs[k->algorithm] = true;
		}
		if (k->role != TDM_ROLE_KSK) {
			signs_zone = true;
			zone_algs[k->algorithm] = true;
		}
	}
	if (!p->passthrough) {
		if (!signs_keyset)
			add(r, true, f, p->keys_line, "%sno KSK or CSK: nothing would sign the "
			    "DNSKEY set", who);
		if (!signs_zone)
			add(r, true, f, p->keys_line, "%sno ZSK or CSK: nothing would sign the "
			    "zone", who);
	}
	for (int a = 0; a < 256 && signs_keyset && signs_zone; a++) {
		if (keyset_algs[a] != zone_algs[a]) {
			add(r, false, f, p->keys_line, "%salgorithm %d %s: every algorithm in the "
			    "DNSKEY set must sign the whole zone (RFC 6840 §5.11)", who, a,
			    keyset_algs[a] ? "has a KSK but no ZSK" : "has a ZSK but no KSK");
			break;
		}
	}
	if (p->publish_safety == 0)
		add(r, false, f, p->keys_line, "%sPublishSafety is zero", who);
	if (p->retire_safety == 0)
		add(r, false, f, p->keys_line, "%sRetireSafety is zero", who);
	if (p->max_zone_ttl > 0 && p->max_zone_ttl > p->validity_default)
		add(r, false, f, p->signatures_line, "%sMaxZoneTTL (%s) is longer than "
		    "Validity/Default (%s)", who, D(p->max_zone_ttl).s, D(p->validity_default).s);

	for (size_t i = 0; i < p->n_cds_digests; i++) {
		uint8_t d = p->cds_digests[i];
		if (d == 1)
			add(r, false, f, p->parent_line, "%sCDS digest type 1 (SHA-1) is "
			    "deprecated (RFC 8624)", who);
		else if (d != 2 && d != 4)
			add(r, true, f, p->parent_line, "%sCDS digest type %u is not supported "
			    "(2 = SHA-256, 4 = SHA-384)", who, d);
	}
}

void tdm_kasp_check(const struct tdm_kasp *kasp, const struct tdm_conf *conf,
		    struct tdm_check_report *r)
{
	if (kasp->n_policies == 0)
		add(r, false, kasp->path, 0, "no policies");
	for (size_t i = 0; i < kasp->n_policies; i++)
		check_policy(kasp, &kasp->policies[i], conf, r);
}

/*- zonelist -----------------------------------------------------------------*/

/* RFC 1035 §2.3.4 limits; the name may end with a dot. */
static const char *zone_name_problem(const char *name)
{
	size_t len = strlen(name), label = 0;
	if (len == 1 && name[0] == '.')
		return NULL;
	if (name[len - 1] == '.')
		len--;
	if (len > 253)
		return "name longer than 253 characters";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '.') {
			if (label == 0)
				return "empty label";
			label = 0;
			continue;
		}
		if (c <= ' ' || c == 0x7f || c == '\\' || c == '"' || c == ';')
			return "character not allowed in a zone name";
		if (++label > 63)
			return "label longer than 63 characters";
	}
	return label == 0 ? "empty label" : NULL;
}

static void check_adapter(struct tdm_check_report *r, const char *f,
			  const struct tdm_zonelist_zone *z, const char *what,
			  const struct tdm_adapter *a)
{
	if (a->type == TDM_ADAPTER_OTHER)
		add(r, true, f, z->line, "<Zone name=\"%s\">: %s adapter type \"%s\" is not "
		    "supported (File or DNS)", z->name, what, a->type_name);
}

void tdm_zonelist_check(const struct tdm_zonelist *zl, const struct tdm_kasp *kasp,
			struct tdm_check_report *r)
{
	const char *f = zl->path;
	for (size_t i = 0; i < zl->n_zones; i++) {
		const struct tdm_zonelist_zone *z = &zl->zones[i];
		const char *bad = zone_name_problem(z->name);
		if (bad != NULL)
			add(r, true, f, z->line, "<Zone name=\"%s\">: %s", z->name, bad);
		if (kasp != NULL && tdm_kasp_policy(kasp, z->policy) == NULL)
			add(r, true, f, z->line, "<Zone name=\"%s\">: Policy \"%s\" is not in %s",
			    z->name, z->policy, kasp->path);
		check_adapter(r, f, z, "Input", &z->input);
		check_adapter(r, f, z, "Output", &z->output);
		if (z->input.type == TDM_ADAPTER_FILE && z->output.type == TDM_ADAPTER_FILE &&
		    strcmp(z->input.config, z->output.config) == 0)
			add(r, true, f, z->line, "<Zone name=\"%s\">: Input and Output are the "
			    "same file", z->name);
	}
}

/*- signconf -----------------------------------------------------------------*/

void tdm_signconf_check(const struct tdm_signconf *sc, struct tdm_check_report *r)
{
	const char *f = sc->path;
	char who[300];
	struct timing t = { sc->resign, sc->refresh, sc->validity_default,
			    sc->validity_denial, sc->validity_keyset, sc->jitter,
			    sc->inception_offset };
	bool signs_keyset = false, signs_zone = false;

	snprintf(who, sizeof who, "<Zone name=\"%.200s\">: ", sc->zone);
	check_timing(r, f, 0, who, &t);
	if (sc->nsec3)
		check_nsec3(r, f, 0, who, sc->nsec3_algorithm, sc->nsec3_iterations);
	for (size_t i = 0; i < sc->n_keys; i++) {
		const struct tdm_signconf_key *k = &sc->keys[i];
		char kwho[340];
		snprintf(kwho, sizeof kwho, "%s<Key> %zu: ", who, i + 1);
		check_algorithm(r, f, 0, kwho, k->algorithm, 0, false);
		signs_keyset |= k->ksk;
		signs_zone |= k->zsk;
		if (k->ksk && !(k->flags & 1))
			add(r, false, f, 0, "%sKSK without the SEP flag (Flags %u)", kwho, k->flags);
		if ((k->ksk || k->zsk) && !k->publish)
			add(r, false, f, 0, "%ssigns but is not published", kwho);
		for (size_t j = 0; j < i && k->locator; j++)
			if (sc->keys[j].locator && strcasecmp(sc->keys[j].locator, k->locator) == 0)
				add(r, true, f, 0, "%sLocator %s repeats key %zu", kwho,
				    k->locator, j + 1);
	}
	/* The signer makes CDS digests of the DS algorithm (RFC 4034 §5.1.4)
	 * with SHA-256 (RFC 4509) and SHA-384 (RFC 6605); SHA-1 is "MUST NOT"
	 * for DS since RFC 8624 §3.3. */
	for (size_t i = 0; i < sc->n_cds_digests; i++)
		if (sc->cds_digests[i] != 2 && sc->cds_digests[i] != 4)
			add(r, true, f, 0, "%s<CDS> digest type %u: use 2 (SHA-256) or 4 (SHA-384)",
			    who, sc->cds_digests[i]);
	if (!sc->passthrough) {
		if (!signs_keyset)
			add(r, true, f, 0, "%sno key marked <KSK/>: the DNSKEY set would be "
			    "unsigned", who);
		if (!signs_zone)
			add(r, true, f, 0, "%sno key marked <ZSK/>: the zone would be unsigned",
			    who);
	}
}
