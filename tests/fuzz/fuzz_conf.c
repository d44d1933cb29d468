/*
 * libFuzzer target for the configuration loaders.
 *
 * The first byte picks what reads the rest: conf.xml, kasp.xml,
 * zonelist.xml, a signconf (each through its _load_buffer entry point,
 * then its checks when it loads), or the duration and timestamp parsers.
 * A loader must either succeed or fail with a negative code and a
 * one-line message; anything else aborts.  Seeds in tests/fuzz/corpus/conf/
 * are the unit-test samples with their selector byte in front.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/conf.h"
#include "common/duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(int rc, const struct tdm_err *err)
{
	/* Exactly one message, non-empty, on one line, with a negative code. */
	if (rc >= 0 || err->msg[0] == '\0' || strchr(err->msg, '\n') != NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdm_check_report r = { 0 };
	struct tdm_err err;
	const char *p;
	size_t n;
	int rc;

	if (size == 0)
		return 0;
	p = (const char *)data + 1;
	n = size - 1;
	err.msg[0] = '\0';
	switch (data[0] % 5) {
	case 0: {
		struct tdm_conf *c = NULL;
		rc = tdm_conf_load_buffer("conf.xml", p, n, &c, &err);
		if (rc != 0) {
			check_failure(rc, &err);
			break;
		}
		for (size_t i = 0; i < c->n_repositories; i++)
			if (tdm_conf_repository(c, c->repositories[i].name) == NULL)
				abort();
		tdm_conf_free(c);
		break;
	}
	case 1: {
		struct tdm_kasp *k = NULL;
		rc = tdm_kasp_load_buffer("kasp.xml", p, n, &k, &err);
		if (rc != 0) {
			check_failure(rc, &err);
			break;
		}
		tdm_kasp_check(k, NULL, &r);
		tdm_kasp_free(k);
		break;
	}
	case 2: {
		struct tdm_zonelist *z = NULL;
		rc = tdm_zonelist_load_buffer("zonelist.xml", p, n, &z, &err);
		if (rc != 0) {
			check_failure(rc, &err);
			break;
		}
		tdm_zonelist_check(z, NULL, &r);
		tdm_zonelist_free(z);
		break;
	}
	case 3: {
		struct tdm_signconf *s = NULL;
		rc = tdm_signconf_load_buffer("signconf.xml", p, n, &s, &err);
		if (rc != 0) {
			check_failure(rc, &err);
			break;
		}
		tdm_signconf_check(s, &r);
		tdm_signconf_free(s);
		break;
	}
	default: {
		char *s = malloc(n + 1);
		char buf[64];
		int64_t v;
		memcpy(s, p, n);
		s[n] = '\0';
		if (tdm_duration_parse(s, &v) == 0) {
			int64_t back;
			tdm_duration_format(v, buf, sizeof buf);
			if (tdm_duration_parse(buf, &back) != 0 || back != v)
				abort();
		}
		(void)tdm_duration_parse_ms(s, &v);
		if (tdm_time_parse(s, &v) == 0)
			tdm_time_format(v, buf, sizeof buf);
		free(s);
		break;
	}
	}
	tdm_check_report_clear(&r);
	return 0;
}
