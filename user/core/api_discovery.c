// SPDX-License-Identifier: Apache-2.0
/*
 * Fixed documents of the API: what kubectl 1.32 reads before any command (discovery, version)
 * and before apply/create (openapi). Shapes follow apimachinery pkg/apis/meta/v1 (APIVersions,
 * APIGroupList, APIResourceList) and pkg/apis/apidiscovery/v2 (APIGroupDiscoveryList).
 */
#include "podprobe/api_discovery.h"

#include <stdio.h>

static json_t *verbs_pods(void)
{
	return json_pack("[s,s,s,s,s,s,s]", "create", "delete", "get", "list", "patch", "update",
			 "watch");
}

json_t *pp_api_version_doc(const char *build_date)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1", "minor",
			 PP_API_K8S_MINOR, "gitVersion", "v1." PP_API_K8S_MINOR ".0", "gitCommit",
			 "podprobe", "gitTreeState", "clean", "buildDate",
			 build_date ? build_date : "", "goVersion", "none", "compiler", "gcc",
			 "platform", "linux/amd64");
}

json_t *pp_api_core_doc(int aggregated, const char *server_addr)
{
	json_t *pods, *events;

	if (!aggregated)
		return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions",
				 "v1", "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
				 "serverAddress", server_addr ? server_addr : "");
	pods = json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:[s], s:[s], s:o, s:["
			 "{s:s, s:{s:s, s:s, s:s}, s:[s]},"
			 "{s:s, s:{s:s, s:s, s:s}, s:[s,s,s]}]}",
			 "resource", "pods", "responseKind", "group", "", "version", "v1", "kind",
			 "Pod", "scope", "Namespaced", "singularResource", "pod", "shortNames",
			 "po", "categories", "all", "verbs", verbs_pods(), "subresources",
			 "subresource", "log", "responseKind", "group", "", "version", "v1", "kind",
			 "Pod", "verbs", "get", "subresource", "status", "responseKind", "group",
			 "", "version", "v1", "kind", "Pod", "verbs", "get", "patch", "update");
	events = json_pack("{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:[s], s:[s,s,s]}", "resource",
			   "events", "responseKind", "group", "", "version", "v1", "kind", "Event",
			   "scope", "Namespaced", "singularResource", "event", "shortNames", "ev",
			   "verbs", "get", "list", "watch");
	return json_pack("{s:s, s:s, s:{}, s:[{s:{}, s:[{s:s, s:s, s:[o,o]}]}]}", "kind",
			 "APIGroupDiscoveryList", "apiVersion", "apidiscovery.k8s.io/v2",
			 "metadata", "items", "metadata", "versions", "version", "v1", "freshness",
			 "Current", "resources", pods, events);
}

json_t *pp_api_groups_doc(int aggregated)
{
	if (aggregated)
		return json_pack("{s:s, s:s, s:{}, s:[]}", "kind", "APIGroupDiscoveryList",
				 "apiVersion", "apidiscovery.k8s.io/v2", "metadata", "items");
	return json_pack("{s:s, s:s, s:[]}", "kind", "APIGroupList", "apiVersion", "v1", "groups");
}

json_t *pp_api_v1_doc(void)
{
	return json_pack("{s:s, s:s, s:["
			 "{s:s, s:s, s:b, s:s, s:o, s:[s], s:[s]},"
			 "{s:s, s:s, s:b, s:s, s:[s]},"
			 "{s:s, s:s, s:b, s:s, s:[s,s,s]},"
			 "{s:s, s:s, s:b, s:s, s:[s,s,s], s:[s]}]}",
			 "kind", "APIResourceList", "groupVersion", "v1", "resources", "name",
			 "pods", "singularName", "pod", "namespaced", 1, "kind", "Pod", "verbs",
			 verbs_pods(), "shortNames", "po", "categories", "all", "name", "pods/log",
			 "singularName", "", "namespaced", 1, "kind", "Pod", "verbs", "get", "name",
			 "pods/status", "singularName", "", "namespaced", 1, "kind", "Pod", "verbs",
			 "get", "patch", "update", "name", "events", "singularName", "event",
			 "namespaced", 1, "kind", "Event", "verbs", "get", "list", "watch",
			 "shortNames", "ev");
}

json_t *pp_api_openapi_root(void)
{
	return json_pack("{s:{s:{s:s}}}", "paths", "api/v1", "serverRelativeURL",
			 "/openapi/v3/api/v1?hash=podprobe1");
}

json_t *pp_api_openapi_v1(void)
{
	return json_pack("{s:s, s:{s:s, s:s}, s:{s:{s:{s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:{s:s}}],"
			 " s:{s:{s:s}}}}}}",
			 "openapi", "3.0.0", "info", "title", "podprobe", "version",
			 "v1." PP_API_K8S_MINOR ".0", "paths",
			 "/api/v1/namespaces/{namespace}/pods/{name}", "patch",
			 "x-kubernetes-group-version-kind", "group", "", "version", "v1", "kind",
			 "Pod", "parameters", "name", "fieldValidation", "in", "query", "schema",
			 "type", "string", "responses", "200", "description", "OK");
}
