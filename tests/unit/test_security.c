// SPDX-License-Identifier: Apache-2.0
/*
 * securityContext resolution (user/core/security.c): container over pod, kubelet's
 * runAsNonRoot messages, containerd's capability arithmetic, and what a non-root podprobe
 * cannot do.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fakes/fake_pod.h"
#include "podprobe/pod.h"
#include "podprobe/security.h"

#define BIT PP_CAP_BIT

static char **t_strv(const char *a, const char *b)
{
	char **v = calloc(2, sizeof(*v));

	assert_non_null(v);
	v[0] = strdup(a);
	v[1] = b ? strdup(b) : NULL;
	return v;
}

/* Resolve container 0 as root (uid 0, gid 0). */
static int t_resolve(const struct pp_pod *pod, uint32_t host_uid, struct pp_exec_security *ret,
		     char *err, size_t errlen)
{
	return pp_security_resolve(pod, pp_pod_container(pod, 0), "uid-1", host_uid,
				   host_uid ? 1000 : 0, ret, err, errlen);
}

static void test_nothing_said_gives_containerd_defaults(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct pp_exec_security s;
	char err[256] = "";

	t_pod_add(pod, "app", false, false);
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	assert_false(s.set_ids);
	assert_int_equal(s.uid, 0);
	assert_true(s.set_caps);
	/* containerd oci.defaultUnixCaps(): 14 capabilities, SYS_ADMIN and NET_ADMIN not. */
	assert_int_equal(__builtin_popcountll(s.caps), 14);
	assert_true(s.caps & BIT(PP_CAP_NET_BIND_SERVICE));
	assert_true(s.caps & BIT(PP_CAP_KILL));
	assert_false(s.caps & BIT(PP_CAP_SYS_ADMIN));
	assert_false(s.caps & BIT(pp_cap_from_name("NET_ADMIN")));
	assert_false(s.no_new_privs);
	assert_int_equal(s.fs_group, -1);
	pp_pod_free(pod);
}

static void test_container_fields_win_over_the_pod(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct pp_container_spec *c = t_pod_add(pod, "app", false, false);
	struct pp_exec_security s;
	char err[256] = "";
	int64_t groups[] = {4000, 5000};

	pod->security = (struct pp_security_spec){
		.set = true,
		.has_run_as_user = true,
		.run_as_user = 1000,
		.has_run_as_group = true,
		.run_as_group = 3000,
		.has_fs_group = true,
		.fs_group = 2000,
		.n_supplemental_groups = 2,
	};
	pod->security.supplemental_groups = malloc(sizeof(groups));
	memcpy(pod->security.supplemental_groups, groups, sizeof(groups));
	c->security = (struct pp_security_spec){
		.set = true, .has_run_as_user = true, .run_as_user = 2000};

	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	assert_true(s.set_ids);
	assert_int_equal(s.uid, 2000);
	assert_int_equal(s.gid, 3000);
	/* supplementalGroups, then fsGroup (kubelet determineEffectiveSecurityContext). */
	assert_int_equal(s.n_groups, 3);
	assert_int_equal(s.groups[0], 4000);
	assert_int_equal(s.groups[1], 5000);
	assert_int_equal(s.groups[2], 2000);
	assert_int_equal(s.fs_group, 2000);
	pp_pod_free(pod);
}

static void test_run_as_user_without_group_gets_group_0(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct pp_container_spec *c = t_pod_add(pod, "app", false, false);
	struct pp_exec_security s;
	char err[256] = "";

	c->security = (struct pp_security_spec){
		.set = true, .has_run_as_user = true, .run_as_user = 1000};
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	assert_true(s.set_ids);
	assert_int_equal(s.uid, 1000);
	assert_int_equal(s.gid, 0);
	assert_int_equal(s.n_groups, 0); /* root's groups are dropped too */
	pp_pod_free(pod);
}

static void test_run_as_non_root_refuses_uid_0(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct pp_container_spec *c = t_pod_add(pod, "app", false, false);
	struct pp_exec_security s = {.uid = 77};
	char err[256] = "";

	/* No runAsUser: the "image" user is podprobe's, root here. */
	pod->security = (struct pp_security_spec){
		.set = true, .has_run_as_non_root = true, .run_as_non_root = true};
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), -EPERM);
	assert_string_equal(err, "container has runAsNonRoot and image will run as root (pod: "
				 "\"web_default(uid-1)\", container: app)");
	assert_int_equal(s.uid, 77); /* untouched on failure */

	/* runAsUser 0 said explicitly. */
	c->security = (struct pp_security_spec){
		.set = true, .has_run_as_user = true, .run_as_user = 0};
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), -EPERM);
	assert_string_equal(err, "container's runAsUser breaks non-root policy (pod: "
				 "\"web_default(uid-1)\", container: app)");

	/* A non-root uid passes; so does a non-root podprobe as the image user. */
	c->security.run_as_user = 1000;
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.uid, 1000);
	c->security = (struct pp_security_spec){0};
	assert_int_equal(t_resolve(pod, 1000, &s, err, sizeof(err)), 0);
	assert_int_equal(s.uid, 1000);

	/* The container's runAsNonRoot: false overrides the pod's true. */
	c->security = (struct pp_security_spec){
		.set = true, .has_run_as_non_root = true, .run_as_non_root = false};
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	pp_pod_free(pod);
}

static void test_capabilities_add_and_drop_like_containerd(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct pp_container_spec *c = t_pod_add(pod, "app", false, false);
	struct pp_security_spec *sc = &c->security;
	struct pp_exec_security s;
	char err[256] = "";

	/* drop: [ALL], add: [NET_BIND_SERVICE]: only that one, whatever the order written. */
	sc->set = sc->has_capabilities = true;
	sc->cap_add = t_strv("net_bind_service", NULL);
	sc->n_cap_add = 1;
	sc->cap_drop = t_strv("ALL", NULL);
	sc->n_cap_drop = 1;
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.caps, BIT(PP_CAP_NET_BIND_SERVICE));

	/* add: [ALL], drop: [CHOWN, KILL]: everything but those. */
	pp_pod_free(pod);
	pod = t_pod_new("web", PP_RESTART_NEVER);
	c = t_pod_add(pod, "app", false, false);
	sc = &c->security;
	sc->set = sc->has_capabilities = true;
	sc->cap_add = t_strv("all", NULL);
	sc->n_cap_add = 1;
	sc->cap_drop = t_strv("CHOWN", "KILL");
	sc->n_cap_drop = 2;
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.caps, PP_CAPS_ALL & ~BIT(PP_CAP_CHOWN) & ~BIT(PP_CAP_KILL));

	/* Defaults plus SYS_TIME minus NET_RAW. */
	free(sc->cap_add[0]);
	sc->cap_add[0] = strdup("SYS_TIME");
	free(sc->cap_drop[1]);
	sc->n_cap_drop = 1;
	free(sc->cap_drop[0]);
	sc->cap_drop[0] = strdup("NET_RAW");
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.caps, (PP_CAPS_DEFAULT | BIT(25)) & ~BIT(PP_CAP_NET_RAW));

	/* privileged: every capability, add and drop ignored (containerd WithPrivileged). */
	sc->has_privileged = sc->privileged = true;
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(s.caps, PP_CAPS_ALL);

	/* An unknown name never resolves (validation reports it first). */
	sc->has_privileged = sc->privileged = false;
	free(sc->cap_drop[0]);
	sc->cap_drop[0] = strdup("CAP_NET_RAW");
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), -EINVAL);
	pp_pod_free(pod);
}

static void test_no_new_privs_only_when_escalation_is_refused(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct pp_container_spec *c = t_pod_add(pod, "app", false, false);
	struct pp_exec_security s;
	char err[256] = "";

	c->security.set = true;
	c->security.has_allow_privilege_escalation = true;
	c->security.allow_privilege_escalation = true;
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	assert_false(s.no_new_privs);
	c->security.allow_privilege_escalation = false;
	assert_int_equal(t_resolve(pod, 0, &s, err, sizeof(err)), 0);
	assert_true(s.no_new_privs);
	pp_pod_free(pod);
}

static void test_non_root_podprobe_cannot_become_someone_else(void **state)
{
	struct pp_pod *pod = t_pod_new("web", PP_RESTART_NEVER);
	struct pp_container_spec *c = t_pod_add(pod, "app", false, false);
	struct pp_diag_list diags = {0};
	struct pp_exec_security s;
	char err[256] = "";

	/* Its own uid is fine, and nothing is changed (it could not be). */
	c->security = (struct pp_security_spec){
		.set = true, .has_run_as_user = true, .run_as_user = 1000, .has_capabilities = true};
	pod->security = (struct pp_security_spec){.set = true, .has_fs_group = true, .fs_group = 5};
	assert_int_equal(t_resolve(pod, 1000, &s, err, sizeof(err)), 0);
	assert_false(s.set_ids);
	assert_false(s.set_caps);
	assert_int_equal(s.n_groups, 0);
	/* ... and `podprobe run` says what it leaves out. */
	assert_int_equal(pp_security_host_warnings(pod, 1000, &diags), 2);
	assert_string_equal(diags.items[0].path, "spec.securityContext.fsGroup");
	assert_string_equal(diags.items[1].path, "spec.containers[0].securityContext.capabilities");
	assert_string_equal(diags.items[1].message,
			    "podprobe is not running as root and cannot apply capabilities (the "
			    "bounding set stays podprobe's), ignoring");
	assert_int_equal(pp_security_host_warnings(pod, 0, &diags), 0);
	pp_diag_list_free(&diags);

	c->security.run_as_user = 2000;
	assert_int_equal(t_resolve(pod, 1000, &s, err, sizeof(err)), -EPERM);
	assert_string_equal(err, "podprobe runs as uid 1000 gid 1000 and cannot start a process "
				 "as uid 2000 gid 1000 (runAsUser, runAsGroup; run podprobe as "
				 "root)");
	c->security.run_as_user = 1000;
	c->security.has_run_as_group = true;
	c->security.run_as_group = 0;
	assert_int_equal(t_resolve(pod, 1000, &s, err, sizeof(err)), -EPERM);
	pp_pod_free(pod);
}

static void test_capability_names(void **state)
{
	assert_int_equal(pp_cap_from_name("CHOWN"), 0);
	assert_int_equal(pp_cap_from_name("sys_admin"), PP_CAP_SYS_ADMIN);
	assert_int_equal(pp_cap_from_name("CHECKPOINT_RESTORE"), PP_CAP_CHECKPOINT_RESTORE);
	assert_int_equal(pp_cap_from_name("CAP_CHOWN"), -ENOENT);
	assert_int_equal(pp_cap_from_name("ALL"), -ENOENT);
	assert_int_equal(pp_cap_from_name(NULL), -ENOENT);
	assert_string_equal(pp_cap_name(PP_CAP_SETFCAP), "SETFCAP");
	assert_null(pp_cap_name(PP_CAP_CHECKPOINT_RESTORE + 1));
	for (unsigned int i = 0; i <= PP_CAP_CHECKPOINT_RESTORE; i++)
		assert_int_equal(pp_cap_from_name(pp_cap_name(i)), (int)i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_said_gives_containerd_defaults),
		cmocka_unit_test(test_container_fields_win_over_the_pod),
		cmocka_unit_test(test_run_as_user_without_group_gets_group_0),
		cmocka_unit_test(test_run_as_non_root_refuses_uid_0),
		cmocka_unit_test(test_capabilities_add_and_drop_like_containerd),
		cmocka_unit_test(test_no_new_privs_only_when_escalation_is_refused),
		cmocka_unit_test(test_non_root_podprobe_cannot_become_someone_else),
		cmocka_unit_test(test_capability_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
