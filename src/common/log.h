/*
 * Logging: to stderr, to syslog, or both.  The object comes first and the
 * cause last ("zone example.com: signing failed: key not found").  Levels
 * follow ODS verbosity: 0 error .. 4 debug.
 */
#ifndef TDM_LOG_H
#define TDM_LOG_H

#include <stdbool.h>

enum tdm_log_level {
	TDM_LOG_ERR = 0,
	TDM_LOG_WARN = 1,
	TDM_LOG_NOTICE = 2,
	TDM_LOG_INFO = 3,
	TDM_LOG_DEBUG = 4,
};

/**
 * Configure logging.  @param ident program name; @param use_syslog also send
 * to syslog with @param facility (LOG_DAEMON if 0); @param use_stderr print
 * to stderr; @param verbosity highest level printed.
 */
void tdm_log_init(const char *ident, bool use_syslog, int facility,
		  bool use_stderr, int verbosity);

/** Change the verbosity at run time (SIGHUP, `verbosity N`). */
void tdm_log_set_verbosity(int verbosity);

/** Is this level printed?  Lets callers skip building expensive messages. */
bool tdm_log_enabled(enum tdm_log_level level);

void tdm_log(enum tdm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define tdm_log_err(...) tdm_log(TDM_LOG_ERR, __VA_ARGS__)
#define tdm_log_warn(...) tdm_log(TDM_LOG_WARN, __VA_ARGS__)
#define tdm_log_notice(...) tdm_log(TDM_LOG_NOTICE, __VA_ARGS__)
#define tdm_log_info(...) tdm_log(TDM_LOG_INFO, __VA_ARGS__)
#define tdm_log_debug(...) tdm_log(TDM_LOG_DEBUG, __VA_ARGS__)

/** "zone NAME: ..." */
#define tdm_log_zone(level, zone, fmt, ...) \
	tdm_log(level, "zone %s: " fmt, zone, ##__VA_ARGS__)

#endif
