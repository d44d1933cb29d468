/*
 * RFC 4034 Appendix B: the key tag of a DNSKEY RDATA.  Algorithm 1
 * (RSA/MD5, B.1) is not used by Tandem and gets the general sum too.
 */
#include "hsm/hsm.h"

uint16_t hsm_keytag(const uint8_t *rdata, size_t len)
{
	uint32_t ac = 0;
	size_t i;

	/* "ac += (i & 1) ? key[i] : key[i] << 8;" */
	for (i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (uint16_t)(ac & 0xffff);
}
