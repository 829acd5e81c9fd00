/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the manifest reader (user/io/manifest_yaml.c), the validator and the diag
 * formatter on arbitrary bytes, then the lookups the runtime makes on every container of the
 * pods that parsed. `make fuzz` builds and runs it (FUZZ_SRCS_manifest in the Makefile adds the
 * reader and libyaml); seeds are real manifests (tests/fuzz/corpus/manifest/).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "podprobe/manifest.h"
#include "podprobe/pod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_pod_list pods = {0};
	struct pp_diag_list diags = {0};
	char line[512];

	if (pp_manifest_parse_buffer("fuzz.yaml", (const char *)data, size, &pods, &diags) < 0)
		goto out;
	for (size_t i = 0; i < pods.n; i++) {
		const struct pp_pod *pod = pods.items[i];

		if (pp_pod_validate(pod, &diags) < 0)
			goto out;
		/* Exercise the lookups the runtime uses on every container. */
		for (size_t c = 0; c < pp_pod_n_all(pod); c++) {
			const struct pp_container_spec *cs = pp_pod_container(pod, c);
			struct pp_probe_spec eff;

			pp_container_resolve_port(cs, &cs->liveness.handler.port);
			pp_probe_effective(&cs->readiness, &eff);
			pp_pod_container_path(pod, c, line, sizeof(line));
		}
		pp_pod_annotation(pod, "podprobe.io/ebpf");
	}
	for (size_t i = 0; i < diags.n; i++) {
		pp_diag_format(&diags.items[i], line, sizeof(line));
		for (size_t p = 0; p < pods.n; p++)
			pp_pod_field_pos(pods.items[p], diags.items[i].path);
	}
out:
	pp_pod_list_free(&pods);
	pp_diag_list_free(&diags);
	return 0;
}
