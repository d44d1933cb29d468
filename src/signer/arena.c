/*
 * Bump allocator: see arena.h.  Chunks are 1 MiB, or the size of one
 * larger request; the tail of a chunk that cannot hold a request is left
 * unused.
 */
#include "signer/arena.h"

#include "common/error.h"

#include <stdlib.h>

struct signer__chunk {
	struct signer__chunk *next;
	size_t size;
};

#define CHUNK_SIZE ((size_t)1 << 20)

void signer__arena_init(struct signer__arena *a)
{
	a->head = NULL;
	a->p = a->end = NULL;
	a->total = 0;
}

void signer__arena_close(struct signer__arena *a)
{
	struct signer__chunk *c = a->head, *next;
	for (; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	signer__arena_init(a);
}

static void *grow(struct signer__arena *a, size_t n)
{
	size_t size = n + sizeof(struct signer__chunk) + 8;
	struct signer__chunk *c;
	if (size < CHUNK_SIZE)
		size = CHUNK_SIZE;
	c = tdm_malloc(size);
	c->size = size;
	c->next = a->head;
	a->head = c;
	a->total += size;
	a->p = (uint8_t *)(c + 1);
	a->end = (uint8_t *)c + size;
	return a->p;
}

void *signer__arena_alloc(struct signer__arena *a, size_t n)
{
	void *r;
	if ((size_t)(a->end - a->p) < n || a->p == NULL)
		grow(a, n);
	r = a->p;
	a->p += n;
	return r;
}

void *signer__arena_alloc8(struct signer__arena *a, size_t n)
{
	uintptr_t pad;
	if (a->p == NULL)
		grow(a, n + 8);
	pad = (8 - ((uintptr_t)a->p & 7)) & 7;
	if ((size_t)(a->end - a->p) < n + pad) {
		grow(a, n + 8);
		pad = (8 - ((uintptr_t)a->p & 7)) & 7;
	}
	a->p += pad;
	return signer__arena_alloc(a, n);
}

void signer__arena_adopt(struct signer__arena *dst, struct signer__arena *src)
{
	struct signer__chunk *tail;
	if (src->head == NULL)
		return;
	if (dst->head == NULL) {
		*dst = *src;
		signer__arena_init(src);
		return;
	}
	/* Behind dst's current chunk, which dst keeps allocating from. */
	for (tail = src->head; tail->next != NULL; tail = tail->next)
		;
	tail->next = dst->head->next;
	dst->head->next = src->head;
	dst->total += src->total;
	signer__arena_init(src);
}
