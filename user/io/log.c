// SPDX-License-Identifier: Apache-2.0
#include "podprobe/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum pp_log_level max_level = PP_LOG_INFO;

static const char *const prefixes[_PP_LOG_MAX] = {
	[PP_LOG_ERR] = "error: ", [PP_LOG_WARN] = "warning: ", [PP_LOG_NOTICE] = "",
	[PP_LOG_INFO] = "",	  [PP_LOG_DEBUG] = "debug: ",
};

void pp_log_set_level(enum pp_log_level max)
{
	max_level = max;
}

static void vlog(enum pp_log_level level, int err, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level > max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		fprintf(stderr, "podprobe: %s%s: %s\n", prefixes[level], msg, strerror(-err));
	else
		fprintf(stderr, "podprobe: %s%s\n", prefixes[level], msg);
}

void pp_log(enum pp_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, 0, fmt, ap);
	va_end(ap);
}

int pp_log_errno(enum pp_log_level level, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, err, fmt, ap);
	va_end(ap);
	return err;
}
