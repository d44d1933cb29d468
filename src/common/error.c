/*
 * Error names, error-message buffers and the single out-of-memory policy.
 */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tdm_strerror(int code)
{
	switch (code) {
	case TDM_OK: return "success";
	case TDM_EPARSE: return "parse error";
	case TDM_ESCHEMA: return "schema validation failed";
	case TDM_EHSM: return "PKCS#11 error";
	case TDM_ENOKEY: return "key not found";
	case TDM_EALGO: return "algorithm not supported";
	case TDM_ESERIAL: return "SOA serial cannot be increased";
	case TDM_EZONE: return "invalid zone content";
	case TDM_EDB: return "database error";
	case TDM_ENOTLEADER: return "not the leader";
	case TDM_ECLUSTER: return "cluster error";
	case TDM_ECODEC: return "malformed ledger command";
	case TDM_EVERSION: return "unsupported format version";
	case TDM_ESHUTDOWN: return "shutting down";
	case TDM_ETIMEOUT: return "timed out";
	case TDM_EPROTO: return "protocol error";
	default:
		if (code < 0 && code > -1000)
			return strerror(-code);
		return "unknown error";
	}
}

void tdm_err_set(struct tdm_err *err, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

void tdm_err_wrap(struct tdm_err *err, const char *fmt, ...)
{
	char prefix[TDM_ERRMSG_SIZE];
	char old[TDM_ERRMSG_SIZE];
	va_list ap;
	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	/* Truncation is acceptable: the innermost cause is the least useful part. */
	if (old[0] == '\0') {
		memcpy(err->msg, prefix, sizeof err->msg);
	} else {
		size_t n = strlen(prefix);
		memcpy(err->msg, prefix, n);
		if (n + 2 < sizeof err->msg) {
			memcpy(err->msg + n, ": ", 2);
			n += 2;
			size_t m = strlen(old);
			if (m > sizeof err->msg - 1 - n)
				m = sizeof err->msg - 1 - n;
			memcpy(err->msg + n, old, m);
			n += m;
		}
		err->msg[n < sizeof err->msg ? n : sizeof err->msg - 1] = '\0';
	}
}

int tdm_err_fail(struct tdm_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (err != NULL) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return code;
}

void tdm_err_clear(struct tdm_err *err)
{
	if (err != NULL)
		err->msg[0] = '\0';
}

static void out_of_memory(size_t n)
{
	fprintf(stderr, "tandem: out of memory (%zu bytes)\n", n);
	abort();
}

void *tdm_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		out_of_memory(n);
	return p;
}

void *tdm_calloc(size_t nmemb, size_t n)
{
	void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);
	if (p == NULL)
		out_of_memory(nmemb * n);
	return p;
}

void *tdm_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		out_of_memory(n);
	return q;
}

char *tdm_strdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		out_of_memory(strlen(s) + 1);
	return p;
}
