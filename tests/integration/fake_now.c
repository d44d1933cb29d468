/*
 * fake_now.so: an LD_PRELOAD shim that moves the wall clock of a program
 * we do not build (dnssec-verify has no option for the validation time).
 *
 *   TDM_FAKE_NOW=<seconds since the epoch> LD_PRELOAD=.../fake_now.so prog
 *
 * The program's realtime clocks (time, gettimeofday, clock_gettime with
 * CLOCK_REALTIME or CLOCK_REALTIME_COARSE) start at TDM_FAKE_NOW when the
 * shim is loaded and advance with the real clock; monotonic clocks are
 * untouched.  Without
 * TDM_FAKE_NOW the shim changes nothing.
 *
 * Why not Debian's libfaketime: BIND 9.18 is linked with jemalloc, which
 * reads the clock while libfaketime resolves its symbols with dlsym(), and
 * dnssec-verify then hangs in libfaketime's recursion guard (libfaketime
 * issues #130, #327).  This shim never calls dlsym() or malloc(): it reads
 * the real clock with the raw system call.
 *
 * Built without sanitizers (it is loaded into programs that have none).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long offset; /* fake - real, seconds */

__attribute__((constructor)) static void fake_now_init(void)
{
	const char *v = getenv("TDM_FAKE_NOW");
	struct timespec ts;
	char *end;
	long long want;
	if (v == NULL || *v == '\0')
		return;
	want = strtoll(v, &end, 10);
	if (*end != '\0')
		return;
	if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) != 0)
		return;
	offset = want - (long long)ts.tv_sec;
}

int clock_gettime(clockid_t clk, struct timespec *ts)
{
	long rc = syscall(SYS_clock_gettime, clk, ts);
	if (rc == 0 && (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE))
		ts->tv_sec += (time_t)offset;
	return (int)rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;
	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t time(time_t *t)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
