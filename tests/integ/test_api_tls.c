/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API server's TLS material and kubeconfig (user/io/api_tls.c), checked from outside: the
 * kubeconfig's mode and JSON shape, the certificate as /usr/bin/openssl reads it, and real
 * handshakes against a small TLS server using the generated SSL_CTX (a forked child on
 * 127.0.0.1 or ::1) by curl and `openssl s_client`, which must verify with the kubeconfig's
 * CA and fail with another; and, when /usr/bin/kubectl exists, kubectl itself sending the
 * token over it.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "integ/support/integ.h"
#include "podprobe/api_tls.h"

#define OPENSSL	  "/usr/bin/openssl"
#define CURL	  "/usr/bin/curl"
#define KUBECTL	  "/usr/bin/kubectl"
#define MAX_CONNS 32 /* the test server's connections before it exits */

struct fix {
	char dir[64];
	int dir_fd;
	pid_t server;
	int port;
	struct pp_api_tls *t;	  /* SAN: 127.0.0.1, 127.0.0.2, ::1, localhost */
	struct pp_api_tls *other; /* another CA */
	char cmd[2100];
	char out[16384];
};

static const char *const sans[] = {"127.0.0.2", "::1", "localhost", "127.0.0.1", "[::1]"};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->server = -1;
	f->dir_fd = -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pp-api-tls-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->dir_fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dir_fd < 0 || pp_api_tls_new(sans, sizeof(sans) / sizeof(sans[0]), &f->t) ||
	    pp_api_tls_new(NULL, 0, &f->other))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char cmd[128];

	if (f->server > 0) {
		kill(f->server, SIGKILL);
		waitpid(f->server, NULL, 0);
	}
	if (f->dir_fd >= 0)
		close(f->dir_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	t_system(cmd, NULL, 0);
	pp_api_tls_free(f->t);
	pp_api_tls_free(f->other);
	free(f);
	return 0;
}

static const char *path(struct fix *f, const char *name)
{
	static char p[2][256];
	static int i;

	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", f->dir, name);
	return p[i];
}

static void write_text(const char *file, const char *text)
{
	FILE *fp = fopen(file, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Run a shell command (bounded by timeout(1)) into f->out; returns its exit status. */
__attribute__((format(printf, 2, 3))) static int run(struct fix *f, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(f->cmd, sizeof(f->cmd), "timeout 30 %s 2>&1", line);
	return t_system(f->cmd, f->out, sizeof(f->out));
}

/* ---- a TLS server on the generated SSL_CTX ---------------------------------------------- */

static void respond(SSL *s, const char *token)
{
	static const char version[] =
		"{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"v1.32.4\","
		"\"platform\":\"linux/amd64\"}";
	static const char denied[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
				     "\"status\":\"Failure\",\"message\":\"Unauthorized\","
				     "\"reason\":\"Unauthorized\",\"code\":401}";
	char req[16384] = "", want[128], resp[1024];
	const char *body = "ok";
	size_t n = 0;
	int code = 200, len;

	while (n < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
		int r = SSL_read(s, req + n, (int)(sizeof(req) - 1 - n));

		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
	}
	snprintf(want, sizeof(want), "\r\nAuthorization: Bearer %s\r\n", token);
	if (!strncmp(req, "GET /version", 12))
		body = version;
	else if (!strcasestr(req, want))
		code = 401, body = denied;
	len = snprintf(resp, sizeof(resp),
		       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		       "Connection: close\r\n\r\n%s",
		       code, code == 200 ? "OK" : "Unauthorized",
		       body[0] == '{' ? "application/json" : "text/plain", strlen(body), body);
	SSL_write(s, resp, len);
	SSL_shutdown(s);
}

/* Listen on <addr> (127.0.0.1 or ::1) and serve in a child; false when <addr> is unusable. */
static bool serve(struct fix *f, SSL_CTX *ctx, const char *addr)
{
	struct sockaddr_storage ss = {0};
	socklen_t sl = sizeof(ss);
	bool v6 = strchr(addr, ':') != NULL;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	assert_true(fd >= 0);
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &a->sin_addr);
		sl = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
		close(fd);
		return false;
	}
	sl = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	f->port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			   : ((struct sockaddr_in *)&ss)->sin_port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(60);
		for (int i = 0; i < MAX_CONNS; i++) {
			int c = accept(fd, NULL, NULL);
			SSL *s;

			if (c < 0)
				_exit(1);
			s = SSL_new(ctx);
			if (s && SSL_set_fd(s, c) == 1 && SSL_accept(s) == 1)
				respond(s, f->t->token);
			SSL_free(s);
			close(c);
		}
		_exit(0);
	}
	close(fd);
	f->server = pid;
	return true;
}

static void write_pem(struct fix *f, const char *name, const struct pp_api_tls *t)
{
	write_text(path(f, name), t->cert_pem);
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_kubeconfig_is_private_json_with_the_ca_and_token(void **state)
{
	struct fix *f = *state;
	json_t *j, *cluster, *user, *ctx;
	json_error_t jerr;
	const char *ca;
	unsigned char *pem;
	struct stat st;
	mode_t old;
	int n;

	/* a restrictive umask must not leave the file unreadable to its owner (fchmod) */
	old = umask(0277);
	n = pp_api_kubeconfig_write(f->dir_fd, "kubeconfig", "https://127.0.0.1:10443", f->t);
	umask(old);
	assert_int_equal(n, 0);
	assert_int_equal(fstatat(f->dir_fd, "kubeconfig", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	j = json_load_file(path(f, "kubeconfig"), 0, &jerr);
	if (!j)
		fail_msg("kubeconfig is not JSON: %s", jerr.text);
	assert_string_equal(json_string_value(json_object_get(j, "apiVersion")), "v1");
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "Config");
	assert_string_equal(json_string_value(json_object_get(j, "current-context")), "podprobe");
	assert_int_equal(json_array_size(json_object_get(j, "clusters")), 1);
	cluster = json_array_get(json_object_get(j, "clusters"), 0);
	assert_string_equal(json_string_value(json_object_get(cluster, "name")), "podprobe");
	cluster = json_object_get(cluster, "cluster");
	assert_string_equal(json_string_value(json_object_get(cluster, "server")),
			    "https://127.0.0.1:10443");
	user = json_array_get(json_object_get(j, "users"), 0);
	assert_string_equal(json_string_value(json_object_get(user, "name")), "podprobe");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(user, "user"), "token")),
		f->t->token);
	ctx = json_array_get(json_object_get(j, "contexts"), 0);
	assert_string_equal(json_string_value(json_object_get(ctx, "name")), "podprobe");
	ctx = json_object_get(ctx, "context");
	assert_string_equal(json_string_value(json_object_get(ctx, "cluster")), "podprobe");
	assert_string_equal(json_string_value(json_object_get(ctx, "user")), "podprobe");
	assert_string_equal(json_string_value(json_object_get(ctx, "namespace")), "default");

	/* certificate-authority-data: base64 of the whole PEM, one line */
	ca = json_string_value(json_object_get(cluster, "certificate-authority-data"));
	assert_non_null(ca);
	assert_null(strchr(ca, '\n'));
	pem = calloc(1, strlen(ca) + 1);
	assert_non_null(pem);
	n = EVP_DecodeBlock(pem, (const unsigned char *)ca, (int)strlen(ca));
	assert_true(n >= (int)strlen(f->t->cert_pem));
	assert_memory_equal(pem, f->t->cert_pem, strlen(f->t->cert_pem));
	assert_memory_equal(pem, "-----BEGIN CERTIFICATE-----\n", 28);
	free(pem);
	json_decref(j);

	/* the token: 32 random bytes in hex, different each time */
	assert_int_equal(strlen(f->t->token), 64);
	assert_int_equal(strspn(f->t->token, "0123456789abcdef"), 64);
	assert_string_not_equal(f->t->token, f->other->token);
}

static void test_kubeconfig_replaces_atomically_and_leaves_nothing_behind(void **state)
{
	struct fix *f = *state;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int n = 0;

	/* a symlink planted at the name is replaced, not followed */
	write_text(path(f, "victim"), "untouched\n");
	assert_int_equal(symlinkat("victim", f->dir_fd, "kubeconfig"), 0);
	assert_int_equal(
		pp_api_kubeconfig_write(f->dir_fd, "kubeconfig", "https://127.0.0.1:1", f->t), 0);
	assert_int_equal(
		pp_api_kubeconfig_write(f->dir_fd, "kubeconfig", "https://127.0.0.1:2", f->t), 0);
	assert_int_equal(fstatat(f->dir_fd, "kubeconfig", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(run(f, "cat '%s'", path(f, "victim")), 0);
	assert_string_equal(f->out, "untouched\n");
	assert_int_equal(run(f, "grep -c 'https://127.0.0.1:2\"' '%s'", path(f, "kubeconfig")), 0);

	/* a failed write leaves nothing either */
	assert_int_equal(pp_api_kubeconfig_write(f->dir_fd, "nosuch/kubeconfig", "https://x", f->t),
			 -ENOENT);
	assert_int_equal(pp_api_kubeconfig_write(f->dir_fd, "", "https://x", f->t), -EINVAL);
	assert_int_equal(pp_api_kubeconfig_write(f->dir_fd, "k", NULL, f->t), -EINVAL);

	d = opendir(f->dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (strcmp(de->d_name, "kubeconfig") && strcmp(de->d_name, "victim"))
			fail_msg("left behind: %s", de->d_name);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 2);
}

static void test_certificate_has_ip_sans_and_ten_years(void **state)
{
	struct fix *f = *state;
	BIO *bio = BIO_new_mem_buf(f->t->cert_pem, -1);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL), *y;
	time_t now = time(NULL), t;
	int days, secs;
	char group[64];
	EVP_PKEY *key;
	BIGNUM *serial;

	if (access(OPENSSL, X_OK)) {
		X509_free(x);
		BIO_free(bio);
		skip();
	}
	write_pem(f, "ca.pem", f->t);
	assert_int_equal(
		run(f, OPENSSL " x509 -in '%s' -noout -ext subjectAltName", path(f, "ca.pem")), 0);
	/* 127.0.0.1 first, each address once, ::1 given twice, a hostname as DNS */
	assert_non_null(strstr(f->out, "IP Address:127.0.0.1, IP Address:127.0.0.2, "
				       "IP Address:0:0:0:0:0:0:0:1, DNS:localhost\n"));
	assert_int_equal(run(f,
			     OPENSSL " x509 -in '%s' -noout -subject -issuer -ext "
				     "basicConstraints,extendedKeyUsage",
			     path(f, "ca.pem")),
			 0);
	assert_non_null(strstr(f->out, "subject=CN = podprobe\n"));
	assert_non_null(strstr(f->out, "issuer=CN = podprobe\n"));
	assert_non_null(strstr(f->out, "CA:TRUE"));
	assert_non_null(strstr(f->out, "TLS Web Server Authentication"));

	/* the library's view: v3, P-256, ecdsa-with-SHA256, 10 years from a minute ago */
	assert_non_null(x);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	key = X509_get0_pubkey(x);
	assert_int_equal(EVP_PKEY_get_group_name(key, group, sizeof(group), NULL), 1);
	assert_string_equal(group, "prime256v1");
	assert_int_equal(X509_verify(x, key), 1); /* self-signed */
	assert_int_equal(
		ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
	assert_int_equal(days, 3650);
	assert_int_equal(secs, 0);
	t = now - 30;
	assert_int_equal(X509_cmp_time(X509_get0_notBefore(x), &t), -1);
	t = now - 120;
	assert_int_equal(X509_cmp_time(X509_get0_notBefore(x), &t), 1);
	/* a random positive serial: over 64 bits but for a chance of 2^-63 */
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	assert_non_null(serial);
	assert_false(BN_is_negative(serial));
	assert_true(BN_num_bits(serial) > 64 && BN_num_bits(serial) <= 127);
	BN_free(serial);
	/* another certificate: another serial and key */
	BIO_free(bio);
	bio = BIO_new_mem_buf(f->other->cert_pem, -1);
	y = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(y);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x), X509_get0_serialNumber(y)),
			     0);
	assert_int_not_equal(X509_verify(y, key), 1);
	assert_int_equal(SSL_CTX_get_min_proto_version(f->t->ctx), TLS1_2_VERSION);
	X509_free(y);
	X509_free(x);
	BIO_free(bio);
}

static void test_bad_subject_alt_names_are_refused(void **state)
{
	static const char *const bad_host[] = {"bad host"};
	static const char *const injected[] = {"a,IP:1.2.3.4"};
	static const char *const empty[] = {""};
	static const char *const null[] = {NULL};
	struct pp_api_tls *t = (struct pp_api_tls *)0x1;

	assert_int_equal(pp_api_tls_new(bad_host, 1, &t), -EINVAL);
	assert_int_equal(pp_api_tls_new(injected, 1, &t), -EINVAL);
	assert_int_equal(pp_api_tls_new(empty, 1, &t), -EINVAL);
	assert_int_equal(pp_api_tls_new(null, 1, &t), -EINVAL);
	assert_ptr_equal(t, (struct pp_api_tls *)0x1);
	pp_api_tls_free(NULL);
}

static void test_handshake_verifies_with_the_ca_and_fails_with_another(void **state)
{
	struct fix *f = *state;

	if (access(CURL, X_OK) || access(OPENSSL, X_OK)) {
		print_message("skipped: needs " CURL " and " OPENSSL "\n");
		skip();
	}
	write_pem(f, "ca.pem", f->t);
	write_pem(f, "other.pem", f->other);
	assert_true(serve(f, f->t->ctx, "127.0.0.1"));

	/* curl as kubectl would: CA from the kubeconfig, the token as a header */
	assert_int_equal(run(f,
			     CURL " -sS --cacert '%s' -H 'Authorization: Bearer %s' "
				  "https://127.0.0.1:%d/healthz",
			     path(f, "ca.pem"), f->t->token, f->port),
			 0);
	assert_string_equal(f->out, "ok");
	assert_int_equal(run(f, CURL " -sS --cacert '%s' https://127.0.0.1:%d/healthz",
			     path(f, "ca.pem"), f->port),
			 0);
	assert_non_null(strstr(f->out, "\"code\":401"));
	/* TLS 1.2 is offered too */
	assert_int_equal(run(f,
			     CURL " -sS --tlsv1.2 --tls-max 1.2 --cacert '%s' -H "
				  "'Authorization: Bearer %s' https://127.0.0.1:%d/",
			     path(f, "ca.pem"), f->t->token, f->port),
			 0);
	assert_string_equal(f->out, "ok");
	/* another CA: curl's "SSL certificate problem" (60) */
	assert_int_equal(run(f, CURL " -sS --cacert '%s' https://127.0.0.1:%d/healthz",
			     path(f, "other.pem"), f->port),
			 60);

	/* openssl s_client checks the IP against the SAN */
	assert_int_equal(run(f,
			     OPENSSL " s_client -connect 127.0.0.1:%d -verify_return_error "
				     "-CAfile '%s' -verify_ip 127.0.0.1 </dev/null",
			     f->port, path(f, "ca.pem")),
			 0);
	assert_non_null(strstr(f->out, "Verify return code: 0 (ok)"));
	assert_int_equal(run(f,
			     OPENSSL " s_client -connect 127.0.0.1:%d -verify_return_error "
				     "-CAfile '%s' -verify_ip 127.0.0.2 </dev/null",
			     f->port, path(f, "ca.pem")),
			 0);
	assert_int_not_equal(run(f,
				 OPENSSL " s_client -connect 127.0.0.1:%d -verify_return_error "
					 "-CAfile '%s' -verify_ip 127.0.0.3 </dev/null",
				 f->port, path(f, "ca.pem")),
			     0);
	assert_non_null(strstr(f->out, "IP address mismatch"));
	assert_int_not_equal(run(f,
				 OPENSSL " s_client -connect 127.0.0.1:%d -verify_return_error "
					 "-CAfile '%s' -verify_ip 127.0.0.1 </dev/null",
				 f->port, path(f, "other.pem")),
			     0);
	/* nothing older than TLS 1.2 */
	assert_int_not_equal(run(f,
				 OPENSSL " s_client -connect 127.0.0.1:%d -tls1_1 -cipher "
					 "'DEFAULT:@SECLEVEL=0' </dev/null",
				 f->port),
			     0);
}

static void test_handshake_over_ipv6_loopback_matches_the_san(void **state)
{
	struct fix *f = *state;

	if (access(CURL, X_OK)) {
		print_message("skipped: needs " CURL "\n");
		skip();
	}
	if (!serve(f, f->t->ctx, "::1")) {
		print_message("skipped: no ::1 on this machine\n");
		skip();
	}
	write_pem(f, "ca.pem", f->t);
	assert_int_equal(run(f,
			     CURL " -sS --cacert '%s' -H 'Authorization: Bearer %s' "
				  "'https://[::1]:%d/'",
			     path(f, "ca.pem"), f->t->token, f->port),
			 0);
	assert_string_equal(f->out, "ok");
}

static void test_kubectl_trusts_the_kubeconfig_and_sends_the_token(void **state)
{
	struct fix *f = *state;
	char url[64], want[80];

	if (access(KUBECTL, X_OK)) {
		print_message("skipped: no " KUBECTL "\n");
		skip();
	}
	assert_true(serve(f, f->t->ctx, "127.0.0.1"));
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", f->port);
	assert_int_equal(pp_api_kubeconfig_write(f->dir_fd, "kubeconfig", url, f->t), 0);
	assert_int_equal(pp_api_kubeconfig_write(f->dir_fd, "other", url, f->other), 0);

	assert_int_equal(run(f,
			     "env HOME='%s' " KUBECTL " --kubeconfig '%s' config view --minify "
			     "-o jsonpath='{.clusters[0].cluster.server} {.contexts[0].name}'",
			     f->dir, path(f, "kubeconfig")),
			 0);
	snprintf(want, sizeof(want), "%s podprobe", url);
	assert_string_equal(f->out, want);
	/* a real request: TLS verified by the CA data and the IP SAN, the token accepted */
	assert_int_equal(run(f,
			     "env HOME='%s' " KUBECTL " --kubeconfig '%s' --cache-dir '%s' "
			     "--request-timeout=10s get --raw /healthz",
			     f->dir, path(f, "kubeconfig"), path(f, "cache")),
			 0);
	assert_string_equal(f->out, "ok");
	/* the same server under another CA: refused by kubectl */
	assert_int_not_equal(run(f,
				 "env HOME='%s' " KUBECTL " --kubeconfig '%s' --cache-dir '%s' "
				 "--request-timeout=10s get --raw /healthz",
				 f->dir, path(f, "other"), path(f, "cache2")),
			     0);
	assert_non_null(strstr(f->out, "certificate signed by unknown authority"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_kubeconfig_is_private_json_with_the_ca_and_token, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_kubeconfig_replaces_atomically_and_leaves_nothing_behind, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_certificate_has_ip_sans_and_ten_years, setup,
						teardown),
		cmocka_unit_test(test_bad_subject_alt_names_are_refused),
		cmocka_unit_test_setup_teardown(
			test_handshake_verifies_with_the_ca_and_fails_with_another, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_handshake_over_ipv6_loopback_matches_the_san,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_kubectl_trusts_the_kubeconfig_and_sends_the_token, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
