/* The unit suite of src/daemon: one TCase per test file. */
#include <check.h>
#include <stdlib.h>

TCase *tcase_control(void);
TCase *tcase_http(void);
TCase *tcase_process(void);
TCase *tcase_control_server(void);

int main(void)
{
	Suite *s = suite_create("daemon");
	SRunner *sr;
	int failed;
	suite_add_tcase(s, tcase_control());
	suite_add_tcase(s, tcase_http());
	suite_add_tcase(s, tcase_process());
	suite_add_tcase(s, tcase_control_server());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
