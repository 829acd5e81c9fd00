// SPDX-License-Identifier: Apache-2.0
/*
 * Kubernetes' display formats, a leaf: the durations follow Go's Duration.String and
 * apimachinery's HumanDuration (pkg/util/duration/duration.go), so a reader sees exactly what
 * kubectl would show. The pod columns built on them live in pod_status.c.
 */
#include "podprobe/kubefmt.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int out(char *buf, size_t size, int n)
{
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* "<whole>[.<frac>]<unit>" with trailing zeros of the fraction dropped, as Go prints. */
static int fmt_fraction(char *buf, size_t size, pp_nsec v, pp_nsec unit, const char *suffix)
{
	char frac[32];
	pp_nsec rem = v % unit;
	unsigned int digits = 0;

	for (pp_nsec u = unit; u > 1; u /= 10)
		digits++;
	if (!rem)
		return out(buf, size,
			   snprintf(buf, size, "%llu%s", (unsigned long long)(v / unit), suffix));
	snprintf(frac, sizeof(frac), "%0*llu", (int)(digits & 15), (unsigned long long)rem);
	for (int i = (int)strlen(frac) - 1; i > 0 && frac[i] == '0'; i--)
		frac[i] = '\0';
	return out(buf, size,
		   snprintf(buf, size, "%llu.%s%s", (unsigned long long)(v / unit), frac, suffix));
}

int pp_fmt_go_duration(pp_nsec d, char *buf, size_t size)
{
	pp_nsec h, m;
	char secs[40];
	int n;

	if (d == 0)
		return out(buf, size, snprintf(buf, size, "0s"));
	if (d < PP_NSEC_PER_USEC)
		return out(buf, size, snprintf(buf, size, "%lluns", (unsigned long long)d));
	if (d < PP_NSEC_PER_MSEC)
		return fmt_fraction(buf, size, d, PP_NSEC_PER_USEC, "\xc2\xb5s");
	if (d < PP_NSEC_PER_SEC)
		return fmt_fraction(buf, size, d, PP_NSEC_PER_MSEC, "ms");
	h = d / (3600 * PP_NSEC_PER_SEC);
	m = d / (60 * PP_NSEC_PER_SEC) % 60;
	n = fmt_fraction(secs, sizeof(secs), d % (60 * PP_NSEC_PER_SEC), PP_NSEC_PER_SEC, "s");
	if (n < 0)
		return n;
	if (h)
		n = snprintf(buf, size, "%lluh%llum%s", (unsigned long long)h,
			     (unsigned long long)m, secs);
	else if (m)
		n = snprintf(buf, size, "%llum%s", (unsigned long long)m, secs);
	else
		n = snprintf(buf, size, "%s", secs);
	return out(buf, size, n);
}

int pp_fmt_human_duration(int64_t d, char *buf, size_t size)
{
	/* Go's int(d.Seconds()) truncates toward zero, as C's division does. */
	int64_t secs = d / (int64_t)PP_NSEC_PER_SEC;
	unsigned long long s, min, h;

	/* Up to 2 s in the future is "now": clocks of two machines disagree that much. */
	if (secs < -1)
		return out(buf, size, snprintf(buf, size, "<invalid>"));
	if (secs < 0)
		return out(buf, size, snprintf(buf, size, "0s"));
	s = (unsigned long long)secs;
	min = s / 60;
	h = s / 3600;
	if (s < 120)
		return out(buf, size, snprintf(buf, size, "%llus", s));
	if (min < 10)
		return out(buf, size,
			   s % 60 ? snprintf(buf, size, "%llum%llus", min, s % 60)
				  : snprintf(buf, size, "%llum", min));
	if (min < 180)
		return out(buf, size, snprintf(buf, size, "%llum", min));
	if (h < 8)
		return out(buf, size,
			   min % 60 ? snprintf(buf, size, "%lluh%llum", h, min % 60)
				    : snprintf(buf, size, "%lluh", h));
	if (h < 48)
		return out(buf, size, snprintf(buf, size, "%lluh", h));
	if (h < 24 * 8)
		return out(buf, size,
			   h % 24 ? snprintf(buf, size, "%llud%lluh", h / 24, h % 24)
				  : snprintf(buf, size, "%llud", h / 24));
	if (h < 24 * 365 * 2)
		return out(buf, size, snprintf(buf, size, "%llud", h / 24));
	if (h < 24 * 365 * 8) {
		unsigned long long y = h / 24 / 365, dd = h / 24 % 365;

		return out(buf, size,
			   dd ? snprintf(buf, size, "%lluy%llud", y, dd)
			      : snprintf(buf, size, "%lluy", y));
	}
	return out(buf, size, snprintf(buf, size, "%lluy", h / 24 / 365));
}

const char *pp_signal_name(int sig)
{
	static const char *const names[] = {
		[SIGHUP] = "HUP",   [SIGINT] = "INT",	[SIGQUIT] = "QUIT", [SIGILL] = "ILL",
		[SIGTRAP] = "TRAP", [SIGABRT] = "ABRT", [SIGBUS] = "BUS",   [SIGFPE] = "FPE",
		[SIGKILL] = "KILL", [SIGUSR1] = "USR1", [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
		[SIGPIPE] = "PIPE", [SIGALRM] = "ALRM", [SIGTERM] = "TERM", [SIGXCPU] = "XCPU",
		[SIGXFSZ] = "XFSZ", [SIGSYS] = "SYS",
	};

	if (sig <= 0 || (size_t)sig >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[sig];
}

/*
 * Length of the well-formed UTF-8 sequence at <p> (RFC 3629 table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
 */
size_t pp_utf8_seq_len(const unsigned char *p)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

int pp_json_append_string(char *buf, size_t size, size_t *len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = *len;
	int err = 0;

#define PUT(ch)                        \
	do {                           \
		if (n + 1 >= size) {   \
			err = -ENOSPC; \
			goto out;      \
		}                      \
		buf[n++] = (ch);       \
	} while (0)

	PUT('"');
	while (*p) {
		unsigned char ch = *p;
		size_t seq = pp_utf8_seq_len(p);

		if (ch == '"' || ch == '\\') {
			PUT('\\');
			PUT((char)ch);
		} else if (ch == '\n') {
			PUT('\\');
			PUT('n');
		} else if (ch == '\r') {
			PUT('\\');
			PUT('r');
		} else if (ch == '\t') {
			PUT('\\');
			PUT('t');
		} else if (ch < 0x20 || ch == 0x7f) {
			PUT('\\');
			PUT('u');
			PUT('0');
			PUT('0');
			PUT(hex[ch >> 4]);
			PUT(hex[ch & 15]);
		} else if (!seq) {
			/* Not UTF-8: U+FFFD for this byte, as Go's encoding/json writes. */
			for (const char *r = "\\ufffd"; *r; r++)
				PUT(*r);
		} else {
			for (size_t i = 0; i < seq; i++)
				PUT((char)p[i]);
			p += seq;
			continue;
		}
		p++;
	}
	PUT('"');
#undef PUT
out:
	buf[n < size ? n : size - 1] = '\0';
	*len = n;
	return err;
}

/*
 * Go's time.ParseDuration without the sign: a duration is an int64 of nanoseconds there, so
 * nothing above INT64_MAX parses here either. That also keeps PP_NSEC_INFINITY (and any sum
 * of a parsed duration and a monotonic timestamp) out of reach of what a user can type.
 */
#define DURATION_MAX ((pp_nsec)INT64_MAX)

int pp_parse_duration(const char *s, pp_nsec *ret)
{
	static const struct {
		const char *unit;
		pp_nsec mult;
	} units[] = {
		{"ns", 1},
		{"us", PP_NSEC_PER_USEC},
		{"\xc2\xb5s", PP_NSEC_PER_USEC}, /* U+00B5 micro sign */
		{"\xce\xbcs", PP_NSEC_PER_USEC}, /* U+03BC Greek small mu, which Go takes too */
		{"ms", PP_NSEC_PER_MSEC},
		{"s", PP_NSEC_PER_SEC},
		{"m", 60 * PP_NSEC_PER_SEC},
		{"h", 3600 * PP_NSEC_PER_SEC},
	};
	pp_nsec total = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		pp_nsec whole = 0, frac9 = 0, mult = 0, part;
		unsigned int frac_digits = 0;
		size_t best = 0;
		bool digits = false;

		for (; *p >= '0' && *p <= '9'; p++, digits = true) {
			if (whole > (PP_NSEC_INFINITY - 9) / 10)
				return -EINVAL;
			whole = whole * 10 + (pp_nsec)(*p - '0');
		}
		/* Nine fraction digits are nanoseconds of a second, enough for every unit. */
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
				if (frac_digits < 9) {
					frac9 = frac9 * 10 + (pp_nsec)(*p - '0');
					frac_digits++;
				}
		if (!digits)
			return -EINVAL;
		for (; frac_digits < 9; frac_digits++)
			frac9 *= 10;
		if (!*p && p == s + strspn(s, "0123456789.")) {
			mult = PP_NSEC_PER_SEC; /* a plain number: seconds */
		} else {
			for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				size_t len = strlen(units[i].unit);

				if (!strncmp(p, units[i].unit, len) && len > best) {
					best = len;
					mult = units[i].mult;
				}
			}
			if (!best)
				return -EINVAL;
			p += best;
		}
		if (whole > DURATION_MAX / mult)
			return -EINVAL;
		/*
		 * frac9 / 1e9 of <mult>, truncated. Split so that it stays within 64 bits: every
		 * unit is either below a second or a whole number of seconds.
		 */
		part = whole * mult + frac9 * (mult / PP_NSEC_PER_SEC) +
		       frac9 * (mult % PP_NSEC_PER_SEC) / PP_NSEC_PER_SEC;
		if (part > DURATION_MAX - total)
			return -EINVAL;
		total += part;
	}
	*ret = total;
	return 0;
}
