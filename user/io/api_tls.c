/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS material for the API server, made in memory with OpenSSL 3 (the same certificate as
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -subj /CN=podprobe
 * -addext subjectAltName=IP:127.0.0.1`), and the kubeconfig written with jansson.
 */
#include "podprobe/api_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define VALID_DAYS   3650 /* 10 years */
#define BACKDATE_S   60	  /* notBefore a minute in the past, for clocks slightly behind */
#define SERIAL_BITS  127  /* positive and at most 16 bytes (RFC 5280 4.1.2.2: <= 20 octets) */
#define MAX_SAN	     64
#define TOKEN_BYTES  32
#define TMP_ATTEMPTS 16
#define DNS_NAME_MAX 253

/* OpenSSL's last error as -errno: allocation failures are -ENOMEM, the rest -EIO. */
static int ossl_err(void)
{
	unsigned long e = ERR_peek_last_error();
	int rc = ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE ? -ENOMEM : -EIO;

	ERR_clear_error();
	return rc;
}

struct san {
	int type; /* GEN_IPADD or GEN_DNS */
	unsigned char a[DNS_NAME_MAX + 1];
	size_t len;
};

static bool dns_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '*'))
			return false;
	}
	return true;
}

/* <text> as an IP (IPv4, IPv6, bracketed IPv6) or a DNS name. Returns 0 or -EINVAL. */
static int san_parse(const char *text, struct san *ret)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(text);

	if (n >= 2 && n < sizeof(buf) && text[0] == '[' && text[n - 1] == ']') {
		memcpy(buf, text + 1, n - 2);
		buf[n - 2] = '\0';
		if (inet_pton(AF_INET6, buf, ret->a) == 1) {
			ret->type = GEN_IPADD;
			ret->len = 16;
			return 0;
		}
		return -EINVAL;
	}
	if (inet_pton(AF_INET, text, ret->a) == 1) {
		ret->type = GEN_IPADD;
		ret->len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, ret->a) == 1) {
		ret->type = GEN_IPADD;
		ret->len = 16;
		return 0;
	}
	if (!dns_name_ok(text, n))
		return -EINVAL;
	ret->type = GEN_DNS;
	memcpy(ret->a, text, n);
	ret->len = n;
	return 0;
}

static GENERAL_NAME *san_name(const struct san *s)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_STRING *v = s->type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();

	if (!gn || !v || !ASN1_STRING_set(v, s->a, (int)s->len)) {
		GENERAL_NAME_free(gn);
		ASN1_STRING_free(v);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, s->type, v);
	return gn;
}

/* The subjectAltName list: 127.0.0.1, then <ips> without repeats. */
static int add_san(X509 *x, const char *const *ips, size_t n_ips)
{
	struct san *sans = calloc(n_ips + 1, sizeof(*sans));
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	size_t n = 0;
	int rc = -ENOMEM;

	if (!sans || !gens)
		goto out;
	if (n_ips + 1 > MAX_SAN) {
		rc = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i <= n_ips; i++) {
		struct san *s = &sans[n];
		bool dup = false;

		rc = san_parse(i == 0 ? "127.0.0.1" : ips[i - 1] ? ips[i - 1] : "", s);
		if (rc)
			goto out;
		for (size_t j = 0; j < n && !dup; j++)
			dup = sans[j].type == s->type && sans[j].len == s->len &&
			      !memcmp(sans[j].a, s->a, s->len);
		if (dup)
			continue;
		n++;
	}
	rc = -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *gn = san_name(&sans[i]);

		if (!gn)
			goto out;
		if (!sk_GENERAL_NAME_push(gens, gn)) {
			GENERAL_NAME_free(gn);
			goto out;
		}
	}
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1) {
		rc = ossl_err();
		goto out;
	}
	rc = 0;
out:
	sk_GENERAL_NAME_pop_free(gens, GENERAL_NAME_free);
	free(sans);
	return rc;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return ossl_err();
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : ossl_err();
}

static int make_cert(EVP_PKEY *key, const char *const *ips, size_t n_ips, X509 **ret)
{
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	X509_NAME *name;
	int rc;

	if (!x || !serial) {
		rc = -ENOMEM;
		goto out;
	}
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !BN_rand(serial, SERIAL_BITS, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_S) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), VALID_DAYS, -BACKDATE_S, NULL) ||
	    !X509_set_pubkey(x, key)) {
		rc = ossl_err();
		goto out;
	}
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"podprobe",
					-1, -1, 0) ||
	    !X509_set_issuer_name(x, name)) {
		rc = ossl_err();
		goto out;
	}
	/* subjectKeyIdentifier first: authorityKeyIdentifier copies it from the issuer (x) */
	if ((rc = add_ext(x, NID_basic_constraints, "critical,CA:TRUE")) ||
	    (rc = add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign")) ||
	    (rc = add_ext(x, NID_ext_key_usage, "serverAuth")) ||
	    (rc = add_ext(x, NID_subject_key_identifier, "hash")) ||
	    (rc = add_ext(x, NID_authority_key_identifier, "keyid:always")) ||
	    (rc = add_san(x, ips, n_ips)))
		goto out;
	if (!X509_sign(x, key, EVP_sha256())) {
		rc = ossl_err();
		goto out;
	}
	*ret = x;
	x = NULL;
	rc = 0;
out:
	BN_free(serial);
	X509_free(x);
	return rc;
}

static int cert_pem(X509 *x, char **ret)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *data, *pem;
	long len;
	int rc;

	if (!mem || !PEM_write_bio_X509(mem, x)) {
		rc = ossl_err();
		goto out;
	}
	len = BIO_get_mem_data(mem, &data);
	/* Not NUL-terminated: copied by length (strndup() may look one byte further). */
	pem = len > 0 ? malloc((size_t)len + 1) : NULL;
	if (pem) {
		memcpy(pem, data, (size_t)len);
		pem[len] = '\0';
	}
	rc = pem ? 0 : -ENOMEM;
	if (pem)
		*ret = pem;
out:
	BIO_free(mem);
	return rc;
}

static int make_ctx(X509 *x, EVP_PKEY *key, SSL_CTX **ret)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return ossl_err();
	/* TLS 1.2 and 1.3 only; a moving write buffer suits a non-blocking server's retries */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return ossl_err();
	}
	*ret = ctx;
	return 0;
}

int pp_api_tls_new(const char *const *ips, size_t n_ips, struct pp_api_tls **ret)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[TOKEN_BYTES];
	struct pp_api_tls *t = calloc(1, sizeof(*t));
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int rc;

	if (!t)
		return -ENOMEM;
	key = EVP_EC_gen("P-256");
	if (!key) {
		rc = ossl_err();
		goto out;
	}
	rc = make_cert(key, ips, n_ips, &x);
	if (rc)
		goto out;
	rc = cert_pem(x, &t->cert_pem);
	if (rc)
		goto out;
	rc = make_ctx(x, key, &t->ctx);
	if (rc)
		goto out;
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		rc = ossl_err();
		goto out;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		t->token[2 * i] = hex[raw[i] >> 4];
		t->token[2 * i + 1] = hex[raw[i] & 0xf];
	}
	t->token[2 * sizeof(raw)] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	*ret = t;
	t = NULL;
out:
	X509_free(x);
	EVP_PKEY_free(key); /* the SSL_CTX holds its own references */
	pp_api_tls_free(t);
	return rc;
}

void pp_api_tls_free(struct pp_api_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t->cert_pem);
	OPENSSL_cleanse(t->token, sizeof(t->token));
	free(t);
}

/* ---- kubeconfig ------------------------------------------------------------------------- */

static json_t *kubeconfig_json(const char *server_url, const struct pp_api_tls *t)
{
	size_t pem_len = strlen(t->cert_pem);
	unsigned char *b64 = malloc(4 * ((pem_len + 2) / 3) + 1);
	json_t *j;

	if (!b64 || pem_len > INT32_MAX) {
		free(b64);
		return NULL;
	}
	/* EVP_EncodeBlock: one line, no newlines, NUL-terminated */
	EVP_EncodeBlock(b64, (const unsigned char *)t->cert_pem, (int)pem_len);
	j = json_pack("{s:s, s:s, s:s, s:[{s:s, s:{s:s, s:s}}], s:[{s:s, s:{s:s}}],"
		      " s:[{s:s, s:{s:s, s:s, s:s}}], s:{}}",
		      "apiVersion", "v1", "kind", "Config", "current-context", "podprobe",
		      "clusters", "name", "podprobe", "cluster", "server", server_url,
		      "certificate-authority-data", (const char *)b64, "users", "name", "podprobe",
		      "user", "token", t->token, "contexts", "name", "podprobe", "context",
		      "cluster", "podprobe", "user", "podprobe", "namespace", "default",
		      "preferences");
	free(b64);
	return j;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Create "<name>.tmp-XXXXXXXX" (random) exclusively in <dir_fd>; its name goes to <tmp>. */
static int open_tmp(int dir_fd, const char *name, char *tmp, size_t size)
{
	for (int i = 0; i < TMP_ATTEMPTS; i++) {
		unsigned char r[4];
		int fd, n;

		if (RAND_bytes(r, sizeof(r)) != 1)
			return ossl_err();
		n = snprintf(tmp, size, "%s.tmp-%02x%02x%02x%02x", name, r[0], r[1], r[2], r[3]);
		if (n < 0 || (size_t)n >= size)
			return -ENAMETOOLONG;
		fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int pp_api_kubeconfig_write(int dir_fd, const char *name, const char *server_url,
			    const struct pp_api_tls *t)
{
	char tmp[4096];
	json_t *j;
	char *text = NULL;
	int fd = -1, rc;

	if (!name || !*name || !server_url || !t || !t->cert_pem)
		return -EINVAL;
	j = kubeconfig_json(server_url, t);
	text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	json_decref(j);
	if (!text)
		return -ENOMEM;

	fd = open_tmp(dir_fd, name, tmp, sizeof(tmp));
	if (fd < 0) {
		rc = fd;
		goto out_free;
	}
	/* exactly 0600 whatever the umask */
	if (fchmod(fd, 0600) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	rc = write_all(fd, text, strlen(text));
	if (rc == 0)
		rc = write_all(fd, "\n", 1);
	if (rc)
		goto out_unlink;
	if (fsync(fd) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0) {
		rc = -errno;
		goto out_unlink;
	}
	if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	/* the rename itself durable; a directory fd without read access cannot fsync (EBADF) */
	if (fsync(dir_fd) < 0 && errno != EBADF && errno != EINVAL) {
		rc = -errno;
		goto out_free;
	}
	rc = 0;
	goto out_free;

out_unlink:
	if (fd >= 0)
		close(fd);
	unlinkat(dir_fd, tmp, 0);
out_free:
	free(text);
	return rc;
}
