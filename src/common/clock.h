/*
 * The time source.  Everything that reads time reads it from a struct
 * tdm_clock passed in by its owner: the real clock in production, a
 * settable clock in tests and for `time leap`.  Policy code (enforcer,
 * RRSIG reuse) goes one step further and takes `now` as a value.
 */
#ifndef TDM_CLOCK_H
#define TDM_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tdm_clock {
	bool fake;      /* true: time is `fixed + offset`, never the system clock */
	int64_t offset; /* seconds added to the real clock (leap on a real clock) */
	int64_t fixed;  /* the fake clock's current time, seconds since the epoch */
};

/** A clock that follows the system clock. */
void tdm_clock_init_real(struct tdm_clock *c);

/** A clock that stands still at `t` until set or leapt. */
void tdm_clock_init_fake(struct tdm_clock *c, int64_t t);

/**
 * Initialise from the environment: TANDEM_FAKE_TIME (seconds since the epoch
 * or YYYY-MM-DD-HH:MM:SS, as ods-enforcer's --set-time) makes a fake clock;
 * otherwise the real one.  Returns 0 or TDM_EPARSE for a bad value.
 */
int tdm_clock_init_env(struct tdm_clock *c);

/** Current time in seconds since the epoch (UTC). */
int64_t tdm_clock_now(const struct tdm_clock *c);

/** Move a fake clock to `t`, or shift a real one so that it reads `t`. */
void tdm_clock_set(struct tdm_clock *c, int64_t t);

/**
 * Parse "YYYY-MM-DD-HH:MM:SS" (ods-enforcer time leap), "YYYY-MM-DDTHH:MM:SSZ"
 * or a plain number of seconds since the epoch, all UTC.
 * @return 0, or TDM_EPARSE.
 */
int tdm_time_parse(const char *s, int64_t *out);

/** Format as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void tdm_time_format(int64_t t, char *buf, size_t len);

#endif
