// SPDX-License-Identifier: Apache-2.0
/*
 * The Kubernetes API client's configuration: a kubeconfig file (YAML or JSON, through
 * yaml_json.c; the current context as core/kube_obj.c reads it) or the in-cluster files
 * (client-go rest.InClusterConfig: KUBERNETES_SERVICE_HOST and _PORT, the service account's
 * token, ca.crt and namespace), the files it names, the SSL_CTX that verifies the server, and
 * the bearer token, re-read when its file changes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kube_int.h"
#include "podprobe/yaml_json.h"

#define SA_DIR	    "/var/run/secrets/kubernetes.io/serviceaccount"
#define MAX_FILE    (4u << 20)
#define ERR_SZ(err) err, err_size

static int file_id(const char *path, struct kube_file_id *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	*ret = (struct kube_file_id){.dev = st.st_dev,
				     .ino = st.st_ino,
				     .size = st.st_size,
				     .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
						 st.st_mtim.tv_nsec,
				     .valid = true};
	return 0;
}

static bool same_id(const struct kube_file_id *a, const struct kube_file_id *b)
{
	return a->valid == b->valid && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

/* The whole of <path>, NUL-terminated; returns the length or -errno. */
static int read_file(const char *path, char **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	size_t len = 0, cap = 4096;
	char *buf = NULL, *n;
	ssize_t got;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (!buf || len + 1 >= cap) {
			if (buf)
				cap *= 2;
			if (cap > MAX_FILE) {
				err = -EFBIG;
				goto fail;
			}
			n = realloc(buf, cap);
			if (!n) {
				err = -ENOMEM;
				goto fail;
			}
			buf = n;
		}
		got = read(fd, buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			goto fail;
		}
		if (!got)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	return (int)len;
fail:
	close(fd);
	free(buf);
	return err;
}

/* Strip trailing whitespace (a token file's newline). */
static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static int load_pem_file(const char *path, char **ret, const char *what, char *err, size_t err_size)
{
	int rc = read_file(path, ret);

	if (rc < 0)
		snprintf(err, err_size, "%s %s: %s", what, path, strerror(-rc));
	return rc < 0 ? rc : 0;
}

/* Add every certificate of PEM <pem> to <store>; returns how many or -EINVAL. */
static int add_cas(X509_STORE *store, const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	int n = 0;
	X509 *x;

	if (!b)
		return -ENOMEM;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		if (X509_STORE_add_cert(store, x) == 1)
			n++;
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(b);
	return n ? n : -EINVAL;
}

static int use_client_cert(SSL_CTX *ctx, const char *cert_pem, const char *key_pem)
{
	BIO *b = BIO_new_mem_buf(cert_pem, -1);
	EVP_PKEY *key = NULL;
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	int ok = x && SSL_CTX_use_certificate(ctx, x) == 1;

	/* The rest of the file is the chain. */
	while (ok && (x = (X509_free(x), PEM_read_bio_X509(b, NULL, NULL, NULL))))
		if (SSL_CTX_add1_chain_cert(ctx, x) != 1)
			ok = 0;
	X509_free(x);
	BIO_free(b);
	b = ok ? BIO_new_mem_buf(key_pem, -1) : NULL;
	key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	ok = key && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	EVP_PKEY_free(key);
	BIO_free(b);
	ERR_clear_error();
	return ok ? 0 : -EINVAL;
}

static int build_ssl(struct kube_cfg *k, const char *where, char *err, size_t err_size)
{
	struct pp_kube_config *c = &k->c;
	char *ca = NULL, *cert = NULL, *key = NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int rc = -ENOMEM;

	if (!ctx)
		goto out;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		goto out;
	if (c->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (c->ca_file &&
		    (rc = load_pem_file(c->ca_file, &ca, "certificate-authority", ERR_SZ(err))) < 0)
			goto out;
		if (c->ca_pem || ca) {
			rc = add_cas(SSL_CTX_get_cert_store(ctx), c->ca_pem ? c->ca_pem : ca);
			if (rc < 0) {
				snprintf(err, err_size,
					 "%s: certificate-authority%s: no PEM "
					 "certificate in it",
					 where, c->ca_pem ? "-data" : "");
				goto out;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			/* No CA given: the system's roots, as Go's crypto/x509. */
			rc = -EIO;
			snprintf(err, err_size, "%s: no certificate-authority and no system roots",
				 where);
			goto out;
		}
	}
	if ((c->cert_file &&
	     (rc = load_pem_file(c->cert_file, &cert, "client-certificate", ERR_SZ(err))) < 0) ||
	    (c->key_file && (rc = load_pem_file(c->key_file, &key, "client-key", ERR_SZ(err))) < 0))
		goto out;
	if ((c->cert_pem || cert) && use_client_cert(ctx, c->cert_pem ? c->cert_pem : cert,
						     c->key_pem ? c->key_pem : key) < 0) {
		rc = -EINVAL;
		snprintf(err, err_size,
			 "%s: client-certificate and client-key do not make a "
			 "usable pair",
			 where);
		goto out;
	}
	k->ssl = ctx;
	ctx = NULL;
	rc = 0;
out:
	SSL_CTX_free(ctx);
	free(ca);
	free(cert);
	if (key) {
		OPENSSL_cleanse(key, strlen(key));
		free(key);
	}
	return rc;
}

static int resolve(struct kube_cfg *k, char *err, size_t err_size)
{
	struct pp_kube_config *c = &k->c;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&k->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&k->addr;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	char port[8];
	int rc;

	memset(&k->addr, 0, sizeof(k->addr));
	if (inet_pton(AF_INET, c->host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)c->port);
		k->addrlen = sizeof(*in4);
	} else if (inet_pton(AF_INET6, c->host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)c->port);
		k->addrlen = sizeof(*in6);
	} else {
		/* A name: resolved once here, blocking (a DaemonSet is given an address:
		 * KUBERNETES_SERVICE_HOST, or a kubeconfig's server). */
		snprintf(port, sizeof(port), "%d", c->port);
		rc = getaddrinfo(c->host, port, &hints, &res);
		if (rc) {
			snprintf(err, err_size, "server %s: %s", c->server, gai_strerror(rc));
			return -EHOSTUNREACH;
		}
		memcpy(&k->addr, res->ai_addr, res->ai_addrlen);
		k->addrlen = res->ai_addrlen;
		freeaddrinfo(res);
	}
	if (c->host[0] && strchr(c->host, ':'))
		snprintf(k->host_header, sizeof(k->host_header), "[%s]:%d", c->host, c->port);
	else
		snprintf(k->host_header, sizeof(k->host_header), "%s:%d", c->host, c->port);
	return 0;
}

static int load_kubeconfig(struct kube_cfg *k, const char *path, char *err, size_t err_size)
{
	char *text = NULL, *dir, yerr[256];
	json_t *doc = NULL;
	int rc;

	rc = file_id(path, &k->file_id);
	if (rc >= 0)
		rc = read_file(path, &text);
	if (rc < 0) {
		snprintf(err, err_size, "kubeconfig %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = pp_yaml_to_json(text, (size_t)rc, 0, &doc, yerr, sizeof(yerr));
	free(text);
	if (rc < 0) {
		snprintf(err, err_size, "kubeconfig %s: %s", path,
			 rc == -EINVAL ? yerr : strerror(-rc));
		return rc == -ENOENT ? -EINVAL : rc;
	}
	dir = strdup(path);
	if (!dir) {
		json_decref(doc);
		return -ENOMEM;
	}
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	else
		snprintf(dir, strlen(dir) + 1, ".");
	rc = pp_kube_config_parse(doc, path, dir, &k->c, err, err_size);
	free(dir);
	json_decref(doc);
	return rc;
}

/* rest.InClusterConfig: the service's environment and the service account's files. */
static int load_in_cluster(struct kube_cfg *k, const char *sa, char *err, size_t err_size)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[4096], url[400];
	char *ns = NULL;
	int rc;

	if (!host || !*host || !port || !*port) {
		snprintf(err, err_size,
			 "in-cluster: KUBERNETES_SERVICE_HOST and "
			 "KUBERNETES_SERVICE_PORT must be set (or give --kubeconfig)");
		return -ENOENT;
	}
	snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		 port);
	snprintf(path, sizeof(path), "%s/token", sa);
	if (access(path, R_OK) < 0) {
		rc = -errno;
		snprintf(err, err_size, "in-cluster: %s: %s", path, strerror(-rc));
		return rc;
	}
	k->c.server = strdup(url);
	k->c.token_file = strdup(path);
	snprintf(path, sizeof(path), "%s/ca.crt", sa);
	k->c.ca_file = strdup(path);
	k->c.context = strdup("in-cluster");
	if (!k->c.server || !k->c.token_file || !k->c.ca_file || !k->c.context)
		return -ENOMEM;
	rc = pp_kube_server_parse(url, k->c.host, sizeof(k->c.host), &k->c.port, &k->c.host_is_ip);
	if (rc < 0) {
		snprintf(err, err_size,
			 "in-cluster: KUBERNETES_SERVICE_HOST/PORT: malformed "
			 "(%s)",
			 url);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/namespace", sa);
	if (read_file(path, &ns) >= 0)
		rstrip(ns);
	k->c.ns = ns && *ns ? ns : strdup("default");
	if (ns && !*ns)
		free(ns);
	return k->c.ns ? 0 : -ENOMEM;
}

int kube_cfg_load(const char *kubeconfig, const char *sa_dir, struct kube_cfg *ret, char *err,
		  size_t err_size)
{
	struct kube_cfg k = {0};
	char where[600];
	int rc;

	err[0] = '\0';
	if (kubeconfig) {
		k.kubeconfig = strdup(kubeconfig);
		rc = k.kubeconfig ? load_kubeconfig(&k, kubeconfig, err, err_size) : -ENOMEM;
		snprintf(where, sizeof(where), "kubeconfig %s", kubeconfig);
	} else {
		k.sa_dir = strdup(sa_dir ? sa_dir : SA_DIR);
		rc = k.sa_dir ? load_in_cluster(&k, k.sa_dir, err, err_size) : -ENOMEM;
		snprintf(where, sizeof(where), "in-cluster");
	}
	if (rc >= 0)
		rc = build_ssl(&k, where, err, err_size);
	if (rc >= 0)
		rc = resolve(&k, err, err_size);
	if (rc >= 0 && k.c.token && !(k.token = strdup(k.c.token)))
		rc = -ENOMEM;
	if (rc >= 0 && k.c.token_file) {
		kube_cfg_token(&k, 0, true);
		if (!k.token) {
			rc = -ENOENT;
			snprintf(err, err_size, "%s: tokenFile %s: cannot be read", where,
				 k.c.token_file);
		}
	}
	if (rc < 0) {
		if (!err[0])
			snprintf(err, err_size, "%s: %s", where, strerror(-rc));
		kube_cfg_fini(&k);
		return rc;
	}
	*ret = k;
	return 0;
}

void kube_cfg_fini(struct kube_cfg *k)
{
	if (!k)
		return;
	pp_kube_config_fini(&k->c);
	SSL_CTX_free(k->ssl);
	free(k->kubeconfig);
	free(k->sa_dir);
	if (k->token) {
		OPENSSL_cleanse(k->token, strlen(k->token));
		free(k->token);
	}
	memset(k, 0, sizeof(*k));
}

bool kube_cfg_changed(const struct kube_cfg *k)
{
	struct kube_file_id id;

	if (!k->kubeconfig)
		return false;
	return file_id(k->kubeconfig, &id) < 0 || !same_id(&id, &k->file_id);
}

const char *kube_cfg_token(struct kube_cfg *k, pp_nsec now, bool force)
{
	struct kube_file_id id;
	char *t;

	if (!k->c.token_file)
		return k->token ? k->token : "";
	if (!force && k->token && now - k->token_checked < KUBE_TOKEN_RECHECK)
		return k->token;
	k->token_checked = now;
	if (file_id(k->c.token_file, &id) < 0 || (k->token && same_id(&id, &k->token_id)))
		return k->token ? k->token : "";
	/* A rotated token: keep the old one if the new one cannot be read (kubelet writes it
	 * atomically, through a symlink swap). */
	if (read_file(k->c.token_file, &t) < 0)
		return k->token ? k->token : "";
	rstrip(t);
	if (k->token) {
		OPENSSL_cleanse(k->token, strlen(k->token));
		free(k->token);
	}
	k->token = t;
	k->token_id = id;
	return t;
}
