/*
 * ISO 8601 durations with OpenDNSSEC's meaning: P[nY][nM][nW][nD][T[nH][nM][nS]]
 * where a year is 365 days and a month 31 days (OpenDNSSEC duration.c), so
 * that "P1M" in an existing kasp.xml keeps the length it had there.  Seconds
 * may carry a fraction ("PT0.1S", for Raft timing in <Cluster>).
 */
#ifndef TDM_DURATION_H
#define TDM_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define TDM_SECONDS_PER_DAY 86400
#define TDM_SECONDS_PER_MONTH (31 * TDM_SECONDS_PER_DAY)
#define TDM_SECONDS_PER_YEAR (365 * TDM_SECONDS_PER_DAY)

/**
 * Parse a duration into whole seconds (a fraction of a second is refused).
 * @return 0, or TDM_EPARSE for anything that is not a duration, or
 *         TDM_ERANGE when it does not fit in 63 bits.
 */
int tdm_duration_parse(const char *text, int64_t *seconds);

/** Parse a duration into milliseconds; fractions of a second allowed. */
int tdm_duration_parse_ms(const char *text, int64_t *ms);

/**
 * Format seconds as an ISO 8601 duration using D, H, M, S ("P1DT2H",
 * "PT0S"; negative values get a leading '-'), truncated to fit len.
 */
void tdm_duration_format(int64_t seconds, char *buf, size_t len);

#endif
