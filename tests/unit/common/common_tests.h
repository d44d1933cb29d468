/*
 * The TCases of check_common and the helpers they share.
 */
#ifndef TDM_TESTS_COMMON_H
#define TDM_TESTS_COMMON_H

#include <check.h>

TCase *tcase_duration(void);
TCase *tcase_clock(void);
TCase *tcase_error(void);
TCase *tcase_conf(void);
TCase *tcase_signconf(void);
TCase *tcase_kasp(void);
TCase *tcase_zonelist(void);
TCase *tcase_kaspcheck(void);
TCase *tcase_bad_files(void);
TCase *tcase_text(void);

/** Path of tests/unit/common/data/<name> in the source tree (static buffer). */
const char *data_path(const char *name);

#endif
