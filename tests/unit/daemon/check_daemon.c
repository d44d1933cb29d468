/* The unit suite of src/daemon: one TCase per test file. */
#include <check.h>
#include <stdlib.h>

TCase *tcase_control(void);
TCase *tcase_http(void);
TCase *tcase_process(void);
TCase *tcase_control_server(void);
TCase *tcase_health(void);
TCase *tcase_settings(void);
TCase *tcase_writer_text(void);
TCase *tcase_peer_client(void);
TCase *tcase_enforcer_args(void);

int main(void)
{
	Suite *s = suite_create("daemon");
	SRunner *sr;
	int failed;
	suite_add_tcase(s, tcase_control());
	suite_add_tcase(s, tcase_http());
	suite_add_tcase(s, tcase_process());
	suite_add_tcase(s, tcase_control_server());
	suite_add_tcase(s, tcase_health());
	suite_add_tcase(s, tcase_settings());
	suite_add_tcase(s, tcase_writer_text());
	suite_add_tcase(s, tcase_peer_client());
	suite_add_tcase(s, tcase_enforcer_args());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
