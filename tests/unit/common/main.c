/*
 * check_common: the unit suite of src/common.  Each test_<area>.c file
 * contributes one TCase; CK_FORK stays on so a crash fails one test only.
 */
#include <check.h>
#include <stdlib.h>

#include "common_tests.h"

int main(void)
{
	Suite *s = suite_create("common");
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tcase_duration());
	suite_add_tcase(s, tcase_clock());
	suite_add_tcase(s, tcase_error());
	suite_add_tcase(s, tcase_conf());
	suite_add_tcase(s, tcase_signconf());
	suite_add_tcase(s, tcase_kasp());
	suite_add_tcase(s, tcase_zonelist());
	suite_add_tcase(s, tcase_kaspcheck());
	suite_add_tcase(s, tcase_bad_files());
	suite_add_tcase(s, tcase_text());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
