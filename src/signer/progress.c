/*
 * Progress lines; see progress.h.
 */
#include "signer/progress.h"

#include <stdio.h>
#include <time.h>

double signer__mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void signer__progress_start(struct signer__progress *p, bool on, const char *what)
{
	p->on = on;
	p->start = p->last = signer__mono();
	p->what = what;
}

void signer__progress_update(struct signer__progress *p, size_t done, size_t total)
{
	double t;
	if (!p->on)
		return;
	t = signer__mono();
	if (t - p->last < 1.0)
		return;
	p->last = t;
	fprintf(stderr, "\r%s: %zu/%zu (%.0f/s)   ", p->what, done, total,
		(double)done / (t - p->start));
	fflush(stderr);
}

void signer__progress_end(struct signer__progress *p, size_t done, size_t total)
{
	if (!p->on || p->last == p->start)
		return;
	fprintf(stderr, "\r%s: %zu/%zu done in %.1f s       \n", p->what, done, total,
		signer__mono() - p->start);
}
