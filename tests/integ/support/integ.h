/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for integration tests that run the real `podprobe` binary on manifests written to a
 * temporary directory and read its JSON events (named t_* as in liburing's tests).
 */
#ifndef PODPROBE_TESTS_INTEG_H
#define PODPROBE_TESTS_INTEG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "podprobe/probe-t.h"

#define T_EXIT_SKIP 77

struct t_event {
	char pod[64];
	char container[64];
	char type[16];
	char reason[48];
	char message[512];
	char source[16]; /* "kernel", "probe" or "" */
	uint64_t at_ms;	 /* when the test read it, CLOCK_MONOTONIC ms */
};

struct t_res;

struct t_run {
	pid_t pid;
	int out_fd;    /* podprobe's stdout (JSON events) */
	int err_fd;    /* podprobe's stderr */
	char dir[256]; /* temporary directory: manifests, state */
	char state_dir[300];
	char buf[65536]; /* unread stdout bytes */
	size_t len;
	size_t n_events;     /* events read so far (see t_event_at) */
	int status;	     /* wait status once exited, else -1 */
	char err_text[8192]; /* the start of podprobe's stderr */
	size_t err_len;
	struct t_res *res;  /* harness-owned: events, and what teardown must undo */
	uint64_t keep_caps; /* non-zero: podprobe starts with only these capabilities (bit
			     * CAP_X) in its bounding set, so root gets no others */
};

/*
 * Isolation. Every process the harness starts (podprobe, test servers) runs in its own
 * process group, and the test program is a child subreaper, so whatever those processes
 * leave behind stays a descendant of the test. A failed assertion skips a test's clean-up;
 * T_TEST() registers t_setup/t_teardown around a test so that its podprobe runs and servers,
 * with all their descendants and podprobe's cgroups, are killed and its temporary
 * directories removed right then, before the next test. Servers started outside a test (in a
 * group setup) live until t_server_stop() or the program's exit, when everything left is
 * killed the same way.
 */
#define T_TEST(f) cmocka_unit_test_setup_teardown(f, t_setup, t_teardown)
int t_setup(void **state);
int t_teardown(void **state);

/* Path of the podprobe binary ($PODPROBE, or $O/podprobe, or build/podprobe). */
const char *t_podprobe(void);

/* A fresh temporary directory for <r> (removed by t_run_cleanup). */
void t_run_init(struct t_run *r);

/* Write <yaml> to <r>->dir/<name>; returns the path (static buffer). */
const char *t_write_manifest(struct t_run *r, const char *name, const char *yaml);

/*
 * Start `podprobe run --events=json --table=never --state-dir=<dir>/state <args...> <paths>`
 * with build/tools on PATH. <argv> is NULL-terminated. Once the previous run on <r> has
 * exited, a new one may start on the same <r> (a restart): events keep accumulating.
 */
void t_run_start(struct t_run *r, const char *const *argv);

/*
 * Start `podprobe watch --events=json <args...>` (<argv> NULL-terminated; a later option wins
 * over an earlier one) as t_run_start() starts a run: in its own process group, killed with
 * the test (PDEATHSIG) and by t_teardown()/t_run_cleanup() with all it left, stdout read as
 * events, stderr kept in r->err_text. <r> comes from t_run_init(); a watch has no state
 * directory and makes no cgroups of its own.
 */
void t_watch_start(struct t_run *r, const char *const *argv);

/*
 * Read events until one matches <reason> (and <container>, when not NULL) past the first
 * <skip> matches; fails the test after <timeout_ms>. Returns the event, which stays valid
 * (reading more events never moves it) until t_run_cleanup().
 */
const struct t_event *t_wait_event(struct t_run *r, const char *reason, const char *container,
				   unsigned int skip, int timeout_ms);

/* Read events for <ms> milliseconds (to check that something does NOT happen meanwhile). */
void t_drain(struct t_run *r, int ms);

/* Wait until <path> exists (a container's "I am ready" mark); fails after <timeout_ms>. */
void t_wait_file(const char *path, int timeout_ms);

/* Event <i> (0-based, below r->n_events) of those read so far; valid until t_run_cleanup(). */
const struct t_event *t_event_at(const struct t_run *r, size_t i);

/* Count events read so far matching <reason> and <container> (NULL = any). */
unsigned int t_count_events(const struct t_run *r, const char *reason, const char *container);

/* Send <sig> to podprobe. */
void t_run_signal(struct t_run *r, int sig);

/* Wait for podprobe to exit (reading the rest of its events); returns its exit code. */
int t_run_wait_exit(struct t_run *r, int timeout_ms);

/*
 * Kill podprobe if still running (with every process it left and its cgroups) and remove the
 * temporary directory.
 */
void t_run_cleanup(struct t_run *r);

/*
 * Write examples/<name> to <r>->dir/<name> with each of the <n> strings <from>[i] replaced by
 * <to>[i] (ports, host paths), so a test never uses the example's fixed ports or directories.
 * Returns the path (static buffer); skips the test when examples/ is not there.
 */
const char *t_copy_example(struct t_run *r, const char *name, const char *const *from,
			   const char *const *to, size_t n);

/*
 * Live (not zombie) descendants of this test program whose command line, arguments joined by
 * single spaces, is <cmdline>: a pgrep scoped to the test's own process tree.
 */
int t_count_descendants(const char *cmdline);

/* Number of open fds of process <pid>, and of its zombie children. */
int t_count_fds(pid_t pid);
/* The fewest open fds <pid> had, sampled every 10 ms for <ms>. */
int t_min_fds(pid_t pid, int ms);
int t_count_zombie_children(pid_t pid);

/*
 * Start a test server from build/tools (<argv>[0] is its name) and wait for its line
 * "...listening on HOST:PORT"; returns its pid and the port in <ret_port>. Skips the test
 * (77-style, via cmocka skip) when the tool is missing.
 */
pid_t t_server_start(const char *const *argv, int *ret_port);
void t_server_stop(pid_t pid);

/*
 * A TCP socket bound to 127.0.0.1 on an ephemeral port (in <ret_port>), listening with
 * <backlog> (bound only when < 0); non-blocking.
 */
int t_tcp_listener(int backlog, int *ret_port);
/*
 * A listener that drops every SYN: backlog 0 and one established connection waiting in its
 * accept queue (tcp_conn_request drops SYNs while sk_acceptq_is_full()); <ret_conn> holds it.
 */
int t_tcp_blackhole(int *ret_port, int *ret_conn);

/* A loopback port that was free a moment ago. */
int t_free_port(void);

/* Path of build/tools/<name> (static buffer). */
const char *t_tool(const char *name);

/* Run a command line with output captured into <out>; returns its exit code. */
int t_system(const char *cmd, char *out, size_t size);

uint64_t t_now_ms(void);

/* A loop and a prober of its own, for tests of the probe engine without podprobe run. */
struct pp_loop;
struct pp_prober;
struct t_eng {
	struct pp_loop *loop;
	struct pp_prober *pr;
};
void t_eng_new(struct t_eng *e, bool raw_syn);
void t_eng_free(struct t_eng *e);
/* Run <e> until *<done> reaches <n>, at most 10 s; asserts that it did. */
void t_eng_wait(struct t_eng *e, const unsigned int *done, unsigned int n);

/* The reports of a prober's attempts: how many, by result, and the last one's message. */
struct t_tally {
	unsigned int done;
	unsigned int n[_PP_RESULT_MAX];
	char msg[512];
};
struct pp_probe_report;
/* A pp_probe_done_fn counting into the struct t_tally <ctx>. */
void t_tally_done(void *ctx, const struct pp_probe_report *rep);

#endif
