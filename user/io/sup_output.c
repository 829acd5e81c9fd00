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
#include "podprobe/kubefmt.h"
#include "podprobe/lifecycle.h"
#include "podprobe/pod.h"
#include "podprobe/probe.h"

/* ---- output ------------------------------------------------------------------------------------
 */

void pp_sup_table_erase(struct pp_supervisor *sup)
{
	if (sup->table && sup->table_lines) {
		printf("\033[%uA\r\033[J", sup->table_lines);
		sup->table_lines = 0;
	}
}

void pp_sup_table_draw(struct pp_supervisor *sup)
{
	bool ns = false;
	pp_nsec now = pp_clock_now();
	size_t i;

	if (!sup->table)
		return;
	pp_sup_table_erase(sup);
	for (i = 0; i < sup->n_pods; i++)
		ns |= strcmp(sup->pods[i].spec->namespace, "default") != 0;
	if (ns)
		printf("%-16s ", "NAMESPACE");
	printf("%-24s %-7s %-22s %-14s %s\n", "NAME", "READY", "STATUS", "RESTARTS", "AGE");
	for (i = 0; i < sup->n_pods; i++) {
		struct pod_rt *pr = &sup->pods[i];
		char ready[16], status[64], restarts[48], age[32];

		pp_fmt_pod_ready(&pr->st, ready, sizeof(ready));
		pp_fmt_pod_status(&pr->st, status, sizeof(status));
		pp_fmt_pod_restarts(&pr->st, now, restarts, sizeof(restarts));
		pp_fmt_human_duration(now - pr->created, age, sizeof(age));
		if (ns)
			printf("%-16s ", pr->spec->namespace);
		printf("%-24s %-7s %-22s %-14s %s\n", pr->spec->name, ready, status, restarts, age);
	}
	sup->table_lines = (unsigned int)sup->n_pods + 1;
	fflush(stdout);
	sup->dirty = false;
}

/* Print one event (text or JSON line) above the live table. */
void pp_sup_emit_event(struct pod_rt *pr, uint32_t ci, enum pp_event_type type, const char *reason,
		       const char *message, pp_nsec now)
{
	const char *container = ci == PP_NO_CONTAINER ? "" : pp_pod_container(pr->spec, ci)->name;
	char ts[48], who[400], line[2 * PP_PROBE_OUTPUT_MAX + 2048];
	size_t len = 0;

	pp_clock_rfc3339(now, ts, sizeof(ts));
	switch (pr->sup->cfg->events) {
	case PP_EVENTS_JSON:
		len = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\",\"namespace\":", ts);
		pp_json_append_string(line, sizeof(line), &len, pr->spec->namespace);
		len += (size_t)snprintf(line + len, sizeof(line) - len, ",\"pod\":");
		pp_json_append_string(line, sizeof(line), &len, pr->spec->name);
		len += (size_t)snprintf(line + len, sizeof(line) - len, ",\"container\":");
		pp_json_append_string(line, sizeof(line), &len, container);
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					",\"type\":\"%s\",\"reason\":", pp_event_type_str(type));
		pp_json_append_string(line, sizeof(line), &len, reason);
		len += (size_t)snprintf(line + len, sizeof(line) - len, ",\"message\":");
		pp_json_append_string(line, sizeof(line), &len, message);
		if (pr->sup->source)
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						",\"source\":\"%s\"", pr->sup->source);
		pp_sup_table_erase(pr->sup);
		printf("%s}\n", line);
		break;
	case PP_EVENTS_TEXT:
		/* Milliseconds are enough for a reader: cut "....123456789Z" to "....123Z". */
		ts[23] = 'Z';
		ts[24] = '\0';
		snprintf(who, sizeof(who), "%s/%s", pr->spec->namespace, pr->spec->name);
		/* One event, one line: line breaks of probe output are shown as "\n". */
		len = 0;
		for (const char *m = message; *m && len + 3 < sizeof(line); m++) {
			if (*m == '\n' || *m == '\r') {
				if (m[1]) {
					line[len++] = '\\';
					line[len++] = *m == '\n' ? 'n' : 'r';
				}
			} else {
				line[len++] = *m;
			}
		}
		line[len] = '\0';
		pp_sup_table_erase(pr->sup);
		printf("%s  %-20s %-14s %-7s %-18s %s%s%s%s\n", ts, who, container,
		       pp_event_type_str(type), reason, line, pr->sup->source ? " [" : "",
		       pr->sup->source ? pr->sup->source : "", pr->sup->source ? "]" : "");
		break;
	default:
		return;
	}
	fflush(stdout);
	pr->sup->dirty = true;
}
