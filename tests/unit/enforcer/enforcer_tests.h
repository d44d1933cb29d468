/* check_enforcer: one TCase per file. */
#ifndef TDM_TEST_ENFORCER_TESTS_H
#define TDM_TEST_ENFORCER_TESTS_H

#include <check.h>

TCase *tcase_safety(void);
TCase *tcase_rollover(void);
TCase *tcase_signconf(void);

#endif
