/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API server's fixed documents, pure: /version, discovery (/api, /apis, /api/v1) in both
 * the aggregated (apidiscovery.k8s.io/v2, KEP-3352) and the legacy shapes, and the smallest
 * /openapi/v3 that lets `kubectl apply` and `kubectl create` run with their default
 * --validate=strict (kubectl's QueryParamVerifierV3 looks for a Pod PATCH operation with a
 * fieldValidation parameter, staging/src/k8s.io/kubectl/pkg/cmd/util/helpers.go).
 */
#ifndef PODPROBE_API_DISCOVERY_H
#define PODPROBE_API_DISCOVERY_H

#include <jansson.h>

/* The Content-Type aggregated discovery must be answered with (kubectl reads it as legacy
 * otherwise). */
#define PP_API_AGGREGATED_CTYPE \
	"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

/* The Kubernetes version podprobe's API answers as (gitVersion "v1.32.0"). */
#define PP_API_K8S_MINOR "32"

json_t *pp_api_version_doc(const char *build_date);
/* /api: aggregated (<aggregated>) or APIVersions with <server_addr> ("127.0.0.1:10443"). */
json_t *pp_api_core_doc(int aggregated, const char *server_addr);
/* /apis: an empty group list in either shape. */
json_t *pp_api_groups_doc(int aggregated);
/* /api/v1: the APIResourceList of pods, pods/log, pods/status and events. */
json_t *pp_api_v1_doc(void);
/* /openapi/v3 and /openapi/v3/api/v1. */
json_t *pp_api_openapi_root(void);
json_t *pp_api_openapi_v1(void);

#endif
