/*
 * A bump allocator for the per-zone signing pass: owner names, RDATA and
 * the index arrays' payload live in large chunks that are freed in one go
 * with the zone (the model is NSD's region allocator).  Nothing allocated
 * here is ever freed on its own.
 */
#ifndef SIGNER_ARENA_H
#define SIGNER_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct signer__chunk;

struct signer__arena {
	struct signer__chunk *head;
	uint8_t *p, *end;
	size_t total; /* bytes obtained from malloc */
};

void signer__arena_init(struct signer__arena *a);
/** Free every chunk; the arena can be reused after another init. */
void signer__arena_close(struct signer__arena *a);
/** n bytes, unaligned (names, RDATA).  Never NULL (out of memory aborts). */
void *signer__arena_alloc(struct signer__arena *a, size_t n);
/** n bytes aligned to 8. */
void *signer__arena_alloc8(struct signer__arena *a, size_t n);
/** Move every chunk of src into dst (src is left empty; pointers stay valid). */
void signer__arena_adopt(struct signer__arena *dst, struct signer__arena *src);

#endif
