// SPDX-License-Identifier: Apache-2.0
#include "podprobe/event_fmt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "podprobe/kubefmt.h"

/* The longest escape of one input byte: \u00XX or \ufffd in JSON, \xNN in text. */
#define ESCAPE_MAX 6

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

size_t pp_event_line_max(const struct pp_event_line *ev)
{
	size_t raw = slen(ev->time) + slen(ev->namespace) + slen(ev->pod) + slen(ev->container) +
		     slen(ev->type) + slen(ev->reason) + slen(ev->message) + slen(ev->source);

	/* Keys, quotes, separators and the text layout's padding stay below 256 bytes. */
	return ESCAPE_MAX * raw + 256;
}

int pp_event_format_json(const struct pp_event_line *ev, char *buf, size_t size)
{
	static const char *const keys[] = {"time", "namespace", "pod",	   "container",
					   "type", "reason",	"message", "source"};
	const char *vals[] = {ev->time, ev->namespace, ev->pod,	    ev->container,
			      ev->type, ev->reason,    ev->message, ev->source};
	size_t len = 0;

	if (size < 2)
		return -ENOSPC;
	buf[len++] = '{';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		/* Only the source is optional. */
		if (!vals[i] && i == sizeof(keys) / sizeof(keys[0]) - 1)
			continue;
		if (i) {
			if (len + 1 >= size)
				return -ENOSPC;
			buf[len++] = ',';
			buf[len] = '\0';
		}
		if (pp_json_append_string(buf, size, &len, keys[i]) < 0 || len + 1 >= size)
			return -ENOSPC;
		buf[len++] = ':';
		buf[len] = '\0';
		if (pp_json_append_string(buf, size, &len, vals[i] ? vals[i] : "") < 0)
			return -ENOSPC;
	}
	if (len + 1 >= size)
		return -ENOSPC;
	buf[len++] = '}';
	buf[len] = '\0';
	return (int)len;
}

int pp_event_format_text(const struct pp_event_line *ev, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char ts[40], who[400], *msg;
	size_t msg_size, n = 0;
	int len;

	/* Milliseconds are enough for a reader: "....123456789Z" becomes "....123Z". */
	snprintf(ts, sizeof(ts), "%s", ev->time ? ev->time : "");
	if (strlen(ts) > 24) {
		ts[23] = 'Z';
		ts[24] = '\0';
	}
	snprintf(who, sizeof(who), "%s/%s", ev->namespace ? ev->namespace : "",
		 ev->pod ? ev->pod : "");
	len = snprintf(buf, size, "%s  %-20s %-14s %-7s %-18s ", ts, who,
		       ev->container ? ev->container : "", ev->type ? ev->type : "",
		       ev->reason ? ev->reason : "");
	if (len < 0 || (size_t)len >= size)
		return -ENOSPC;
	msg = buf + len;
	msg_size = size - (size_t)len;
	for (const unsigned char *m = (const unsigned char *)(ev->message ? ev->message : ""); *m;
	     m++) {
		char esc[4];
		size_t k = 0;

		if (*m == '\n' || *m == '\r' || *m == '\t') {
			/* A trailing line break is the end of the output, not part of it. */
			if (*m != '\t' && !m[1])
				break;
			esc[k++] = '\\';
			esc[k++] = *m == '\n' ? 'n' : *m == '\r' ? 'r' : 't';
		} else if (*m < 0x20 || *m == 0x7f) {
			esc[k++] = '\\';
			esc[k++] = 'x';
			esc[k++] = hex[*m >> 4];
			esc[k++] = hex[*m & 15];
		} else {
			esc[k++] = (char)*m;
		}
		if (n + k >= msg_size)
			return -ENOSPC;
		memcpy(msg + n, esc, k);
		n += k;
	}
	msg[n] = '\0';
	if (ev->source) {
		int s = snprintf(msg + n, msg_size - n, " [%s]", ev->source);

		if (s < 0 || (size_t)s >= msg_size - n)
			return -ENOSPC;
		n += (size_t)s;
	}
	return len + (int)n;
}
