/*
 * The NSEC chain (RFC 4034 §4): every authoritative name and every
 * delegation point, in canonical order, points to the next; the last
 * points back to the apex.  Glue and occluded names are left out.  The
 * type bitmap at a delegation holds only NS, DS, NSEC and RRSIG
 * (RFC 4034 §4.1.2: "bits corresponding to any non-NS RRset for which the
 * parent is not authoritative MUST be clear").
 */
#include "signer/zone.h"

#include "signer/name.h"
#include "signer/rdata.h"

#include <stdlib.h>

size_t signer__types_add(uint16_t *types, size_t n, uint16_t t)
{
	size_t i = n;
	for (size_t k = 0; k < n; k++)
		if (types[k] == t)
			return n;
	while (i > 0 && types[i - 1] > t) {
		types[i] = types[i - 1];
		i--;
	}
	types[i] = t;
	return n + 1;
}

int signer__nsec_build(struct signer_zone *z, struct tdm_err *err)
{
	static uint16_t types[65536];
	uint8_t rd[SIGNER_NAME_MAX + 8704];
	size_t first = SIZE_MAX, prev = SIZE_MAX;

	(void)err;
	for (size_t i = 0; i <= z->n_nodes; i++) {
		size_t cur;
		if (i < z->n_nodes) {
			if (z->nodes[i].flags & SIGNER_N_OCCLUDED)
				continue;
			cur = i;
		} else {
			cur = first;
		}
		if (first == SIZE_MAX)
			first = cur;
		if (prev != SIZE_MAX) {
			struct signer__node *p = &z->nodes[prev];
			size_t nl = signer__name_lower(signer__nb_wire(z->nodes[cur].name), rd);
			size_t nt = signer__node_types(z, prev, types);
			nt = signer__types_add(types, nt, T_RRSIG);
			nt = signer__types_add(types, nt, T_NSEC);
			nl += signer__bitmap_from_types(types, nt, rd + nl);
			p->nsec = signer__zone_rdata(z, rd, nl);
			p->flags |= SIGNER_N_INCHAIN;
		}
		prev = cur;
		if (i == z->n_nodes)
			break;
	}
	return 0;
}
