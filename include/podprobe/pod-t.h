/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Pod manifest model: what `podprobe run` and `podprobe validate` read from a
 * `apiVersion: v1, kind: Pod` document. Filled by user/core/manifest_schema.c (from the tree
 * user/io/manifest_yaml.c reads), checked by user/core/manifest_validate.c, read by the lifecycle
 * controller.
 *
 * Every string is NUL-terminated and owned by the pod (freed by pp_pod_free()). Integer
 * fields hold the value as written; "unset" is tracked explicitly where Kubernetes
 * defaulting needs it (a probe's 0 means "use the default", see pp_probe_effective()).
 */
#ifndef PODPROBE_POD_T_H
#define PODPROBE_POD_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults of the API server (pkg/apis/core/v1/defaults.go). */
#define PP_DEFAULT_GRACE_S	   30
#define PP_DEFAULT_PROBE_TIMEOUT_S 1
#define PP_DEFAULT_PROBE_PERIOD_S  10
#define PP_DEFAULT_PROBE_SUCCESS   1
#define PP_DEFAULT_PROBE_FAILURE   3

enum pp_restart_policy {
	PP_RESTART_ALWAYS = 0,
	PP_RESTART_ON_FAILURE,
	PP_RESTART_NEVER,
	_PP_RESTART_MAX,
};

enum pp_handler_kind {
	PP_HANDLER_NONE = 0, /* no handler given */
	PP_HANDLER_EXEC,
	PP_HANDLER_HTTP_GET,
	PP_HANDLER_TCP_SOCKET,
	PP_HANDLER_GRPC,
	PP_HANDLER_SLEEP, /* lifecycle hooks only */
	_PP_HANDLER_MAX,
};

/* A position in the source document, 1-based. line == 0 means unknown. */
struct pp_src_pos {
	uint32_t line;
	uint32_t col;
};

struct pp_kv {
	char *name;
	char *value;
};

/* Kubernetes IntOrString for ports: a number or a port name. */
struct pp_port_ref {
	int64_t number; /* valid when name == NULL; 0 when unset */
	char *name;	/* named port, or NULL */
};

/* A probe or lifecycle hook handler. */
struct pp_handler {
	enum pp_handler_kind kind; /* first handler kind seen */
	unsigned int n_kinds;	   /* how many handler kinds the manifest set (validation) */
	unsigned int kinds;	   /* 1u << pp_handler_kind of each kind set (validation) */
	char **command;		   /* exec.command, n_command entries */
	size_t n_command;
	char *host;		 /* httpGet/tcpSocket host, or NULL */
	struct pp_port_ref port; /* httpGet/tcpSocket/grpc port */
	char *path;		 /* httpGet path, NULL = "/" */
	char *scheme;		 /* httpGet scheme as written, NULL = "HTTP" */
	struct pp_kv *headers;	 /* httpGet httpHeaders, in order */
	size_t n_headers;
	char *service;	       /* grpc service, NULL = "" */
	int64_t sleep_seconds; /* sleep.seconds */
};

struct pp_probe_spec {
	bool set; /* the probe is present in the manifest */
	struct pp_handler handler;
	int64_t initial_delay_s;    /* as written, 0 when absent */
	int64_t timeout_s;	    /* as written, 0 = default */
	int64_t period_s;	    /* as written, 0 = default */
	int64_t success_threshold;  /* as written, 0 = default */
	int64_t failure_threshold;  /* as written, 0 = default */
	bool has_termination_grace; /* terminationGracePeriodSeconds present */
	int64_t termination_grace_s;
};

struct pp_port_spec {
	char *name; /* may be NULL */
	int64_t container_port;
	char *protocol;	   /* NULL = "TCP" */
	int64_t host_port; /* 0 when absent */
	char host_ip[48];  /* hostIP as written, truncated; "" when absent (validation) */
};

/*
 * Where an env value or a downward-API file comes from: EnvVarSource (valueFrom) and the
 * fieldRef/resourceFieldRef of DownwardAPIVolumeFile.
 */
enum pp_value_kind {
	PP_VALUE_NONE = 0,   /* a literal value */
	PP_VALUE_FIELD,	     /* fieldRef: <key> is fieldPath */
	PP_VALUE_RESOURCE,   /* resourceFieldRef: <key> is resource */
	PP_VALUE_CONFIG_MAP, /* configMapKeyRef: <name>, <key> */
	PP_VALUE_SECRET,     /* secretKeyRef: <name>, <key> */
	PP_VALUE_FILE,	     /* fileKeyRef: not supported by podprobe */
	_PP_VALUE_MAX,
};

struct pp_value_src {
	enum pp_value_kind kind;
	char *name;	      /* ConfigMap / Secret name */
	char *key;	      /* key, fieldPath or resource */
	char *container;      /* resourceFieldRef.containerName, or NULL */
	char *api_version;    /* fieldRef.apiVersion, or NULL */
	char divisor_raw[32]; /* resourceFieldRef.divisor as written, "" when absent */
	int64_t divisor_m;    /* ... in thousandths, rounded up (cpu), 0 when absent */
	int64_t divisor;      /* ... in units, rounded up (memory, storage), 0 when absent */
	bool optional;
};

/* One envFrom entry: configMapRef or secretRef, with its prefix. */
struct pp_env_from {
	bool secret;
	char *name;
	char *prefix; /* or NULL */
	bool optional;
	bool has_ref; /* configMapRef or secretRef given (validation) */
	unsigned int n_refs;
};

struct pp_volume_mount {
	char *name;
	char *mount_path;
	bool read_only;
	char *sub_path;	     /* or NULL */
	char *sub_path_expr; /* or NULL */
};

enum pp_volume_kind {
	PP_VOL_EMPTY_DIR = 0,
	PP_VOL_CONFIG_MAP,
	PP_VOL_SECRET,
	PP_VOL_DOWNWARD_API,
	PP_VOL_PROJECTED,
	PP_VOL_HOST_PATH,
	PP_VOL_PVC,	    /* persistentVolumeClaim: <state>/volumes/pvc/<namespace>/<claim> */
	PP_VOL_UNSUPPORTED, /* any other source: <source> names it */
	_PP_VOL_MAX,
};

enum pp_proj_kind {
	PP_PROJ_CONFIG_MAP = 0,
	PP_PROJ_SECRET,
	PP_PROJ_DOWNWARD_API,
	PP_PROJ_SA_TOKEN, /* serviceAccountToken: no file (no token issuer), a warning */
	PP_PROJ_OTHER,	  /* clusterTrustBundle, podCertificate: not supported */
	_PP_PROJ_MAX,
};

/* KeyToPath (configMap, secret) or DownwardAPIVolumeFile (downwardAPI). */
struct pp_vol_item {
	char *key; /* configMap / secret key */
	char *path;
	bool has_mode;
	int64_t mode;
	struct pp_value_src ref; /* downwardAPI: kind FIELD or RESOURCE */
};

/* A projection: the whole of a configMap/secret/downwardAPI volume, or one projected source. */
struct pp_vol_proj {
	enum pp_proj_kind kind;
	char *name; /* ConfigMap / Secret name */
	bool optional;
	struct pp_vol_item *items;
	size_t n_items;
	char *source;	  /* PP_PROJ_OTHER, PP_PROJ_SA_TOKEN: the key as written */
	char *token_path; /* serviceAccountToken.path */
};

struct pp_volume {
	char *name;
	bool empty_dir; /* kind == PP_VOL_EMPTY_DIR */
	enum pp_volume_kind kind;
	char *source;		  /* the source's key as written ("nfs"), NULL for emptyDir */
	unsigned int n_sources;	  /* volume sources given (validation: exactly one) */
	struct pp_vol_proj *proj; /* configMap, secret, downwardAPI: one; projected: its sources */
	size_t n_proj;
	bool has_default_mode;
	int64_t default_mode;
	char *host_path;  /* hostPath.path */
	char *host_type;  /* hostPath.type as written, NULL when absent */
	char *claim_name; /* persistentVolumeClaim.claimName */
	bool claim_read_only;
};

/* seccompProfile / appArmorProfile: {type, localhostProfile}. */
struct pp_profile_spec {
	bool set;		 /* the key is present */
	char *type;		 /* as written, or NULL */
	char *localhost_profile; /* or NULL */
};

/*
 * A securityContext: the pod's (spec.securityContext, PodSecurityContext) or a container's
 * (SecurityContext). has_* mark the fields written: the API tells unset apart from 0/false.
 * What the runtime does with each field: user/core/security.c and README.md.
 */
struct pp_security_spec {
	bool set; /* securityContext is present */
	bool has_run_as_user;
	int64_t run_as_user;
	bool has_run_as_group;
	int64_t run_as_group;
	bool has_run_as_non_root;
	bool run_as_non_root;
	/* pod level only */
	int64_t *supplemental_groups;
	size_t n_supplemental_groups;
	char *supplemental_groups_policy; /* as written, or NULL */
	bool has_fs_group;
	int64_t fs_group;
	char *fs_group_change_policy; /* as written, or NULL */
	struct pp_kv *sysctls;	      /* listed, never applied */
	size_t n_sysctls;
	char *se_linux_change_policy; /* as written, or NULL */
	/* container level only */
	bool has_privileged;
	bool privileged;
	bool has_allow_privilege_escalation;
	bool allow_privilege_escalation;
	bool read_only_root_fs;
	bool has_capabilities;
	char **cap_add; /* capabilities.add as written ("NET_ADMIN", "ALL") */
	size_t n_cap_add;
	char **cap_drop;
	size_t n_cap_drop;
	char *proc_mount; /* as written, or NULL */
	/* both */
	bool has_se_linux_options;
	bool has_windows_options;
	struct pp_profile_spec seccomp;
	struct pp_profile_spec app_armor;
};

struct pp_container_spec {
	char *name;
	char *image;
	char **command; /* NULL when absent */
	size_t n_command;
	char **args;
	size_t n_args;
	struct pp_kv *env; /* env[].name/value; value "" when absent */
	size_t n_env;
	struct pp_value_src *env_src; /* n_env entries (valueFrom), NULL when none has one */
	struct pp_env_from *env_from;
	size_t n_env_from;
	char *working_dir; /* NULL when absent */
	struct pp_port_spec *ports;
	size_t n_ports;
	struct pp_volume_mount *mounts;
	size_t n_mounts;
	struct pp_handler post_start; /* kind NONE and n_kinds 0 when absent */
	struct pp_handler pre_stop;
	bool has_post_start;
	bool has_pre_stop;
	struct pp_probe_spec startup;
	struct pp_probe_spec liveness;
	struct pp_probe_spec readiness;
	char *restart_policy;	   /* container-level restartPolicy as written, or NULL */
	bool is_init;		   /* listed under spec.initContainers */
	bool sidecar;		   /* init container with restartPolicy: Always */
	int64_t memory_limit;	   /* resources.limits.memory in bytes, 0 = none */
	int64_t memory_request;	   /* resources.requests.memory in bytes, 0 = none */
	char memory_limit_raw[32]; /* both as written, truncated (messages) */
	char memory_request_raw[32];
	int64_t cpu_limit_m;	 /* resources.limits.cpu in thousandths, rounded up, 0 = none */
	int64_t cpu_request_m;	 /* resources.requests.cpu likewise */
	int64_t storage_limit;	 /* resources.limits.ephemeral-storage in bytes, 0 = none */
	int64_t storage_request; /* resources.requests.ephemeral-storage */
	bool has_cpu_request, has_memory_request, has_storage_request; /* written (defaulting) */
	struct pp_security_spec security;			       /* securityContext */
};

/* Where a field of the document sits, for error messages. */
struct pp_field_pos {
	char *path; /* e.g. "spec.containers[0].livenessProbe.periodSeconds" */
	struct pp_src_pos pos;
};

#define PP_POD_DIGEST_MAX 32 /* "fnv1a64:" and 16 hex digits, NUL included */

struct pp_pod {
	char *file;		/* path the pod was read from */
	unsigned int doc_index; /* 0-based document index in a multi-document file */
	struct pp_src_pos pos;	/* start of the document */
	char *source;		/* the document's text as read (to keep it with the pod's state) */
	size_t source_len;
	char digest[PP_POD_DIGEST_MAX]; /* of the document's content: comments, layout ignored */
	char *api_version;
	char *kind;
	char *name;
	char *namespace;     /* "default" when absent */
	char *uid;	     /* metadata.uid or NULL (the runtime makes one up) */
	bool name_generated; /* name made from metadata.generateName (SimpleNameGenerator) */
	struct pp_kv *annotations;
	size_t n_annotations;
	struct pp_kv *labels;
	size_t n_labels;
	enum pp_restart_policy restart_policy;
	char *restart_policy_raw;    /* as written, NULL when absent (validation) */
	int64_t termination_grace_s; /* PP_DEFAULT_GRACE_S when absent */
	bool has_active_deadline;
	int64_t active_deadline_s;
	struct pp_container_spec *init_containers;
	size_t n_init_containers;
	struct pp_container_spec *containers;
	size_t n_containers;
	struct pp_volume *volumes;
	size_t n_volumes;
	char *service_account;		  /* spec.serviceAccountName (or serviceAccount), or NULL */
	struct pp_security_spec security; /* spec.securityContext */
	struct pp_field_pos *fields;	  /* every key and item seen, in document order */
	size_t n_fields;
};

enum pp_config_kind {
	PP_CONFIG_MAP = 0,
	PP_CONFIG_SECRET,
	_PP_CONFIG_MAX,
};

/*
 * A ConfigMap or Secret read from the same manifest files as the pods, kept for the volume
 * and env work (user/core/manifest_schema.c; freed by pp_config_list_free()). Values are as
 * written: <data> holds ConfigMap data / Secret stringData, <b64> holds ConfigMap
 * binaryData / Secret data (base64 text, not decoded).
 */
struct pp_config_obj {
	enum pp_config_kind kind;
	char *file;
	struct pp_src_pos pos; /* start of the document */
	char *name;
	char *namespace; /* "default" when absent */
	char *type;	 /* Secret type as written, or NULL */
	bool immutable;
	struct pp_kv *data;
	size_t n_data;
	struct pp_kv *b64;
	size_t n_b64;
};

struct pp_config_list {
	struct pp_config_obj *items;
	size_t n;
	size_t cap;
};

enum pp_diag_severity {
	PP_DIAG_ERROR = 0,
	PP_DIAG_WARNING,
	_PP_DIAG_MAX,
};

/* One finding about a manifest: "file:line:col: path: message". */
struct pp_diag {
	enum pp_diag_severity severity;
	char *file;
	struct pp_src_pos pos;
	char *path; /* field path, may be "" for document-level problems */
	char *message;
};

struct pp_diag_list {
	struct pp_diag *items;
	size_t n;
	size_t cap;
	size_t n_errors;
};

#endif
