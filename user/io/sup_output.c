// SPDX-License-Identifier: Apache-2.0
/*
 * Output of `podprobe run`: each event as a text or JSON line on stdout, and on a terminal the
 * live `kubectl get pods` table below them.
 */
#include "supervisor_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/clock.h"
#include "podprobe/event_fmt.h"
#include "podprobe/lifecycle.h"
#include "podprobe/log.h"
#include "podprobe/out_queue.h"
#include "podprobe/pod.h"
#include "podprobe/pod_status.h"
#include "podprobe/probe.h"

/* ---- output ------------------------------------------------------------------------------------
 */

void pp_sup_table_erase(struct pp_supervisor *sup)
{
	if (sup->table && sup->table_lines) {
		pp_outq_printf(sup->out, "\033[%uA\r\033[J", sup->table_lines);
		sup->table_lines = 0;
	}
}

void pp_sup_table_draw(struct pp_supervisor *sup)
{
	bool ns = false;
	pp_nsec now = pp_clock_now();
	pp_wall_ns wall_now = pp_clock_wall();
	unsigned int lines;
	size_t i;

	if (!sup->table)
		return;
	pp_sup_table_erase(sup);
	for (i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);

		ns |= pr && strcmp(pr->spec->namespace, "default") != 0;
	}
	if (ns)
		pp_outq_printf(sup->out, "%-16s ", "NAMESPACE");
	pp_outq_printf(sup->out, "%-24s %-7s %-22s %-14s %s\n", "NAME", "READY", "STATUS",
		       "RESTARTS", "AGE");
	lines = 1;
	for (i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = pp_sup_pod(sup, i);
		/* The server's cells (pod_status.c), so the table reads as `kubectl get pods`. */
		struct pp_pod_view v;
		struct pp_pod_cells c;

		if (!pr)
			continue;
		pp_sup_pod_view(pr, &v, now, wall_now);
		lines++;
		if (ns)
			pp_outq_printf(sup->out, "%-16s ", pr->spec->namespace);
		if (pp_pod_cells(&v, &c) < 0) {
			/* Still one line per pod: pp_sup_table_erase() counts them. */
			pp_outq_printf(sup->out, "%-24s (out of memory)\n", pr->spec->name);
			continue;
		}
		pp_outq_printf(sup->out, "%-24s %-7s %-22s %-14s %s\n", c.name, c.ready, c.status,
			       c.restarts, c.age);
	}
	sup->table_lines = lines;
	pp_outq_flush(sup->out);
	sup->dirty = false;
}

/*
 * Only the events a signal itself brings carry its source: a restart that follows a kernel-seen
 * exit (BackOff, Pulled, Created, Started) is the controller's doing, not the kernel's.
 */
static bool kernel_caused(const char *source, const char *reason)
{
	static const char *const caused[] = {
		"Terminated", "PodFailed",    "PodSucceeded",  "Killing",
		"Unhealthy",  "NotAccepting", "ProcessExited", "OOMKilling",
	};

	if (!source || strcmp(source, "kernel"))
		return true;
	for (size_t i = 0; i < sizeof(caused) / sizeof(caused[0]); i++)
		if (!strcmp(reason, caused[i]))
			return true;
	return false;
}

/*
 * The event lines of this turn, in one write: a burst (125 readiness failures the kernel
 * reported at once) went out as 125 writes, each waking the reader, on a loop that still had
 * the rest of the burst to handle. Before the loop sleeps: a line is never held past its turn.
 * The write never blocks on a pipe or socket (podprobe/out_queue.h): a reader that does not
 * keep up holds up neither the probes nor the API.
 */
void pp_sup_events_flush(struct pp_supervisor *sup)
{
	pp_outq_flush(sup->out);
}

/* Print one event (text or JSON line) above the live table. */
void pp_sup_emit_event(struct pod_rt *pr, uint32_t ci, enum pp_event_type type, const char *reason,
		       const char *message, pp_nsec now)
{
	enum pp_events_format fmt = pr->sup->cfg->events;
	char ts[48] = "", small[4096], *line = small;
	struct pp_event_line ev = {
		.time = ts,
		.namespace = pr->spec->namespace,
		.pod = pr->spec->name,
		.container = ci == PP_NO_CONTAINER ? "" : pp_pod_container(pr->spec, ci)->name,
		.type = pp_event_type_str(type),
		.reason = reason,
		.message = message,
		.source = kernel_caused(pr->sup->source, reason) ? pr->sup->source : NULL,
	};
	size_t size;
	int len;

	if (fmt != PP_EVENTS_JSON && fmt != PP_EVENTS_TEXT)
		return;
	pp_clock_rfc3339(now, ts, sizeof(ts));
	size = pp_event_line_max(&ev);
	/* Sized to the event: a line is never cut (a cut JSON line would not parse). */
	if (size > sizeof(small)) {
		line = malloc(size);
		if (!line) {
			pp_log(PP_LOG_ERR, "out of memory: event %s of pod '%s' not printed",
			       reason, pr->spec->name);
			return;
		}
	} else {
		size = sizeof(small);
	}
	len = fmt == PP_EVENTS_JSON ? pp_event_format_json(&ev, line, size)
				    : pp_event_format_text(&ev, line, size);
	if (len >= 0) {
		pp_sup_table_erase(pr->sup);
		/* Out at the end of the turn (pp_sup_events_flush()), with the turn's others; the
		 * newline takes the NUL's place, inside <size>. */
		line[len] = '\n';
		pp_outq_put(pr->sup->out, line, (size_t)len + 1);
		pr->sup->dirty = true;
	}
	if (line != small)
		free(line);
}
