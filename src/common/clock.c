/*
 * Real and settable clocks, and the UTC timestamp formats Tandem accepts.
 */
#include "common/clock.h"
#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void tdm_clock_init_real(struct tdm_clock *c)
{
	c->fake = false;
	c->offset = 0;
	c->fixed = 0;
}

void tdm_clock_init_fake(struct tdm_clock *c, int64_t t)
{
	c->fake = true;
	c->offset = 0;
	c->fixed = t;
}

int tdm_clock_init_env(struct tdm_clock *c)
{
	const char *v = getenv("TANDEM_FAKE_TIME");
	int64_t t;
	tdm_clock_init_real(c);
	if (v == NULL || *v == '\0')
		return 0;
	if (tdm_time_parse(v, &t) != 0)
		return TDM_EPARSE;
	tdm_clock_init_fake(c, t);
	return 0;
}

int64_t tdm_clock_now(const struct tdm_clock *c)
{
	if (c->fake)
		return c->fixed + c->offset;
	return (int64_t)time(NULL) + c->offset;
}

void tdm_clock_set(struct tdm_clock *c, int64_t t)
{
	if (c->fake) {
		c->fixed = t;
		c->offset = 0;
	} else {
		c->offset = t - (int64_t)time(NULL);
	}
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool all_digits_n(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int tdm_time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	int n = 0;
	char sep;
	if (all_digits(s) && strlen(s) <= 12) {
		*out = strtoll(s, NULL, 10);
		return 0;
	}
	memset(&tm, 0, sizeof tm);
	/* Fixed-width digits only: sscanf's %d would take signs and blanks. */
	if (strlen(s) < 19 || !all_digits_n(s, 4) || !all_digits_n(s + 5, 2) ||
	    !all_digits_n(s + 8, 2) || !all_digits_n(s + 11, 2) ||
	    !all_digits_n(s + 14, 2) || !all_digits_n(s + 17, 2))
		return TDM_EPARSE;
	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &sep, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 7)
		return TDM_EPARSE;
	if (sep != '-' && sep != 'T' && sep != ' ')
		return TDM_EPARSE;
	if (s[n] == 'Z')
		n++;
	if (s[n] != '\0')
		return TDM_EPARSE;
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return TDM_EPARSE;
	{
		/* timegm() normalises 2023-02-31 to March 3rd: refuse such dates. */
		struct tm check;
		time_t t;
		int mday = tm.tm_mday, mon = tm.tm_mon - 1, sec = tm.tm_sec;
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		t = timegm(&tm);
		/* A leap second (:60) may roll over into the next day. */
		if (gmtime_r(&t, &check) == NULL ||
		    (sec != 60 && (check.tm_mday != mday || check.tm_mon != mon)))
			return TDM_EPARSE;
		*out = (int64_t)t;
	}
	return 0;
}

void tdm_time_format(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
