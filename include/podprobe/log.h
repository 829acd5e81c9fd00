/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnostics to stderr (shell only; user/core never logs). */
#ifndef PODPROBE_LOG_H
#define PODPROBE_LOG_H

enum pp_log_level {
	PP_LOG_ERR = 0,
	PP_LOG_WARN,
	PP_LOG_NOTICE,
	PP_LOG_INFO,
	PP_LOG_DEBUG,
	_PP_LOG_MAX,
};

void pp_log_set_level(enum pp_log_level max);
void pp_log(enum pp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log "<message>: strerror(-err)" and return <err> (a negative errno). */
int pp_log_errno(enum pp_log_level level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
