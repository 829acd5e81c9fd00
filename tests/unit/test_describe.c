// SPDX-License-Identifier: Apache-2.0
/* `kubectl describe pod` text: RFC 3339 parsing, RFC1123Z in a given zone, whole pods. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "podprobe/describe.h"

#define NS 1000000000ll

/* 2026-12-01T06:20:00Z */
#define NOW_S 1796106000ll

static long plus_one_hour(int64_t t, void *ctx)
{
	(void)t;
	(void)ctx;
	return 3600;
}

static long st_johns(int64_t t, void *ctx)
{
	(void)t;
	(void)ctx;
	return -(3 * 3600 + 30 * 60);
}

/* JSON written with ' for " (the fixtures have no apostrophe). */
static json_t *j(const char *s)
{
	char *c = strdup(s);
	json_t *v;

	assert_non_null(c);
	for (char *p = c; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(c, 0, NULL);
	free(c);
	assert_non_null(v);
	return v;
}

static void assert_describe(const char *pod, const char *events, const struct pp_describe_env *env,
			    const char *want)
{
	struct pp_strbuf b = {0};
	json_t *p = j(pod), *e = events ? j(events) : NULL;

	assert_int_equal(pp_describe_pod(&b, p, e, env), 0);
	assert_int_equal(b.err, 0);
	assert_non_null(b.p);
	assert_string_equal(b.p, want);
	assert_int_equal(b.len, strlen(want));
	pp_strbuf_fini(&b);
	json_decref(p);
	json_decref(e);
}

static void test_parse_time_takes_rfc3339_only(void **state)
{
	static const struct {
		const char *s;
		int64_t want;
	} ok[] = {
		{"2026-12-01T05:35:42Z", 1796103342 * NS},
		{"2026-12-01T05:35:43.5Z", 1796103343 * NS + NS / 2},
		{"2026-12-01T05:35:42.123456789123Z", 1796103342 * NS + 123456789},
		{"2026-12-01T06:35:42+01:00", 1796103342 * NS},
		{"2026-12-01T02:05:42-03:30", 1796103342 * NS},
		{"1970-01-01T00:00:00Z", 0},
		{"2024-02-29T12:00:00Z", 1709208000 * NS},
	};
	static const char *const bad[] = {
		"",
		"2026-12-01T05:35:42",
		"2026-12-01 05:35:42Z",
		"2026-13-01T05:35:42Z",
		"2026-12-01T24:00:00Z",
		"2026-12-01T05:35:42+0100",
		"2026-12-01T05:35:42Zjunk",
		" 2026-12-01T05:35:42Z",
		"2026-12-1T05:35:42Z",
	};
	int64_t t;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		t = -1;
		assert_true(pp_describe_parse_time(ok[i].s, &t));
		assert_int_equal(t, ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = 42;
		assert_false(pp_describe_parse_time(bad[i], &t));
		assert_int_equal(t, 42); /* untouched */
	}
	assert_false(pp_describe_parse_time(NULL, &t));
}

static void assert_rfc(int64_t ns, const struct pp_describe_env *env, const char *want)
{
	char buf[40];

	assert_int_equal(pp_describe_rfc1123z(ns, env, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
}

/* Go's time.RFC1123Z, "Mon, 02 Jan 2006 15:04:05 -0700", in the zone the caller gives. */
static void test_rfc1123z_in_the_given_zone(void **state)
{
	struct pp_describe_env plus1 = {.utc_offset = plus_one_hour};
	struct pp_describe_env minus = {.utc_offset = st_johns};
	char small[31];

	assert_rfc(1796103342 * NS, NULL, "Tue, 01 Dec 2026 05:35:42 +0000");
	assert_rfc(1796103342 * NS, &plus1, "Tue, 01 Dec 2026 06:35:42 +0100");
	assert_rfc(1796103342 * NS, &minus, "Tue, 01 Dec 2026 02:05:42 -0330");
	/* the local day, month and year, not UTC's */
	assert_rfc(1798759800 * NS, &plus1, "Fri, 01 Jan 2027 00:30:00 +0100");
	assert_rfc(1709208000 * NS, NULL, "Thu, 29 Feb 2024 12:00:00 +0000");
	assert_rfc(0, NULL, "Thu, 01 Jan 1970 00:00:00 +0000");
	assert_rfc(0, &minus, "Wed, 31 Dec 1969 20:30:00 -0330");
	/* fractions are cut, not rounded */
	assert_rfc(1796103342 * NS + NS - 1, NULL, "Tue, 01 Dec 2026 05:35:42 +0000");
	assert_int_equal(pp_describe_rfc1123z(0, NULL, small, sizeof(small)), -ENOSPC);
}

/* Containers, init containers, probes, states, resources, volumes, tolerations, events. */
static const char pod1[] =
	"{'apiVersion':'v1','kind':'Pod','metadata':{'name':'web','namespace':'default',"
	"'uid':'u-1','labels':{'tier':'fe','app':'web'},'annotations':{'note':'hello',"
	"'multi':'one\\ntwo\\n','kubectl.kubernetes.io/last-applied-configuration':'{"
	"}','long':'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}},"
	"'spec':{'nodeName':'node1','priority':0,'serviceAccountName':'default',"
	"'initContainers':[{'name':'init','image':'busybox','command':['sh','-c',"
	"'echo hi\\nsleep 1']}],'containers':[{'name':'app','image':'demo-app','args':["
	"'--port=8080'],'ports':[{'containerPort':8080,'protocol':'TCP'},{'containerPort':9090"
	",'hostPort':9090,'protocol':'UDP'}],'resources':{'limits':{'memory':'64Mi',"
	"'cpu':'500m'},'requests':{'cpu':'100m'}},'livenessProbe':{'httpGet':{'path':'/healthz"
	"','port':8080,'scheme':'HTTP'},'initialDelaySeconds':1,'timeoutSeconds':1,"
	"'periodSeconds':10,'successThreshold':1,'failureThreshold':3},'readinessProbe':{"
	"'exec':{'command':['cat','/tmp/ready']},'timeoutSeconds':1,'periodSeconds':5,"
	"'successThreshold':1,'failureThreshold':3},'startupProbe':{'tcpSocket':{"
	"'port':'http'},'timeoutSeconds':2,'periodSeconds':1,'successThreshold':1,"
	"'failureThreshold':30},'env':[{'name':'MODE','value':'prod'},{'name':'POD_NAME',"
	"'valueFrom':{'fieldRef':{'fieldPath':'metadata.name'}}}],'volumeMounts':["
	"{'name':'data','mountPath':'/data'},{'name':'data','mountPath':'/ro','readOnly':true,"
	"'subPath':'sub'}]},{'name':'side','image':'busybox','ports':[{'containerPort':53,"
	"'protocol':'UDP'}]}],'volumes':[{'name':'data','emptyDir':{'sizeLimit':'1Gi'}},"
	"{'name':'cfg','configMap':{'name':'x'}}],'nodeSelector':{'disk':'ssd'},"
	"'tolerations':[{'key':'node.kubernetes.io/not-ready','operator':'Exists',"
	"'effect':'NoExecute','tolerationSeconds':300},{'key':'k','operator':'Equal',"
	"'value':'v','effect':'NoSchedule'},{'operator':'Exists'}]},'status':{'phase':'Running"
	"','hostIP':'127.0.0.1','podIP':'127.0.0.1','podIPs':[{'ip':'127.0.0.1'}],"
	"'startTime':'2026-12-01T05:35:42Z','qosClass':'Burstable','conditions':["
	"{'type':'Initialized','status':'True'},{'type':'Ready','status':'False'},"
	"{'type':'PodScheduled','status':'True'}],'initContainerStatuses':[{'name':'init',"
	"'containerID':'podprobe://0001','image':'busybox','imageID':'','ready':true,"
	"'restartCount':0,'state':{'terminated':{'exitCode':0,'reason':'Completed',"
	"'startedAt':'2026-12-01T05:35:42Z','finishedAt':'2026-12-01T05:35:43.5Z'}}}],"
	"'containerStatuses':[{'name':'app','containerID':'podprobe://0002','image':'demo-app'"
	",'imageID':'','ready':false,'restartCount':2,'state':{'running':{'startedAt':'2026-12"
	"-01T05:50:01Z'}},'lastState':{'terminated':{'exitCode':137,'signal':9,'reason':'Error"
	"','message':'killed by liveness','startedAt':'2026-12-01T05:40:00Z','finishedAt':'202"
	"6-12-01T05:50:00Z'}}},{'name':'side','containerID':'','image':'busybox',"
	"'imageID':'','ready':false,'restartCount':0,'state':{'waiting':{'reason':'CrashLoopBa"
	"ckOff'}},'lastState':{}}]}}";

static const char events1[] =
	"{'kind':'EventList','apiVersion':'v1','items':[{'type':'Warning','reason':'Unhealthy'"
	",'message':'Liveness probe failed: HTTP probe failed with statuscode: 500\\n',"
	"'count':5,'firstTimestamp':'2026-12-01T05:40:00Z','lastTimestamp':'2026-12-01T05:58:3"
	"0Z','source':{'component':'kubelet','host':'node1'}},{'type':'Normal','reason':'Sched"
	"uled','message':'Successfully assigned default/web to node1','count':1,"
	"'firstTimestamp':'2026-12-01T05:35:40Z','lastTimestamp':'2026-12-01T05:35:40Z',"
	"'source':{'component':'default-scheduler'}},{'type':'Normal','reason':'Pulled',"
	"'message':'  Container image \\'demo-app\\' already present on machine',"
	"'eventTime':'2026-12-01T05:35:41.123456Z','reportingController':'podprobe',"
	"'series':{'count':3,'lastObservedTime':'2026-12-01T05:50:00Z'},'source':{"
	"}}]}";

static void test_describe_pod_as_kubectl_prints_it(void **state)
{
	struct pp_describe_env env = {.now_ns = NOW_S * NS, .utc_offset = plus_one_hour};

	assert_describe(
		pod1, events1, &env,
		"Name:             web\n"
		"Namespace:        default\n"
		"Priority:         0\n"
		"Service Account:  default\n"
		"Node:             node1/127.0.0.1\n"
		"Start Time:       Tue, 01 Dec 2026 06:35:42 +0100\n"
		"Labels:           app=web\n"
		"                  tier=fe\n"
		"Annotations:      long:\n"
		"                    "
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\n"
		"                  multi:\n"
		"                    one\n"
		"                    two\n"
		"                  note: hello\n"
		"Status:           Running\n"
		"IP:               127.0.0.1\n"
		"IPs:\n"
		"  IP:  127.0.0.1\n"
		"Init Containers:\n"
		"  init:\n"
		"    Container ID:  podprobe://0001\n"
		"    Image:         busybox\n"
		"    Image ID:      \n"
		"    Port:          <none>\n"
		"    Host Port:     <none>\n"
		"    Command:\n"
		"      sh\n"
		"      -c\n"
		"      echo hi\n"
		"      sleep 1\n"
		"    State:          Terminated\n"
		"      Reason:       Completed\n"
		"      Exit Code:    0\n"
		"      Started:      Tue, 01 Dec 2026 06:35:42 +0100\n"
		"      Finished:     Tue, 01 Dec 2026 06:35:43 +0100\n"
		"    Ready:          True\n"
		"    Restart Count:  0\n"
		"    Environment:    <none>\n"
		"    Mounts:         <none>\n"
		"Containers:\n"
		"  app:\n"
		"    Container ID:  podprobe://0002\n"
		"    Image:         demo-app\n"
		"    Image ID:      \n"
		"    Ports:         8080/TCP, 9090/UDP\n"
		"    Host Ports:    0/TCP, 9090/UDP\n"
		"    Args:\n"
		"      --port=8080\n"
		"    State:          Running\n"
		"      Started:      Tue, 01 Dec 2026 06:50:01 +0100\n"
		"    Last State:     Terminated\n"
		"      Reason:       Error\n"
		"      Message:      killed by liveness\n"
		"      Exit Code:    137\n"
		"      Signal:       9\n"
		"      Started:      Tue, 01 Dec 2026 06:40:00 +0100\n"
		"      Finished:     Tue, 01 Dec 2026 06:50:00 +0100\n"
		"    Ready:          False\n"
		"    Restart Count:  2\n"
		"    Limits:\n"
		"      cpu:     500m\n"
		"      memory:  64Mi\n"
		"    Requests:\n"
		"      cpu:      100m\n"
		"    Liveness:   http-get http://:8080/healthz delay=1s timeout=1s period=10s "
		"#success"
		"=1 #failure=3\n"
		"    Readiness:  exec [cat /tmp/ready] delay=0s timeout=1s period=5s #success=1 "
		"#failu"
		"re=3\n"
		"    Startup:    tcp-socket :http delay=0s timeout=2s period=1s #success=1 "
		"#failure=30"
		"\n"
		"    Environment:\n"
		"      MODE:      prod\n"
		"      POD_NAME:  <set from a source>\n"
		"    Mounts:\n"
		"      /data from data (rw)\n"
		"      /ro from data (ro,path=\"sub\")\n"
		"  side:\n"
		"    Container ID:   \n"
		"    Image:          busybox\n"
		"    Image ID:       \n"
		"    Port:           53/UDP\n"
		"    Host Port:      0/UDP\n"
		"    State:          Waiting\n"
		"      Reason:       CrashLoopBackOff\n"
		"    Ready:          False\n"
		"    Restart Count:  0\n"
		"    Environment:    <none>\n"
		"    Mounts:         <none>\n"
		"Conditions:\n"
		"  Type           Status\n"
		"  Initialized    True \n"
		"  Ready          False \n"
		"  PodScheduled   True \n"
		"Volumes:\n"
		"  data:\n"
		"    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)\n"
		"    Medium:     \n"
		"    SizeLimit:  1Gi\n"
		"  cfg:\n"
		/* One tabwriter block with what follows, as kubectl prints it. */
		"    Type:        ConfigMap (a volume populated by a ConfigMap)\n"
		"    Name:        x\n"
		"    Optional:    false\n"
		"QoS Class:       Burstable\n"
		"Node-Selectors:  disk=ssd\n"
		"Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n"
		"                 k=v:NoSchedule\n"
		"                 op=Exists\n"
		"Events:\n"
		"  Type     Reason     Age                From               Message\n"
		"  ----     ------     ----               ----               -------\n"
		"  Normal   Pulled     30m (x3 over 44m)  podprobe           Container image "
		"\"demo-ap"
		"p\" already present on machine\n"
		"  Normal   Scheduled  44m                default-scheduler  Successfully assigned "
		"def"
		"ault/web to node1\n"
		"  Warning  Unhealthy  21m (x5 over 40m)  kubelet            Liveness probe "
		"failed: HT"
		"TP probe failed with statuscode: 500\n");
}

/* Being deleted, no node, no start time; events without times and from the future. */
static const char pod2[] =
	"{'metadata':{'name':'gone','namespace':'ns1','deletionTimestamp':'2026-12-01T06:19:30"
	"Z','deletionGracePeriodSeconds':30},'spec':{'containers':[{'name':'c','image':'i',"
	"'livenessProbe':{'grpc':{'port':9000,'service':'health'},'periodSeconds':10,"
	"'successThreshold':1,'failureThreshold':3}}]},'status':{'phase':'Running',"
	"'reason':'Evicted','message':'The node was low on resource','podIPs':[],"
	"'startTime':null}}";

static const char events2[] =
	"{'items':[{'type':'Normal','reason':'Killing','message':'Stopping container c',"
	"'lastTimestamp':'2026-12-01T06:19:59Z','firstTimestamp':'2026-12-01T06:19:30Z',"
	"'count':1,'source':{'component':'kubelet'}},{'type':'Normal','reason':'Old',"
	"'message':'no times','source':{'component':'kubelet'}},{'type':'Warning',"
	"'reason':'Future','message':'clock skew','firstTimestamp':'2026-12-01T06:25:00Z',"
	"'lastTimestamp':'2026-12-01T06:25:00Z','count':2,'source':{'component':'x'}}]}";

static void test_describe_terminating_pod_and_event_ages(void **state)
{
	struct pp_describe_env env = {.now_ns = NOW_S * NS, .utc_offset = plus_one_hour};

	assert_describe(
		pod2, events2, &env,
		"Name:                      gone\n"
		"Namespace:                 ns1\n"
		"Node:                      <none>\n"
		"Labels:                    <none>\n"
		"Annotations:               <none>\n"
		"Status:                    Terminating (lasts 30s)\n"
		"Termination Grace Period:  30s\n"
		"Reason:                    Evicted\n"
		"Message:                   The node was low on resource\n"
		"IP:                        \n"
		"IPs:                       <none>\n"
		"Containers:\n"
		"  c:\n"
		"    Image:        i\n"
		"    Port:         <none>\n"
		"    Host Port:    <none>\n"
		"    Liveness:     grpc <pod>:9000 health delay=0s timeout=0s period=10s "
		"#success=1 #f"
		"ailure=3\n"
		"    Environment:  <none>\n"
		"    Mounts:       <none>\n"
		"Volumes:          <none>\n"
		"Node-Selectors:   <none>\n"
		"Tolerations:      <none>\n"
		"Events:\n"
		"  Type     Reason   Age                            From     Message\n"
		"  ----     ------   ----                           ----     -------\n"
		"  Normal   Old      <unknown>                      kubelet  no times\n"
		"  Normal   Killing  30s                            kubelet  Stopping container c\n"
		"  Warning  Future   <invalid> (x2 over <invalid>)  x        clock skew\n");
}

/* Ages count from the given now: the same pod 90 s later. */
static void test_ages_count_from_now(void **state)
{
	struct pp_describe_env env = {.now_ns = (NOW_S + 90) * NS};
	struct pp_strbuf b = {0};
	json_t *p = j(pod2), *e = j(events2);

	assert_int_equal(pp_describe_pod(&b, p, e, &env), 0);
	assert_non_null(strstr(b.p, "Status:                    Terminating (lasts 2m)\n"));
	assert_non_null(strstr(b.p, "  Normal   Killing  2m                             kubelet"));
	assert_non_null(strstr(b.p, "  Warning  Future   <invalid> (x2 over <invalid>)  x "));
	pp_strbuf_fini(&b);
	json_decref(p);
	json_decref(e);
}

/* describeVolumes' texts for the sources podprobe runs (and <unknown> for others). */
static void test_describe_volume_sources(void **state)
{
	static const char pod[] =
		"{'metadata':{'name':'v','namespace':'default'},'spec':{'containers':[{'name':'c',"
		"'image':'i'}],'volumes':[{'name':'sec','secret':{'secretName':'tls','optional':"
		"true}},{'name':'host','hostPath':{'path':'/var/"
		"log'}},{'name':'info','downwardAPI':"
		"{'items':[{'path':'labels','fieldRef':{'fieldPath':'metadata.labels'}},{'path':"
		"'cpu','resourceFieldRef':{'containerName':'c','resource':'limits.cpu'}}]}},{'name'"
		":"
		"'all','projected':{'sources':[{'serviceAccountToken':{'path':'token'}},"
		"{'configMap':{'name':'kube-root-ca.crt'}},{'downwardAPI':{'items':[]}},{'secret':{"
		"'name':'s','optional':false}}]}},{'name':'nfs','nfs':{'server':'x','path':'/'}}]},"
		"'status':{'phase':'Pending'}}";
	static const char want[] =
		"Volumes:\n"
		"  sec:\n"
		"    Type:        Secret (a volume populated by a Secret)\n"
		"    SecretName:  tls\n"
		"    Optional:    true\n"
		"  host:\n"
		"    Type:          HostPath (bare host directory volume)\n"
		"    Path:          /var/log\n"
		"    HostPathType:  <none>\n"
		"  info:\n"
		"    Type:  DownwardAPI (a volume populated by information about the pod)\n"
		"    Items:\n"
		"      metadata.labels -> labels\n"
		"      limits.cpu -> cpu\n"
		"  all:\n"
		"    Type:                    Projected (a volume that contains injected data from "
		"multiple sources)\n"
		"    TokenExpirationSeconds:  3600\n"
		"    ConfigMapName:           kube-root-ca.crt\n"
		"    ConfigMapOptional:       <nil>\n"
		"    DownwardAPI:             true\n"
		"    SecretName:              s\n"
		"    SecretOptionalName:      false\n"
		"  nfs:\n"
		"  <unknown>\n"
		"Node-Selectors:";
	struct pp_describe_env env = {.now_ns = NOW_S * NS};
	struct pp_strbuf b = {0};
	json_t *p = j(pod);

	assert_int_equal(pp_describe_pod(&b, p, NULL, &env), 0);
	assert_non_null(b.p);
	if (!strstr(b.p, want))
		fail_msg("no Volumes block as expected in:\n%s", b.p);
	pp_strbuf_fini(&b);
	json_decref(p);
}

static void test_describe_takes_only_an_object(void **state)
{
	struct pp_describe_env env = {.now_ns = NOW_S * NS};
	struct pp_strbuf b = {0};
	json_t *a = json_array();

	assert_int_equal(pp_describe_pod(&b, a, NULL, &env), -EINVAL);
	assert_int_equal(pp_describe_pod(&b, NULL, NULL, &env), -EINVAL);
	assert_int_equal(b.len, 0);
	json_decref(a);
}

/*
 * An empty pod still gets the sections kubectl always prints. "Containers: <none>" has no tab
 * (describe.go describeContainersLabel), so it ends the column block above it.
 */
static void test_describe_empty_pod(void **state)
{
	assert_describe("{}", "{'items':[]}", NULL,
			"Name:         \n"
			"Namespace:    \n"
			"Node:         <none>\n"
			"Labels:       <none>\n"
			"Annotations:  <none>\n"
			"Status:       \n"
			"IP:           \n"
			"IPs:          <none>\n"
			"Containers: <none>\n"
			"Volumes:         <none>\n"
			"Node-Selectors:  <none>\n"
			"Tolerations:     <none>\n"
			"Events:          <none>\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time_takes_rfc3339_only),
		cmocka_unit_test(test_rfc1123z_in_the_given_zone),
		cmocka_unit_test(test_describe_pod_as_kubectl_prints_it),
		cmocka_unit_test(test_describe_terminating_pod_and_event_ages),
		cmocka_unit_test(test_ages_count_from_now),
		cmocka_unit_test(test_describe_volume_sources),
		cmocka_unit_test(test_describe_takes_only_an_object),
		cmocka_unit_test(test_describe_empty_pod),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
