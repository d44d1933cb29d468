/*
 * check_signer: the unit suite of src/signer.  Each test_<area>.c file
 * contributes one TCase; CK_FORK stays on so a crash fails one test only.
 */
#include <check.h>
#include <stdlib.h>

#include "common/log.h"
#include "signer_tests.h"

int main(void)
{
	Suite *s = suite_create("signer");
	SRunner *sr;
	int failed;

	tdm_log_init("check_signer", false, 0, true, TDM_LOG_ERR);
	suite_add_tcase(s, tcase_names());
	suite_add_tcase(s, tcase_reader());
	suite_add_tcase(s, tcase_chain());
	suite_add_tcase(s, tcase_serial());
	suite_add_tcase(s, tcase_ttl());
	suite_add_tcase(s, tcase_reuse());
	suite_add_tcase(s, tcase_output());
	suite_add_tcase(s, tcase_roles());
	suite_add_tcase(s, tcase_cds());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
