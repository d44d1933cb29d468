/*
 * Progress lines for long passes on stderr: only when asked (the caller
 * checks that stderr is a terminal) and at most once a second.
 */
#ifndef SIGNER_PROGRESS_H
#define SIGNER_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

struct signer__progress {
	bool on;
	double start, last;
	const char *what;
};

/** Monotonic seconds. */
double signer__mono(void);

void signer__progress_start(struct signer__progress *p, bool on, const char *what);
/** Print "what: done/total (rate/s)" if a second has passed. */
void signer__progress_update(struct signer__progress *p, size_t done, size_t total);
/** Finish the line. */
void signer__progress_end(struct signer__progress *p, size_t done, size_t total);

#endif
