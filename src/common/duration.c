/*
 * ISO 8601 duration parsing and formatting (see duration.h for the meaning
 * of months and years).
 */
#include "common/duration.h"
#include "common/error.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Multipliers in milliseconds for each designator, date part then time part. */
static int64_t unit_ms(char c, bool in_time)
{
	if (!in_time) {
		switch (c) {
		case 'Y': return (int64_t)TDM_SECONDS_PER_YEAR * 1000;
		case 'M': return (int64_t)TDM_SECONDS_PER_MONTH * 1000;
		case 'W': return (int64_t)7 * TDM_SECONDS_PER_DAY * 1000;
		case 'D': return (int64_t)TDM_SECONDS_PER_DAY * 1000;
		}
	} else {
		switch (c) {
		case 'H': return (int64_t)3600 * 1000;
		case 'M': return (int64_t)60 * 1000;
		case 'S': return 1000;
		}
	}
	return 0;
}

int tdm_duration_parse_ms(const char *text, int64_t *ms)
{
	const char *p = text;
	bool in_time = false, any = false, time_any = false;
	int64_t total = 0;
	/* Designators must appear in order: remember the last one's rank. */
	const char *order_date = "YMWD", *order_time = "HMS";
	int last_rank = -1;

	if (text == NULL || *p != 'P')
		return TDM_EPARSE;
	p++;
	while (*p) {
		int64_t whole = 0, frac_ms = 0, unit;
		int digits = 0;
		const char *order, *pos;
		if (*p == 'T') {
			if (in_time)
				return TDM_EPARSE;
			in_time = true;
			last_rank = -1;
			p++;
			continue;
		}
		while (*p >= '0' && *p <= '9') {
			if (whole > (INT64_MAX / 10 - 9))
				return TDM_ERANGE;
			whole = whole * 10 + (*p - '0');
			p++;
			digits++;
		}
		if (*p == '.' || *p == ',') {
			int64_t scale = 100;
			p++;
			if (!(*p >= '0' && *p <= '9'))
				return TDM_EPARSE;
			while (*p >= '0' && *p <= '9') {
				frac_ms += (*p - '0') * scale;
				scale /= 10;
				p++;
			}
			if (!in_time || *p != 'S')
				return TDM_EPARSE; /* fractions only on seconds */
		}
		if (digits == 0)
			return TDM_EPARSE;
		unit = unit_ms(*p, in_time);
		if (unit == 0)
			return TDM_EPARSE;
		order = in_time ? order_time : order_date;
		pos = strchr(order, *p);
		if ((int)(pos - order) <= last_rank)
			return TDM_EPARSE;
		last_rank = (int)(pos - order);
		/* total + whole * unit + frac_ms must stay within int64_t. */
		if (whole > (INT64_MAX - total - frac_ms) / unit)
			return TDM_ERANGE;
		total += whole * unit + frac_ms;
		any = true;
		if (in_time)
			time_any = true;
		p++;
	}
	if (!any || (in_time && !time_any))
		return TDM_EPARSE;
	*ms = total;
	return 0;
}

int tdm_duration_parse(const char *text, int64_t *seconds)
{
	int64_t ms;
	int rc = tdm_duration_parse_ms(text, &ms);
	if (rc != 0)
		return rc;
	if (ms % 1000 != 0)
		return TDM_EPARSE;
	*seconds = ms / 1000;
	return 0;
}

void tdm_duration_format(int64_t seconds, char *buf, size_t len)
{
	/* Build in a local buffer so a short `buf` only truncates. */
	char tmp[64];
	size_t n = 0;
	uint64_t u, d, rest, h, m, sec;
	if (len == 0)
		return;
	if (seconds < 0) {
		tmp[n++] = '-';
		u = (uint64_t)0 - (uint64_t)seconds; /* INT64_MIN too */
	} else {
		u = (uint64_t)seconds;
	}
	d = u / TDM_SECONDS_PER_DAY;
	rest = u % TDM_SECONDS_PER_DAY;
	h = rest / 3600;
	m = (rest % 3600) / 60;
	sec = rest % 60;
	tmp[n++] = 'P';
	if (d)
		n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%lluD", (unsigned long long)d);
	if (h || m || sec || u == 0) {
		tmp[n++] = 'T';
		if (h)
			n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%lluH", (unsigned long long)h);
		if (m)
			n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%lluM", (unsigned long long)m);
		if (sec || u == 0)
			n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%lluS", (unsigned long long)sec);
	}
	tmp[n] = '\0';
	snprintf(buf, len, "%s", tmp);
}
