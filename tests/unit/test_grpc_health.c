/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gRPC health client against an in-memory nghttp2 server session: no sockets, the test
 * moves the bytes (whole, or one at a time) and scripts how the server answers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include "podprobe/grpc_health.h"
#include "podprobe/grpc_wire.h"
#include "podprobe/h2_nv.h"

#define T_AUTHORITY "127.0.0.1:50051"
#define T_UA	    "kube-probe/1.34"
#define T_UNIMPL \
	"error: this server does not implement the grpc health protocol (grpc.health.v1.Health): "

#define UNUSED __attribute__((unused))

/* How the scripted server answers the request once it has all of it. */
enum t_reply {
	T_REPLY_NONE = 0,      /* never answer */
	T_REPLY_MESSAGE,       /* HEADERS, DATA (one message), trailers */
	T_REPLY_TRAILERS_ONLY, /* one HEADERS with END_STREAM and grpc-status */
	T_REPLY_RST,	       /* RST_STREAM */
	T_REPLY_GOAWAY,	       /* GOAWAY with last-stream-id 0 */
	T_REPLY_HTTP,	       /* a plain HTTP response: :status, content-type, a body */
	_T_REPLY_MAX,
};

struct t_srv {
	nghttp2_session *session;
	/* what the client sent */
	char method[16], scheme[16], path[64], authority[64], ctype[64], te[16], ua[64];
	char timeout[16];
	int n_headers;
	uint8_t body[2048];
	size_t body_len;
	/* the script */
	enum t_reply reply;
	int32_t serving;	  /* ServingStatus for T_REPLY_MESSAGE */
	const char *grpc_status;  /* trailers / trailers-only, "0" if NULL */
	const char *grpc_message; /* omitted if NULL */
	const uint8_t *raw;	  /* T_REPLY_MESSAGE: DATA payload instead of the message */
	size_t raw_len;
	bool no_trailers;      /* T_REPLY_MESSAGE: END_STREAM on DATA, no trailers */
	int http_status;       /* T_REPLY_HTTP */
	const char *ctype_out; /* T_REPLY_HTTP */
	uint32_t rst_code;     /* T_REPLY_RST */
	/* the DATA being sent */
	uint8_t out[64];
	size_t out_len, out_off;
};

struct t_fix {
	struct t_srv srv;
	struct pp_grpc_health *g;
};

/* ---- the scripted server ------------------------------------------------------------------ */

static void t_copy(char *dst, size_t size, const uint8_t *v, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static int t_on_header(nghttp2_session *session UNUSED, const nghttp2_frame *frame,
		       const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
		       uint8_t flags UNUSED, void *user_data)
{
	static const struct {
		const char *name;
		size_t off, size;
	} fields[] = {
		{":method", offsetof(struct t_srv, method), sizeof(((struct t_srv *)0)->method)},
		{":scheme", offsetof(struct t_srv, scheme), sizeof(((struct t_srv *)0)->scheme)},
		{":path", offsetof(struct t_srv, path), sizeof(((struct t_srv *)0)->path)},
		{":authority", offsetof(struct t_srv, authority),
		 sizeof(((struct t_srv *)0)->authority)},
		{"content-type", offsetof(struct t_srv, ctype), sizeof(((struct t_srv *)0)->ctype)},
		{"te", offsetof(struct t_srv, te), sizeof(((struct t_srv *)0)->te)},
		{"user-agent", offsetof(struct t_srv, ua), sizeof(((struct t_srv *)0)->ua)},
		{"grpc-timeout", offsetof(struct t_srv, timeout),
		 sizeof(((struct t_srv *)0)->timeout)},
	};
	struct t_srv *s = user_data;
	size_t i;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	s->n_headers++;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (namelen == strlen(fields[i].name) && !memcmp(name, fields[i].name, namelen))
			t_copy((char *)s + fields[i].off, fields[i].size, value, valuelen);
	return 0;
}

static int t_on_data(nghttp2_session *session UNUSED, uint8_t flags UNUSED,
		     int32_t stream_id UNUSED, const uint8_t *data, size_t len, void *user_data)
{
	struct t_srv *s = user_data;

	assert_true(s->body_len + len <= sizeof(s->body));
	memcpy(s->body + s->body_len, data, len);
	s->body_len += len;
	return 0;
}

static ssize_t t_read_data(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
			   uint32_t *data_flags, nghttp2_data_source *source UNUSED,
			   void *user_data)
{
	struct t_srv *s = user_data;
	size_t n = s->out_len - s->out_off;

	if (n > length)
		n = length;
	memcpy(buf, s->out + s->out_off, n);
	s->out_off += n;
	if (s->out_off < s->out_len)
		return (ssize_t)n;
	*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	if (s->reply == T_REPLY_MESSAGE && !s->no_trailers) {
		nghttp2_nv tr[2] = {pp_h2_nv("grpc-status", s->grpc_status ? s->grpc_status : "0")};
		size_t n_tr = 1;

		if (s->grpc_message)
			tr[n_tr++] = pp_h2_nv("grpc-message", s->grpc_message);
		*data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
		assert_int_equal(nghttp2_submit_trailer(session, stream_id, tr, n_tr), 0);
	}
	return (ssize_t)n;
}

static void t_answer(struct t_srv *s, int32_t id)
{
	nghttp2_data_provider prd = {.read_callback = t_read_data};
	nghttp2_nv nva[4];
	size_t n = 0;
	char status[8];

	switch (s->reply) {
	case T_REPLY_MESSAGE:
		if (s->raw) {
			assert_true(s->raw_len <= sizeof(s->out));
			memcpy(s->out, s->raw, s->raw_len);
			s->out_len = s->raw_len;
		} else {
			size_t len = pp_grpc_check_response_encode(
				s->serving, s->out + PP_GRPC_FRAME_HDR_LEN,
				sizeof(s->out) - PP_GRPC_FRAME_HDR_LEN);

			pp_grpc_frame_put(s->out, 0, (uint32_t)len);
			s->out_len = PP_GRPC_FRAME_HDR_LEN + len;
		}
		nva[n++] = pp_h2_nv(":status", "200");
		nva[n++] = pp_h2_nv("content-type", "application/grpc");
		assert_int_equal(nghttp2_submit_response(s->session, id, nva, n, &prd), 0);
		break;
	case T_REPLY_TRAILERS_ONLY:
		nva[n++] = pp_h2_nv(":status", "200");
		nva[n++] = pp_h2_nv("content-type", "application/grpc");
		nva[n++] = pp_h2_nv("grpc-status", s->grpc_status ? s->grpc_status : "0");
		if (s->grpc_message)
			nva[n++] = pp_h2_nv("grpc-message", s->grpc_message);
		assert_int_equal(nghttp2_submit_response(s->session, id, nva, n, NULL), 0);
		break;
	case T_REPLY_RST:
		assert_int_equal(
			nghttp2_submit_rst_stream(s->session, NGHTTP2_FLAG_NONE, id, s->rst_code),
			0);
		break;
	case T_REPLY_GOAWAY:
		assert_int_equal(nghttp2_submit_goaway(s->session, NGHTTP2_FLAG_NONE, 0,
						       NGHTTP2_NO_ERROR, NULL, 0),
				 0);
		break;
	case T_REPLY_HTTP:
		snprintf(status, sizeof(status), "%d", s->http_status);
		nva[n++] = pp_h2_nv(":status", status);
		nva[n++] = pp_h2_nv("content-type", s->ctype_out);
		memcpy(s->out, "404 page not found\n", 19);
		s->out_len = 19;
		assert_int_equal(nghttp2_submit_response(s->session, id, nva, n, &prd), 0);
		break;
	default:
		break;
	}
}

static int t_on_frame(nghttp2_session *session UNUSED, const nghttp2_frame *frame, void *user_data)
{
	struct t_srv *s = user_data;

	if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
	    (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		t_answer(s, frame->hd.stream_id);
	return 0;
}

static void t_srv_init(struct t_srv *s)
{
	static const nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
	nghttp2_session_callbacks *cbs;

	memset(s, 0, sizeof(*s));
	assert_int_equal(nghttp2_session_callbacks_new(&cbs), 0);
	nghttp2_session_callbacks_set_on_header_callback(cbs, t_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, t_on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, t_on_frame);
	assert_int_equal(nghttp2_session_server_new(&s->session, cbs, s), 0);
	nghttp2_session_callbacks_del(cbs);
	assert_int_equal(nghttp2_submit_settings(s->session, NGHTTP2_FLAG_NONE, iv, 1), 0);
}

static int t_setup(void **state)
{
	struct t_fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	t_srv_init(&f->srv);
	*state = f;
	return 0;
}

static int t_teardown(void **state)
{
	struct t_fix *f = *state;

	pp_grpc_health_free(f->g);
	nghttp2_session_del(f->srv.session);
	free(f);
	return 0;
}

static struct pp_grpc_health *t_client(struct t_fix *f, const char *service, unsigned int ms)
{
	assert_int_equal(pp_grpc_health_new(T_AUTHORITY, service, T_UA, ms, &f->g), 0);
	return f->g;
}

/*
 * Move bytes both ways, <chunk> at a time, until the client knows its result or nobody has
 * anything to say. Returns the last pp_grpc_health_feed() value.
 */
static int t_pump(struct t_fix *f, size_t chunk)
{
	int rc = 0;

	for (int i = 0; i < 100000; i++) {
		const uint8_t *p, *sp;
		bool progress = false;
		ssize_t n, sn;

		n = pp_grpc_health_pending(f->g, &p);
		assert_true(n >= 0);
		if (n > 0) {
			size_t take = (size_t)n < chunk ? (size_t)n : chunk;

			assert_int_equal(nghttp2_session_mem_recv(f->srv.session, p, take), take);
			pp_grpc_health_consumed(f->g, take);
			progress = true;
		}
		sn = nghttp2_session_mem_send(f->srv.session, &sp);
		assert_true(sn >= 0);
		for (size_t off = 0; off < (size_t)sn; off += chunk) {
			size_t take = (size_t)sn - off < chunk ? (size_t)sn - off : chunk;

			rc = pp_grpc_health_feed(f->g, sp + off, take);
			progress = true;
		}
		if (pp_grpc_health_result(f->g, NULL) != PP_GRPC_PENDING || !progress)
			return rc;
	}
	fail_msg("no result after 100000 rounds");
	return rc;
}

static void t_expect(struct t_fix *f, enum pp_grpc_verdict v, const char *message)
{
	const char *m = NULL;

	assert_int_equal(pp_grpc_health_result(f->g, &m), v);
	assert_non_null(m);
	assert_string_equal(m, message);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_serving_is_success(void **state)
{
	struct t_fix *f = *state;
	static const uint8_t empty_request[] = {0, 0, 0, 0, 0};

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.serving = PP_GRPC_SERVING_SERVING;
	t_client(f, "", 1000);
	assert_int_equal(t_pump(f, SIZE_MAX), 1);
	t_expect(f, PP_GRPC_SERVING, "service healthy");

	assert_string_equal(f->srv.method, "POST");
	assert_string_equal(f->srv.scheme, "http");
	assert_string_equal(f->srv.path, "/grpc.health.v1.Health/Check");
	assert_string_equal(f->srv.authority, T_AUTHORITY);
	assert_string_equal(f->srv.ctype, "application/grpc");
	assert_string_equal(f->srv.te, "trailers");
	assert_string_equal(f->srv.ua, T_UA);
	assert_string_equal(f->srv.timeout, "1000m");
	assert_int_equal(f->srv.n_headers, 8);
	assert_int_equal(f->srv.body_len, sizeof(empty_request));
	assert_memory_equal(f->srv.body, empty_request, sizeof(empty_request));
}

static void test_request_encodes_service_name(void **state)
{
	struct t_fix *f = *state;
	static const uint8_t foo[] = {0, 0, 0, 0, 5, 0x0a, 3, 'f', 'o', 'o'};

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.serving = PP_GRPC_SERVING_SERVING;
	t_client(f, "foo", 0);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_SERVING, "service healthy");
	assert_int_equal(f->srv.body_len, sizeof(foo));
	assert_memory_equal(f->srv.body, foo, sizeof(foo));
	assert_string_equal(f->srv.timeout, ""); /* 0 = no grpc-timeout */
	assert_int_equal(f->srv.n_headers, 7);
}

static void test_request_long_service_name_two_byte_varint(void **state)
{
	struct t_fix *f = *state;
	char name[201];

	memset(name, 'x', 200);
	name[200] = '\0';
	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.serving = PP_GRPC_SERVING_SERVING;
	t_client(f, name, 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_SERVING, "service healthy");
	assert_int_equal(f->srv.body_len, 5 + 3 + 200);
	assert_memory_equal(f->srv.body, ((uint8_t[]){0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01}), 8);
	assert_memory_equal(f->srv.body + 8, name, 200);
}

static void test_not_serving_is_unhealthy(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.serving = PP_GRPC_SERVING_NOT_SERVING;
	t_client(f, "", 1000);
	assert_int_equal(t_pump(f, SIZE_MAX), 1);
	t_expect(f, PP_GRPC_UNHEALTHY, "service unhealthy (responded with \"NOT_SERVING\")");
}

static void test_unknown_status_empty_message_is_unhealthy(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.serving = PP_GRPC_SERVING_UNKNOWN;
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_UNHEALTHY, "service unhealthy (responded with \"UNKNOWN\")");
}

/*
 * Raw server bytes from issue 8 (a fuzzer's find, its first byte the fuzzer's own): SETTINGS,
 * SETTINGS ACK, HEADERS :status 200 + application/grpc, DATA with one empty message (the
 * UNKNOWN response), trailers grpc-status 0. The empty message reached the decoder as
 * (NULL, 0) and the decoder computed NULL + 0, undefined behaviour that UBSan aborts on.
 */
static void test_empty_message_in_raw_server_bytes_is_unknown(void **state)
{
	struct t_fix *f = *state;
	static const uint8_t server[] = {
		0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, /* SETTINGS */
		0x00, 0x00, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, /* SETTINGS ACK */
		0x00, 0x00, 0x13, 0x01, 0x04, 0x00, 0x00, 0x00, 0x01, /* HEADERS */
		0x88, 0x5f, 0x10, 'a', 'p', 'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '/',
		'g', 'r', 'p', 'c',
		0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* DATA */
		0x00, 0x00, 0x00, 0x00, 0x00,			      /* empty message */
		0x00, 0x00, 0x0f, 0x01, 0x05, 0x00, 0x00, 0x00, 0x01, /* HEADERS, END_STREAM */
		0x00, 0x0b, 'g', 'r', 'p', 'c', '-', 's', 't', 'a', 't', 'u', 's', 0x01, '0',
	};
	const uint8_t *p;

	t_client(f, "", 1000);
	assert_true(pp_grpc_health_pending(f->g, &p) > 0);
	assert_int_equal(pp_grpc_health_feed(f->g, server, sizeof(server)), 1);
	t_expect(f, PP_GRPC_UNHEALTHY, "service unhealthy (responded with \"UNKNOWN\")");
}

static void test_service_unknown_status_is_unhealthy(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.serving = PP_GRPC_SERVING_SERVICE_UNKNOWN;
	t_client(f, "db", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_UNHEALTHY, "service unhealthy (responded with \"SERVICE_UNKNOWN\")");
}

static void test_unknown_enum_value_printed_as_number(void **state)
{
	struct t_fix *f = *state;
	/* status = 7 after an unknown string field 2 and a fixed32 field 3 */
	static const uint8_t msg[] = {0, 0, 0, 0, 9, 0x12, 2, 'h', 'i', 0x1d, 1, 2, 3, 4};
	static const uint8_t msg7[] = {0, 0, 0, 0, 2, 0x08, 7};
	static uint8_t both[sizeof(msg) + 2];

	memcpy(both, msg, sizeof(msg));
	both[4] = 11;
	memcpy(both + sizeof(msg), msg7 + 5, 2);
	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.raw = both;
	f->srv.raw_len = sizeof(both);
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_UNHEALTHY, "service unhealthy (responded with \"7\")");
}

static void test_unknown_service_is_not_found_error(void **state)
{
	struct t_fix *f = *state;

	/* grpc-go's health server: status.Error(codes.NotFound, "unknown service") */
	f->srv.reply = T_REPLY_TRAILERS_ONLY;
	f->srv.grpc_status = "5";
	f->srv.grpc_message = "unknown service";
	t_client(f, "nope", 1000);
	assert_int_equal(t_pump(f, SIZE_MAX), 1);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = NotFound desc = unknown "
		 "service");
}

static void test_unimplemented_message(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_TRAILERS_ONLY;
	f->srv.grpc_status = "12";
	f->srv.grpc_message = "unknown service grpc.health.v1.Health";
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR, T_UNIMPL "unknown service grpc.health.v1.Health");
}

static void test_trailers_only_message_percent_decoded(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_TRAILERS_ONLY;
	f->srv.grpc_status = "14";
	f->srv.grpc_message = "backend%20down%3A 100%25 %E2%9C%93 %zz";
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Unavailable desc = backend "
		 "down: 100% \xe2\x9c\x93 %zz");
}

static void test_trailers_only_ok_without_message_is_error(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_TRAILERS_ONLY;
	f->srv.grpc_status = "0";
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Internal desc = cardinality "
		 "violation: received no response message from non-server-streaming RPC");
}

static void test_unknown_code_printed_as_number(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_TRAILERS_ONLY;
	f->srv.grpc_status = "99";
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Code(99) desc = ");
}

static void test_server_deadline_exceeded_is_timeout(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_TRAILERS_ONLY;
	f->srv.grpc_status = "4";
	f->srv.grpc_message = "context deadline exceeded";
	t_client(f, "", 2500);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_TIMEOUT, "timeout: health rpc did not complete within 2.5s");
}

static void test_error_status_after_serving_message_wins(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.serving = PP_GRPC_SERVING_SERVING;
	f->srv.grpc_status = "13";
	f->srv.grpc_message = "boom";
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Internal desc = boom");
}

static void test_one_byte_at_a_time(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.serving = PP_GRPC_SERVING_NOT_SERVING;
	t_client(f, "some.Service", 1000);
	assert_int_equal(t_pump(f, 1), 1);
	t_expect(f, PP_GRPC_UNHEALTHY, "service unhealthy (responded with \"NOT_SERVING\")");
	assert_int_equal(f->srv.body_len, 5 + 2 + 12);
	assert_string_equal(f->srv.path, "/grpc.health.v1.Health/Check");
}

static void test_one_byte_at_a_time_serving(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.serving = PP_GRPC_SERVING_SERVING;
	t_client(f, "", 1000);
	assert_int_equal(t_pump(f, 1), 1);
	t_expect(f, PP_GRPC_SERVING, "service healthy");
}

static void test_partial_write_resumes_where_it_stopped(void **state)
{
	struct t_fix *f = *state;
	uint8_t first[512];
	const uint8_t *p;
	ssize_t n, n2;

	t_client(f, "", 1000);
	n = pp_grpc_health_pending(f->g, &p);
	assert_true(n > 24 && n <= (ssize_t)sizeof(first));
	assert_memory_equal(p, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	memcpy(first, p, (size_t)n);
	pp_grpc_health_consumed(f->g, 10);
	n2 = pp_grpc_health_pending(f->g, &p);
	assert_int_equal(n2, n - 10);
	assert_memory_equal(p, first + 10, (size_t)n2);
	pp_grpc_health_consumed(f->g, (size_t)n2 + 100); /* capped */
	assert_int_equal(pp_grpc_health_pending(f->g, &p), 0);
}

static void test_garbage_from_server_is_error(void **state)
{
	struct t_fix *f = *state;
	static const char http1[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	const uint8_t *p;
	const char *m = NULL;

	t_client(f, "", 1000);
	assert_true(pp_grpc_health_pending(f->g, &p) > 0);
	assert_int_equal(pp_grpc_health_feed(f->g, (const uint8_t *)http1, sizeof(http1) - 1),
			 -EPROTO);
	assert_int_equal(pp_grpc_health_result(f->g, &m), PP_GRPC_ERROR);
	assert_non_null(m);
	assert_true(!strncmp(m, "error: ", 7));
	assert_non_null(strstr(m, "code = Unavailable desc = connection error: "));
	/* later bytes are ignored, the result stays */
	assert_int_equal(pp_grpc_health_feed(f->g, (const uint8_t *)"x", 1), -EPROTO);
	assert_int_equal(pp_grpc_health_pending(f->g, &p), 0);
}

static void test_garbage_after_settings_is_error(void **state)
{
	struct t_fix *f = *state;
	/* a frame header announcing 16 MiB - 1 on stream 1: FRAME_SIZE_ERROR */
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
	const char *m = NULL;
	int rc;

	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX); /* no reply scripted: SETTINGS exchanged, request sent */
	assert_int_equal(pp_grpc_health_result(f->g, NULL), PP_GRPC_PENDING);
	rc = pp_grpc_health_feed(f->g, huge, sizeof(huge));
	assert_int_equal(rc, -EPROTO);
	assert_int_equal(pp_grpc_health_result(f->g, &m), PP_GRPC_ERROR);
	assert_true(!strncmp(m, "error: health rpc probe failed: rpc error: code = ", 50));
}

static void test_eof_before_response_is_error(void **state)
{
	struct t_fix *f = *state;

	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	assert_int_equal(pp_grpc_health_result(f->g, NULL), PP_GRPC_PENDING);
	assert_int_equal(pp_grpc_health_eof(f->g, 0), -ECONNRESET);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Unavailable desc = error "
		 "reading from server: EOF");
	assert_int_equal(pp_grpc_health_eof(f->g, 0), 1);
}

static void test_eof_before_server_preface(void **state)
{
	struct t_fix *f = *state;

	t_client(f, "", 1000);
	assert_int_equal(pp_grpc_health_eof(f->g, 0), -ECONNRESET);
	t_expect(f, PP_GRPC_ERROR,
		 "error: failed to connect service at \"" T_AUTHORITY
		 "\": connection closed before server preface received");
}

static void test_reset_connection_is_error(void **state)
{
	struct t_fix *f = *state;

	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	assert_int_equal(pp_grpc_health_eof(f->g, -ECONNRESET), -ECONNRESET);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Unavailable desc = connection "
		 "error: connection reset by peer");
}

static void test_timeout_before_and_after_preface(void **state)
{
	struct t_fix *f = *state;
	struct pp_grpc_health *g;
	const char *m = NULL;

	t_client(f, "", 1000);
	pp_grpc_health_timeout(f->g);
	t_expect(f, PP_GRPC_TIMEOUT,
		 "timeout: failed to connect service \"" T_AUTHORITY
		 "\" within 1s: context deadline exceeded");

	/* a second client, on a fresh server, gets the SETTINGS first */
	pp_grpc_health_free(f->g);
	f->g = NULL;
	nghttp2_session_del(f->srv.session);
	t_srv_init(&f->srv);
	t_client(f, "", 90000);
	t_pump(f, SIZE_MAX);
	pp_grpc_health_timeout(f->g);
	t_expect(f, PP_GRPC_TIMEOUT, "timeout: health rpc did not complete within 1m30s");
	/* the first verdict sticks */
	pp_grpc_health_timeout(f->g);
	assert_int_equal(pp_grpc_health_eof(f->g, 0), 1);
	t_expect(f, PP_GRPC_TIMEOUT, "timeout: health rpc did not complete within 1m30s");

	static const struct {
		unsigned int ms;
		const char *text;
	} durations[] = {
		{0, "0s"},	 {500, "500ms"},  {1000, "1s"},	       {1500, "1.5s"},
		{1250, "1.25s"}, {60000, "1m0s"}, {3600000, "1h0m0s"}, {3723004, "1h2m3.004s"},
	};
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		char want[128];

		assert_int_equal(pp_grpc_health_new("h:1", "", T_UA, durations[i].ms, &g), 0);
		pp_grpc_health_timeout(g);
		assert_int_equal(pp_grpc_health_result(g, &m), PP_GRPC_TIMEOUT);
		snprintf(want, sizeof(want),
			 "timeout: failed to connect service \"h:1\" within %s: context deadline "
			 "exceeded",
			 durations[i].text);
		assert_string_equal(m, want);
		pp_grpc_health_free(g);
	}
}

static void test_rst_stream_is_error(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_RST;
	f->srv.rst_code = NGHTTP2_REFUSED_STREAM;
	t_client(f, "", 1000);
	assert_int_equal(t_pump(f, SIZE_MAX), 1);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Unavailable desc = stream "
		 "terminated by RST_STREAM with error code: REFUSED_STREAM");
}

static void test_goaway_refusing_stream_is_error(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_GOAWAY;
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Unavailable desc = the stream "
		 "is rejected because server is draining the connection");
}

static void test_http_404_is_unimplemented(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_HTTP;
	f->srv.http_status = 404;
	f->srv.ctype_out = "text/plain; charset=utf-8";
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 T_UNIMPL "unexpected HTTP status code received from server: 404 (Not Found); "
			  "transport: received unexpected content-type \"text/plain; "
			  "charset=utf-8\"");
}

static void test_http_200_wrong_content_type(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_HTTP;
	f->srv.http_status = 200;
	f->srv.ctype_out = "application/grpcx";
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Unknown desc = transport: "
		 "received unexpected content-type \"application/grpcx\"");
}

static void test_oversized_message_rejected(void **state)
{
	struct t_fix *f = *state;
	static const uint8_t big[] = {0, 0, 0, 0x20, 0, 0x08, 1};

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.raw = big;
	f->srv.raw_len = sizeof(big);
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = ResourceExhausted desc = grpc: "
		 "received message larger than max (8192 vs. 4096)");
}

static void test_malformed_protobuf_rejected(void **state)
{
	struct t_fix *f = *state;
	static const uint8_t bad[] = {0, 0, 0, 0, 2, 0x08, 0xff};

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.raw = bad;
	f->srv.raw_len = sizeof(bad);
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Internal desc = grpc: failed "
		 "to unmarshal the received message: proto: cannot parse invalid wire-format data");
}

static void test_truncated_message_rejected(void **state)
{
	struct t_fix *f = *state;
	static const uint8_t cut[] = {0, 0, 0, 0, 4, 0x08, 1};

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.raw = cut;
	f->srv.raw_len = sizeof(cut);
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(
		f, PP_GRPC_ERROR,
		"error: health rpc probe failed: rpc error: code = Internal desc = unexpected EOF");
}

static void test_compressed_message_rejected(void **state)
{
	struct t_fix *f = *state;
	static const uint8_t z[] = {1, 0, 0, 0, 2, 0x08, 1};

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.raw = z;
	f->srv.raw_len = sizeof(z);
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Internal desc = grpc: "
		 "compressed flag set with identity or empty encoding");
}

static void test_two_messages_rejected(void **state)
{
	struct t_fix *f = *state;
	static const uint8_t two[] = {0, 0, 0, 0, 2, 0x08, 1, 0, 0, 0, 0, 2, 0x08, 1};

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.raw = two;
	f->srv.raw_len = sizeof(two);
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Internal desc = cardinality "
		 "violation: expected <EOF> for non server-streaming RPCs, but received another "
		 "message");
}

static void test_data_without_trailers_is_error(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_MESSAGE;
	f->srv.serving = PP_GRPC_SERVING_SERVING;
	f->srv.no_trailers = true;
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Internal desc = server closed "
		 "the stream without sending trailers");
}

static void test_malformed_grpc_status(void **state)
{
	struct t_fix *f = *state;

	f->srv.reply = T_REPLY_TRAILERS_ONLY;
	f->srv.grpc_status = "OK";
	t_client(f, "", 1000);
	t_pump(f, SIZE_MAX);
	t_expect(f, PP_GRPC_ERROR,
		 "error: health rpc probe failed: rpc error: code = Internal desc = transport: "
		 "malformed grpc-status: \"OK\"");
}

static void test_new_rejects_bad_arguments(void **state)
{
	struct pp_grpc_health *g = NULL;
	char long_name[PP_GRPC_SERVICE_MAX + 2];

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(pp_grpc_health_new(NULL, "", T_UA, 1000, &g), -EINVAL);
	assert_int_equal(pp_grpc_health_new("", "", T_UA, 1000, &g), -EINVAL);
	assert_int_equal(pp_grpc_health_new("h:1", NULL, T_UA, 1000, &g), -EINVAL);
	assert_int_equal(pp_grpc_health_new("h:1", "", NULL, 1000, &g), -EINVAL);
	assert_int_equal(pp_grpc_health_new("h:1", "", "ua\r\nx: y", 1000, &g), -EINVAL);
	assert_int_equal(pp_grpc_health_new("h:1\n", "", T_UA, 1000, &g), -EINVAL);
	assert_int_equal(pp_grpc_health_new("h:1", long_name, T_UA, 1000, &g), -EINVAL);
	assert_null(g);
	long_name[PP_GRPC_SERVICE_MAX] = '\0';
	assert_int_equal(pp_grpc_health_new("h:1", long_name, T_UA, 1000, &g), 0);
	assert_int_equal(pp_grpc_health_result(g, NULL), PP_GRPC_PENDING);
	pp_grpc_health_free(g);
	pp_grpc_health_free(NULL);
}

static void test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(pp_grpc_verdict_to_string(PP_GRPC_PENDING), "pending");
	assert_string_equal(pp_grpc_verdict_to_string(PP_GRPC_SERVING), "serving");
	assert_string_equal(pp_grpc_verdict_to_string(PP_GRPC_UNHEALTHY), "unhealthy");
	assert_string_equal(pp_grpc_verdict_to_string(PP_GRPC_ERROR), "error");
	assert_string_equal(pp_grpc_verdict_to_string(PP_GRPC_TIMEOUT), "timeout");
	assert_string_equal(pp_grpc_verdict_to_string(_PP_GRPC_VERDICT_MAX), "?");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, t_setup, t_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_serving_is_success),
		T(test_request_encodes_service_name),
		T(test_request_long_service_name_two_byte_varint),
		T(test_not_serving_is_unhealthy),
		T(test_unknown_status_empty_message_is_unhealthy),
		T(test_empty_message_in_raw_server_bytes_is_unknown),
		T(test_service_unknown_status_is_unhealthy),
		T(test_unknown_enum_value_printed_as_number),
		T(test_unknown_service_is_not_found_error),
		T(test_unimplemented_message),
		T(test_trailers_only_message_percent_decoded),
		T(test_trailers_only_ok_without_message_is_error),
		T(test_unknown_code_printed_as_number),
		T(test_server_deadline_exceeded_is_timeout),
		T(test_error_status_after_serving_message_wins),
		T(test_one_byte_at_a_time),
		T(test_one_byte_at_a_time_serving),
		T(test_partial_write_resumes_where_it_stopped),
		T(test_garbage_from_server_is_error),
		T(test_garbage_after_settings_is_error),
		T(test_eof_before_response_is_error),
		T(test_eof_before_server_preface),
		T(test_reset_connection_is_error),
		T(test_timeout_before_and_after_preface),
		T(test_rst_stream_is_error),
		T(test_goaway_refusing_stream_is_error),
		T(test_http_404_is_unimplemented),
		T(test_http_200_wrong_content_type),
		T(test_oversized_message_rejected),
		T(test_malformed_protobuf_rejected),
		T(test_truncated_message_rejected),
		T(test_compressed_message_rejected),
		T(test_two_messages_rejected),
		T(test_data_without_trailers_is_error),
		T(test_malformed_grpc_status),
		cmocka_unit_test(test_new_rejects_bad_arguments),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
