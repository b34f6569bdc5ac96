/* sig.c: SIGINT, SIGTERM and SIGHUP noted, so that long steps stop early and clean up after themselves. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "qq.h"

static volatile sig_atomic_t caught;

/*
 * The first signal is noted (and interrupts the blocking call in progress: no
 * SA_RESTART); library loops see it through qq_sig_check, remove their temporary
 * files and fail with 128+n. A second one, from a user who insists, kills at once
 * by the default action; leftovers are then swept by the workspace's next step.
 */
static void
on_signal(int sig)
{
	if (caught != 0) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	caught = sig;
}

void
qq_sig_note(int sig)
{
	caught = sig;
}

void
qq_sig_catch(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

int
qq_sig_caught(void)
{
	return caught;
}

int
qq_sig_check(struct qq_err *e)
{
	if (caught == 0)
		return 0;
	return qq_err_set(e, 128 + caught, "interrupted by signal %d", (int)caught);
}

void
qq_sig_reraise(void)
{
	int sig = caught;

	if (sig == 0)
		return;
	signal(sig, SIG_DFL);
	raise(sig);
}
