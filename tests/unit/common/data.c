/*
 * Locating the sample files of tests/unit/common/data in the source tree:
 * $TDM_SRCDIR (set by `make check`) or the TDM_SRCDIR the build was
 * configured with.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common_tests.h"

const char *data_path(const char *name)
{
	static char buf[4096];
	const char *src = getenv("TDM_SRCDIR");
	if (src == NULL || *src == '\0')
		src = TDM_SRCDIR;
	snprintf(buf, sizeof buf, "%s/tests/unit/common/data/%s", src, name);
	return buf;
}
