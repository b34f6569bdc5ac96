/* run.c: qq-run: every step in one process, through the same library calls as the programs. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qq.h"

struct step {
	const struct qq_run_opts	*o;
	const char			*name;
	long long			 t0;
};

static void
step_begin(struct step *st, const struct qq_run_opts *o, const char *name)
{
	st->o = o;
	st->name = name;
	st->t0 = qq_vm_now_us();
}

/*
 * Ends a step: on failure its message is prefixed with the step's name (the
 * status is kept); on success a progress line, when asked for.
 */
static int
step_end(struct step *st, int rc, struct qq_err *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
step_end(struct step *st, int rc, struct qq_err *e, const char *fmt, ...)
{
	char msg[QQ_ERR_MAX];
	va_list ap;
	long long us = qq_vm_now_us() - st->t0;

	if (rc != 0) {
		strlcpy(msg, e->msg, sizeof(msg));
		qq_err_set(e, rc, "%s: %s", st->name, msg);
		return rc;
	}
	/* A dry run says what each step would do (qq-run(1)); a real one with -v. */
	if ((st->o->verbose || st->o->dry_run) && st->o->talk != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		qq_err_say(st->o->talk, "qq-run", "%-13s %9.1f ms  %s", st->name, us / 1000.0, msg);
	}
	return 0;
}

static void
warn(const struct qq_run_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
warn(const struct qq_run_opts *o, const char *fmt, ...)
{
	char msg[QQ_ERR_MAX];
	va_list ap;

	/* Like progress: only on a terminal or with -v; otherwise qq-run says nothing but errors. */
	if (o->talk == NULL || !o->verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	qq_err_say(o->talk, "qq-run", "warning: %s", msg);
}

/* qq-spawn's checks (binary, VM running, port taken) without the image files, built later. */
static int
plan_spawn(char *const argv[], struct qq_err *e)
{
	struct qq_spawn_vm *vm;
	int rc;

	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to plan the start");
	if ((rc = qq_spawn_parse(vm, argv, e)) == 0) {
		vm->nfiles = 0;
		rc = qq_spawn_check(vm, e);
	}
	free(vm);
	return rc;
}

/*
 * --image DIR: mkqnximage's output, DIR/output/ifs.bin and DIR/output/disk-qemu.vmdk
 * (DIR is the directory mkqnximage ran in), or DIR holding both itself. --kernel
 * and --disk given beside it win.
 */
static int
image_find(struct qq_run_opts *o, struct qq_cmdline_opts *co, struct qq_err *e)
{
	static const char *const sub[] = { "output/", "" };
	char k[PATH_MAX], d[PATH_MAX];
	struct stat st;

	if (o->image == NULL)
		return 0;	/* --kernel and the rest, as given */
	for (size_t i = 0; i < 2; i++) {
		if ((size_t)snprintf(k, sizeof(k), "%s/%sifs.bin", o->image, sub[i]) >= sizeof(k) ||
		    (size_t)snprintf(d, sizeof(d), "%s/%sdisk-qemu.vmdk", o->image, sub[i]) >=
		    sizeof(d))
			return qq_err_set(e, QQ_EXIT_INPUT, "bad --image: path too long");
		if (stat(k, &st) == 0 && S_ISREG(st.st_mode) && stat(d, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			if (qq_file_abspath(k, o->image_kernel, sizeof(o->image_kernel), e) != 0 ||
			    qq_file_abspath(d, o->image_disk, sizeof(o->image_disk), e) != 0)
				return e->status;
			if (co->kernel == NULL)
				co->kernel = o->image_kernel;
			if (co->disk == NULL)
				co->disk = o->image_disk;
			return 0;
		}
	}
	return qq_err_set(e, QQ_EXIT_INPUT, "bad --image \"%s\": no mkqnximage output in it "
	    "(expected output/ifs.bin and output/disk-qemu.vmdk, or both in the directory itself)",
	    o->image);
}

/* --run-tests: refuse before booting when no test would run (none staged, none matching). */
static int
tests_staged(const struct qq_facts *f, const struct qq_run_opts *o, struct qq_err *e)
{
	struct qq_test_select sel = { o->test.sel.filter, 1, 0, 0 };
	struct qq_test_plan p;
	const char *only = getenv("TESTBRIDGE_TEST_ONLY");
	int rc;

	if (sel.filter == NULL && only != NULL && *only != '\0')
		sel.filter = only;
	rc = qq_testplan_build(f, &sel, &p, e);
	qq_testplan_free(&p);
	return rc;
}

static int
steps(struct qq_settings *s, struct qq_facts *f, struct qq_run_opts *o, struct qq_err *e)
{
	struct qq_accel acc;
	struct qq_key *key;
	struct qq_stage_result sr;
	struct qq_mkimage_result mr;
	struct qq_cmdline c = { 0 };
	struct qq_spawn_result r = { 0 };
	struct qq_stage_opts so = o->stage;
	struct qq_mkimage_opts mo = o->mkimage;
	struct qq_spawn_opts po = o->spawn;
	struct qq_cmdline_opts co = o->cmdline;
	struct step st;
	struct qq_settings *chk = NULL;
	char builder[16];
	int rc, i, auto_accel = 0;

	memset(&acc, 0, sizeof(acc));
	memset(&sr, 0, sizeof(sr));
	memset(&mr, 0, sizeof(mr));

	/* The key struct is large; keep it off the stack. */
	if ((key = calloc(1, sizeof(*key))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to start");

	/*
	 * Every setting is checked before any step does work, on a copy: each step
	 * resolves (and exports as facts) only what its program would, so that the
	 * facts equal those of the explicit pipeline.
	 */
	if ((chk = malloc(sizeof(*chk))) == NULL) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to start");
		goto out;
	}
	*chk = *s;
	for (i = 0; i < QQ_SET__COUNT; i++)
		if ((rc = qq_settings_get(chk, i, f, e)) != 0)
			goto out;
	auto_accel = strcmp(chk->val[QQ_SET_ACCEL], "auto") == 0;
	if ((rc = qq_mkimage_qnx_opts_check(&o->mkimage, e)) != 0)
		goto out;

	step_begin(&st, o, "detect-accel");
	rc = qq_accel_facts(s, f, &acc, e);
	if ((rc = step_end(&st, rc, e, "%s%s%s", acc.accel, acc.warned ? "" : ": ",
	    acc.warned ? "" : acc.reason)) != 0)
		goto out;
	if (acc.warned)
		warn(o, "using tcg: %s", acc.reason);
	/* KVM chosen for us and failing at run time: retry once under TCG. */
	po.tcg_fallback = po.tcg_fallback || (auto_accel && strcmp(acc.accel, "kvm") == 0);

	step_begin(&st, o, "keygen");
	if (o->dry_run) {
		rc = qq_keygen_peek(s, f, key, e);
		if (rc == 0 && key->line[0] == '\0')
			rc = step_end(&st, rc, e, "would create %s", key->key);
		else
			rc = step_end(&st, rc, e, "%s", key->key);
	} else {
		rc = qq_keygen_facts(s, f, key, e);
		rc = step_end(&st, rc, e, "%s%s", key->key, key->created ? " (created)" : "");
	}
	if (rc != 0)
		goto out;
	if (*key->warn)
		warn(o, "%s", key->warn);
	po.ssh_key = key->key;

	if (o->stage.program == NULL) {
		/* An image built elsewhere (--image, --kernel): nothing to stage or build. */
		step_begin(&st, o, "image");
		rc = image_find(o, &co, e);
		if ((rc = step_end(&st, rc, e, "%s", co.kernel)) != 0)
			goto out;
		goto cmdline;
	}

	step_begin(&st, o, "stage");
	so.check_only = o->dry_run;
	so.compare_only = o->reuse;	/* a running VM: nothing is written under it */
	rc = qq_stage_facts(s, f, &so, &sr, e);
	if (o->dry_run)
		rc = step_end(&st, rc, e, "would stage %zu file%s", sr.files,
		    sr.files == 1 ? "" : "s");
	else
		rc = step_end(&st, rc, e, "%zu file%s, %zu copied", sr.files,
		    sr.files == 1 ? "" : "s", sr.copied);
	if (rc != 0)
		goto out;
	if (o->run_tests && (rc = tests_staged(f, o, e)) != 0)
		goto out;
	if (o->reuse) {
		/* The running VM's image holds what was staged when it booted. */
		if (sr.changed)
			rc = qq_err_set(e, QQ_EXIT_RUNTIME, "stage: the staged files changed, but a VM "
			    "already runs in %s with the old ones: stop it first (qq-run stop)",
			    s->val[QQ_SET_WORKSPACE]);
		goto out;
	}

	step_begin(&st, o, "mkimage");
	if (o->dry_run) {
		rc = qq_mkimage_plan(s, f, &o->mkimage, builder, sizeof(builder), e);
		rc = step_end(&st, rc, e, "would build with %s unless nothing changed", builder);
	} else {
		mo.talk = o->verbose ? o->talk : NULL;
		mo.errors = o->talk;	/* mkqnximage's last lines, even in CI without -v */
		rc = qq_mkimage_facts(s, f, &mo, &mr, e);
		rc = step_end(&st, rc, e, "%s, %s", mr.builder, mr.built ? "built" :
		    "up to date");
	}
	if (rc != 0)
		goto out;

cmdline:
	step_begin(&st, o, "cmdline");
	rc = qq_cmdline_build(s, f, &co, &c, e);
	for (i = 0; i < c.nwarn; i++)
		warn(o, "%s", c.warn[i]);
	if ((rc = step_end(&st, rc, e, "%zu arguments", c.argc)) != 0)
		goto out;

	if (o->dry_run) {
		/* What qq-spawn would refuse before starting; the image files are not built yet. */
		step_begin(&st, o, "spawn");
		if ((rc = plan_spawn(c.argv, e)) == 0 && !o->quiet_plan) {
			/* The QEMU command, in qq-cmdline's form, so that "qq-run -n | xargs" shows it. */
			rc = qq_quote_argv(stdout, c.argv, o->nul, e);
		}
		rc = step_end(&st, rc, e, "would start %s%s", c.argv[0],
		    o->cmdline.detach ? " detached" : " in the foreground");
		goto out;
	}
	if (!o->cmdline.detach && o->talk != NULL) {
		/* Foreground: QEMU takes this process over; say how to get in and out first. */
		if (strcmp(s->val[QQ_SET_SSH_PORT], "0") == 0)
			fputs("qq-run: QEMU picks the SSH port (--ssh-port 0) and cannot report it "
			    "in the foreground (use -d, or a fixed --ssh-port to log in with qq-run "
			    "ssh); Ctrl-A X quits QEMU\n", o->talk);
		else {
			fputs("qq-run: log in with: qq-run ssh --workspace ", o->talk);
			(void)qq_quote_write(o->talk, s->val[QQ_SET_WORKSPACE]);
			fputs("; Ctrl-A X quits QEMU\n", o->talk);
		}
		fflush(o->talk);
	}
	step_begin(&st, o, "spawn");
	rc = qq_spawn_run(c.argv, &po, &r, f, e);
	if (o->talk != NULL)
		qq_spawn_report(o->talk, &r, rc, o->verbose);
	rc = step_end(&st, rc, e, "pid %ld, ssh on 127.0.0.1:%d%s", (long)r.pid, r.ssh_port,
	    r.retried_tcg ? " (retried under tcg)" : "");
out:
	qq_spawn_result_free(&r);
	qq_cmdline_free(&c);
	free(chk);
	free(key);
	return rc;
}

/*
 * Start: first every step as a dry run on copies of the settings and facts
 * (checks only, no writes, quiet), so that a bad setting, file or state is
 * refused before the first write; then the real steps. qq-run -n is that
 * dry run alone, talking.
 */
static int
start(struct qq_settings *s, struct qq_facts *f, struct qq_run_opts *o, struct qq_err *e)
{
	struct qq_settings *s2;
	struct qq_facts f2 = { NULL, 0, 0 };
	struct qq_run_opts o2 = *o;
	int rc = 0;

	if (o->dry_run)
		return steps(s, f, o, e);
	if ((s2 = malloc(sizeof(*s2))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to start");
	*s2 = *s;
	for (size_t i = 0; rc == 0 && i < f->n; i++)
		rc = qq_facts_add(&f2, f->v[i].key, f->v[i].value, e);
	o2.dry_run = 1;
	o2.talk = NULL;
	o2.quiet_plan = 1;
	if (rc == 0)
		rc = steps(s2, &f2, &o2, e);
	qq_facts_free(&f2);
	free(s2);
	return rc != 0 ? rc : steps(s, f, o, e);
}

void
qq_run_init(struct qq_run_opts *o)
{
	FILE *talk = o->talk;

	memset(o, 0, sizeof(*o));
	o->talk = talk;
	qq_stop_defaults(&o->stop);
}

void
qq_run_free(struct qq_run_opts *o)
{
	free((void *)o->stage.tests);
	free((void *)o->stage.tests_dirs);
	free((void *)o->mkimage.qnx_opts);
	o->mkimage.qnx_opts = NULL;
	o->mkimage.nqnx_opts = 0;
	o->stage.tests = o->stage.tests_dirs = NULL;
	o->stage.ntests = o->stage.ntests_dirs = 0;
}

/* Appends arg to a list of borrowed strings. */
static int
push(const char *const **list, size_t *n, const char *arg, struct qq_err *e)
{
	const char **v;

	if ((v = reallocarray((void *)*list, *n + 1, sizeof(*v))) == NULL)
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to store %s", arg);
	v[(*n)++] = arg;
	*list = v;
	return 0;
}

int
qq_run_option(struct qq_run_opts *o, int ch, const char *arg, struct qq_err *e)
{
	switch (qq_test_option(&o->test, ch, arg, e)) {
	case 1: return 0;
	case -1: return e->status;
	}
	switch (ch) {
	case QQ_RUN_OPT_RUN_TESTS: o->run_tests = 1; return 0;
	case QQ_RUN_OPT_KEEP: o->keep = 1; return 0;
	case QQ_RUN_OPT_TESTS:
		return push(&o->stage.tests_dirs, &o->stage.ntests_dirs, arg, e);
	case QQ_RUN_OPT_TEST:
		return push(&o->stage.tests, &o->stage.ntests, arg, e);
	case QQ_RUN_OPT_BUILDER: o->mkimage.builder = arg; return 0;
	case QQ_RUN_OPT_BASE: o->mkimage.base = arg; return 0;
	case QQ_RUN_OPT_SSH_PUBKEY: o->mkimage.ssh_pubkey = arg; return 0;
	case QQ_RUN_OPT_REBUILD: o->mkimage.rebuild = 1; return 0;
	case QQ_RUN_OPT_KERNEL: o->cmdline.kernel = arg; return 0;
	case QQ_RUN_OPT_DISK: o->cmdline.disk = arg; return 0;
	case QQ_RUN_OPT_INITRD: o->cmdline.initrd = arg; return 0;
	case QQ_RUN_OPT_APPEND: o->cmdline.append = arg; return 0;
	case 'd':
		o->cmdline.detach = o->spawn.detach = 1;
		return 0;
	case QQ_RUN_OPT_WAIT_SSH:	/* waiting for the guest implies running detached */
		o->cmdline.detach = o->spawn.detach = 1;
		o->spawn.wait_ssh = -1;
		return arg == NULL ? 0 :
		    qq_cli_number("wait-ssh", arg, 1, 86400, "seconds", &o->spawn.wait_ssh, e);
	case QQ_RUN_OPT_TCG_FALLBACK: o->spawn.tcg_fallback = 1; return 0;
	case QQ_RUN_OPT_FORCE: o->stop.force = 1; return 0;
	case QQ_RUN_OPT_POWERDOWN:
		return qq_cli_ms("powerdown-timeout", arg, &o->stop.powerdown_ms, e);
	case QQ_RUN_OPT_QUIT: return qq_cli_ms("quit-timeout", arg, &o->stop.quit_ms, e);
	case QQ_RUN_OPT_TERM: return qq_cli_ms("term-timeout", arg, &o->stop.term_ms, e);
	case 'n': o->dry_run = 1; return 0;
	case '0': o->nul = 1; return 0;
	case QQ_RUN_OPT_CLEAN: o->clean = 1; return 0;
	case QQ_RUN_OPT_IMAGE: o->image = arg; return 0;
	case QQ_RUN_OPT_MKQNXIMAGE_OPT:
		if (qq_mkimage_qnx_opt(arg, "--mkqnximage-opt", e) != 0)
			return e->status;
		return push(&o->mkimage.qnx_opts, &o->mkimage.nqnx_opts, arg, e);
	case 'v': o->verbose = 1; return 0;
	}
	return qq_err_set(e, QQ_EXIT_USAGE, "unknown option");
}

int
qq_run_ssh_word(int *argcp, char *argv[], const char *optstring, const struct option *opts)
{
	int ssh;

	/* After "ssh" every word is the guest command's, its options too: find it unpermuted. */
	opterr = 0;
	optind = 0;
	while (getopt_long(*argcp, argv, optstring, opts, NULL) != -1)
		;
	opterr = 1;
	ssh = optind < *argcp && strcmp(argv[optind], "ssh") == 0;
	if (ssh) {
		/*
		 * "qq-run ssh --workspace DIR CMD" (the hint qq-run prints) as well as
		 * "qq-run --workspace DIR ssh CMD": options on either side of the word,
		 * up to the first word of the command.
		 */
		memmove(argv + optind, argv + optind + 1,
		    (size_t)(*argcp - optind) * sizeof(*argv));
		(*argcp)--;
	}
	optind = 0;
	return ssh;
}

int
qq_run_operands(struct qq_run_opts *o, int ssh, int argc, char *argv[], struct qq_err *e)
{
	if (ssh) {
		o->ssh_cmd = optind < argc ? argv + optind : NULL;
		return qq_run_operand(o, "ssh", e);
	}
	if (argc - optind > 1)
		return qq_err_set(e, QQ_EXIT_USAGE, "one PROGRAM, stop or clean");
	return qq_run_operand(o, optind < argc ? argv[optind] : NULL, e);
}

int
qq_run_prints_facts(const struct qq_run_opts *o)
{
	/* A dry run printed the argv; --run-tests prints the TAP stream. */
	return !(o->action == QQ_RUN_START && (o->dry_run || o->run_tests));
}

int
qq_run_operand(struct qq_run_opts *o, const char *arg, struct qq_err *e)
{
	if (arg == NULL) {
		if (o->clean || (o->image == NULL && o->cmdline.kernel == NULL))
			return qq_err_set(e, QQ_EXIT_USAGE, "no PROGRAM (or --image DIR)");
		o->action = QQ_RUN_START;
		return 0;
	}
	if (o->image != NULL && strcmp(arg, "stop") != 0 && strcmp(arg, "clean") != 0)
		return qq_err_set(e, QQ_EXIT_USAGE, "--image boots an image as it is: no PROGRAM");
	if (strcmp(arg, "stop") == 0)
		o->action = o->clean ? QQ_RUN_CLEAN : QQ_RUN_STOP;	/* qq-stop --clean */
	else if (strcmp(arg, "clean") == 0)
		o->action = QQ_RUN_CLEAN;
	else if (strcmp(arg, "ssh") == 0 && !o->clean)
		o->action = QQ_RUN_SSH;
	else if (o->clean)
		return qq_err_set(e, QQ_EXIT_USAGE, "--clean goes with stop");
	else {
		o->action = QQ_RUN_START;
		o->stage.program = arg;
	}
	return 0;
}

/*
 * --run-tests: boot detached and wait for the login (or reuse the VM that
 * runs), run the tests (TAP on stdout), then stop the VM unless --keep or it
 * ran before. 0 all passed, 1 some did not, 4 the runner failed: a failure
 * to boot, log in or stop is never 1, and tests that did not run are never 0.
 */
static int
run_tests(struct qq_settings *s, struct qq_facts *f, struct qq_run_opts *o, struct qq_err *e)
{
	struct qq_test_summary sum;
	struct qq_facts stopped = { NULL, 0, 0 };
	struct qq_guest g;
	struct qq_err ge;
	struct step st;
	int rc, trc;

	if (o->dry_run)
		return qq_err_set(e, QQ_EXIT_USAGE, "--run-tests runs the tests: no -n");
	if ((rc = qq_test_junit_check(&o->test, e)) != 0 ||	/* before building or booting */
	    (rc = qq_settings_get(s, QQ_SET_WORKSPACE, f, e)) != 0)
		return rc;
	o->reuse = qq_guest_open(&g, s->val[QQ_SET_WORKSPACE], &ge) == 0;
	o->cmdline.detach = o->spawn.detach = 1;
	if (o->spawn.wait_ssh == 0)
		o->spawn.wait_ssh = -1;
	if ((rc = start(s, f, o, e)) != 0)
		return rc == QQ_EXIT_USAGE || rc == QQ_EXIT_INPUT ? rc : QQ_EXIT_RUNTIME;
	if (o->reuse && o->verbose && o->talk != NULL)
		fprintf(o->talk, "qq-run: test          using the VM already running in %s "
		    "(left running)\n", s->val[QQ_SET_WORKSPACE]);
	step_begin(&st, o, "test");
	o->test.tap = stdout;
	o->test.talk = o->verbose ? o->talk : NULL;
	trc = qq_test_run(s, f, &o->test, &sum, e);
	if (trc == QQ_EXIT_NO)
		qq_err_set(e, QQ_EXIT_NO, "%zu of %zu tests did not pass", sum.n - sum.passed, sum.n);
	else
		trc = step_end(&st, trc, e, "%zu tests passed", sum.passed);
	if (!o->reuse && !o->keep) {
		step_begin(&st, o, "stop");
		rc = qq_stop_ws(s->val[QQ_SET_WORKSPACE], &o->stop, &stopped, &ge);
		qq_facts_free(&stopped);
		if (step_end(&st, rc, &ge, "%s", s->val[QQ_SET_WORKSPACE]) != 0 &&
		    trc != QQ_EXIT_RUNTIME) {
			*e = ge;
			trc = e->status = QQ_EXIT_RUNTIME;
		}
	}
	return trc;
}

/* qq-run ssh: the workspace's running VM, with its key, port and pin; the command's status. */
static int
ssh(struct qq_settings *s, const struct qq_facts *f, struct qq_run_opts *o, struct qq_err *e)
{
	struct qq_guest *g;
	char msg[QQ_ERR_MAX];
	int rc;

	if ((g = malloc(sizeof(*g))) == NULL)
		return qq_err_sys(e, QQ_GUEST_FAILED, "ssh: unable to start");
	if ((rc = qq_settings_get(s, QQ_SET_WORKSPACE, f, e)) == 0 &&
	    (rc = qq_guest_open(g, s->val[QQ_SET_WORKSPACE], e)) == 0)
		rc = qq_guest_run(g, o->ssh_cmd, &o->ssh_status, e);
	free(g);
	if (rc != 0) {
		/* Whatever kept ssh from running is qq's failure, told apart from the command's. */
		strlcpy(msg, e->msg, sizeof(msg));
		qq_err_set(e, QQ_GUEST_FAILED, "ssh: %s", msg);
		return QQ_GUEST_FAILED;
	}
	return 0;
}

int
qq_run(struct qq_settings *s, struct qq_facts *f, struct qq_run_opts *o, struct qq_err *e)
{
	struct step st;
	int rc;

	e->status = 0;
	switch (o->action) {
	case QQ_RUN_SSH:
		return ssh(s, f, o, e);
	case QQ_RUN_START:
		return o->run_tests ? run_tests(s, f, o, e) : start(s, f, o, e);
	case QQ_RUN_STOP:
	case QQ_RUN_CLEAN:
		step_begin(&st, o, o->action == QQ_RUN_STOP ? "stop" : "clean");
		if ((rc = qq_settings_get(s, QQ_SET_WORKSPACE, f, e)) != 0)
			return step_end(&st, rc, e, "%s", "");
		if (o->dry_run) {
			struct qq_ws w;
			struct stat sb;

			/* What the real stop would refuse: a directory that is not ours. */
			if (stat(s->val[QQ_SET_WORKSPACE], &sb) == 0 &&
			    (rc = qq_ws_open(&w, s->val[QQ_SET_WORKSPACE], 0, e)) != 0)
				return step_end(&st, rc, e, "%s", "");
			if (o->talk != NULL)
				qq_err_say(o->talk, "qq-run", "would %s the VM of %s%s",
				    o->action == QQ_RUN_STOP ? "stop" : "stop and wipe",
				    s->val[QQ_SET_WORKSPACE],
				    o->action == QQ_RUN_STOP ? "" : " and delete the workspace");
			return 0;
		}
		if (o->action == QQ_RUN_STOP)
			rc = qq_stop_ws(s->val[QQ_SET_WORKSPACE], &o->stop, f, e);
		else
			rc = qq_stop_clean(s->val[QQ_SET_WORKSPACE], &o->stop, f, e);
		/* "not running" is an answer, not a failure of a step: keep its words. */
		if (rc == QQ_EXIT_NO)
			return rc;
		return step_end(&st, rc, e, "%s", s->val[QQ_SET_WORKSPACE]);
	}
	return qq_err_set(e, QQ_EXIT_USAGE, "unknown action");
}
