/*
 * libFuzzer target of the zone reader (src/signer): the input is a zone
 * file for "example.".  When it reads, the zone is also prepared (canonical
 * order, zone rules, NSEC3 chain, the first byte choosing NSEC or NSEC3)
 * and written, so the formatters see whatever the reader accepted.
 *
 * If the input holds a line ";;prev", what follows it is a previous output:
 * the zone is then signed against it (the streaming merge of reuse.c, split
 * over two threads whenever a split point exists) with a backend that
 * makes constant "signatures", so no key material is involved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "common/conf.h"
#include "common/log.h"
#include "signer/reuse.h"
#include "signer/signer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fake_open(void *arg, void **state, struct tdm_err *err)
{
	(void)arg;
	(void)err;
	*state = NULL;
	return 0;
}

static int fake_sign(void *state, size_t key, const uint8_t *d, size_t len, uint8_t *sig,
		     size_t *sig_len, struct tdm_err *err)
{
	(void)state;
	(void)key;
	(void)d;
	(void)len;
	(void)err;
	memset(sig, 0x5a, 64);
	*sig_len = 64;
	return 0;
}

static void fake_close(void *state)
{
	(void)state;
}

/* The previous output part into a temporary file; its path, or NULL. */
static char *prev_file(const uint8_t *p, size_t n)
{
	char *path = strdup("/tmp/tandem-fuzz-zone-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t dnskey[4 + 64] = { 1, 1, 3, 13 };
	static FILE *devnull;
	struct signer_key key = { .flags = 257, .algorithm = 13, .dnskey = dnskey, .dnskey_len = sizeof dnskey,
				  .ksk = true, .zsk = true, .publish = true, .active = true, .locator = "fuzz" };
	struct tdm_signconf sc;
	struct signer_params p;
	struct signer_zone *z = NULL;
	struct tdm_err err;
	struct signer_backend be = { fake_open, fake_sign, fake_close, NULL };
	struct signer_stats st;
	const uint8_t *mark = NULL;
	char *prev = NULL;

	for (size_t i = 0; i + 7 <= size && mark == NULL; i++)
		if (memcmp(data + i, "\n;;prev", 7) == 0)
			mark = data + i;
	if (devnull == NULL) {
		tdm_log_init("fuzz_zone", false, 0, false, TDM_LOG_ERR);
		devnull = fopen("/dev/null", "w");
	}
	if (signer_zone_read_mem(&z, "example.", (const char *)data,
				 mark ? (size_t)(mark - data) + 1 : size, "fuzz", &err) != 0)
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
	if (mark != NULL) {
		sc.validity_default = sc.validity_denial = 14 * 86400;
		sc.refresh = 3 * 86400;
		sc.serial = TDM_SERIAL_COUNTER;
		p.backend = &be;
		p.workers = 1;
		p.threads = true;
		signer__merge_split_min = 0;
		prev = prev_file(mark + 7, size - (size_t)(mark - data) - 7);
		if (prev != NULL && signer_zone_sign(z, prev, &p, &st, &err) == 0)
			signer_zone_write_fp(z, devnull, &err);
		if (prev != NULL)
			unlink(prev);
		free(prev);
	} else if (signer_zone_prepare(z, &p, &err) == 0) {
		signer_zone_write_fp(z, devnull, &err);
	}
	signer_zone_free(z);
	return 0;
}
