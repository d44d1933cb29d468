/* See nameset.h. */
#include "daemon/nameset.h"
#include "common/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

/* The slot holding @p name, or the slot to put it in (*found false). */
static size_t find(const struct nameset *s, const char *name, bool *found)
{
	size_t mask = s->nindex - 1, i = hash(name) & mask, first_free = SIZE_MAX;
	for (;;) {
		size_t v = s->index[i];
		if (v == 0) {
			*found = false;
			return first_free != SIZE_MAX ? first_free : i;
		}
		if (v == SIZE_MAX) {
			if (first_free == SIZE_MAX)
				first_free = i;
		} else if (strcmp(s->names[v - 1], name) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static void rebuild(struct nameset *s)
{
	size_t live = 0;
	/* Compact the order array, then index it at load <= 1/2. */
	for (size_t i = 0; i < s->n; i++)
		if (s->names[i] != NULL)
			s->names[live++] = s->names[i];
	s->n = live;
	size_t want = 16;
	while (want < 2 * (live + 1))
		want *= 2;
	free(s->index);
	s->nindex = want;
	s->index = tdm_calloc(want, sizeof *s->index);
	for (size_t i = 0; i < s->n; i++) {
		bool found;
		size_t slot = find(s, s->names[i], &found);
		s->index[slot] = i + 1;
	}
}

bool nameset_add(struct nameset *s, const char *name)
{
	bool found;
	if (s->index == NULL || 2 * (s->n + 1) > s->nindex)
		rebuild(s);
	size_t slot = find(s, name, &found);
	if (found)
		return false;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->names = tdm_realloc(s->names, s->cap * sizeof *s->names);
	}
	s->names[s->n++] = tdm_strdup(name);
	s->index[slot] = s->n;
	s->live++;
	return true;
}

bool nameset_del(struct nameset *s, const char *name)
{
	bool found;
	if (s->index == NULL || s->live == 0)
		return false;
	size_t slot = find(s, name, &found);
	if (!found)
		return false;
	size_t pos = s->index[slot] - 1;
	free(s->names[pos]);
	s->names[pos] = NULL;
	s->index[slot] = SIZE_MAX;
	s->live--;
	return true;
}

void nameset_take(struct nameset *s, char ***names, size_t *n)
{
	size_t live = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->names[i] != NULL)
			s->names[live++] = s->names[i];
	*names = s->names;
	*n = live;
	free(s->index);
	memset(s, 0, sizeof *s);
}

void nameset_clear(struct nameset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	free(s->index);
	memset(s, 0, sizeof *s);
}
