/* suites.h: one check suite per library module, all run by check_qq. */
#ifndef SUITES_H
#define SUITES_H

#include <sys/types.h>

#include <check.h>

Suite	*suite_cli(void);
Suite	*suite_err(void);
Suite	*suite_facts(void);
Suite	*suite_file(void);
Suite	*suite_proc(void);
Suite	*suite_quote(void);
Suite	*suite_settings(void);
Suite	*suite_workspace(void);
Suite	*suite_accel(void);
Suite	*suite_keygen(void);
Suite	*suite_cmdline(void);
Suite	*suite_copy(void);
Suite	*suite_cpio(void);
Suite	*suite_digest(void);
Suite	*suite_mkimage(void);
Suite	*suite_stage(void);
Suite	*suite_qmp(void);
Suite	*suite_vm(void);
Suite	*suite_stop(void);
Suite	*suite_spawn(void);
Suite	*suite_ready(void);
Suite	*suite_guest(void);
Suite	*suite_run(void);
Suite	*suite_result(void);
Suite	*suite_testplan(void);
Suite	*suite_tap(void);
Suite	*suite_junit(void);
Suite	*suite_guest_run(void);
Suite	*suite_exec(void);
Suite	*suite_mux(void);

/* A fresh temporary directory for a test; removed by rmtree. */
char	*test_tmpdir(void);
void	 test_rmtree(const char *path);
/* Writes len bytes to dir/name with exactly mode; fails the test on error. */
void	 test_put(const char *dir, const char *name, const void *buf, size_t len, mode_t mode);
/* The same for a string. */
void	 test_puts(const char *dir, const char *name, const char *text, mode_t mode);
/* out = s with every @ replaced by dir (tables name paths under a fixture directory). */
void	 test_subst(char *out, size_t outsz, const char *s, const char *dir);
/* A checked fixture: saves HOME, PATH and the working directory, and restores them. */
void	 test_env_save(void);
void	 test_env_restore(void);

/*
 * A stand-in OpenSSH ControlMaster listening on path (PROTOCOL.mux): runs
 * each session's command with the local sh; refuses the first `refuse`
 * session requests. Its pid; fakemux_stop kills it.
 */
pid_t	 fakemux_start(const char *path, int refuse);
void	 fakemux_stop(pid_t pid);

#endif
