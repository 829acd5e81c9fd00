#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# user/core is pure (house style §6): no I/O headers, no clock reads, no printing, no syscalls.
set -u
cd "$(dirname "$0")/.." || exit 1
bad=$(grep -nE '#include <(liburing\.h|bpf/|sys/socket\.h|sys/stat\.h|fcntl\.h|unistd\.h|time\.h)>|clock_gettime|[^n]printf\(|fprintf|puts\(|\b(open|read|write|close|kill|fork|exec[lv]p?e?)\(' user/core/*.c include/podprobe/*-t.h 2>/dev/null |
	grep -vE 'snprintf|vsnprintf')
if [ -n "$bad" ]; then
	echo "user/core must stay pure; found:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "purity: user/core is free of I/O"
