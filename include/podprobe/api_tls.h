/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API server's TLS material and the kubeconfig that lets kubectl use it. kubectl sends its
 * bearer token only over TLS (client-go clientcmd client_config.go) and verifies the server
 * by certificate-authority-data and an IP SAN, so podprobe makes, at start and in memory, a
 * self-signed ECDSA P-256 certificate with SAN IP:127.0.0.1 (and the configured addresses),
 * a random token, and writes <state-dir>/kubeconfig.
 */
#ifndef PODPROBE_API_TLS_H
#define PODPROBE_API_TLS_H

#include <stddef.h>

struct ssl_ctx_st; /* OpenSSL's SSL_CTX */

struct pp_api_tls {
	struct ssl_ctx_st *ctx; /* TLS_server_method, TLS 1.2 at least, with the key and cert */
	char *cert_pem;		/* the certificate, PEM ("-----BEGIN CERTIFICATE-----...") */
	char token[65];		/* the bearer token: 32 random bytes as 64 lower-case hex digits */
};

/*
 * Make a key, a self-signed certificate and a token. The certificate: X509 v3, a random
 * positive 127-bit serial, subject and issuer CN=podprobe, valid from a minute ago for 10
 * years, basicConstraints critical CA:TRUE, keyUsage digitalSignature and keyCertSign,
 * extendedKeyUsage serverAuth, and subjectAltName IP:127.0.0.1 followed by each of the <n_ips>
 * <ips>: IPv4 or IPv6 text ("[::1]" too) as an IP entry, anything else as a DNS entry;
 * repeats are left out. Signed with SHA-256. Nothing touches the disk.
 * Returns 0 and *<ret> (free with pp_api_tls_free()), -EINVAL for an empty entry or a name
 * with characters a DNS name cannot hold, -ENOMEM, or -EIO when OpenSSL fails otherwise.
 */
int pp_api_tls_new(const char *const *ips, size_t n_ips, struct pp_api_tls **ret);

/*
 * Write a kubeconfig (JSON) for <server_url> ("https://127.0.0.1:10443") with the CA and the
 * token of <t> to <name> in the directory <dir_fd>: cluster, user and context all named
 * "podprobe", current-context "podprobe", namespace "default", certificate-authority-data the
 * base64 of the whole PEM on one line. Atomic: a temporary file beside it (O_CREAT|O_EXCL|
 * O_NOFOLLOW, mode 0600), fsync, then renameat() over <name> (a symlink there is replaced,
 * not followed), then fsync of the directory. Returns 0, -EINVAL for a missing argument,
 * -ENOMEM, or the -errno of the failing call (the temporary file is removed then).
 */
int pp_api_kubeconfig_write(int dir_fd, const char *name, const char *server_url,
			    const struct pp_api_tls *t);

/* Frees <t> and its SSL_CTX reference; accepts NULL. */
void pp_api_tls_free(struct pp_api_tls *t);

#endif /* PODPROBE_API_TLS_H */
