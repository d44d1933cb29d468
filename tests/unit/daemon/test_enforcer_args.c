/*
 * The small pieces of the enforcer commands: the ods-enforcer option
 * parser with its --content markers (cmd_args.c) and the zone-name set
 * behind the signer queue and the zones waiting for keys (nameset.c).
 */
#include "daemon/daemon_int.h"
#include "daemon/nameset.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TCase *tcase_enforcer_args(void);

static struct control_request req_of(char **words)
{
	struct control_request r = { 0, 0, words };
	while (words[r.argc] != NULL)
		r.argc++;
	return r;
}

START_TEST(options_short_long_and_values)
{
	char *w[] = { "zone", "add", "-z", "x.org", "--policy=lab", "-u", "--signerconf", "/s.xml", NULL };
	struct control_request r = req_of(w);
	struct cmd_opt o[] = { { 'z', "zone", true, NULL, false }, { 'p', "policy", true, NULL, false },
			       { 's', "signerconf", true, NULL, false }, { 'u', "xml", false, NULL, false },
			       { 'a', "all", false, NULL, false } };
	char msg[200];
	ck_assert_int_eq(daemon__args(&r, 2, o, 5, msg, sizeof msg), 0);
	ck_assert_str_eq(o[0].val, "x.org");
	ck_assert_str_eq(o[1].val, "lab");
	ck_assert_str_eq(o[2].val, "/s.xml");
	ck_assert(o[3].set);
	ck_assert(!o[4].set);
}
END_TEST

START_TEST(options_refused_with_a_message)
{
	char *unknown[] = { "zone", "add", "--zoen", "x", NULL };
	char *novalue[] = { "zone", "add", "-z", NULL };
	char *stray[] = { "zone", "add", "x.org", NULL };
	char *prefix[] = { "zone", "add", "--zon", "x", NULL };
	struct cmd_opt o[] = { { 'z', "zone", true, NULL, false } };
	char msg[200];
	struct control_request r = req_of(unknown);
	ck_assert_int_eq(daemon__args(&r, 2, o, 1, msg, sizeof msg), TDM_EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "--zoen"));
	r = req_of(novalue);
	ck_assert_int_eq(daemon__args(&r, 2, o, 1, msg, sizeof msg), TDM_EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "needs a value"));
	r = req_of(stray);
	ck_assert_int_eq(daemon__args(&r, 2, o, 1, msg, sizeof msg), TDM_EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "x.org"));
	r = req_of(prefix);
	ck_assert_int_eq(daemon__args(&r, 2, o, 1, msg, sizeof msg), TDM_EINVAL);
}
END_TEST

START_TEST(content_chunks_and_markers)
{
	char *w[] = { "update", "all", "--content-kasp", "<KA", "SP/>", "--content-zonelist", "<Z", "/>", NULL };
	char *none[] = { "policy", "import", "-r", NULL };
	char *empty[] = { "policy", "import", "--content", NULL };
	struct control_request r = req_of(w);
	struct cmd_opt o[] = { { 'r', "remove", false, NULL, false } };
	char msg[200], *buf;
	size_t len;
	/* Options stop at the first marker. */
	ck_assert_int_eq(daemon__args(&r, 2, o, 1, msg, sizeof msg), 0);
	ck_assert_int_eq(daemon__content(&r, 2, "--content-kasp", &buf, &len), 0);
	ck_assert_str_eq(buf, "<KASP/>");
	ck_assert_uint_eq(len, 7);
	free(buf);
	ck_assert_int_eq(daemon__content(&r, 2, "--content-zonelist", &buf, &len), 0);
	ck_assert_str_eq(buf, "<Z/>");
	free(buf);
	r = req_of(none);
	ck_assert_int_eq(daemon__content(&r, 2, "--content", &buf, &len), TDM_ENOENT);
	r = req_of(empty);
	ck_assert_int_eq(daemon__content(&r, 2, "--content", &buf, &len), 0);
	ck_assert_uint_eq(len, 0);
	free(buf);
}
END_TEST

START_TEST(nameset_order_and_removal)
{
	struct nameset s = { 0 };
	char name[32], **names;
	size_t n;
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof name, "z%05d.example", i);
		ck_assert(nameset_add(&s, name));
	}
	ck_assert(!nameset_add(&s, "z00007.example"));
	for (int i = 0; i < 20000; i += 2) {
		snprintf(name, sizeof name, "z%05d.example", i);
		ck_assert(nameset_del(&s, name));
	}
	ck_assert(!nameset_del(&s, "z00000.example"));
	ck_assert(!nameset_del(&s, "nope"));
	ck_assert_uint_eq(s.live, 10000);
	/* Re-adding a removed name puts it at the end. */
	ck_assert(nameset_add(&s, "z00000.example"));
	nameset_take(&s, &names, &n);
	ck_assert_uint_eq(n, 10001);
	ck_assert_str_eq(names[0], "z00001.example");
	ck_assert_str_eq(names[1], "z00003.example");
	ck_assert_str_eq(names[n - 1], "z00000.example");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ck_assert_uint_eq(s.live, 0);
	ck_assert(nameset_add(&s, "again"));
	nameset_clear(&s);
}
END_TEST

TCase *tcase_enforcer_args(void)
{
	TCase *tc = tcase_create("enforcer_args");
	tcase_add_test(tc, options_short_long_and_values);
	tcase_add_test(tc, options_refused_with_a_message);
	tcase_add_test(tc, content_chunks_and_markers);
	tcase_add_test(tc, nameset_order_and_removal);
	return tc;
}
