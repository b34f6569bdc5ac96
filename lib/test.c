/* test.c: qq-test: the staged tests run in the guest, N at a time over one connection, reported as TAP and JUnit. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qq.h"

/* After the kill at a timeout, how long the session may take to end before we give up on it. */
#define KILL_GRACE_US	(30LL * 1000000)

struct slot {
	struct qq_guest_job	 j;
	size_t			 idx;
	int			 active;
	int			 outfd, errfd;
	long long		 deadline_us;
	long long		 kill_deadline_us;
	int			 timed_out;
	int			 retries;	/* sessions lost before the test started */
};

struct runner {
	const struct qq_test_opts	*o;
	struct qq_test_plan		 plan;
	struct qq_result		*res;
	char				*done;
	char				 resdir[QQ_VALUE_MAX];
	char				 junit[QQ_VALUE_MAX];
	struct qq_guest_conn		*c;
	int				 timeout_s;	/* per test */
	size_t				 reported;
	int				 failed;	/* the runner failed: start nothing more */
	struct qq_err			 ferr;		/* why */
};

/* A whole number from an environment variable, if set; a bad one is bad input naming it. */
static int
env_number(const char *name, long long lo, long long hi, int *out, int *set, struct qq_err *e)
{
	const char *v = getenv(name), *errstr;

	*set = 0;
	if (v == NULL || *v == '\0')
		return 0;
	*out = (int)strtonum(v, lo, hi, &errstr);
	if (errstr != NULL)
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%.100s\": expected a number from %lld "
		    "to %lld", name, v, lo, hi);
	*set = 1;
	return 0;
}

/*
 * Bazel's test protocol (bazel.build/reference/test-encyclopedia): shard
 * variables, the JUnit file, the undeclared outputs directory, the test
 * filter and the private temporary directory.
 */
static int
bazel(struct runner *r, struct qq_test_select *sel, struct qq_err *e)
{
	const char *v;
	int fd, have_total, have_index;

	if (env_number("TEST_TOTAL_SHARDS", 0, 1000000, &sel->shard_total, &have_total, e) != 0 ||
	    env_number("TEST_SHARD_INDEX", 0, 999999, &sel->shard_index, &have_index, e) != 0)
		return e->status;
	if (have_index && !have_total)
		return qq_err_set(e, QQ_EXIT_INPUT, "TEST_SHARD_INDEX is set without TEST_TOTAL_SHARDS");
	if (have_total && sel->shard_total > 0 && (v = getenv("TEST_SHARD_STATUS_FILE")) != NULL &&
	    *v != '\0') {
		/* "The test runner should touch this file to indicate it supports sharding." */
		if ((fd = open(v, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
			return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to touch TEST_SHARD_STATUS_FILE "
			    "%s", v);
		close(fd);
	}
	if (sel->filter == NULL && (v = getenv("TESTBRIDGE_TEST_ONLY")) != NULL && *v != '\0')
		sel->filter = v;	/* bazel test --test_filter */
	if (r->junit[0] == '\0' && (v = getenv("XML_OUTPUT_FILE")) != NULL && *v != '\0' &&
	    strlcpy(r->junit, v, sizeof(r->junit)) >= sizeof(r->junit))
		return qq_err_set(e, QQ_EXIT_INPUT, "XML_OUTPUT_FILE too long");
	if ((v = getenv("TEST_UNDECLARED_OUTPUTS_DIR")) != NULL && *v != '\0' &&
	    strlcpy(r->resdir, v, sizeof(r->resdir)) >= sizeof(r->resdir))
		return qq_err_set(e, QQ_EXIT_INPUT, "TEST_UNDECLARED_OUTPUTS_DIR too long");
	if ((v = getenv("TEST_TMPDIR")) != NULL && *v != '\0')
		setenv("TMPDIR", v, 1);	/* ssh and everything else we start keep their files there */
	return 0;
}

int
qq_test_junit_check(const struct qq_test_opts *o, struct qq_err *e)
{
	const char *path = o->junit, *what = "--junit";
	char dir[QQ_VALUE_MAX], *slash;
	struct stat st;

	if (path == NULL && (path = getenv("XML_OUTPUT_FILE")) != NULL)
		what = "XML_OUTPUT_FILE";
	if (path == NULL || (*path == '\0' && o->junit == NULL))
		return 0;
	if (*path == '\0')
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"\": an empty path", what);
	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%.100s...\": too long", what, path);
	/* The report is a temporary file in its directory, renamed over the path (junit.c). */
	if ((slash = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else
		slash[slash == dir] = '\0';	/* "/r.xml" is in "/" */
	if (stat(dir, &st) == -1)
		return qq_err_sys(e, QQ_EXIT_INPUT, "bad %s \"%s\": no directory %s", what, path,
		    dir);
	if (!S_ISDIR(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%s\": %s is not a directory", what,
		    path, dir);
	if (access(dir, W_OK | X_OK) == -1)
		return qq_err_sys(e, QQ_EXIT_INPUT, "bad %s \"%s\": unable to write in %s", what,
		    path, dir);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return qq_err_set(e, QQ_EXIT_INPUT, "bad %s \"%s\": a directory", what, path);
	return 0;
}

/* 1 when the VM runs under KVM: the accel fact, else QEMU's own command line. */
static int
under_kvm(const struct qq_facts *f, pid_t pid)
{
	const char *a = qq_facts_get(f, "accel");
	char path[64], *buf = NULL, *p;
	size_t len;
	struct qq_err ignored;
	int kvm = 0;

	if (a != NULL)
		return strcmp(a, "kvm") == 0;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	if (pid <= 0 || qq_file_read(path, 1 << 20, &buf, &len, &ignored) != 0)
		return 0;
	for (p = buf; p < buf + len; p += strlen(p) + 1)
		if (strcmp(p, "-accel") == 0 && p + strlen(p) + 1 < buf + len &&
		    strncmp(p + strlen(p) + 1, "kvm", 3) == 0)
			kvm = 1;
	free(buf);
	return kvm;
}

/* Writes the TAP lines (and progress) of every finished test whose predecessors are reported. */
static int
report(struct runner *r, struct qq_err *e)
{
	char words[QQ_ERR_MAX];
	int rc;

	while (r->reported < r->plan.n && r->done[r->reported]) {
		size_t i = r->reported++;

		if ((rc = qq_tap_result(r->o->tap, i + 1, &r->plan.v[i], &r->res[i], r->resdir, e))
		    != 0)
			return rc;
		if (r->o->talk != NULL) {
			qq_result_describe(&r->res[i], words, sizeof(words));
			fprintf(r->o->talk, "qq-test: [%zu/%zu] %s: %s (%.1f ms)\n", i + 1,
			    r->plan.n, r->plan.v[i].name, words, r->res[i].us / 1000.0);
		}
	}
	return 0;
}

static void
runner_fail(struct runner *r, const struct qq_err *e)
{
	if (!r->failed)
		r->ferr = *e;
	r->failed = 1;
}

static int
open_result(const struct runner *r, size_t i, const char *ext, struct qq_err *e)
{
	char path[QQ_VALUE_MAX * 2];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.%s", r->resdir, r->plan.v[i].stem, ext);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
		qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to write %s", path);
	return fd;
}

static void
start(struct runner *r, struct slot *sl, size_t i)
{
	char *argv[2] = { r->plan.v[i].guest, NULL };
	struct qq_err e;

	memset(sl, 0, sizeof(*sl));
	sl->idx = i;
	sl->outfd = sl->errfd = -1;
	if ((sl->outfd = open_result(r, i, "out", &e)) == -1 ||
	    (sl->errfd = open_result(r, i, "err", &e)) == -1 ||
	    qq_guest_job_start(r->c, argv, -1, sl->outfd, sl->errfd, &sl->j, &e) != 0) {
		if (sl->outfd != -1)
			close(sl->outfd);
		if (sl->errfd != -1)
			close(sl->errfd);
		runner_fail(r, &e);
		return;
	}
	sl->active = 1;
	sl->deadline_us = sl->j.t0_us + r->timeout_s * 1000000LL;
}

/*
 * The session of sl ended without a status. If it ran nothing
 * (qq_guest_job_ran_nothing: the test guest's dropbear closes a just-opened
 * channel, or aborts the whole connection, when another session ends at
 * that moment), the test is started again on the same output files, after
 * qq_guest_retry_pause, on the master opened again if it died (else every
 * session would fall back to an ssh process of its own). A test that had
 * started is never run twice: it stays not run. 1 restarted; 0 not (*e
 * says why).
 */
static int
retry(struct runner *r, struct slot *sl, struct qq_err *e)
{
	char *argv[2] = { r->plan.v[sl->idx].guest, NULL };
	struct qq_guest g;

	if (sl->timed_out || r->failed || !qq_guest_job_ran_nothing(&sl->j) ||
	    !qq_guest_retry_pause(++sl->retries))
		return 0;
	g = r->c->g;	/* qq_guest_master_open clears *c first */
	if (qq_sig_check(e) != 0 || qq_guest_master_open(r->c, &g, e) != 0 ||
	    qq_guest_job_start(r->c, argv, -1, sl->outfd, sl->errfd, &sl->j, e) != 0)
		return 0;
	sl->deadline_us = sl->j.t0_us + r->timeout_s * 1000000LL;
	return 1;
}

/* The job of sl ended (or was given up on): its result, unless it is started again (retry). */
static void
finish(struct runner *r, struct slot *sl, int abandoned)
{
	struct qq_result *res = &r->res[sl->idx];
	struct qq_err e;
	int rc;

	if (abandoned) {
		/* Its session did not end after the kill (or the run stopped): our side ends it. */
		qq_guest_job_abandon(&sl->j);
		rc = 0;
		sl->j.status = 128 + 9;
		sl->j.us = qq_vm_now_us() - sl->j.t0_us;
		if (!sl->timed_out) {
			/* The runner's own reason when it has one (a signal: "interrupted by ..."). */
			if (r->failed)
				e = r->ferr;
			else
				qq_err_set(&e, QQ_EXIT_RUNTIME, "the run stopped before the test ended");
			rc = e.status;
			sl->j.status = -1;
		}
	} else if ((rc = qq_guest_job_wait(&sl->j, &e)) != 0 && retry(r, sl, &e))
		return;
	if (rc != 0 && !sl->timed_out) {
		/* No status: the guest or the connection is gone; this test did not complete. */
		runner_fail(r, &e);
		qq_result_notrun(res, e.msg);
	} else {
		qq_result_set(res, sl->j.status, sl->timed_out, sl->j.signame);
		res->us = sl->j.us;
	}
	close(sl->outfd);
	close(sl->errfd);
	sl->active = 0;
	r->done[sl->idx] = 1;
}

/*
 * A SIGINT, SIGTERM or SIGHUP was caught (sig.c): start nothing more, kill
 * the running tests' groups in the guest (their sessions are then given up
 * on: the run ends now); they and the tests not started are not run.
 */
static void
interrupted(struct runner *r, struct qq_guest_conn *c, struct slot *slots, int jobs)
{
	struct qq_err e, ke;
	int k;

	(void)qq_sig_check(&e);
	runner_fail(r, &e);
	for (k = 0; k < jobs; k++)
		if (slots[k].active && !slots[k].timed_out)
			(void)qq_guest_job_kill(c, &slots[k].j, &ke);
}

/* poll(2) that a caught signal always ends: none slips in between the check and the wait. */
static int
wait_jobs(struct pollfd *pfd, int jobs, long long wait_us)
{
	struct timespec ts = { (time_t)(wait_us / 1000000), (long)(wait_us % 1000000) * 1000 };
	sigset_t block, old;
	int rc, saved;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (qq_sig_caught() == 0)
		rc = ppoll(pfd, (nfds_t)jobs, &ts, &old);
	else {
		rc = -1;
		errno = EINTR;
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return rc;
}

static int
run_all(struct runner *r, struct qq_guest_conn *c, int jobs, struct qq_err *e)
{
	struct slot *slots;
	struct pollfd *pfd;
	size_t next = 0, i;
	int running = 0, k, rc = 0;
	long long now, wait_us;

	if ((slots = calloc((size_t)jobs, sizeof(*slots))) == NULL ||
	    (pfd = calloc((size_t)jobs, sizeof(*pfd))) == NULL) {
		free(slots);
		return qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to run the tests");
	}
	for (;;) {
		if (qq_sig_caught() != 0) {
			interrupted(r, c, slots, jobs);
			break;
		}
		for (k = 0; k < jobs && !r->failed && next < r->plan.n; k++)
			if (!slots[k].active) {
				start(r, &slots[k], next++);
				running += slots[k].active;
			}
		if (running == 0)
			break;
		now = qq_vm_now_us();
		wait_us = 3600LL * 1000000;
		for (k = 0; k < jobs; k++) {
			long long d;

			pfd[k].fd = slots[k].active ? slots[k].j.errfd : -1;
			pfd[k].events = POLLIN;
			pfd[k].revents = 0;
			if (!slots[k].active)
				continue;
			d = (slots[k].timed_out ? slots[k].kill_deadline_us : slots[k].deadline_us)
			    - now;
			if (d < wait_us)
				wait_us = d < 0 ? 0 : d;
		}
		if (wait_jobs(pfd, jobs, wait_us) == -1 && errno != EINTR) {
			rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to wait for the tests");
			break;
		}
		now = qq_vm_now_us();
		for (k = 0; k < jobs; k++) {
			struct slot *sl = &slots[k];

			if (!sl->active)
				continue;
			if (pfd[k].revents != 0 && qq_guest_job_read(&sl->j) == 0) {
				finish(r, sl, 0);
				running -= !sl->active;
				continue;
			}
			if (!sl->timed_out && now >= sl->deadline_us) {
				struct qq_err ke;

				/* Kill the test's whole group in the guest; its session then ends. */
				sl->timed_out = 1;
				sl->kill_deadline_us = now + KILL_GRACE_US;
				if (qq_guest_job_kill(c, &sl->j, &ke) != 0)
					sl->kill_deadline_us = now;
			} else if (sl->timed_out && now >= sl->kill_deadline_us) {
				finish(r, sl, 1);
				running--;
			}
		}
		if ((rc = report(r, e)) != 0)
			break;
	}
	for (k = 0; k < jobs; k++)
		if (slots[k].active)
			finish(r, &slots[k], 1);
	for (i = 0; i < r->plan.n; i++)
		if (!r->done[i]) {
			qq_result_notrun(&r->res[i], r->failed ? r->ferr.msg : "the run stopped");
			r->done[i] = 1;
		}
	free(slots);
	free(pfd);
	return rc;
}

int
qq_test_run(struct qq_settings *s, const struct qq_facts *f, const struct qq_test_opts *o,
    struct qq_test_summary *sum, struct qq_err *e)
{
	struct runner r;
	struct qq_test_select sel = o->sel;
	struct qq_guest_conn c;
	struct qq_guest g;
	struct qq_junit j;
	char suite[64];
	const char *ws;
	long long t0 = qq_vm_now_us();
	time_t start = time(NULL);
	int rc;
	size_t i;

	memset(&r, 0, sizeof(r));
	memset(sum, 0, sizeof(*sum));
	memset(&g, 0, sizeof(g));
	e->status = 0;
	r.o = o;
	/* Before anything runs: a typo in a CI path must not cost the whole run first. */
	if ((rc = qq_test_junit_check(o, e)) != 0)
		return rc;
	if (o->junit != NULL && strlcpy(r.junit, o->junit, sizeof(r.junit)) >= sizeof(r.junit))
		return qq_err_set(e, QQ_EXIT_INPUT, "--junit path too long");
	if ((rc = qq_settings_get(s, QQ_SET_WORKSPACE, f, e)) != 0 ||
	    (rc = qq_settings_get(s, QQ_SET_ARCH, f, e)) != 0 ||
	    (rc = bazel(&r, &sel, e)) != 0)
		return rc;
	if (qq_facts_get(f, "stage") == NULL) {
		/* Only the workspace: what its staging tree holds (f itself stays as given). */
		struct qq_facts staged = { NULL, 0, 0 };

		if ((rc = qq_testplan_staged(s->val[QQ_SET_WORKSPACE], &staged, e)) == 0)
			rc = qq_testplan_build(&staged, &sel, &r.plan, e);
		qq_facts_free(&staged);
	} else
		rc = qq_testplan_build(f, &sel, &r.plan, e);
	if (rc != 0)
		return rc;
	ws = s->val[QQ_SET_WORKSPACE];
	snprintf(suite, sizeof(suite), "qq.%.32s", s->val[QQ_SET_ARCH]);
	if (r.resdir[0] == '\0' && (rc = qq_file_join(r.resdir, sizeof(r.resdir), ws,
	    "test-results", e)) != 0)
		goto out;
	if ((r.res = calloc(r.plan.n + 1, sizeof(*r.res))) == NULL ||
	    (r.done = calloc(r.plan.n + 1, 1)) == NULL) {
		rc = qq_err_sys(e, QQ_EXIT_RUNTIME, "unable to run the tests");
		goto out;
	}
	if ((rc = qq_tap_plan(o->tap, r.plan.n, e)) != 0)
		goto out;
	sum->n = r.plan.n;
	if (r.plan.n > 0) {
		struct qq_err ge;

		/*
		 * Every failure from here on is the runner's: the tests are
		 * reported not run. Before any test starts, the files of the
		 * last run go (a test not run now has none).
		 */
		if (qq_guest_open(&g, ws, &ge) != 0 || qq_file_mkdirs(r.resdir, 0755, &ge) != 0)
			runner_fail(&r, &ge);
		if (qq_testplan_outputs(r.resdir, &r.plan, &ge) != 0 ||
		    (!r.failed && qq_guest_master_open(&c, &g, &ge) != 0))
			runner_fail(&r, &ge);
		r.c = &c;
		r.timeout_s = o->timeout_s > 0 ? o->timeout_s : under_kvm(f, g.pid) ?
		    QQ_TEST_TIMEOUT_KVM : QQ_TEST_TIMEOUT_TCG;
		if (!r.failed && (rc = run_all(&r, &c, o->jobs > 0 ? o->jobs : 1, e)) != 0)
			goto out;
		for (i = 0; i < r.plan.n; i++)
			if (!r.done[i]) {
				qq_result_notrun(&r.res[i], r.ferr.msg);
				r.done[i] = 1;
			}
		if ((rc = report(&r, e)) != 0)
			goto out;
	} else if ((rc = qq_testplan_outputs(r.resdir, &r.plan, e)) != 0)
		goto out;	/* an empty shard: no file of an earlier run either */
	for (i = 0; i < r.plan.n; i++) {
		sum->passed += r.res[i].outcome == QQ_OUTCOME_PASSED;
		sum->notrun += r.res[i].outcome == QQ_OUTCOME_NOTRUN;
	}
	if (r.junit[0] != '\0') {
		j.suite = suite;
		j.plan = &r.plan;
		j.results = r.res;
		j.resdir = r.resdir;
		j.start = start;
		j.us = qq_vm_now_us() - t0;
		if ((rc = qq_junit_write(r.junit, &j, e)) != 0)
			goto out;
	}
	if (qq_sig_caught() != 0)
		rc = qq_sig_check(e);	/* 128+n, whatever ran: an interrupted run never passes */
	else if (r.failed) {
		*e = r.ferr;
		rc = e->status = QQ_EXIT_RUNTIME;
	} else
		rc = sum->passed == sum->n ? 0 : QQ_EXIT_NO;
out:
	sum->runner_failed = rc != 0 && rc != QQ_EXIT_NO;
	free(r.res);
	free(r.done);
	qq_testplan_free(&r.plan);
	return rc;
}

int
qq_test_option(struct qq_test_opts *o, int ch, const char *arg, struct qq_err *e)
{
	switch (ch) {
	case 'j':
		return qq_cli_number("jobs", arg, 1, QQ_TEST_JOBS_MAX, "tests at once", &o->jobs, e)
		    == 0 ? 1 : -1;
	case QQ_TEST_OPT_FILTER:
		o->sel.filter = arg;
		return 1;
	case QQ_TEST_OPT_REPEAT:
		return qq_cli_number("repeat", arg, 1, 100000, "runs", &o->sel.repeat, e) == 0 ?
		    1 : -1;
	case QQ_TEST_OPT_TIMEOUT:
		return qq_cli_number("test-timeout", arg, 1, 86400, "seconds", &o->timeout_s, e)
		    == 0 ? 1 : -1;
	case QQ_TEST_OPT_JUNIT:
		o->junit = arg;
		return 1;
	}
	return 0;
}
