#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages podprobe builds and tests with. As root: apt-get update, then
# install what is missing. Otherwise: print the exact apt-get line and fail.
# libclang-rt-14-dev: clang's sanitizer and libFuzzer runtimes (make test SANITIZE=1, make fuzz).
set -u
PKGS="build-essential pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev liburing-dev libyaml-dev libcmocka-dev libnghttp2-dev libssl-dev libjansson-dev iproute2 libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "podprobe: missing packages:$missing" >&2
	echo "podprobe: run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "podprobe: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || exit 1
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2 || exit 1
