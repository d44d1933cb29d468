/*
 * libFuzzer target of the zone reader (src/signer): the input is a zone
 * file for "example.".  When it reads, the zone is also prepared (canonical
 * order, zone rules, NSEC3 chain, the first byte choosing NSEC or NSEC3)
 * and written, so the formatters see whatever the reader accepted.
 * Nothing is signed: no key material is involved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/log.h"
#include "signer/signer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t dnskey[4 + 64] = { 1, 1, 3, 13 };
	static FILE *devnull;
	struct signer_key key = { 257, 13, dnskey, sizeof dnskey, true, true, true, true, "fuzz" };
	struct tdm_signconf sc;
	struct signer_params p;
	struct signer_zone *z = NULL;
	struct tdm_err err;

	if (devnull == NULL) {
		tdm_log_init("fuzz_zone", false, 0, false, TDM_LOG_ERR);
		devnull = fopen("/dev/null", "w");
	}
	if (signer_zone_read_mem(&z, "example.", (const char *)data, size, "fuzz", &err) != 0)
		return 0;
	memset(&sc, 0, sizeof sc);
	sc.nsec3 = size > 0 && (data[0] & 1);
	sc.nsec3_optout = size > 0 && (data[0] & 2);
	sc.nsec3_algorithm = 1;
	sc.nsec3_ttl = -1;
	sc.dnskey_ttl = 3600;
	sc.soa_ttl = 3600;
	sc.soa_minimum = 300;
	memset(&p, 0, sizeof p);
	p.sc = &sc;
	p.keys = &key;
	p.n_keys = 1;
	p.now = 1700000000;
	if (signer_zone_prepare(z, &p, &err) == 0)
		signer_zone_write_fp(z, devnull, &err);
	signer_zone_free(z);
	return 0;
}
