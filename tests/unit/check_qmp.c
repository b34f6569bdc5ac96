/* check_qmp.c: the JSON field scan, the usernet parse, and a conversation with a fake QEMU. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

static const struct {
	const char	*json, *key, *want;	/* want NULL: rejected */
} strings[] = {
	{ "{\"return\": {\"status\": \"running\"}}", "status", "running" },
	{ "{\"status\":\"internal-error\"}", "status", "internal-error" },
	{ "{\"a\": \"x\\\"y\\\\z\\n\\u0041\"}", "a", "x\"y\\z\nA" },
	{ "{\"desc\": \"\"}", "desc", "" },
	{ "{\"status\": 3}", "status", NULL },
	{ "{\"other\": \"x\"}", "status", NULL },
	{ "{\"status\": \"unterminated", "status", NULL },
	{ "{\"status\" \"x\"}", "status", NULL },
	{ "{\"a\": \"\\q\"}", "a", NULL },
	{ "{\"a\": \"\\u00\"}", "a", NULL },
	/* A key name inside a string is text, not a key (strstr once took it for one). */
	{ "{\"return\": {\"x\": \"\\\"status\\\": \\\"running\\\"\"}}", "status", NULL },
	{ "{\"return\": {\"x\": \"status\", \"status\": \"paused\"}}", "status", "paused" },
	{ "{\"a\": \"NUL\\u0000inside\"}", "a", NULL },
	{ "not json", "a", NULL },
	{ "[\"a\", \"b\"]", "a", NULL },
};

static const struct {
	const char	*line;
	int		 kind;
	const char	*desc;
} kinds[] = {
	{ "{\"QMP\": {\"version\": {}, \"capabilities\": []}}", QQ_QMP_GREETING, "" },
	{ "{\"return\": {}}", QQ_QMP_RETURN, "" },
	{ "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}", QQ_QMP_ERROR, "no" },
	{ "{\"error\": 1}", QQ_QMP_ERROR, "unknown error" },
	{ "{\"event\": \"SHUTDOWN\", \"data\": {\"return\": 1}}", QQ_QMP_EVENT, "SHUTDOWN" },
	/* Once a "return" anywhere in the text made a reply of it. */
	{ "{\"event\": \"X\", \"data\": {\"msg\": \"\\\"return\\\"\"}}", QQ_QMP_EVENT, "X" },
	{ "{\"timestamp\": {\"seconds\": 1}, \"data\": \"\\\"return\\\"\"}", QQ_QMP_OTHER, "" },
	{ "{\"return\": {}} trailing", QQ_QMP_OTHER, "" },
	{ "", QQ_QMP_OTHER, "" },
};

START_TEST(test_kind)
{
	char desc[64];

	ck_assert_int_eq(qq_qmp_kind(kinds[_i].line, desc, sizeof(desc)), kinds[_i].kind);
	ck_assert_str_eq(desc, kinds[_i].desc);
}
END_TEST

START_TEST(test_string)
{
	char out[64];
	int r = qq_qmp_string(strings[_i].json, strings[_i].key, out, sizeof(out));

	if (strings[_i].want == NULL)
		ck_assert_int_eq(r, -1);
	else {
		ck_assert_int_eq(r, 0);
		ck_assert_str_eq(out, strings[_i].want);
	}
}
END_TEST

START_TEST(test_string_too_long)
{
	char out[4];

	ck_assert_int_eq(qq_qmp_string("{\"a\": \"abcd\"}", "a", out, sizeof(out)), -1);
	ck_assert_int_eq(qq_qmp_string("{\"a\": \"abc\"}", "a", out, sizeof(out)), 0);
}
END_TEST

static const struct {
	const char	*text;
	int		 want;
} usernets[] = {
	{ "Hub -1 (net0):\r\n  Protocol[State]    FD  Source Address  Port   Dest. Address  "
	  "Port RecvQ SendQ\r\n  TCP[HOST_FORWARD]  11       127.0.0.1 40685       10.0.2.15"
	  "    22     0     0\r\n", 40685 },
	{ "  TCP[HOST_FORWARD]  11  127.0.0.1 8080  10.0.2.15  80  0  0\r\n"
	  "  TCP[HOST_FORWARD]  12  127.0.0.1 2222  10.0.2.15  22  0  0\r\n", 2222 },
	{ "  TCP[HOST_FORWARD]  11  127.0.0.1 8080  10.0.2.15  80  0  0\r\n", -1 },
	{ "  UDP[HOST_FORWARD]  11  127.0.0.1 53  10.0.2.15  22  0  0\r\n", -1 },
	{ "  TCP[HOST_FORWARD]  11  127.0.0.1 99999  10.0.2.15  22  0  0\r\n", -1 },
	{ "", -1 },
};

START_TEST(test_usernet)
{
	ck_assert_int_eq(qq_qmp_usernet_port(usernets[_i].text), usernets[_i].want);
}
END_TEST

/* A fake QEMU: greeting, capabilities, then an event before each reply. */
static void
fake_qemu(int lfd)
{
	char buf[4096];
	ssize_t n;
	int c;

	if ((c = accept(lfd, NULL, NULL)) == -1)
		_exit(1);
	dprintf(c, "{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\r\n");
	while ((n = read(c, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		if (strstr(buf, "qmp_capabilities"))
			dprintf(c, "{\"return\": {}}\r\n");
		else if (strstr(buf, "query-status"))
			dprintf(c, "{\"timestamp\": {}, \"event\": \"RESUME\", \"data\": "
			    "{\"return\": 1}}\r\n{\"return\": {\"status\": \"internal-error\", "
			    "\"running\": false}}\r\n");
		else if (strstr(buf, "silent") || !strstr(buf, "execute"))
			;
		else
			dprintf(c, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
			    "\"The command nope has not been found\"}}\r\n");
	}
	_exit(0);
}

START_TEST(test_conversation)
{
	char *dir = test_tmpdir(), path[PATH_MAX], *reply, st[64];
	struct sockaddr_un sun;
	struct qq_qmp q;
	struct qq_err e;
	int lfd;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	if ((pid = fork()) == 0)
		fake_qemu(lfd);
	close(lfd);
	ck_assert_int_eq(qq_qmp_open(&q, path, 2000, &e), 0);
	ck_assert_int_eq(qq_qmp_cmd(&q, "{\"execute\": \"query-status\"}", 2000, &reply, &e), 0);
	ck_assert_int_eq(qq_qmp_string(reply, "status", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "internal-error");
	free(reply);
	ck_assert_int_eq(qq_qmp_cmd(&q, "{\"execute\": \"nope\"}", 2000, &reply, &e),
	    QQ_EXIT_RUNTIME);
	ck_assert_ptr_null(reply);
	ck_assert_str_eq(e.msg, "QMP error: The command nope has not been found");
	/* Every read is bounded. */
	ck_assert_int_eq(qq_qmp_cmd(&q, "{\"execute\": \"silent\"}", 100, NULL, &e),
	    QQ_EXIT_RUNTIME);
	ck_assert_str_eq(e.msg, "QMP did not answer in time");
	ck_assert_int_eq(q.fd, -1);	/* closed: a late reply cannot be misread */
	ck_assert_int_eq(qq_qmp_cmd(&q, "{\"execute\": \"query-status\"}", 100, NULL, &e),
	    QQ_EXIT_RUNTIME);
	qq_qmp_close(&q);
	waitpid(pid, NULL, 0);
	/* Nobody listening; a path too long for sun_path. */
	ck_assert_int_eq(qq_qmp_open(&q, path, 200, &e), QQ_EXIT_RUNTIME);
	ck_assert_ptr_nonnull(strstr(e.msg, "unable to connect to"));
	memset(path, 'x', 200);
	path[0] = '/';
	path[200] = '\0';
	ck_assert_int_eq(qq_qmp_open(&q, path, 200, &e), QQ_EXIT_INPUT);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
suite_qmp(void)
{
	Suite *s = suite_create("qmp");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_string, 0, sizeof(strings) / sizeof(strings[0]));
	tcase_add_test(tc, test_string_too_long);
	tcase_add_loop_test(tc, test_kind, 0, sizeof(kinds) / sizeof(kinds[0]));
	tcase_add_loop_test(tc, test_usernet, 0, sizeof(usernets) / sizeof(usernets[0]));
	tcase_add_test(tc, test_conversation);
	suite_add_tcase(s, tc);
	return s;
}
