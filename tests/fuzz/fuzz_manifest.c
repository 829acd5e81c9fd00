/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the manifest reader (user/io/manifest_yaml.c, and the tree and schema of
 * user/core/yaml_tree.c and manifest_schema.c), the validator and the diag
 * formatter on arbitrary bytes, then the lookups the runtime makes on every container of the
 * pods that parsed, and their environments and volume payloads from the input's own ConfigMaps
 * and Secrets (user/core/pod_env.c). `make fuzz` builds and runs it (FUZZ_SRCS_manifest in the
 * Makefile adds the reader and libyaml); seeds are real manifests (tests/fuzz/corpus/manifest/).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "podprobe/manifest.h"
#include "podprobe/pod.h"
#include "podprobe/pod_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pp_env_host host = {
		.uid = "uid",
		.node_name = "node",
		.host_ip = "127.0.0.1",
		.pod_ip = "127.0.0.1",
		.cpu_m = 2000,
		.memory = 1ll << 33,
		.storage = 1ll << 36,
	};
	static const struct pp_kv base[] = {{"PATH", "/bin"}, {"HOSTNAME", "fuzz"}};
	struct pp_pod_list pods = {0};
	struct pp_config_list configs = {0};
	struct pp_diag_list diags = {0};
	char line[512];

	if (pp_manifest_parse_objects("fuzz.yaml", (const char *)data, size, &pods, &configs,
				      &diags) < 0)
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
			struct pp_env_list env = {0};

			if (pp_env_build(pod, cs, &host, &configs, base, 2, &env, line,
					 sizeof(line)) == 0) {
				for (size_t m = 0; m < cs->n_mounts; m++) {
					char *sub = NULL;

					if (cs->mounts[m].sub_path_expr &&
					    pp_env_sub_path_expr(cs->mounts[m].sub_path_expr, &env,
								 &sub, line, sizeof(line)) == 0)
						free(sub);
				}
				pp_env_list_free(&env);
			}
		}
		for (size_t v = 0; v < pod->n_volumes; v++) {
			struct pp_vol_payload pl = {0};

			if (pp_vol_payload_build(pod, &pod->volumes[v], &host, &configs, &pl, line,
						 sizeof(line)) == 0)
				pp_vol_payload_free(&pl);
		}
		pp_pod_annotation(pod, "podprobe.io/ebpf");
	}
	for (size_t i = 0; i < diags.n; i++) {
		pp_diag_format(&diags.items[i], line, sizeof(line));
		for (size_t p = 0; p < pods.n; p++)
			pp_pod_field_pos(pods.items[p], diags.items[i].path);
	}
out:
	pp_config_list_free(&configs);
	pp_pod_list_free(&pods);
	pp_diag_list_free(&diags);
	return 0;
}
