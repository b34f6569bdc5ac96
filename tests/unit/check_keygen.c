/* check_keygen.c: the key search order, every rejected key, and creation without overwriting. */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"
#include "suites.h"

#define PUB "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOPWxqsiSYg7MBmbi2dL1YAFLofz me-host"
#define RSA "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7 other"

struct file {
	const char	*name;		/* under the test's HOME; a trailing / makes a directory */
	mode_t		 mode;
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
};

static const struct {
	struct file	 files[3];
	const char	*opt;		/* --ssh-key, @ = HOME */
	int		 status;
	const char	*key;		/* expected ssh_key */
	const char	*text;		/* expected pubkey line, or error message */
} cases[] = {
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, PUB "\n", 0 } },
	    NULL, 0, "@/.ssh/id_ed25519", PUB },
	{ { { ".ssh/id_rsa", 0600, "k", 0 }, { ".ssh/id_rsa.pub", 0644, RSA "\n", 0 } },
	    NULL, 0, "@/.ssh/id_rsa", RSA },
	{ { { ".ssh/id_ed25519", 0400, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, PUB "\r\n", 0 },
	    { ".ssh/id_rsa.pub", 0644, RSA "\n", 0 } },
	    NULL, 0, "@/.ssh/id_ed25519", PUB },
	{ { { "k/mine", 0600, "k", 0 }, { "k/mine.pub", 0644, PUB, 0 } },
	    "@/k/mine", 0, "@/k/mine", PUB },
	{ { { "k/mine", 0600, "k", 0 }, { "k/mine.pub", 0644, PUB, 0 } },
	    "@/k/mine.pub", 0, "@/k/mine", PUB },
	{ { { "k/mine", 0600, "k", 0 }, { "k/mine.pub", 0644, PUB, 0 } },
	    "@/k/../k/./mine.pub", 0, "@/k/mine", PUB },
	{ { { ".ssh/id_ed25519.pub", 0644, PUB "\n", 0 }, { ".ssh/id_rsa", 0600, "k", 0 },
	    { ".ssh/id_rsa.pub", 0644, RSA "\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub has no usable private half: "
	    "unable to read @/.ssh/id_ed25519: No such file or directory" },
	{ { { ".ssh/id_ed25519", 0644, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, PUB "\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "private key @/.ssh/id_ed25519 is open to group or "
	    "others (mode 0644); ssh refuses it: chmod 600 it" },
	{ { { ".ssh/id_ed25519", 0610, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, PUB "\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "private key @/.ssh/id_ed25519 is open to group or "
	    "others (mode 0610); ssh refuses it: chmod 600 it" },
	{ { { ".ssh/id_ed25519/", 0700, "", 0 }, { ".ssh/id_ed25519.pub", 0644, PUB "\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub has no usable private half: "
	    "unable to read @/.ssh/id_ed25519: not a regular file" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, "", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub is empty: expected one public "
	    "key line" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, "\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub is empty: expected one public "
	    "key line" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, PUB "\n" RSA "\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub holds more than one line: "
	    "expected one public key line" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, PUB "\n\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub holds more than one line: "
	    "expected one public key line" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, "a\0b\n", 4 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub holds a NUL byte" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, "hello world\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub is not an OpenSSH public key: "
	    "expected \"type base64 [comment]\"" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, "ssh- AAAA\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub is not an OpenSSH public key: "
	    "expected \"type base64 [comment]\"" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644,
	    "ecdsa-sha2-nistp256 AAAA=\n", 0 } },
	    NULL, 0, "@/.ssh/id_ed25519", "ecdsa-sha2-nistp256 AAAA=" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, "hello\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub is not an OpenSSH public key: "
	    "expected \"type base64 [comment]\"" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, "ssh-ed25519 \n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub is not an OpenSSH public key: "
	    "expected \"type base64 [comment]\"" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, "ssh-ed25519 A!B\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub is not an OpenSSH public key: "
	    "expected \"type base64 [comment]\"" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, " AAAA x\n", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519.pub is not an OpenSSH public key: "
	    "expected \"type base64 [comment]\"" },
	{ { { "k/", 0700, "", 0 } },
	    "@/k/none", QQ_EXIT_INPUT, NULL, "unable to read @/k/none.pub: No such file or "
	    "directory" },
	{ { { "k/d.pub/", 0700, "", 0 }, { "k/d", 0600, "k", 0 } },
	    "@/k/d.pub", QQ_EXIT_INPUT, NULL, "unable to read @/k/d.pub: not a regular file" },
	{ { { ".ssh/id_ed25519", 0600, "not ours", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "@/.ssh/id_ed25519 exists without @/.ssh/id_ed25519.pub; "
	    "not overwriting it (ssh-keygen -y -f @/.ssh/id_ed25519 > @/.ssh/id_ed25519.pub "
	    "writes the public half)" },
	{ { { ".ssh", 0600, "a file", 0 } },
	    NULL, QQ_EXIT_INPUT, NULL, "unable to create a key in @/.ssh: not a directory" },
	{ { { ".ssh/id_ed25519", 0600, "k", 0 }, { ".ssh/id_ed25519.pub", 0644, PUB "\n", 0 } },
	    "", QQ_EXIT_INPUT, NULL, "bad --ssh-key \"\": expected a file path" },
};

static void
make(const char *home, const struct file *f)
{
	char path[PATH_MAX], dir[PATH_MAX];
	size_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", home, f->name);
	strlcpy(dir, path, sizeof(dir));
	len = strlen(dir);
	if (dir[len - 1] == '/')
		dir[len - 1] = '\0';
	*strrchr(dir, '/') = '\0';
	ck_assert_int_eq(qq_file_mkdirs(dir, 0700, &(struct qq_err){ 0 }), 0);
	if (path[strlen(path) - 1] == '/') {
		ck_assert_int_eq(mkdir(path, f->mode), 0);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ne(fd, -1);
	len = f->len ? f->len : strlen(f->text);
	ck_assert_int_eq(write(fd, f->text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, f->mode), 0);
	close(fd);
}

START_TEST(test_find)
{
	char *home = test_tmpdir();
	char opt[PATH_MAX], want[QQ_ERR_MAX];
	struct qq_settings s;
	struct qq_facts f = { 0 };
	struct qq_key *k = malloc(sizeof(*k));
	struct qq_err e;
	size_t i;
	int rc;

	setenv("HOME", home, 1);
	unsetenv("QNX_QEMU_SSH_KEY");
	for (i = 0; i < 3 && cases[_i].files[i].name != NULL; i++)
		make(home, &cases[_i].files[i]);
	qq_settings_init(&s);
	if (cases[_i].opt != NULL) {
		test_subst(opt, sizeof(opt), cases[_i].opt, home);
		qq_settings_option(&s, "ssh-key", opt, &e);
	}
	rc = qq_keygen_facts(&s, &f, k, &e);
	ck_assert_int_eq(rc, cases[_i].status);
	test_subst(want, sizeof(want), cases[_i].text, home);
	if (rc != 0)
		ck_assert_str_eq(e.msg, want);
	else {
		ck_assert_str_eq(k->line, want);
		ck_assert_str_eq(qq_facts_get(&f, "ssh_pubkey"), want);
		test_subst(want, sizeof(want), cases[_i].key, home);
		ck_assert_str_eq(k->key, want);
		ck_assert_str_eq(qq_facts_get(&f, "ssh_key"), want);
		ck_assert_int_eq(k->created, 0);
		ck_assert_uint_eq(f.n, 2);
	}
	qq_facts_free(&f);
	free(k);
	test_rmtree(home);
	free(home);
}
END_TEST

START_TEST(test_create)
{
	char *home = test_tmpdir();
	char path[PATH_MAX];
	struct qq_settings s;
	struct qq_key *k = malloc(sizeof(*k)), *k2 = malloc(sizeof(*k2));
	struct qq_err e;
	struct stat st;

	setenv("HOME", home, 1);
	unsetenv("QNX_QEMU_SSH_KEY");
	qq_settings_init(&s);
	ck_assert_int_eq(qq_keygen_find(&s, NULL, k, &e), 0);
	ck_assert_int_eq(k->created, 1);
	snprintf(path, sizeof(path), "%s/.ssh", home);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/.ssh/id_ed25519", home);
	ck_assert_str_eq(k->key, path);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(strncmp(k->line, "ssh-ed25519 AAAA", 16), 0);
	/* A second run finds the same key instead of making another. */
	ck_assert_int_eq(qq_keygen_find(&s, NULL, k2, &e), 0);
	ck_assert_int_eq(k2->created, 0);
	ck_assert_str_eq(k2->line, k->line);
	free(k);
	free(k2);
	test_rmtree(home);
	free(home);
}
END_TEST

START_TEST(test_keygen_fails)
{
	char *home = test_tmpdir();
	char bin[PATH_MAX], *path = strdup(getenv("PATH")), *oldhome = getenv("HOME");
	struct qq_settings s;
	struct qq_key *k = malloc(sizeof(*k));
	struct qq_err e;
	struct file fake = { "bin/ssh-keygen", 0755, "#!/bin/sh\necho 'no entropy' >&2\nexit 1\n", 0 };
	struct file empty = { "empty/", 0700, "", 0 };

	oldhome = oldhome ? strdup(oldhome) : NULL;
	setenv("HOME", home, 1);
	make(home, &fake);
	make(home, &empty);
	snprintf(bin, sizeof(bin), "%s/bin", home);
	setenv("PATH", bin, 1);
	qq_settings_init(&s);
	ck_assert_int_eq(qq_keygen_find(&s, NULL, k, &e), QQ_EXIT_RUNTIME);
	ck_assert_ptr_nonnull(strstr(e.msg, "ssh-keygen exited 1: no entropy"));
	snprintf(bin, sizeof(bin), "%s/empty", home);
	setenv("PATH", bin, 1);
	ck_assert_int_eq(qq_keygen_find(&s, NULL, k, &e), QQ_EXIT_NOTFOUND);
	ck_assert_str_eq(e.msg, "unable to find ssh-keygen: No such file or directory");
	setenv("PATH", path, 1);
	unsetenv("HOME");
	ck_assert_int_eq(qq_keygen_find(&s, NULL, k, &e), QQ_EXIT_INPUT);
	ck_assert_str_eq(e.msg, "HOME is not set to an absolute path; give --ssh-key or "
	    "QNX_QEMU_SSH_KEY");
	if (oldhome != NULL)
		setenv("HOME", oldhome, 1);
	free(oldhome);
	free(path);
	free(k);
	test_rmtree(home);
	free(home);
}
END_TEST

Suite *
suite_keygen(void)
{
	Suite *s = suite_create("keygen");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, test_env_save, test_env_restore);
	tcase_add_loop_test(tc, test_find, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_keygen_fails);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}
