// SPDX-License-Identifier: Apache-2.0
module podprobe/bench/kubelet-model

go 1.19
