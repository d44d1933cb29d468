/* The unit suite of src/raft (the cluster wrapper): one TCase per test file. */
#include <check.h>
#include <stdlib.h>

#include "common/log.h"

TCase *tcase_fixture(void);
TCase *tcase_net(void);
TCase *tcase_ledger(void);
TCase *tcase_snapshot(void);

int main(void)
{
	Suite *s = suite_create("cluster");
	SRunner *sr;
	int failed;
	const char *v = getenv("TDM_TEST_VERBOSE");

	tdm_log_init("check_cluster", false, 0, true, v != NULL ? atoi(v) : -1);
	suite_add_tcase(s, tcase_fixture());
	suite_add_tcase(s, tcase_net());
	suite_add_tcase(s, tcase_ledger());
	suite_add_tcase(s, tcase_snapshot());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
