/*
 * check_enforcer: the unit suite of src/enforcer, all in virtual time.
 * Each test_<area>.c file contributes one TCase; CK_FORK stays on.
 */
#include <check.h>
#include <stdlib.h>

#include "enforcer_tests.h"
#include "lib/testlib.h"

int main(void)
{
	Suite *s = suite_create("enforcer");
	SRunner *sr;
	char *dir;
	int failed;

	suite_add_tcase(s, tcase_safety());
	suite_add_tcase(s, tcase_rollover());
	suite_add_tcase(s, tcase_signconf());
	sr = srunner_create(s);
	dir = tdm_test_run_dir_begin();
	srunner_run_all(sr, CK_NORMAL);
	tdm_test_run_dir_end(dir);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
