#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Write this kernel's vmlinux.h (all kernel types, from BTF) to $1, for CO-RE BPF programs.
# A machine without /sys/kernel/btf/vmlinux builds with `make VMLINUX_H=path/to/pinned.h`.
set -eu
out=${1:?usage: gen-vmlinux.sh OUT}
btf=${BTF:-/sys/kernel/btf/vmlinux}
bpftool=${BPFTOOL:-bpftool}
if [ ! -r "$btf" ]; then
	echo "gen-vmlinux.sh: no kernel BTF at $btf; build with make VMLINUX_H=<pinned vmlinux.h>" >&2
	exit 1
fi
"$bpftool" btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
