/* qq.h: the public interface of libqq, one section per library module. */
#ifndef QQ_H
#define QQ_H

#include <sys/types.h>

#include <getopt.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/*
 * err.c: errors carrying an exit class and one message.
 * The library never exits and never prints: a failing function fills a
 * struct qq_err and returns its exit status (nonzero); main() reports it.
 */
enum {
	QQ_EXIT_OK = 0,
	QQ_EXIT_NO = 1,		/* a negative answer */
	QQ_EXIT_USAGE = 2,	/* bad command line */
	QQ_EXIT_INPUT = 3,	/* bad value, bad binary, malformed facts */
	QQ_EXIT_RUNTIME = 4,	/* a system call, QEMU or mkqnximage failed */
	QQ_EXIT_NOEXEC = 126,
	QQ_EXIT_NOTFOUND = 127
};

#define QQ_ERR_MAX 1024

struct qq_err {
	int	 status;		/* one of QQ_EXIT_* */
	char	 msg[QQ_ERR_MAX];	/* one line, no program name */
};

/* Sets e and returns status. */
int	 qq_err_set(struct qq_err *e, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errno)"; errno is read on entry. */
int	 qq_err_sys(struct qq_err *e, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * The one escaping function for what messages show: control characters and
 * bytes outside ASCII as C escapes (\n, \t, \033) via strnvis(3), backslash
 * doubled; quoted also escapes '"'. out is always NUL-terminated (cut to fit).
 * qq_err_set and qq_err_sys apply it to a message that needs it.
 */
void	 qq_err_vis(char *out, size_t outsz, const char *in, int quoted);
/* Prints "prog: " and the formatted line, escaped like a message (warnings, progress). */
void	 qq_err_say(FILE *fp, const char *prog, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Prints "prog: msg" on stderr; returns e->status (for "return qq_err_report()"). */
int	 qq_err_report(const char *prog, const struct qq_err *e);
/* The exit status of a child from a waitpid(2) status: code, or 128+signal. */
int	 qq_err_wstatus(int wstatus);

/*
 * sig.c: SIGINT, SIGTERM and SIGHUP as a request to stop: long loops (copies,
 * children, staging) check it, clean up and fail with 128+n; main re-raises it.
 */
/* Records sig as caught (async-signal-safe: for a module's own handler). */
void	 qq_sig_note(int sig);
/* Installs the handler (no SA_RESTART); a second signal kills by the default action. */
void	 qq_sig_catch(void);
/* The signal caught so far, or 0. */
int	 qq_sig_caught(void);
/* 0, or 128+n with "interrupted by signal n" once a signal was caught. */
int	 qq_sig_check(struct qq_err *e);
/* Dies by the caught signal, if any (after the caller cleaned up and reported). */
void	 qq_sig_reraise(void);

/*
 * facts.c: the key=value protocol between programs (qq.7).
 * Keys match [a-z][a-z0-9_]*; a value is every byte after the first '='
 * to the end of the line and never holds a newline or NUL.
 */
struct qq_fact {
	char	*key;
	char	*value;
};

struct qq_facts {
	struct qq_fact	*v;	/* in input order; owned */
	size_t		 n;
	size_t		 cap;
};

/* Frees every fact; the struct may be reused after. */
void	 qq_facts_free(struct qq_facts *f);
/* Nonzero when key is a well-formed fact key. */
int	 qq_facts_key_ok(const char *key);
/* Appends the facts read from fp; malformed input is QQ_EXIT_INPUT naming the line. */
int	 qq_facts_read(struct qq_facts *f, FILE *fp, const char *name, struct qq_err *e);
/* Reads standard input only when it is a pipe or a regular file. */
int	 qq_facts_read_stdin(struct qq_facts *f, struct qq_err *e);
/* The value of the last fact named key, or NULL. */
const char *qq_facts_get(const struct qq_facts *f, const char *key);
/* Removes every fact named key. */
void	 qq_facts_del(struct qq_facts *f, const char *key);
/* Appends key=value (for keys with many values, like stage). */
int	 qq_facts_add(struct qq_facts *f, const char *key, const char *value, struct qq_err *e);
/* Owned keys: removes every fact named key, then appends key=value. */
int	 qq_facts_set(struct qq_facts *f, const char *key, const char *value, struct qq_err *e);
/* printf-style qq_facts_set. */
int	 qq_facts_setf(struct qq_facts *f, struct qq_err *e, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* Writes every fact in order; a write error is QQ_EXIT_RUNTIME. */
int	 qq_facts_write(const struct qq_facts *f, FILE *fp, struct qq_err *e);

/*
 * settings.c: the configuration vocabulary (long option, fact, environment
 * variable, default, validator) and one resolver with the precedence
 * option > fact > environment > default.
 */
enum qq_setting {
	QQ_SET_ARCH,
	QQ_SET_SSH_PORT,
	QQ_SET_RAM,
	QQ_SET_SMP,
	QQ_SET_QNX_ROOT,
	QQ_SET_WORKSPACE,
	QQ_SET_ACCEL,
	QQ_SET_SSH_KEY,
	QQ_SET_QEMU,
	QQ_SET__COUNT
};

enum qq_source {
	QQ_SRC_DEFAULT,
	QQ_SRC_ENV,
	QQ_SRC_FACT,
	QQ_SRC_OPTION
};

struct qq_setting_def {
	const char	*option;	/* long option without "--" */
	const char	*fact;		/* fact key */
	const char	*env;		/* environment variable */
	const char	*def;		/* default, before validation; NULL: derived */
	const char	*what;		/* what a valid value looks like, for messages */
	int		(*valid)(const char *in, char *out, size_t outsz);
};

extern const struct qq_setting_def qq_settings_table[QQ_SET__COUNT];

#define QQ_VALUE_MAX 4096

struct qq_settings {
	const char	*opt[QQ_SET__COUNT];	/* from options; borrowed */
	char		 val[QQ_SET__COUNT][QQ_VALUE_MAX];	/* resolved, normalized */
	enum qq_source	 src[QQ_SET__COUNT];
};

/* Empties s: nothing given by option yet. */
void	 qq_settings_init(struct qq_settings *s);
/* Records the value of an option by its long name; QQ_EXIT_USAGE if unknown. */
int	 qq_settings_option(struct qq_settings *s, const char *option, const char *value,
	    struct qq_err *e);
/* Resolves and validates one setting; a bad value is QQ_EXIT_INPUT naming it and its source. */
int	 qq_settings_get(struct qq_settings *s, enum qq_setting which, const struct qq_facts *f,
	    struct qq_err *e);
/*
 * Writes as facts the resolved settings that came from options or the environment
 * (QNX_ROOT excepted), so later steps of a pipeline agree; an equal fact is left in place.
 */
int	 qq_settings_export(const struct qq_settings *s, struct qq_facts *f, struct qq_err *e);
/* Validators: write the normalized value to out; return 0, or -1 when bad. */
int	 qq_valid_arch(const char *in, char *out, size_t outsz);
int	 qq_valid_ram(const char *in, char *out, size_t outsz);
int	 qq_valid_smp(const char *in, char *out, size_t outsz);
int	 qq_valid_port(const char *in, char *out, size_t outsz);
int	 qq_valid_accel(const char *in, char *out, size_t outsz);
int	 qq_valid_path(const char *in, char *out, size_t outsz);
int	 qq_valid_command(const char *in, char *out, size_t outsz);
/* Parses a QEMU size (1G, 512M, 1024 = MiB) into bytes; -1 when malformed. */
int	 qq_size_parse(const char *s, unsigned long long *bytes);

/*
 * quote.c: arguments one per line, quoted exactly as xargs(1) unquotes.
 */
/* Writes arg quoted for xargs; -1 (errno EINVAL) for an argument holding a newline. */
int	 qq_quote_write(FILE *fp, const char *arg);
/* Writes argv one argument per line, or NUL-terminated when nul is set. */
int	 qq_quote_argv(FILE *fp, char *const argv[], int nul, struct qq_err *e);
/*
 * Reads arguments as xargs(1) does (blanks and newlines separate; quotes and
 * backslash protect), or NUL-separated when nul is set. *argvp is a NULL-
 * terminated array the caller frees with qq_argv_free.
 */
int	 qq_unquote_read(FILE *fp, int nul, char ***argvp, size_t *argcp, struct qq_err *e);
void	 qq_argv_free(char **argv);

/*
 * file.c: small file helpers.
 */
/* Writes len bytes to path through a temporary file and rename(2). */
int	 qq_file_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
	    struct qq_err *e);
/* Reads a whole file (at most max bytes) into a NUL-terminated malloc'd buffer. */
int	 qq_file_read(const char *path, size_t max, char **bufp, size_t *lenp, struct qq_err *e);
/* mkdir -p with mode for the directories it creates. */
int	 qq_file_mkdirs(const char *path, mode_t mode, struct qq_err *e);
/* dst = dir "/" name, refusing truncation (QQ_EXIT_INPUT). */
int	 qq_file_join(char *dst, size_t dstsz, const char *dir, const char *name, struct qq_err *e);
/* Removes a tree of ours: depth first, never following a link nor crossing a mount; 0 or -1 (errno). */
int	 qq_file_rmtree(const char *path);
/* An absolute version of path (not resolving symlinks): cwd prepended, "." and ".." folded. */
int	 qq_file_abspath(const char *path, char *out, size_t outsz, struct qq_err *e);

/*
 * proc.c: running programs with posix_spawn(3), never through a shell.
 */
struct qq_proc_out {
	char	*out;		/* captured stdout, NUL-terminated; owned */
	size_t	 outlen;
	char	*errout;	/* captured stderr, NUL-terminated; owned */
	size_t	 errlen;
	int	 status;	/* exit status: code, or 128+signal */
};

/*
 * Runs argv (PATH searched) with stdin from /dev/null, capturing stdout and
 * stderr. Fails with QQ_EXIT_NOTFOUND / QQ_EXIT_NOEXEC when argv[0] cannot
 * be run; a child that runs and fails is not an error (see r->status).
 */
int	 qq_proc_run(char *const argv[], char *const envp[], struct qq_proc_out *r,
	    struct qq_err *e);
#define QQ_PROC_TIMEOUT_MS 60000	/* qq_proc_run's bound */
/*
 * The same, bounded: past timeout_ms (-1: none) the child is killed and the
 * call fails (QQ_EXIT_RUNTIME); a caught signal (sig.c) kills it too (128+n);
 * once the child has exited, output still held open by a grandchild is read
 * for a moment, not waited for.
 */
int	 qq_proc_run_for(char *const argv[], char *const envp[], int timeout_ms,
	    struct qq_proc_out *r, struct qq_err *e);
void	 qq_proc_out_free(struct qq_proc_out *r);
/*
 * argv0 found (path gets it) and runnable: QQ_EXIT_NOTFOUND when it is not
 * found, QQ_EXIT_NOEXEC when it is not an executable regular file (execve(2)'s
 * rules); what ("QEMU") names it in the message, or NULL.
 */
int	 qq_proc_runnable(const char *argv0, const char *what, char *path, size_t pathsz,
	    struct qq_err *e);
/* Finds argv0 in PATH (or takes it as a path when it holds a '/'); 0, or -1 with errno. */
int	 qq_proc_which(const char *argv0, char *out, size_t outsz);

/*
 * workspace.c: the VM workspace (.qq marker, lock, paths).
 */
#define QQ_WS_MARKER ".qq"

struct qq_ws {
	char	 path[QQ_VALUE_MAX];	/* absolute */
	int	 lockfd;		/* -1 when not locked */
};

/*
 * Opens the workspace at path (made absolute). With create, a missing
 * directory is made with its marker; an existing one must carry the marker
 * (QQ_EXIT_INPUT otherwise: it is not ours).
 */
int	 qq_ws_open(struct qq_ws *ws, const char *path, int create, struct qq_err *e);
/* Takes the workspace lock without waiting; held: QQ_EXIT_RUNTIME naming the holder's pid. */
int	 qq_ws_lock(struct qq_ws *ws, struct qq_err *e);
/* Releases the lock, if held. */
void	 qq_ws_close(struct qq_ws *ws);
/*
 * Refuses (QQ_EXIT_RUNTIME naming the pid) when a VM holds the lock on
 * ws/output/qemu.pid; reads only. Every step that writes a workspace asks first.
 */
int	 qq_ws_idle(const char *ws, struct qq_err *e);
/*
 * Removes what a killed step of ours left (WS/staging.new, NAME.tmp*, in the
 * workspace, output/, local/snippets/ and staging/). Needs the lock: then
 * nobody else is writing them.
 */
int	 qq_ws_sweep(const struct qq_ws *ws, struct qq_err *e);
/*
 * What qq_ws_begin(create) would refuse, found without writing anything (dry
 * runs and qq-run's checks before its first write): not a directory, not ours,
 * a VM running. Sets ws->path; takes no lock.
 */
int	 qq_ws_check(struct qq_ws *ws, const char *path, struct qq_err *e);
/* What a writing step does first: open (create), lock, qq_ws_idle, qq_ws_sweep. */
int	 qq_ws_begin(struct qq_ws *ws, const char *path, int create, struct qq_err *e);
/* out = workspace path "/" rel. */
int	 qq_ws_path(const struct qq_ws *ws, const char *rel, char *out, size_t outsz,
	    struct qq_err *e);

/*
 * cli.c: what every program's main() shares.
 * Settings are long options whose getopt value is QQ_OPT_BASE + the setting.
 */
#define QQ_OPT_BASE 0x100
#define QQ_OPT(which) \
	{ NULL, 1, NULL, QQ_OPT_BASE + (which) }	/* name filled by qq_cli_options */

/* Fills the names of QQ_OPT entries from the settings table. */
void	 qq_cli_options(struct option *opts);
/* Records a setting option; returns 1 if ch was one, else 0. */
int	 qq_cli_setting(struct qq_settings *s, int ch, const char *arg);
/* Line-buffers stdout and reads the facts on stdin (pipe or file only). */
int	 qq_cli_begin(struct qq_facts *f, struct qq_err *e);
/* A whole number option from lo to hi; a bad one is QQ_EXIT_INPUT naming --opt, arg and unit. */
int	 qq_cli_number(const char *opt, const char *arg, long long lo, long long hi,
	    const char *unit, int *out, struct qq_err *e);
/* A timeout option in milliseconds, 0 to one hour (qq-stop's and qq-run's ladder bounds). */
int	 qq_cli_ms(const char *opt, const char *arg, int *out, struct qq_err *e);
/* --help's list of the setting options (from the settings table) and the man page to read. */
void	 qq_cli_help_settings(FILE *fp, const char *page);
/* Writes the facts when rc is 0, else reports e; frees f; returns the exit status. */
int	 qq_cli_end(const char *prog, struct qq_facts *f, int rc, const struct qq_err *e);

/*
 * accel.c: choosing kvm or tcg for the target arch on this host (qq-detect-accel).
 * KVM is usable when the host arch equals the target, the KVM device opens
 * read-write as a character device, on x86 the CPU shows vmx or svm (a
 * software KVM such as kvm_pvm passes every other check yet cannot boot a
 * stock guest), and the QEMU binary lists kvm in -accel help. For tests the
 * probes read QQ_HOST_ARCH (instead of uname(2)), QQ_KVM_DEVICE (/dev/kvm),
 * QQ_CPUINFO (/proc/cpuinfo) and QQ_SYSMODULE (/sys/module).
 */
struct qq_accel {
	char	 accel[8];		/* "kvm" or "tcg" */
	char	 reason[QQ_ERR_MAX];	/* one line: why */
	int	 warned;		/* auto fell back to tcg: show reason as a warning */
};

/*
 * Resolves the arch, accel and qemu settings and decides. tcg asked for:
 * no probe. auto: kvm when usable, else tcg with warned set. kvm asked for
 * but unusable: QQ_EXIT_NO with the reason. A QEMU binary that cannot be
 * found is QQ_EXIT_NOTFOUND (auto and kvm only).
 */
int	 qq_accel_detect(struct qq_settings *s, const struct qq_facts *f, struct qq_accel *out,
	    struct qq_err *e);
/* The probe alone for one target arch and QEMU binary: 1 usable, 0 not (reason says why), -1 error. */
int	 qq_accel_probe(const char *arch, const char *qemu, char *reason, size_t reasonsz,
	    struct qq_err *e);
/* qq-detect-accel: exports option settings, detects, sets accel and accel_reason. */
int	 qq_accel_facts(struct qq_settings *s, struct qq_facts *f, struct qq_accel *out,
	    struct qq_err *e);

/*
 * keygen.c: the SSH key to inject (qq-keygen).
 * The ssh_key setting names the private key or its .pub; without it,
 * ~/.ssh/id_ed25519.pub then ~/.ssh/id_rsa.pub; without either,
 * ssh-keygen creates ~/.ssh/id_ed25519 (never overwriting a file).
 */
#define QQ_PUBKEY_MAX 16384

struct qq_key {
	char	 key[QQ_VALUE_MAX];	/* private key, absolute */
	char	 pub[QQ_VALUE_MAX];	/* key ".pub" */
	char	 line[QQ_PUBKEY_MAX];	/* the public key line, no newline */
	int	 created;		/* 1 when ssh-keygen made it just now */
	char	 warn[QQ_ERR_MAX];	/* qq_keygen_facts: a key no batch login can use; "" none */
};

/*
 * Finds (or creates) the key. A missing, unreadable or malformed key, a
 * private key open to group or others, or a .pub without its private half
 * is QQ_EXIT_INPUT; ssh-keygen failing is QQ_EXIT_RUNTIME.
 */
int	 qq_keygen_find(struct qq_settings *s, const struct qq_facts *f, struct qq_key *out,
	    struct qq_err *e);
/* The same without creating anything: a missing key gives out->key, the key it would create, and an empty out->line. */
int	 qq_keygen_peek(struct qq_settings *s, const struct qq_facts *f, struct qq_key *out,
	    struct qq_err *e);
/* Checks one key pair given by either half and reads its public line. */
int	 qq_keygen_check(const char *path, struct qq_key *out, struct qq_err *e);
/*
 * 1 (and a one-line warn) when the private key has a passphrase that no
 * ssh-agent can supply: "ssh-keygen -y -P '' -f KEY" fails to decrypt it,
 * and "ssh-add -L" (at $SSH_AUTH_SOCK) does not list its public line. Batch
 * logins (BatchMode=yes: --wait-ssh, qq-test) would then be refused.
 * 0 otherwise, also when ssh-keygen cannot be run (nothing to say).
 */
int	 qq_keygen_locked(const struct qq_key *k, char *warn, size_t warnsz);
/* qq-keygen: exports option settings, finds the key, sets ssh_key and ssh_pubkey; fills warn. */
int	 qq_keygen_facts(struct qq_settings *s, struct qq_facts *f, struct qq_key *out,
	    struct qq_err *e);

/*
 * cmdline.c: the QEMU argv of DESIGN.md section 4 (qq-cmdline).
 */
#define QQ_SUN_PATH_MAX 107	/* bytes of a unix socket path, without the NUL */
#define QQ_CMDLINE_MACHINE "virt-4.2"
#define QQ_CMDLINE_WARN_MAX 2

struct qq_cmdline_opts {
	const char	*kernel;	/* NULL: fact, else WS/output/ifs.bin */
	const char	*disk;		/* NULL: fact, else WS/output/disk-qemu.vmdk; "": none */
	const char	*initrd;	/* NULL: fact, else none; "": none */
	const char	*append;	/* NULL: fact, else none; "": none */
	int		 detach;	/* daemonize with QMP and a serial log */
};

struct qq_cmdline {
	char	**argv;		/* NULL-terminated; owned, freed by qq_cmdline_free */
	size_t	  argc;
	char	  warn[QQ_CMDLINE_WARN_MAX][QQ_ERR_MAX];	/* for stderr */
	int	  nwarn;
};

/*
 * Builds the argv from settings (arch, ram, smp, ssh_port, accel, workspace,
 * qemu), facts and o. accel auto runs qq_accel_detect (its fallback is a
 * warning); aarch64 asks QEMU for its machines (qq_cmdline_machine).
 */
int	 qq_cmdline_build(struct qq_settings *s, const struct qq_facts *f,
	    const struct qq_cmdline_opts *o, struct qq_cmdline *c, struct qq_err *e);
void	 qq_cmdline_free(struct qq_cmdline *c);
/*
 * Where the QMP socket of workspace ws (absolute) lives: ws/qmp.sock when it
 * fits in sun_path, else /tmp/qq-<first 16 hex digits of SHA-256(ws)>/qmp.sock
 * (the caller creates that directory 0700).
 */
int	 qq_cmdline_qmp_path(const char *ws, char *out, size_t outsz, struct qq_err *e);
/* out = in with every comma doubled (QEMU's escape inside -drive file= and unix:). */
int	 qq_cmdline_comma(const char *in, char *out, size_t outsz);
/*
 * Picks the aarch64 machine from QEMU's "-machine help" text: virt-4.2 (0),
 * else the oldest virt-X.Y listed (1, a fallback to warn about); -1 if none.
 */
int	 qq_cmdline_pick_machine(const char *help, char *out, size_t outsz);
/* Runs "qemu -machine help" and picks; warn gets the fallback warning, if any. */
int	 qq_cmdline_machine(const char *qemu, char *out, size_t outsz, char *warn, size_t warnsz,
	    struct qq_err *e);

/*
 * copy.c: file contents copied by reflink (FICLONE) where the filesystem
 * allows, else copy_file_range(2), else read/write.
 */
enum { QQ_COPY_REFLINK = 1, QQ_COPY_RANGE, QQ_COPY_READ_WRITE };

/* Copies in (from its offset) to out; *how (may be NULL) says which way. 0, or -1 with errno. */
int	 qq_copy_fd(int in, int out, int *how);
/* Copies src to a new file dst (O_EXCL) with mode; a failed copy leaves no dst. */
int	 qq_copy_file(const char *src, const char *dst, mode_t mode, struct qq_err *e);

/*
 * digest.c: SHA-256 (libmd) of files, remembered by fingerprint (device,
 * inode, size, mtime and ctime in ns) in a cache file so unchanged files are
 * not read again. An entry counts only when the file's mtime and ctime are
 * older than the cache file itself (git's "racily clean" rule). The ctime
 * catches a same-size rewrite whose mtime was set back.
 */
#define QQ_DIGEST_HEX 65	/* 64 hex digits and a NUL */

struct stat;

struct qq_digest_ent {
	char			*path;		/* owned */
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	long long		 mtime_ns;
	long long		 ctime_ns;	/* st_ctim: moved on by every change */
	char			 hex[QQ_DIGEST_HEX];
	int			 used;		/* asked for in this run */
};

struct qq_digest_cache {
	struct qq_digest_ent	*v;		/* owned; [0, nloaded) sorted by path */
	size_t			 n, cap, nloaded;
	long long		 stamp_ns;	/* mtime of the cache file; 0: none */
	int			 dirty;
	int			 dirfd;		/* -1, or open on dir, for stat(2) */
	char			 dir[4096];
};

void	 qq_digest_buf(const void *buf, size_t len, char hex[QQ_DIGEST_HEX]);
/* Digest of what is left to read on fd; name is for messages. */
int	 qq_digest_fd(int fd, const char *name, char hex[QQ_DIGEST_HEX], struct qq_err *e);
/* Loads a cache file; missing means empty, a malformed or older-format line an unknown file. */
int	 qq_digest_load(struct qq_digest_cache *c, const char *path, struct qq_err *e);
/* The digest of a regular file, from the cache or by reading it; *st (may be NULL) gets stat(2). */
int	 qq_digest_get(struct qq_digest_cache *c, const char *path, char hex[QQ_DIGEST_HEX],
	    struct stat *st, struct qq_err *e);
/* Writes the entries used in this run, atomically, only when something changed. */
int	 qq_digest_save(struct qq_digest_cache *c, const char *path, struct qq_err *e);
void	 qq_digest_free(struct qq_digest_cache *c);

/*
 * stage.c: qq-stage: the program and its tests, checked (regular file,
 * owner-executable, a #! script or an ELF for the target arch), then copied
 * into WS/staging mirroring their guest paths. Each run builds a new tree
 * (unchanged files hard-linked, others copied) and swaps it in with one
 * renameat2(RENAME_EXCHANGE); when nothing changed, nothing is written.
 * A stage fact is "GUEST-PATH<tab>STAGED-HOST-PATH".
 */
#define QQ_STAGE_HOME	"/data/home/root"	/* the program; tests in tests/ below it */
#define QQ_STAGE_DIR	"staging"

struct qq_stage_opts {
	const char		 *program;
	const char *const	 *tests;	/* --test FILE */
	size_t			  ntests;
	const char *const	 *tests_dirs;	/* --tests DIR, searched recursively */
	size_t			  ntests_dirs;
	int			  check_only;	/* dry run: check every file, write nothing */
	int			  compare_only;	/* a running VM is reused: set changed, write nothing */
};

struct qq_stage_result {
	size_t	 files;		/* staged */
	size_t	 copied;	/* copied this time (the others were unchanged) */
	int	 changed;	/* the staging tree was replaced */
};

/* Nonzero when a file name passes the seed's test rule (DESIGN.md section 8). */
int	 qq_stage_test_name_ok(const char *name);
/* Tests under dir (recursively, unsorted): a NULL-terminated array freed with qq_argv_free. */
int	 qq_stage_discover(const char *dir, char ***pathsp, size_t *np, struct qq_err *e);
/* Checks a file for arch ("x86_64", "aarch64"); QQ_EXIT_INPUT naming what is wrong. */
int	 qq_stage_check(const char *path, const char *arch, struct stat *st, struct qq_err *e);
/*
 * The ELF program interpreter of path (PT_INTERP: "/usr/lib/ldqnx-64.so.2" on QNX,
 * "/lib64/ld-linux-x86-64.so.2" on Linux) into out; "" for a static binary, a
 * script or anything not a 64-bit little-endian ELF. Unreadable: QQ_EXIT_INPUT.
 */
int	 qq_stage_interp(const char *path, char *out, size_t outsz, struct qq_err *e);
/* A readable name for an ELF e_machine; buf holds it for unknown machines. */
const char *qq_stage_machine_name(int machine, int is64, char *buf, size_t bufsz);
/* qq-stage: exports option settings, stages, replaces every stage fact. */
int	 qq_stage_facts(struct qq_settings *s, struct qq_facts *f, const struct qq_stage_opts *o,
	    struct qq_stage_result *res, struct qq_err *e);
/* Splits a stage fact value; QQ_EXIT_INPUT unless GUEST is a file under /data/ and HOST absolute. */
int	 qq_stage_parse(const char *value, char *guest, size_t gsz, char *host, size_t hsz,
	    struct qq_err *e);

/*
 * cpio.c: a newc cpio archive (what Linux unpacks as initramfs), via libarchive.
 */
struct qq_cpio_entry {
	const char	*path;		/* in the archive, without a leading "/" */
	mode_t		 mode;		/* S_IFDIR or S_IFREG and permission bits */
	const char	*src;		/* regular file: read from this host file, or */
	const void	*data;		/* these bytes */
	size_t		 len;
	time_t		 mtime;
};

/* Writes the entries (uid 0, gid 0) to fd at its offset, with no block padding. */
int	 qq_cpio_write(int fd, const struct qq_cpio_entry *v, size_t n, struct qq_err *e);

/*
 * mkimage.c, mkimage_qnx.c, mkimage_initramfs.c: qq-mkimage: the guest image
 * from the stage facts, by mkqnximage (QNX SDP) or as an initramfs appended to
 * a Linux base guest; each builder sits behind lib/mkimage.h.
 * A SHA-256 over everything the image is built from is kept in
 * WS/image.key; when equal, the builder is not run.
 */
#define QQ_PUBKEY_LINE_MAX 16384

struct qq_mkimage_opts {
	const char	*builder;	/* NULL: QNX_QEMU_BUILDER, else mkqnximage */
	const char	*base;		/* initramfs base guest dir; NULL: QNX_QEMU_BASE */
	const char	*ssh_pubkey;	/* a .pub file; NULL: the ssh_pubkey fact */
	int		 rebuild;	/* ignore image.key */
	FILE		*talk;		/* cache notes, mkqnximage's last lines; NULL: quiet */
	const char *const *qnx_opts;	/* --mkqnximage-opt, borrowed; none: QNX_QEMU_MKQNXIMAGE_OPTS */
	size_t		 nqnx_opts;
	FILE		*errors;	/* mkqnximage's last lines on failure when talk is NULL */
};

struct qq_mkimage_result {
	char	 builder[16];
	char	 key[QQ_DIGEST_HEX];
	int	 built;		/* 0: cache hit */
};

struct qq_mkimage_file {
	const char	*guest;		/* /data/... */
	const char	*host;
	mode_t		 mode;
};

/* Resolves the builder: option, else QNX_QEMU_BUILDER, else mkqnximage. */
int	 qq_mkimage_builder(const char *opt, char *out, size_t outsz, struct qq_err *e);
/* The data_files.custom text (malloc'd) for these files. */
int	 qq_mkimage_snippet(const struct qq_mkimage_file *v, size_t n, char **textp,
	    struct qq_err *e);
/*
 * A dry run of qq_mkimage_facts: resolves the builder into builder and, for
 * initramfs, checks the base guest and sets the facts a build would set;
 * builds and writes nothing.
 */
int	 qq_mkimage_plan(struct qq_settings *s, struct qq_facts *f, const struct qq_mkimage_opts *o,
	    char *builder, size_t buildersz, struct qq_err *e);
/*
 * One user option for mkqnximage ("--name" or "--name=value"); from names it in
 * the message. One qq passes itself (--type, --arch, --ssh-ident, --build, --run,
 * --stop, --clean, --force, --noprompt) or one not starting with "--" is QQ_EXIT_INPUT.
 */
int	 qq_mkimage_qnx_opt(const char *opt, const char *from, struct qq_err *e);
/*
 * Checks o's --mkqnximage-opt options or, when there are none, those of
 * QNX_QEMU_MKQNXIMAGE_OPTS (split on blanks and newlines; no quoting).
 */
int	 qq_mkimage_qnx_opts_check(const struct qq_mkimage_opts *o, struct qq_err *e);
/* qq-mkimage: builds (or finds cached) and sets kernel, disk, and initrd and append. */
int	 qq_mkimage_facts(struct qq_settings *s, struct qq_facts *f, const struct qq_mkimage_opts *o,
	    struct qq_mkimage_result *r, struct qq_err *e);

/*
 * qmp.c: a QMP client on a unix socket. Every read is bounded by a timeout;
 * asynchronous events are skipped while a command waits for its reply.
 */
struct qq_qmp {
	int	 fd;		/* -1 when closed */
	size_t	 len;
	char	 buf[65536];
};

/* Connects, reads the greeting and negotiates capabilities; q->fd is -1 on failure. */
int	 qq_qmp_open(struct qq_qmp *q, const char *path, int timeout_ms, struct qq_err *e);
/*
 * Sends cmd (one JSON object) and waits for its "return" line, which it
 * stores in *reply (malloc'd, caller frees; reply may be NULL). An "error"
 * reply is QQ_EXIT_RUNTIME with QEMU's description; any other failure
 * (timeout, closed) also closes q, so a late reply never answers a later command.
 */
int	 qq_qmp_cmd(struct qq_qmp *q, const char *cmd, int timeout_ms, char **reply,
	    struct qq_err *e);
void	 qq_qmp_close(struct qq_qmp *q);
enum qq_qmp_kinds {
	QQ_QMP_OTHER = -1,	/* not JSON, not an object, or none of the below */
	QQ_QMP_GREETING,	/* {"QMP": ...} */
	QQ_QMP_RETURN,		/* {"return": ...} */
	QQ_QMP_ERROR,		/* {"error": {"desc": ...}}: desc gets the description */
	QQ_QMP_EVENT		/* {"event": NAME, ...}: desc gets NAME */
};
/* The kind of one QMP line (parsed as JSON with jansson); desc may be NULL. */
int	 qq_qmp_kind(const char *line, char *desc, size_t descsz);
/*
 * The string value of key in the JSON text json: a member of the top object or,
 * depth first, of an object inside it (never text inside a string); unescaped into
 * out. -1 if json is not JSON, the key is absent or not a string, or it is too long.
 */
int	 qq_qmp_string(const char *json, const char *key, char *out, size_t outsz);
/* The host port forwarded to guest port 22 in "info usernet" text; -1 if none. */
int	 qq_qmp_usernet_port(const char *text);

/*
 * vm.c: a VM process seen from outside: its pidfile lock, executable, exit,
 * SSH port and QMP socket.
 */
long long qq_vm_now_ms(void);
/* The same in microseconds. */
long long qq_vm_now_us(void);
/*
 * The pid holding the POSIX lock on pidfile (QEMU's -pidfile); 0 none or no file,
 * and also a holder in a PID namespace this process cannot see (fcntl F_GETLK
 * names it as pid 0: Linux fs/locks.c, locks_translate_pid); -1 error.
 */
pid_t	 qq_vm_holder(const char *pidfile);
/*
 * 1 when some process holds the lock on pidfile, seen or not from this PID
 * namespace (a test under Bazel's linux-sandbox runs in its own); 0 none or no
 * file; -1 error (errno set). The holder's pid goes to *pid (may be NULL): 0
 * when none, or when it is in a namespace this process cannot see.
 */
int	 qq_vm_held(const char *pidfile, pid_t *pid);
/* The pid written in pidfile, or -1. */
pid_t	 qq_vm_pidfile_read(const char *pidfile);
/* 1 when /proc/PID/exe is a qemu-system-* binary; its path goes to exe (may be NULL). */
int	 qq_vm_is_qemu(pid_t pid, char *exe, size_t exesz);
/* 0 when pid is gone or a zombie (a daemonized QEMU lingers as one). */
int	 qq_vm_alive(pid_t pid);
/* pidfd_open(2), or -1. */
int	 qq_vm_pidfd(pid_t pid);
/* Sends sig through the pidfd when there is one (immune to pid reuse), else kill(2). */
int	 qq_vm_signal(pid_t pid, int pidfd, int sig);
/* Waits up to timeout_ms for pid to exit, without spinning; 0 gone, -1 still alive. */
int	 qq_vm_wait_gone(pid_t pid, int pidfd, int timeout_ms);
/* 1 when 127.0.0.1:port cannot be bound, 0 when free, -1 error. */
int	 qq_vm_port_busy(int port);
/* "pid N (comm)" of the process owning a socket on port, from /proc; -1 if unknown. */
int	 qq_vm_port_holder(int port, char *out, size_t outsz);
/* The short private directory for a deep workspace's QMP socket: /tmp/qq-<16 hex of SHA-256>. */
int	 qq_vm_qmp_dir(const char *ws, char *out, size_t outsz);
/* The QMP socket of workspace ws (following WS/qmp.sock to the short dir); "" if none. */
int	 qq_vm_qmp_path(const char *ws, char *out, size_t outsz, struct qq_err *e);
/* Creates dir 0700, or checks an existing one is ours: a directory we own, not group/other-writable. */
int	 qq_vm_dir_private(const char *dir, struct qq_err *e);
/* Removes a stopped VM's pidfile, its sockets (only sockets) and its short QMP directory. */
void	 qq_vm_cleanup(const char *ws, const char *pidfile, const char *qmp);

/*
 * stop.c: stopping a VM up a bounded ladder, and wiping a workspace.
 */
enum qq_stop_step {
	QQ_STOP_POWERDOWN,	/* QMP system_powerdown: the guest shut itself down */
	QQ_STOP_QUIT,		/* QMP quit */
	QQ_STOP_SIGTERM,
	QQ_STOP_SIGKILL
};
/* The step's name as printed in stopped_by=. */
const char *qq_stop_step_name(enum qq_stop_step step);

struct qq_stop_opts {
	int	 powerdown_ms;	/* grace after system_powerdown */
	int	 quit_ms;	/* after QMP quit */
	int	 term_ms;	/* after SIGTERM */
	int	 kill_ms;	/* after SIGKILL, before giving up */
	int	 force;		/* skip system_powerdown */
};

void	 qq_stop_defaults(struct qq_stop_opts *o);
/*
 * Stops the QEMU holding pidfile's lock (qmp may be "" or NULL: signals
 * only). Nobody holding it: QQ_EXIT_NO ("not running"), removing a stale
 * pidfile. A holder that is not qemu-system-* is never signalled.
 * Removes nothing on success: see qq_vm_cleanup.
 */
int	 qq_stop_vm(const char *pidfile, const char *qmp, const struct qq_stop_opts *o,
	    enum qq_stop_step *by, struct qq_err *e);
/* Stops the VM of workspace ws, cleans up after it, and sets the fact stopped_by. */
int	 qq_stop_ws(const char *ws, const struct qq_stop_opts *o, struct qq_facts *f,
	    struct qq_err *e);
/*
 * Clean: stops the VM if any, then deletes the workspace, which must carry the
 * .qq marker (QQ_EXIT_INPUT otherwise, nothing deleted); never follows a
 * symbolic link nor crosses a mount point. Sets the fact cleaned.
 */
int	 qq_stop_clean(const char *path, const struct qq_stop_opts *o, struct qq_facts *f,
	    struct qq_err *e);

/*
 * spawn.c: starting QEMU from its argv (what qq-cmdline prints).
 */
#define QQ_SPAWN_FILES 16

/* What an argv tells about the VM; paths absolute, option escapes undone. */
struct qq_spawn_vm {
	char		 qemu[QQ_VALUE_MAX];		/* argv[0] */
	char		 pidfile[QQ_VALUE_MAX];		/* -pidfile */
	char		 workspace[QQ_VALUE_MAX];	/* parent of the pidfile's output/ */
	char		 qmp[QQ_VALUE_MAX];		/* -qmp unix:PATH */
	char		 serial_log[QQ_VALUE_MAX];	/* -serial file:PATH */
	char		 files[QQ_SPAWN_FILES][QQ_VALUE_MAX];	/* -kernel, -initrd, -drive file= */
	const char	*file_what[QQ_SPAWN_FILES];
	size_t		 nfiles;
	int		 ssh_port;	/* host port forwarded to guest 22; -1 none */
	int		 daemonize;
	int		 console_stdio;
	int		 kvm;
	int		 short_qmp;	/* qmp lives in qq_vm_qmp_dir(workspace) */
};

enum qq_spawn_wait {
	QQ_WAIT_OK,
	QQ_WAIT_TIMEOUT,
	QQ_WAIT_EXITED,
	QQ_WAIT_INTERNAL_ERROR,	/* QMP status internal-error: a KVM that cannot run the guest */
	QQ_WAIT_STOPPED,	/* shutdown, guest-panicked, io-error */
	QQ_WAIT_INTERRUPTED,
	QQ_WAIT_HOSTKEY,	/* the guest's host key is not the pinned one (same image) */
	QQ_WAIT_AUTH,		/* the guest refused the key, or its `true` failed */
	QQ_WAIT_GUEST_FAILED	/* the console says the boot failed (qq_spawn_console_failed) */
};

struct qq_spawn_opts {
	int		 detach;	/* -d: insist on a detached argv */
	int		 wait_ssh;	/* seconds; 0 no wait; -1 the accelerator's default */
	int		 tcg_fallback;	/* KVM internal-error: retry once under TCG */
	const char	*ssh_key;	/* for the ssh hint; may be NULL */
};

struct qq_spawn_result {
	pid_t			 pid;
	int			 ssh_port;
	enum qq_spawn_wait	 why;		/* how a failed wait ended */
	int			 retried_tcg;	/* KVM failed and the start was retried under TCG */
	char			*console_tail;	/* last console lines of a failed wait; owned */
	char			 hint[QQ_VALUE_MAX];	/* the ssh command to log in */
};

/* Reads what the argv says; QQ_EXIT_INPUT for a malformed one. */
int	 qq_spawn_parse(struct qq_spawn_vm *vm, char *const argv[], struct qq_err *e);
/*
 * The checks before anything starts: binary (127/126), kernel and disk files
 * (3), a VM already holding the pidfile (4), the SSH port taken (4).
 */
int	 qq_spawn_check(const struct qq_spawn_vm *vm, struct qq_err *e);
/*
 * 1 when the console log holds a line saying the guest's boot failed (Linux:
 * "Initramfs unpacking failed"), with that line in line (may be NULL); else 0.
 * Reads at most the first 4 MiB; an unreadable log is 0.
 */
int	 qq_spawn_console_failed(const char *log, char *line, size_t linesz);
/* A copy of argv with -accel kvm -> tcg and -cpu host -> max or cortex-a57. */
int	 qq_spawn_argv_tcg(char *const argv[], char ***out, struct qq_err *e);
/*
 * Starts QEMU. A foreground argv (no -daemonize) replaces this process after
 * the checks. A detached one runs to completion (and the optional wait), then
 * sets the facts pid, ssh_port, qmp, serial_log. A failed or interrupted wait
 * stops the VM first; if this process is killed, a guard process stops it.
 */
int	 qq_spawn_run(char *const argv[], const struct qq_spawn_opts *o,
	    struct qq_spawn_result *r, struct qq_facts *f, struct qq_err *e);
void	 qq_spawn_result_free(struct qq_spawn_result *r);
/* Writes to fp what the user should see: a failed wait's console tail, a TCG retry, the ssh hint. */
void	 qq_spawn_report(FILE *fp, const struct qq_spawn_result *r, int rc, int verbose);
/* A short name for a wait outcome. */
const char *qq_spawn_why(enum qq_spawn_wait why);

/*
 * guest.c: the guest side, seen from the host through OpenSSH's ssh(1):
 * the running VM of a workspace, the ssh argv, the pinned host key, and what
 * a remote end means. Every ssh qq starts or prints uses the private key
 * with IdentitiesOnly=yes (an agent holding many keys otherwise exhausts
 * the server's MaxAuthTries before ours is offered), the workspace's own
 * known_hosts under the alias HostKeyAlias=qq-guest (so the pin does not
 * depend on the forwarded port, which changes with --ssh-port 0) and
 * StrictHostKeyChecking=yes; only qq's readiness probe pins, with
 * accept-new (ssh_config(5), OpenSSH 7.6+: "add new host keys to the user
 * known hosts files, but not permit connections to hosts with changed host
 * keys"). ssh(1) "exits with the exit status of the remote command or with
 * 255 if an error occurred": 255 is qq's own failure (no VM, login lost).
 */
#define QQ_GUEST_FILE		"guest"		/* WS/guest: ssh_port=, ssh_key=, image= (at spawn) */
#define QQ_GUEST_KNOWN_HOSTS	"known_hosts"	/* WS/known_hosts: "# qq-image HEX" + the pin */
#define QQ_GUEST_ALIAS		"qq-guest"	/* HostKeyAlias of every pin */
#define QQ_GUEST_USER_HOST	"root@127.0.0.1"
#define QQ_GUEST_FAILED		255		/* ssh's (and qq's) own failure */
#define QQ_GUEST_IMAGE_MAX	80

struct qq_guest {
	char	 ws[QQ_VALUE_MAX];		/* workspace, absolute */
	char	 key[QQ_VALUE_MAX];		/* private key; "" unknown (no -i) */
	char	 known_hosts[QQ_VALUE_MAX];	/* WS/known_hosts */
	char	 image[QQ_GUEST_IMAGE_MAX];	/* WS/image.key when the VM started; "none" */
	int	 port;				/* host port forwarded to guest port 22 */
	pid_t	 pid;				/* QEMU holding WS/output/qemu.pid; 0 unknown */
	int	 hidden;			/* 1: that QEMU is in a PID namespace we cannot see */
};

/* Flags of qq_guest_argv_init. */
#define QQ_GUEST_BATCH	0x01	/* BatchMode=yes: nobody types (no passphrase, no prompt) */
#define QQ_GUEST_PIN	0x02	/* StrictHostKeyChecking=accept-new (the first login pins) */
#define QQ_GUEST_QUIET	0x04	/* LogLevel=ERROR */
#define QQ_GUEST_NOCONF	0x08	/* -F none: no user or system ssh_config (qq's own probes) */

/* A growing ssh argv; argv is NULL-terminated, owned, freed by qq_guest_argv_free. */
struct qq_guest_argv {
	char	**argv;
	size_t	  argc;
	size_t	  cap;
};

/*
 * Records in WS/guest (atomically, 0644) what later logins need: the SSH
 * port (the real one, read back when 0 was asked for), the private key
 * ("" when unknown) and the image digest of WS/image.key ("none" without one).
 */
int	 qq_guest_record(const char *ws, int port, const char *key, struct qq_err *e);
/*
 * Fills g for the VM of workspace ws (made absolute) from WS/guest. No VM
 * holding WS/output/qemu.pid: QQ_EXIT_NO "no VM is running in WS"; no or a
 * malformed WS/guest: QQ_EXIT_INPUT. g->pid is then the QEMU's pid, or 0 when
 * it runs in a PID namespace this process cannot see (qq_vm_held).
 */
int	 qq_guest_open(struct qq_guest *g, const char *ws, struct qq_err *e);
/* The same from explicit values, for a VM not started through a workspace (ws may be ""). */
int	 qq_guest_set(struct qq_guest *g, const char *ws, int port, const char *key,
	    struct qq_err *e);
/*
 * Before the first login of a boot: keeps a pin made for the same image,
 * removes one made for another image (a rebuilt image has new host keys),
 * and starts a missing known_hosts with its "# qq-image" line. *pinned is
 * 1 when a pin is in place (log in with StrictHostKeyChecking=yes), 0 when
 * the next login pins (QQ_GUEST_PIN). A write failure is QQ_EXIT_RUNTIME.
 */
int	 qq_guest_pin_prepare(const struct qq_guest *g, int *pinned, struct qq_err *e);
/* The SHA256:... fingerprint of the pin into out (ssh-keygen -l -F qq-guest); -1 none. */
int	 qq_guest_pin_fingerprint(const struct qq_guest *g, char *out, size_t outsz);
/*
 * Starts a->argv as "ssh -p PORT [-i KEY] -o IdentitiesOnly=yes
 * -o UserKnownHostsFile=KH -o HostKeyAlias=qq-guest -o CheckHostIP=no
 * -o StrictHostKeyChecking=yes|accept-new [flags' options]". A caller adds
 * its own options (ControlPath=..., ConnectTimeout=...) with
 * qq_guest_argv_opt, then ends it with qq_guest_argv_finish.
 */
int	 qq_guest_argv_init(struct qq_guest_argv *a, const struct qq_guest *g, int flags,
	    struct qq_err *e);
/* Appends "-o" opt (an ssh_config "Key=value"). */
int	 qq_guest_argv_opt(struct qq_guest_argv *a, const char *opt, struct qq_err *e);
/* Appends one raw argument (an ssh option such as "-t" or "-n"). */
int	 qq_guest_argv_add(struct qq_guest_argv *a, const char *arg, struct qq_err *e);
/*
 * Appends root@127.0.0.1 and, when cmd is not NULL, "--" and cmd. ssh joins
 * the words of cmd with spaces and the guest's shell parses them (ssh(1)).
 */
int	 qq_guest_argv_finish(struct qq_guest_argv *a, char *const cmd[], struct qq_err *e);
void	 qq_guest_argv_free(struct qq_guest_argv *a);
/*
 * Explains a failed login from ssh's stderr into e (QQ_EXIT_RUNTIME): a
 * changed host key names the pinned and the offered fingerprints.
 * Returns 1 for a changed host key (permanent), 2 for a refused key
 * (permanent once the guest is up), 0 when a later attempt may succeed
 * (refused, reset, timed out).
 */
int	 qq_guest_failure(const struct qq_guest *g, const char *ssh_stderr, struct qq_err *e);
/*
 * Runs ssh in the guest with this process's stdin, stdout and stderr (a
 * terminal stays the user's: without cmd, an interactive login) and waits.
 * *status: the remote command's exit status, 255 when ssh failed, 128+N
 * when ssh was killed by signal N. BatchMode unless stdin is a terminal.
 */
int	 qq_guest_run(const struct qq_guest *g, char *const cmd[], int *status, struct qq_err *e);

/*
 * ready.c: waiting until a guest is ready (qq-spawn --wait-ssh). Ready
 * means what the user needs: an SSH login with the injected key runs `true`
 * and exits 0 (OpenSSH's ssh with BatchMode=yes, IdentitiesOnly=yes, a short
 * ConnectTimeout growing 1, 2, 5 s on slow guests; the first success pins
 * the host key, see guest.c). Without a key, the guest's SSH identification
 * line (RFC 4253 4.2) is all it can check. Either way at most one connection
 * to the guest's sshd is in flight, a new one at most every 200 ms (sshd
 * caps unauthenticated connections per source: dropbear 5, OpenSSH
 * MaxStartups 10:30:100, and every forwarded connection comes from
 * 10.0.2.2), and nothing of it is left open when the wait returns.
 */
struct qq_ready_opts {
	const struct qq_guest	*guest;		/* port, key ("": identification line only), pin */
	int			 timeout_ms;
	pid_t			 pid;		/* QEMU; 0 not watched */
	int			 pidfd;		/* QEMU's pidfd; -1: pid is polled */
	const char		*qmp;		/* QMP socket; NULL or "": no run state */
	volatile sig_atomic_t	*interrupted;	/* nonzero (a signal number) ends the wait */
	const char		*console;	/* serial log; a failed boot on it ends the wait (NULL: none) */
};

/*
 * Waits. QEMU's exit (pidfd) and run state (QMP query-status every 500 ms,
 * each on its own connection, closed at once, so that qq-stop can use QMP
 * meanwhile) end it early. 0 ready; else QQ_EXIT_RUNTIME (or 128+signal)
 * with *why: timeout, exited, internal-error, stopped, interrupted, hostkey
 * (changed with an unchanged image: both fingerprints named), auth.
 */
int	 qq_ready_wait(const struct qq_ready_opts *o, enum qq_spawn_wait *why, struct qq_err *e);

/*
 * result.c: what became of one test, and the tail of the output it kept.
 * The remote end is mapped as a shell reports it (POSIX sh 2.8.2): an exit
 * code as is, death by signal N as 128+N, 126/127 could not be executed or
 * found; a test the runner killed at its timeout is 124, as timeout(1) says.
 */
enum qq_outcome {
	QQ_OUTCOME_PASSED,
	QQ_OUTCOME_FAILED,	/* exit code not 0 */
	QQ_OUTCOME_CRASHED,	/* killed by a signal */
	QQ_OUTCOME_TIMEDOUT,	/* killed by qq at its timeout */
	QQ_OUTCOME_NOSTART,	/* 126/127: missing, not executable, wrong format */
	QQ_OUTCOME_NOTRUN	/* never ran: the runner failed first */
};

#define QQ_RESULT_TIMEOUT	124

struct qq_result {
	enum qq_outcome	 outcome;
	int		 status;	/* exit code, 128+N, 124; -1 not run */
	char		 signame[16];	/* crashed: "SIGSEGV", or "signal N" */
	long long	 us;		/* wall time, microseconds */
	char		 why[256];	/* not run: why */
};

/* The last lines of a kept output file, cleaned for XML and YAML. */
struct qq_tail {
	char			*text;		/* owned; NUL-terminated; no final newline */
	size_t			 len;
	unsigned long long	 size;		/* of the whole file */
	unsigned long long	 omitted;	/* bytes before text */
	int			 cut;		/* the first line shown is not whole */
};

/* "passed", "failed", "crashed", "timed out", "could not start", "not run". */
const char *qq_result_name(enum qq_outcome o);
/* Classifies a remote status; signame is the guest's name for the signal ("SEGV"; may be NULL). */
void	 qq_result_set(struct qq_result *r, int status, int timed_out, const char *signame);
/* Marks a test not run, saying why. */
void	 qq_result_notrun(struct qq_result *r, const char *why);
/* One line: "failed: exit code 3", "crashed: SIGSEGV", "timed out after 5.0 s: ...". */
void	 qq_result_describe(const struct qq_result *r, char *buf, size_t sz);
/* Copies len bytes as valid UTF-8 without control characters but tab and newline; dst holds len + 1. */
size_t	 qq_result_clean(char *dst, const char *src, size_t len);
/*
 * Reads the last lines (at most maxbytes, from the end: the file may be
 * huge) of path into t. A missing file is an empty tail.
 */
int	 qq_result_tail(const char *path, int lines, size_t maxbytes, struct qq_tail *t,
	    struct qq_err *e);
void	 qq_result_tail_free(struct qq_tail *t);

/*
 * testplan.c: the tests qq-test runs: the stage facts under
 * /data/home/root/tests in staged order, filtered by a glob on the name
 * (fnmatch(3)), this shard's share (Bazel: test k of the matching ones runs
 * in shard k mod total), each run repeat times.
 */
struct qq_test_select {
	const char	*filter;	/* glob on the test name; NULL: all */
	int		 repeat;	/* runs per test; 0 means 1 */
	int		 shard_index;	/* 0 .. shard_total - 1 */
	int		 shard_total;	/* 0: no sharding */
};

struct qq_test_case {
	char	*name;		/* "test_sum", or "test_sum [2/3]" with repeat; owned */
	char	*guest;		/* /data/home/root/tests/test_sum; owned */
	char	*stem;		/* kept output: STEM.out, STEM.err ("test_sum.run2"); owned */
	int	 run;		/* 1 .. repeat */
};

struct qq_test_plan {
	struct qq_test_case	*v;	/* owned */
	size_t			 n;
	size_t			 staged;	/* tests staged */
	size_t			 matched;	/* of which the filter kept */
};

/*
 * Builds the plan. No staged test, or none matching the filter, is
 * QQ_EXIT_INPUT; an empty shard is not an error (n is 0).
 */
int	 qq_testplan_build(const struct qq_facts *f, const struct qq_test_select *sel,
	    struct qq_test_plan *p, struct qq_err *e);
void	 qq_testplan_free(struct qq_test_plan *p);
/*
 * Without any stage fact in f: adds one per test in the workspace's staging
 * tree (WS/staging/data/home/root/tests, sorted by name, as qq-stage stages
 * them), so that qq-test needs only the workspace. With one: nothing.
 */
int	 qq_testplan_staged(const char *ws, struct qq_facts *f, struct qq_err *e);
/*
 * Before a run writes its files (STEM.out, STEM.err) in resdir: removes the
 * files the last run listed in resdir/.qq-test-outputs (regular files directly
 * in resdir, nothing else: a user's own files stay) and lists the plan's
 * there instead, so that afterwards only this run's files are there. A
 * missing resdir is 0, with nothing written; a file that cannot be removed
 * or a list that cannot be written is QQ_EXIT_RUNTIME.
 */
int	 qq_testplan_outputs(const char *resdir, const struct qq_test_plan *p, struct qq_err *e);

/*
 * tap.c: TAP version 13 (testanything.org): the plan, then one test point
 * per test in plan order with its duration as "# time=Nms"; a test that did
 * not pass gets a YAML block: message, outcome, exit_code or signal,
 * duration_ms, the kept files and the last 20 lines of each.
 */
#define QQ_TAP_TAIL_LINES	20
#define QQ_TAP_TAIL_BYTES	8192	/* at most this much of a test's output per tail */

int	 qq_tap_plan(FILE *fp, size_t n, struct qq_err *e);
/* Test point num (from 1) for c; its kept output is RESDIR/STEM.out and .err. */
int	 qq_tap_result(FILE *fp, size_t num, const struct qq_test_case *c,
	    const struct qq_result *r, const char *resdir, struct qq_err *e);

/*
 * junit.c: the JUnit XML report (Ant's layout, which Jenkins, GitLab and
 * GitHub reporters read): testsuites/testsuite with tests, failures,
 * errors, skipped and time; a testcase per test with failure (failed,
 * crashed, timed out), error (could not start) or skipped (not run), and
 * the end of its output in system-out and system-err. Written with
 * libxml2's xmlwriter to a temporary file renamed over path.
 */
#define QQ_JUNIT_OUT_BYTES	65536	/* of each output in system-out/system-err */

struct qq_junit {
	const char			*suite;		/* testsuite name and classname */
	const struct qq_test_plan	*plan;
	const struct qq_result		*results;	/* one per plan entry */
	const char			*resdir;	/* where STEM.out and .err are */
	time_t				 start;		/* timestamp */
	long long			 us;		/* wall time of the run */
};

int	 qq_junit_write(const char *path, const struct qq_junit *j, struct qq_err *e);

/*
 * guest_run.c: commands in the guest over one OpenSSH ControlMaster per
 * workspace (ControlPath WS/ssh.ctl, or /tmp/qq-DIGEST/ssh.ctl when that
 * would not fit in sun_path), the guest.c argv, BatchMode. Each command
 * runs in a process group of its own in the guest (setsid(1), else the
 * shell's job control) and reports its group first and its status last on
 * stderr, behind a per-command token that is stripped from the output; so
 * a status the command returned (0-255) is never confused with ssh's own
 * failure (no status at all). Shared by qq-test and qq-exec.
 */
/* A growing string for guest command lines; err is set once an allocation failed. */
struct qq_sbuf {
	char	*p;		/* NUL-terminated; owned by the caller (free) */
	size_t	 len, cap;	/* bytes */
	int	 err;
};

/* Appends s; on a failed allocation sets b->err and leaves b as it was. */
void	 qq_sbuf_add(struct qq_sbuf *b, const char *s);
/* Appends s single-quoted for the guest's POSIX sh (' becomes '\''). */
void	 qq_sbuf_sq(struct qq_sbuf *b, const char *s);

struct qq_guest_conn {
	struct qq_guest	 g;
	char		 ctl[QQ_VALUE_MAX];	/* ControlPath */
	char		 log[QQ_VALUE_MAX];	/* WS/ssh-master.log (ssh -E) */
};

/*
 * mux.c: a passenger client of an OpenSSH ControlMaster (PROTOCOL.mux,
 * protocol version 4, in openssh-portable): a session over the shared
 * connection without an ssh process of its own.
 */
#define QQ_MUX_REFUSED	75	/* the master or the guest refused a session: nothing ran */
/* Connects to the master on socket ctl and exchanges hellos; none listening is QQ_EXIT_NO. */
int	 qq_mux_open(const char *ctl, int *fd, struct qq_err *e);
/* MUX_C_ALIVE_CHECK: the master's pid. */
int	 qq_mux_alive(int fd, long *pid, struct qq_err *e);
/*
 * Opens a session running cmd (through the guest user's shell, as ssh's
 * command) with fds[0..2] as its stdin, stdout and stderr (passed to the
 * master, which reads and writes them itself). The session's id in *sid. A
 * refusal (MUX_S_FAILURE, e.g. the guest's sshd refusing the channel) is
 * QQ_MUX_REFUSED; a master gone silent for 120 s is QQ_EXIT_RUNTIME.
 */
int	 qq_mux_session(int fd, const char *cmd, const int fds[3], unsigned *sid,
	    struct qq_err *e);
/* Waits for session sid to end (the master closing fd): its exit status 0-255, or -1 for none. */
int	 qq_mux_wait(int fd, unsigned sid, int *exitval);

struct qq_guest_job {
	pid_t		 pid;		/* the ssh client (no master to share); 0 once reaped */
	int		 mux;		/* the ControlMaster socket of the session, else -1 */
	unsigned	 sid;		/* the master's session id */
	int		 refused;	/* the master refused the session: nothing ran */
	const struct qq_guest_conn *conn;	/* borrowed: the connection it was started on */
	long		 master_pid;	/* the master's pid when the session opened (alive check) */
	int		 lost;		/* the master died under the session: its status is void */
	int		 errfd;		/* its stderr (a pipe), -1 at EOF: poll(2) it, then _read */
	int		 errout;	/* where the command's stderr goes; borrowed */
	long		 pgid;		/* the guest process group; 0 not yet known */
	int		 status;	/* exit code or 128+N from the guest; -1 none (lost) */
	char		 signame[16];	/* the guest's kill -l name when status > 128 */
	char		 token[24];
	long long	 t0_us, us;	/* start, and wall time once waited for */
	int		 head;		/* the group line was seen */
	int		 werr;		/* errno of a failed write to errout */
	char		 line[256];
	size_t		 linelen;
	char		 hold[128];	/* the last bytes: maybe the status line */
	size_t		 holdlen;
};

/* The ControlPath of workspace ws (absolute); creates the short private directory when needed. */
int	 qq_guest_ctl_path(const char *ws, char *out, size_t outsz, struct qq_err *e);
/*
 * Uses the workspace's master when one answers its socket, else starts
 * one (ssh -M -N -f: ready when ssh returns). The master is the VM's, not
 * the caller's: it stays for every later qq-test, qq-exec and qq-run ssh
 * and ends when the guest's connection does (the VM stopping). Failure is
 * QQ_EXIT_RUNTIME with ssh's last log line.
 */
int	 qq_guest_master_open(struct qq_guest_conn *c, const struct qq_guest *g, struct qq_err *e);
/* The guest sh command for argv (malloc'd into *out); stdin from /dev/null when stdin_null. */
int	 qq_guest_script(const char *token, char *const argv[], int stdin_null, char **out,
	    struct qq_err *e);
/*
 * Starts argv in the guest over c: stdin from infd (-1: /dev/null), stdout
 * straight to outfd, stderr through j->errfd to errfd (the protocol lines
 * removed). Nothing is held in memory but the last 128 bytes.
 */
int	 qq_guest_job_start(struct qq_guest_conn *c, char *const argv[], int infd, int outfd,
	    int errfd, struct qq_guest_job *j, struct qq_err *e);
/* Moves what is readable on j->errfd along; 1 more may come, 0 at EOF. */
int	 qq_guest_job_read(struct qq_guest_job *j);
/*
 * Reads to EOF, reaps ssh and parses the status into j->status. No status
 * (ssh failed, the guest or the connection was lost) or a failed write of
 * the output is QQ_EXIT_RUNTIME.
 */
int	 qq_guest_job_wait(struct qq_guest_job *j, struct qq_err *e);
/*
 * The job's session ended before its command started in the guest and
 * nothing came back: it ran nothing, so it may be started again. Dropbear
 * 2022.83 (the Linux test guest's) closes a just-opened channel when
 * another session ends at that moment (mkj/dropbear#173, #321; fixed by PR
 * #326 after 2024.85).
 */
int	 qq_guest_job_ran_nothing(const struct qq_guest_job *j);
#define QQ_GUEST_TRIES	10	/* tries of a session that ran nothing or was refused */
/* Before try attempt + 1: sleeps 50 ms * attempt (2.25 s over all tries); 0 when tries are used up. */
int	 qq_guest_retry_pause(int attempt);
/* Kills the job's process group in the guest (SIGKILL, over another session of c). */
int	 qq_guest_job_kill(struct qq_guest_conn *c, struct qq_guest_job *j, struct qq_err *e);
/* Gives up on a job: SIGKILL to the local ssh client, reaped; its output stays as it is. */
void	 qq_guest_job_abandon(struct qq_guest_job *j);

/*
 * test.c: qq-test: the plan's tests run in the workspace's running VM over
 * one ControlMaster, jobs at a time, each with stdin from /dev/null, its own
 * process group and a timeout, its stdout and stderr kept whole in
 * WS/test-results/STEM.out and .err (TEST_UNDECLARED_OUTPUTS_DIR under
 * Bazel); TAP on o->tap in plan order, JUnit to o->junit (XML_OUTPUT_FILE).
 * Bazel's TEST_TOTAL_SHARDS, TEST_SHARD_INDEX, TEST_SHARD_STATUS_FILE,
 * TESTBRIDGE_TEST_ONLY and TEST_TMPDIR are honoured.
 */
#define QQ_TEST_TIMEOUT_KVM	60	/* seconds, default per test */
#define QQ_TEST_TIMEOUT_TCG	300
#define QQ_TEST_JOBS_MAX	9	/* OpenSSH's MaxSessions 10, less one session for a kill */

struct qq_test_opts {
	struct qq_test_select	 sel;
	int			 jobs;		/* tests at once; 0 means 1 */
	int			 timeout_s;	/* per test; 0: by the accelerator */
	const char		*junit;		/* JUnit file; NULL: XML_OUTPUT_FILE or none */
	FILE			*tap;		/* the TAP stream */
	FILE			*talk;		/* a progress line per test; NULL: quiet */
};

struct qq_test_summary {
	size_t	 n;		/* tests in the plan */
	size_t	 passed;
	size_t	 notrun;
	int	 runner_failed;
};

/*
 * The JUnit destination (o->junit, else XML_OUTPUT_FILE), checked before
 * any test runs: its directory exists and is writable, the path is no
 * directory. QQ_EXIT_INPUT naming the path; 0 also when there is none.
 */
int	 qq_test_junit_check(const struct qq_test_opts *o, struct qq_err *e);

/* getopt values of the test options qq-test and qq-run --test share ('j' is -j N). */
enum {
	QQ_TEST_OPT_FILTER = 0x300, QQ_TEST_OPT_REPEAT, QQ_TEST_OPT_TIMEOUT, QQ_TEST_OPT_JUNIT
};
/* The long options of QQ_TEST_OPT_* and -j, for a getopt_long table. */
#define QQ_TEST_LONGOPTS \
	{ "filter", 1, NULL, QQ_TEST_OPT_FILTER }, { "repeat", 1, NULL, QQ_TEST_OPT_REPEAT }, \
	{ "test-timeout", 1, NULL, QQ_TEST_OPT_TIMEOUT }, { "junit", 1, NULL, QQ_TEST_OPT_JUNIT }, \
	{ "jobs", 1, NULL, 'j' }

/* Records one test option; 1 when ch was one (0 if not; a bad value fills e and returns -1). */
int	 qq_test_option(struct qq_test_opts *o, int ch, const char *arg, struct qq_err *e);

/*
 * Runs the plan. 0 every test passed; QQ_EXIT_NO some test did not pass;
 * QQ_EXIT_RUNTIME the runner failed (no VM, login or connection lost, a
 * report not written), with every test it did not complete reported not
 * run; QQ_EXIT_INPUT bad facts, filter or Bazel variables (nothing run).
 */
int	 qq_test_run(struct qq_settings *s, const struct qq_facts *f, const struct qq_test_opts *o,
	    struct qq_test_summary *sum, struct qq_err *e);

/*
 * exec.c: qq-exec: one host binary run in the workspace's VM as if it ran
 * here: the emulator hook of CMake (CMAKE_CROSSCOMPILING_EMULATOR), meson
 * (exe_wrapper), Bazel (--run_under) and cargo (target.<triple>.runner),
 * each of which runs "WRAPPER BINARY ARGS..." and reads its stdout, stderr
 * and exit status. The binary (and each --file) is copied once per boot
 * into the guest's store QQ_EXEC_STORE/DIGEST/NAME over the workspace's
 * ControlMaster (guest_run.c), then run there in a fresh working directory
 * with the command's stdout and stderr streamed through and stdin forwarded
 * when it is neither a terminal nor /dev/null.
 */
#define QQ_EXEC_STORE	"/data/qq-exec"	/* guest: DIGEST/NAME files, run/TOKEN directories */
/*
 * qq-exec's own failure (no VM, login or connection lost, a bad option
 * value): 99, the "hard error" of the GNU test protocol that automake and
 * meson follow. Unlike 255 (what exit(-1) gives, and ssh's own failure) no
 * test returns it for a plain failure, and meson reports it as ERROR rather
 * than FAIL, which a should_fail test cannot turn into a pass.
 */
#define QQ_EXEC_FAILED	99

struct qq_exec_opts {
	const char *const	*file;		/* --file HOST[:GUEST]; borrowed */
	size_t			 nfile;
	const char *const	*env;		/* --env NAME or NAME=VALUE; borrowed */
	size_t			 nenv;
	const char		*cwd;		/* --cwd: guest directory; NULL a fresh one */
	int			 timeout_s;	/* 0: none */
	int			 boot;		/* --boot: start a VM when none runs */
	const char		*builder;	/* --boot: builder; NULL the last boot's or default */
	const char		*base;		/* --boot: initramfs base guest */
	FILE			*talk;		/* --boot progress; NULL quiet */
};

struct qq_exec_stats {
	int	 copied;		/* files copied into the guest by this call */
};

struct qq_exec_result {
	int			 status;	/* exit code, 128+N, 124 timeout, QQ_EXEC_FAILED */
	int			 timed_out;
	int			 host_signal;	/* the host's number for the guest's signal; 0 none */
	char			 signame[16];	/* the guest's name ("SEGV") */
	struct qq_exec_stats	 stats;
};

/* getopt values of qq-exec's long options (besides -v and the settings). */
enum {
	QQ_EXEC_OPT_FILE = 0x400, QQ_EXEC_OPT_ENV, QQ_EXEC_OPT_CWD, QQ_EXEC_OPT_TIMEOUT,
	QQ_EXEC_OPT_BOOT, QQ_EXEC_OPT_BUILDER, QQ_EXEC_OPT_BASE
};
/* Records one option; a bad value is QQ_EXEC_FAILED, an unknown ch QQ_EXIT_USAGE. */
int	 qq_exec_option(struct qq_exec_opts *o, int ch, const char *arg, struct qq_err *e);
/* Frees the lists qq_exec_option built. */
void	 qq_exec_free(struct qq_exec_opts *o);
/* Checks the option values (QQ_EXEC_FAILED naming a bad one). */
int	 qq_exec_check(const struct qq_exec_opts *o, struct qq_err *e);
/*
 * Runs argv[0] (a host file) with argv[1...] in the workspace's VM and
 * fills r. 0: r->status is the binary's (124 after --timeout, when its guest
 * process group was killed). Otherwise e says why: 127/126 the binary is
 * missing or not executable here, 128+N this process got signal N (the
 * guest command was killed), QQ_EXEC_FAILED anything else.
 */
int	 qq_exec_run(struct qq_settings *s, const struct qq_exec_opts *o, char *const argv[],
	    struct qq_exec_result *r, struct qq_err *e);
/* When the guest command died by a signal the host knows, dies by it (no core); else returns. */
void	 qq_exec_die(const struct qq_exec_result *r);

/*
 * exec_pool.c: the fresh guest working directory of a qq-exec call, from the
 * per-boot pool WS/exec/pool (WS/exec must exist). boot is the boot's id
 * line. Takes a number: the directory is run/num (run, a guest path, in
 * run[runsz]); the guest commands that make a batch of directories, remove
 * those given back and, for a new pool, other boots' directories are
 * appended to pre (run them before using the directory). A (run, num) pair
 * is never handed out twice: a pool of another boot or not whole starts a
 * new run directory. QQ_EXEC_FAILED when the pool cannot be locked (also
 * when *stop turns nonzero while waiting) or written.
 */
int	 qq_exec_pool_take(const char *ws, const char *boot, char *run, size_t runsz, long *num,
	    struct qq_sbuf *pre, const volatile sig_atomic_t *stop, struct qq_err *e);
/* Gives back a call's directory for the next batch to remove; a stale pool ignores it. */
void	 qq_exec_pool_give(const char *ws, const char *boot, const char *run, long num);

/*
 * run.c: qq-run: detect-accel, keygen, stage, mkimage, cmdline and spawn in
 * one process through the same calls as the programs, or stop, or clean.
 */
enum qq_run_action {
	QQ_RUN_START,
	QQ_RUN_STOP,
	QQ_RUN_CLEAN,
	QQ_RUN_SSH		/* qq-run ssh [COMMAND...] */
};

struct qq_run_opts {
	enum qq_run_action	 action;
	struct qq_stage_opts	 stage;
	struct qq_mkimage_opts	 mkimage;
	struct qq_cmdline_opts	 cmdline;	/* detach: -d */
	struct qq_spawn_opts	 spawn;
	struct qq_stop_opts	 stop;
	int			 dry_run;	/* say what would be done, print the argv; start and write nothing */
	int			 nul;		/* -0: the dry run's argv NUL-separated */
	int			 clean;		/* --clean: "stop" wipes the workspace too, as qq-stop --clean */
	int			 verbose;	/* a progress line per step on talk */
	int			 quiet_plan;	/* a dry run that prints no argv (qq-run's own checks) */
	FILE			*talk;		/* progress, warnings, hints; NULL: quiet */
	/* --run-tests: boot (or reuse the running VM), qq-test, stop unless --keep or reused */
	int			 run_tests;
	int			 keep;
	int			 reuse;		/* set by qq_run: a VM already ran in the workspace */
	struct qq_test_opts	 test;		/* TAP goes to stdout */
	char *const		*ssh_cmd;	/* ssh: the command's words; NULL: interactive */
	int			 ssh_status;	/* ssh: the command's exit status (qq_guest_run) */
	const char		*image;		/* --image DIR: boot mkqnximage's output, build nothing */
	char			 image_kernel[QQ_VALUE_MAX];	/* found in image */
	char			 image_disk[QQ_VALUE_MAX];
};

/* getopt values of qq-run's own long options (besides -d, -n, -v and the settings). */
enum {
	QQ_RUN_OPT_TESTS = 0x200, QQ_RUN_OPT_TEST, QQ_RUN_OPT_BUILDER, QQ_RUN_OPT_BASE,
	QQ_RUN_OPT_SSH_PUBKEY, QQ_RUN_OPT_REBUILD, QQ_RUN_OPT_KERNEL, QQ_RUN_OPT_DISK,
	QQ_RUN_OPT_INITRD, QQ_RUN_OPT_APPEND, QQ_RUN_OPT_WAIT_SSH, QQ_RUN_OPT_TCG_FALLBACK,
	QQ_RUN_OPT_FORCE, QQ_RUN_OPT_POWERDOWN, QQ_RUN_OPT_QUIT, QQ_RUN_OPT_TERM, QQ_RUN_OPT_CLEAN,
	QQ_RUN_OPT_IMAGE, QQ_RUN_OPT_MKQNXIMAGE_OPT,
	QQ_RUN_OPT_RUN_TESTS, QQ_RUN_OPT_KEEP
};

/* Empties o (keeping o->talk) with the stop ladder's default timeouts. */
void	 qq_run_init(struct qq_run_opts *o);
/* Frees the test lists qq_run_option built. */
void	 qq_run_free(struct qq_run_opts *o);
/* Records one option (getopt value ch); a bad value is QQ_EXIT_INPUT, an unknown ch QQ_EXIT_USAGE. */
int	 qq_run_option(struct qq_run_opts *o, int ch, const char *arg, struct qq_err *e);
/*
 * The operand: "stop", "clean", "ssh", or the program to stage (QQ_EXIT_USAGE with --clean).
 * NULL (no operand) starts an image built elsewhere: it needs --image or --kernel.
 */
int	 qq_run_operand(struct qq_run_opts *o, const char *arg, struct qq_err *e);
/*
 * Finds the "ssh" operand among qq-run's words (options may stand on either
 * side of it) and takes the word out of argv (*argcp one less); 1 when it was
 * there. Leaves optind at 0 for the real option scan, which is then done with
 * a "+" optstring so that the guest command's options stay its own.
 */
struct option;
int	 qq_run_ssh_word(int *argcp, char *argv[], const char *optstring,
	    const struct option *opts);
/* The operands after the option scan (optind): the guest command with ssh, else one word. */
int	 qq_run_operands(struct qq_run_opts *o, int ssh, int argc, char *argv[], struct qq_err *e);
/* Whether the facts go to stdout once a start is done (not with -n or --run-tests). */
int	 qq_run_prints_facts(const struct qq_run_opts *o);
/*
 * Runs the action. Start leaves in f the facts of every step up to qq-mkimage
 * followed by qq-spawn's (a dry run: the argv on stdout instead). A failing
 * step's status is returned unchanged with its name before its message.
 * ssh runs o->ssh_cmd in the workspace's VM (qq_guest_run) and leaves its
 * status in o->ssh_status; anything that keeps ssh from running is
 * QQ_GUEST_FAILED (255, as ssh's own failures).
 */
int	 qq_run(struct qq_settings *s, struct qq_facts *f, struct qq_run_opts *o,
	    struct qq_err *e);

#endif /* QQ_H */
