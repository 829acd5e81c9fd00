/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the Kubernetes API client (podprobe/kube_client.h): the configuration and its files
 * (kube_config.c), one HTTPS connection on the loop (kube_http.c), and the client
 * (kube_client.c).
 */
#ifndef PODPROBE_KUBE_INT_H
#define PODPROBE_KUBE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "podprobe/http_parse.h"
#include "podprobe/kube_obj.h"
#include "podprobe/time-t.h"

struct pp_loop;

/* A file's identity, to notice that it changed. */
struct kube_file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
	bool valid;
};

/* The configuration in force, and what is needed to notice a new one. */
struct kube_cfg {
	struct pp_kube_config c;
	char *kubeconfig;	      /* the file, or NULL in-cluster */
	char *sa_dir;		      /* in-cluster: the service-account directory */
	struct kube_file_id file_id;  /* of <kubeconfig> */
	SSL_CTX *ssl;		      /* verifying the CA (or not, with insecure) */
	struct sockaddr_storage addr; /* the server's address */
	socklen_t addrlen;
	char host_header[300];
	/* the bearer token, and its file's state */
	char *token;
	struct kube_file_id token_id;
	pp_nsec token_checked; /* when the token file was last looked at */
};

#define KUBE_TOKEN_RECHECK (5 * PP_NSEC_PER_SEC)

/*
 * Load the configuration (kubeconfig <kubeconfig>, or in-cluster from <sa_dir> and the
 * environment) into <ret>: parse, read the files it names, build the SSL_CTX and resolve the
 * server. Returns 0 or -errno with a message in <err>.
 */
int kube_cfg_load(const char *kubeconfig, const char *sa_dir, struct kube_cfg *ret, char *err,
		  size_t err_size);
void kube_cfg_fini(struct kube_cfg *k);

/* Has the kubeconfig file changed since <k> was loaded? (false in-cluster) */
bool kube_cfg_changed(const struct kube_cfg *k);

/*
 * The bearer token to send ("" for none): a tokenFile (in-cluster too) is looked at again
 * when KUBE_TOKEN_RECHECK has passed since the last look, or always with <force>, and re-read
 * when it changed (client-go transport/token_source.go cachingTokenSource re-reads a rotated
 * token; bound service-account tokens, KEP-1205).
 */
const char *kube_cfg_token(struct kube_cfg *k, pp_nsec now, bool force);

/* ---- one HTTPS connection ------------------------------------------------------------- */

struct kube_conn;

struct kube_conn_ops {
	/* Body bytes (de-chunked) of the response in flight; c->resp.status is set. */
	void (*on_body)(void *ctx, struct kube_conn *c, const char *data, size_t len);
	/* The response is complete (<err> 0) or the exchange failed (-errno, why in c->why).
	 * The connection may be closed or given another request from here. */
	void (*on_done)(void *ctx, struct kube_conn *c, int err);
};

#define KUBE_IO_BUF 16384

struct kube_conn {
	struct pp_loop *loop;
	int fd;
	SSL *ssl;
	uint64_t op_connect, op_recv, op_send;
	bool connected, hs_done, dead, closing, recv_busy, send_busy;
	bool active;	     /* a request is in flight */
	bool req_written;    /* its bytes are handed to TLS */
	bool got_bytes;	     /* some response byte came for it */
	unsigned int depth;  /* callbacks running: a close waits until they unwind */
	unsigned int served; /* responses completed on this connection */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *req;
	size_t req_len;
	char *out; /* TLS records to send */
	size_t out_len, out_sent, out_cap;
	const struct kube_conn_ops *ops;
	void *ctx;
	struct pp_http_resp resp;
	char why[256];
	char in[KUBE_IO_BUF];
	char body[KUBE_IO_BUF];
};

/* Connect to the server of <k> (TLS as <k> says). Returns 0 with *<ret>, or -errno. */
int kube_conn_open(struct pp_loop *loop, struct kube_cfg *k, struct kube_conn **ret);

/*
 * Send <len> bytes of request <req> (copied) on <c> once it is connected: one request at a
 * time. Returns 0, -EBUSY with one in flight, -EPIPE on a dead connection, -ENOMEM.
 */
int kube_conn_request(struct kube_conn *c, const char *req, size_t len,
		      const struct kube_conn_ops *ops, void *ctx);

/* Can <c> take a request now? */
bool kube_conn_usable(const struct kube_conn *c);

/* Close <c>: its operations are retired and it is freed once they complete. NULL is fine. No
 * callback runs after this. */
void kube_conn_close(struct kube_conn *c);

#endif
