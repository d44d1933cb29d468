/*
 * Logging to stderr and/or syslog.  Thread-safe: each message is one
 * fprintf/syslog call.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>

static struct {
	char ident[64];
	bool use_syslog;
	bool use_stderr;
	int verbosity;
} cfg = { "tandem", false, true, TDM_LOG_NOTICE };

void tdm_log_init(const char *ident, bool use_syslog, int facility,
		  bool use_stderr, int verbosity)
{
	snprintf(cfg.ident, sizeof cfg.ident, "%s", ident);
	cfg.use_syslog = use_syslog;
	cfg.use_stderr = use_stderr;
	cfg.verbosity = verbosity;
	if (use_syslog)
		openlog(cfg.ident, LOG_PID | LOG_NDELAY, facility ? facility : LOG_DAEMON);
}

void tdm_log_set_verbosity(int verbosity)
{
	cfg.verbosity = verbosity;
}

bool tdm_log_enabled(enum tdm_log_level level)
{
	return (int)level <= cfg.verbosity;
}

static int syslog_priority(enum tdm_log_level level)
{
	switch (level) {
	case TDM_LOG_ERR: return LOG_ERR;
	case TDM_LOG_WARN: return LOG_WARNING;
	case TDM_LOG_NOTICE: return LOG_NOTICE;
	case TDM_LOG_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

static const char *level_name(enum tdm_log_level level)
{
	static const char *names[] = { "error", "warning", "notice", "info", "debug" };
	return names[level <= TDM_LOG_DEBUG ? level : TDM_LOG_DEBUG];
}

void tdm_log(enum tdm_log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	if (!tdm_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (cfg.use_syslog)
		syslog(syslog_priority(level), "%s", msg);
	if (cfg.use_stderr) {
		struct timeval tv;
		struct tm tm;
		char ts[32];
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03dZ %s[%s]: %s\n", ts, (int)(tv.tv_usec / 1000),
			cfg.ident, level_name(level), msg);
	}
}
