/*
 * DNSKEY RDATA, key tags and DS records, checked against ldns
 * (ldns_calc_keytag, ldns_key_rr2ds) and the example of RFC 4509 §2.3.
 */
#include "hsmtest.h"

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

/* "example.com." with upper case in it. */
static const uint8_t owner_mixed[] = { 7, 'E', 'x', 'A', 'm', 'p', 'l', 'e',
				       3, 'C', 'O', 'M', 0 };

static ldns_rr *dnskey_rr(const uint8_t *owner, size_t olen,
			  const uint8_t *rd, size_t len)
{
	uint8_t wire[1024];
	size_t n = 0, pos = 0;
	ldns_rr *rr = NULL;

	memcpy(wire, owner, olen);
	n = olen;
	wire[n++] = 0; wire[n++] = 48;            /* DNSKEY */
	wire[n++] = 0; wire[n++] = 1;             /* IN */
	wire[n++] = 0; wire[n++] = 0; wire[n++] = 0x0e; wire[n++] = 0x10;
	wire[n++] = (uint8_t)(len >> 8);
	wire[n++] = (uint8_t)len;
	memcpy(wire + n, rd, len);
	n += len;
	ck_assert_int_eq(ldns_wire2rr(&rr, wire, n, &pos, LDNS_SECTION_ANSWER),
			 LDNS_STATUS_OK);
	return rr;
}

static void rdata_wire(const ldns_rr *rr, uint8_t **out, size_t *len)
{
	ldns_buffer *b = ldns_buffer_new(512);

	ck_assert_int_eq(ldns_rr_rdata2buffer_wire(b, rr), LDNS_STATUS_OK);
	*len = ldns_buffer_position(b);
	*out = malloc(*len);
	memcpy(*out, ldns_buffer_begin(b), *len);
	ldns_buffer_free(b);
}

START_TEST(test_vs_ldns)
{
	uint8_t alg = t_algs[_i];
	struct hsm_key *k = t_keygen(t_ctx, alg, false, false);
	struct tdm_err err = { "" };
	uint8_t *rd, *ds, *lds;
	size_t len, dslen, ldslen;
	ldns_rr *rr, *dsrr;
	int t;

	ck_assert_int_eq(hsm_key_dnskey_rdata(t_ctx, k, 257, &rd, &len, &err), 0);
	ck_assert_uint_eq(rd[0], 1);
	ck_assert_uint_eq(rd[1], 1);
	ck_assert_uint_eq(rd[2], 3);
	ck_assert_uint_eq(rd[3], alg);
	if (alg == 13)
		ck_assert_uint_eq(len, 4 + 64);
	if (alg == 14)
		ck_assert_uint_eq(len, 4 + 96);
	if (alg == 15)
		ck_assert_uint_eq(len, 4 + 32);
	if (alg == 8 || alg == 10)        /* 1024 bits, exponent 65537 */
		ck_assert_uint_eq(len, 4 + 1 + 3 + 128);
	rr = dnskey_rr(owner_mixed, sizeof owner_mixed, rd, len);
	ck_assert_uint_eq(hsm_keytag(rd, len), ldns_calc_keytag(rr));
	for (t = 0; t < 2; t++) {
		uint8_t dt = t == 0 ? 2 : 4;
		ck_assert_int_eq(hsm_ds_rdata(owner_mixed, sizeof owner_mixed, rd,
					      len, dt, &ds, &dslen, &err), 0);
		dsrr = ldns_key_rr2ds(rr, t == 0 ? LDNS_SHA256 : LDNS_SHA384);
		ck_assert_ptr_nonnull(dsrr);
		rdata_wire(dsrr, &lds, &ldslen);
		ck_assert_uint_eq(dslen, 4 + (t == 0 ? 32 : 48));
		ck_assert_uint_eq(dslen, ldslen);
		ck_assert_mem_eq(ds, lds, dslen);
		free(ds);
		free(lds);
		ldns_rr_free(dsrr);
	}
	ldns_rr_free(rr);
	free(rd);
}
END_TEST

/* RFC 4509 §2.3: dskey.example.com DNSKEY 256 3 5 ..., tag 60485. */
START_TEST(test_rfc4509)
{
	static const char *dnskey =
		"dskey.example.com. 86400 IN DNSKEY 256 3 5 "
		"AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMz"
		"NXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJ"
		"BjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==";
	static const uint8_t want[32] = {
		0xD4, 0xB7, 0xD5, 0x20, 0xE7, 0xBB, 0x5F, 0x0F, 0x67, 0x67, 0x4A,
		0x0C, 0xCE, 0xB1, 0xE3, 0xE0, 0x61, 0x4B, 0x93, 0xC4, 0xF9, 0xE9,
		0x9B, 0x83, 0x83, 0xF6, 0xA1, 0xE4, 0x46, 0x9D, 0xA5, 0x0A };
	struct tdm_err err = { "" };
	ldns_rr *rr = NULL;
	uint8_t *rd, *ds;
	size_t len, dslen;
	ldns_rdf *owner;

	ck_assert_int_eq(ldns_rr_new_frm_str(&rr, dnskey, 0, NULL, NULL),
			 LDNS_STATUS_OK);
	rdata_wire(rr, &rd, &len);
	ck_assert_uint_eq(hsm_keytag(rd, len), 60485);
	owner = ldns_rr_owner(rr);
	ck_assert_int_eq(hsm_ds_rdata(ldns_rdf_data(owner), ldns_rdf_size(owner),
				      rd, len, 2, &ds, &dslen, &err), 0);
	ck_assert_uint_eq(dslen, 36);
	ck_assert_uint_eq(ds[0] << 8 | ds[1], 60485);
	ck_assert_uint_eq(ds[2], 5);
	ck_assert_uint_eq(ds[3], 2);
	ck_assert_mem_eq(ds + 4, want, 32);
	free(ds);
	free(rd);
	ldns_rr_free(rr);
}
END_TEST

START_TEST(test_ds_bad)
{
	static const uint8_t rd[] = { 1, 0, 3, 13, 1, 2, 3 };
	static const uint8_t bad_owner[] = { 3, 'c', 'o', 'm' };   /* no root */
	struct tdm_err err = { "" };
	uint8_t *ds;
	size_t n;

	ck_assert_int_eq(hsm_ds_rdata(owner_mixed, sizeof owner_mixed, rd,
				      sizeof rd, 1, &ds, &n, &err), TDM_EALGO);
	ck_assert_int_eq(hsm_ds_rdata(bad_owner, sizeof bad_owner, rd,
				      sizeof rd, 2, &ds, &n, &err), TDM_EINVAL);
}
END_TEST

/* The end-around carry of RFC 4034 Appendix B, by hand. */
START_TEST(test_keytag_small)
{
	static const uint8_t rd[] = { 0x01, 0x01, 0x03, 0x0d, 0xff };
	/* 0x0101 + 0x030d + 0xff00 = 0x1030e -> 0x030e + 0x1 = 0x030f */
	ck_assert_uint_eq(hsm_keytag(rd, sizeof rd), 0x030f);
}
END_TEST

TCase *tcase_dnskey(void)
{
	TCase *tc = tcase_create("dnskey");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_loop_test(tc, test_vs_ldns, 0, T_N_ALGS);
	tcase_add_test(tc, test_rfc4509);
	tcase_add_test(tc, test_ds_bad);
	tcase_add_test(tc, test_keytag_small);
	return tc;
}
