/*
 * A set of zone names that keeps insertion order: O(1) add, remove and
 * lookup (open addressing over an index), so that 50,000 zones in the
 * signer queue or waiting for keys cost nothing per zone.
 */
#ifndef TDM_DAEMON_NAMESET_H
#define TDM_DAEMON_NAMESET_H

#include <stdbool.h>
#include <stddef.h>

struct nameset {
	char **names;     /* insertion order; removed entries are NULL */
	size_t n, cap;    /* used slots of names (live and removed) */
	size_t live;
	size_t *index;    /* hash slots: 0 empty, SIZE_MAX removed, else position + 1 */
	size_t nindex;
};

/** Add a copy of @p name.  @return false if it was there already. */
bool nameset_add(struct nameset *s, const char *name);
/** Remove @p name.  @return false if it was not there. */
bool nameset_del(struct nameset *s, const char *name);
/** The live names in insertion order, moved out (free each and the array); the set is empty after. */
void nameset_take(struct nameset *s, char ***names, size_t *n);
/** Empty the set and free everything.  (To read it, iterate names[0..n) skipping NULL.) */
void nameset_clear(struct nameset *s);

#endif
