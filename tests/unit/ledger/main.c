/*
 * check_ledger: the unit suite of src/ledger.  Each test_<area>.c file
 * contributes one TCase; CK_FORK stays on so a crash fails one test only.
 */
#include <check.h>
#include <stdlib.h>

#include "ledger_tests.h"

int main(void)
{
	Suite *s = suite_create("ledger");
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tcase_codec());
	suite_add_tcase(s, tcase_apply());
	suite_add_tcase(s, tcase_snapshot());
	suite_add_tcase(s, tcase_enforce());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
