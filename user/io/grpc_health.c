/* SPDX-License-Identifier: Apache-2.0 */
/*
 * grpc.health.v1.Health/Check over h2c, sans I/O (see grpc_health.h).
 *
 * nghttp2 does the HTTP/2 work. Its send callback copies into a small buffer of ours and says
 * WOULDBLOCK when that is full, so the caller drains it with non-blocking sends at its own pace
 * and no nghttp2-owned pointer has to outlive a later nghttp2 call. Input goes through
 * nghttp2_session_mem_recv(). The gRPC framing (1-byte flag, 4-byte length) and the two tiny
 * protobuf messages are coded by libppcore's grpc_wire.
 *
 * The result texts follow kubelet's pkg/probe/grpc/grpc.go, which prints grpc-go errors with
 * %+v: `error: health rpc probe failed: rpc error: code = <Code> desc = <message>`. Transport
 * failures are turned into gRPC statuses the way grpc-go's http2 client does (HTTP status and
 * RST_STREAM code tables, "server closed the stream without sending trailers", ...), so that the
 * text matches what kubelet would print for the same server.
 */
#include "podprobe/grpc_health.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "podprobe/grpc_wire.h"
#include "podprobe/h2_nv.h"
#include "podprobe/http_parse.h"
#include "podprobe/kubefmt.h"

#define OUT_MAX		 512 /* the first flight (preface, SETTINGS, HEADERS, DATA) fits */
#define MESSAGE_MAX	 384 /* probe output */
#define GRPC_MESSAGE_MAX 256 /* grpc-message, percent-decoded, truncated */
#define DETAIL_MAX	 128 /* nghttp2's words for a protocol error */
#define CTYPE_MAX	 64  /* content-type, for messages only */

#define UNUSED __attribute__((unused)) /* nghttp2 callback parameters */

static const char *const verdict_names[_PP_GRPC_VERDICT_MAX] = {
	[PP_GRPC_PENDING] = "pending",	   [PP_GRPC_SERVING] = "serving",
	[PP_GRPC_UNHEALTHY] = "unhealthy", [PP_GRPC_ERROR] = "error",
	[PP_GRPC_TIMEOUT] = "timeout",
};

/* HTTP/2 error codes: names as Go's http2.ErrCode prints them, gRPC codes as grpc-go maps them. */
static const struct {
	const char *name;
	enum pp_grpc_code code;
} h2_errors[] = {
	[NGHTTP2_NO_ERROR] = {"NO_ERROR", PP_GRPC_CODE_INTERNAL},
	[NGHTTP2_PROTOCOL_ERROR] = {"PROTOCOL_ERROR", PP_GRPC_CODE_INTERNAL},
	[NGHTTP2_INTERNAL_ERROR] = {"INTERNAL_ERROR", PP_GRPC_CODE_INTERNAL},
	[NGHTTP2_FLOW_CONTROL_ERROR] = {"FLOW_CONTROL_ERROR", PP_GRPC_CODE_RESOURCE_EXHAUSTED},
	[NGHTTP2_SETTINGS_TIMEOUT] = {"SETTINGS_TIMEOUT", PP_GRPC_CODE_INTERNAL},
	[NGHTTP2_STREAM_CLOSED] = {"STREAM_CLOSED", PP_GRPC_CODE_INTERNAL},
	[NGHTTP2_FRAME_SIZE_ERROR] = {"FRAME_SIZE_ERROR", PP_GRPC_CODE_INTERNAL},
	[NGHTTP2_REFUSED_STREAM] = {"REFUSED_STREAM", PP_GRPC_CODE_UNAVAILABLE},
	[NGHTTP2_CANCEL] = {"CANCEL", PP_GRPC_CODE_CANCELED},
	[NGHTTP2_COMPRESSION_ERROR] = {"COMPRESSION_ERROR", PP_GRPC_CODE_INTERNAL},
	[NGHTTP2_CONNECT_ERROR] = {"CONNECT_ERROR", PP_GRPC_CODE_INTERNAL},
	[NGHTTP2_ENHANCE_YOUR_CALM] = {"ENHANCE_YOUR_CALM", PP_GRPC_CODE_RESOURCE_EXHAUSTED},
	[NGHTTP2_INADEQUATE_SECURITY] = {"INADEQUATE_SECURITY", PP_GRPC_CODE_PERMISSION_DENIED},
	[NGHTTP2_HTTP_1_1_REQUIRED] = {"HTTP_1_1_REQUIRED", PP_GRPC_CODE_INTERNAL},
};

struct pp_grpc_health {
	nghttp2_session *session;     /* the HTTP/2 client */
	int32_t stream_id;	      /* our one request, 1 */
	enum pp_grpc_verdict verdict; /* set once */
	bool conn_error;	      /* the verdict came from an HTTP/2 connection error */
	bool got_settings;	      /* server preface seen: grpc-go's blocking dial is done */
	bool have_ctype;	      /* content-type present in the response HEADERS */
	bool ctype_grpc;	      /* ... and it is application/grpc[+;...] */
	bool got_grpc_status;	      /* grpc-status in the END_STREAM header block */
	bool bad_grpc_status;	      /* ... but not a number */
	int http_status;	      /* :status, 0 = absent */
	uint32_t grpc_status;	      /* valid if got_grpc_status */
	unsigned int timeout_ms;      /* for grpc-timeout and timeout messages */
	unsigned int n_messages;      /* complete response messages */
	int32_t serving_status;	      /* HealthCheckResponse.status of the last one */
	uint8_t msg_hdr[PP_GRPC_FRAME_HDR_LEN]; /* gRPC message prefix being read */
	uint8_t msg_hdr_len;			/* 0 = between messages */
	uint32_t msg_len;			/* declared length of the current message */
	uint32_t msg_got;			/* bytes of it in msg_buf */
	uint8_t *msg_buf;			/* malloc'd, msg_len <= PP_GRPC_RESPONSE_MAX */
	const uint8_t *req;			/* length-prefixed HealthCheckRequest, in tail[] */
	size_t req_len;				/* its length */
	size_t req_off;				/* bytes handed to nghttp2 */
	const char *authority;			/* in tail[] */
	size_t out_off;				/* out[out_off..out_len) is pending */
	size_t out_len;				/* end of the bytes nghttp2 wrote */
	uint8_t out[OUT_MAX];			/* send buffer, filled by send_cb() */
	char ctype[CTYPE_MAX];			/* content-type, sanitized, truncated */
	char grpc_message[GRPC_MESSAGE_MAX];	/* grpc-message, or a malformed grpc-status */
	char detail[DETAIL_MAX];		/* nghttp2's description of a protocol error */
	char message[MESSAGE_MAX];		/* the probe output */
	uint8_t tail[];				/* req bytes, then authority + NUL */
};

/* ---- small helpers ------------------------------------------------------------------------ */

static const char *code_name(uint32_t code, char *buf, size_t len)
{
	const char *name = pp_grpc_code_name(code);

	if (name)
		return name;
	snprintf(buf, len, "Code(%u)", code);
	return buf;
}

static const char *h2_error_name(uint32_t err, char *buf, size_t len)
{
	if (err < sizeof(h2_errors) / sizeof(h2_errors[0]) && h2_errors[err].name)
		return h2_errors[err].name;
	snprintf(buf, len, "unknown error code 0x%x", err);
	return buf;
}

static enum pp_grpc_code h2_error_code(uint32_t err)
{
	if (err < sizeof(h2_errors) / sizeof(h2_errors[0]) && h2_errors[err].name)
		return h2_errors[err].code;
	return PP_GRPC_CODE_UNKNOWN;
}

/* grpc-go's HTTPStatusConvTab; anything else is Unknown. */
static enum pp_grpc_code http_status_code(int status)
{
	switch (status) {
	case 400:
		return PP_GRPC_CODE_INTERNAL;
	case 401:
		return PP_GRPC_CODE_UNAUTHENTICATED;
	case 403:
		return PP_GRPC_CODE_PERMISSION_DENIED;
	case 404:
		return PP_GRPC_CODE_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return PP_GRPC_CODE_UNAVAILABLE;
	default:
		return PP_GRPC_CODE_UNKNOWN;
	}
}

/* Probe output ends up in events and logs: no control characters. */
static void copy_sanitized(char *dst, size_t size, const uint8_t *src, size_t len)
{
	size_t i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		dst[i] = (src[i] < 0x20 || src[i] == 0x7f) ? '?' : (char)src[i];
	dst[len] = '\0';
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* grpc-message is percent-encoded (gRPC over HTTP/2); a stray '%' stays as it is. */
static void decode_grpc_message(char *dst, size_t size, const uint8_t *src, size_t len)
{
	uint8_t buf[GRPC_MESSAGE_MAX];
	size_t i, n = 0;

	for (i = 0; i < len && n < sizeof(buf); i++) {
		int hi, lo;

		if (src[i] == '%' && i + 2 < len && (hi = hex_value(src[i + 1])) >= 0 &&
		    (lo = hex_value(src[i + 2])) >= 0) {
			buf[n++] = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else {
			buf[n++] = src[i];
		}
	}
	copy_sanitized(dst, size, buf, n);
}

/* ---- results ------------------------------------------------------------------------------ */

static void set_result(struct pp_grpc_health *g, enum pp_grpc_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_result(struct pp_grpc_health *g, enum pp_grpc_verdict v, const char *fmt, ...)
{
	va_list ap;

	if (g->verdict != PP_GRPC_PENDING)
		return;
	g->verdict = v;
	va_start(ap, fmt);
	vsnprintf(g->message, sizeof(g->message), fmt, ap);
	va_end(ap);
}

/* A non-OK gRPC status, printed the way kubelet prints it. */
static void set_status(struct pp_grpc_health *g, uint32_t code, const char *desc)
{
	char name[24], d[32];

	switch (code) {
	case PP_GRPC_CODE_UNIMPLEMENTED:
		set_result(g, PP_GRPC_ERROR,
			   "error: this server does not implement the grpc health protocol "
			   "(grpc.health.v1.Health): %s",
			   desc);
		break;
	case PP_GRPC_CODE_DEADLINE_EXCEEDED:
		pp_fmt_go_duration((pp_nsec)g->timeout_ms * PP_NSEC_PER_MSEC, d, sizeof(d));
		set_result(g, PP_GRPC_TIMEOUT, "timeout: health rpc did not complete within %s", d);
		break;
	default:
		set_result(g, PP_GRPC_ERROR,
			   "error: health rpc probe failed: rpc error: code = %s desc = %s",
			   code_name(code, name, sizeof(name)), desc);
		break;
	}
}

static void set_statusf(struct pp_grpc_health *g, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_statusf(struct pp_grpc_health *g, uint32_t code, const char *fmt, ...)
{
	char desc[MESSAGE_MAX];
	va_list ap;

	if (g->verdict != PP_GRPC_PENDING)
		return;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	set_status(g, code, desc);
}

/* The HTTP/2 connection broke (our side detected it, or nghttp2 failed). */
static void set_conn_error(struct pp_grpc_health *g, const char *why)
{
	if (g->verdict != PP_GRPC_PENDING)
		return;
	set_statusf(g, PP_GRPC_CODE_UNAVAILABLE, "connection error: %s",
		    g->detail[0] ? g->detail : why);
	g->conn_error = true;
}

/* grpc-go checks :status and content-type as soon as the response HEADERS arrive. */
static bool check_response_headers(struct pp_grpc_health *g)
{
	char desc[MESSAGE_MAX];
	uint32_t code;
	size_t n = 0;

	if (g->http_status == 200 && g->ctype_grpc)
		return true;
	desc[0] = '\0';
	if (!g->http_status) {
		code = PP_GRPC_CODE_INTERNAL;
		n = (size_t)snprintf(desc, sizeof(desc), "malformed header: missing HTTP status");
	} else if (g->http_status != 200) {
		code = http_status_code(g->http_status);
		n = (size_t)snprintf(desc, sizeof(desc),
				     "unexpected HTTP status code received from server: %d (%s)",
				     g->http_status, pp_http_status_text(g->http_status));
	} else {
		code = PP_GRPC_CODE_UNKNOWN;
	}
	if (!g->ctype_grpc && n < sizeof(desc)) {
		const char *sep = n ? "; " : "";

		if (!g->have_ctype)
			snprintf(desc + n, sizeof(desc) - n,
				 "%smalformed header: missing HTTP content-type", sep);
		else
			snprintf(desc + n, sizeof(desc) - n,
				 "%stransport: received unexpected content-type \"%s\"", sep,
				 g->ctype);
	}
	set_status(g, code, desc);
	return false;
}

/* The server ended the stream (trailers, or a trailers-only response). */
static void finish(struct pp_grpc_health *g)
{
	int32_t st = g->serving_status;
	const char *name = pp_grpc_serving_status_name(st);
	char num[16];

	if (g->verdict != PP_GRPC_PENDING)
		return;
	if (g->msg_hdr_len) {
		/* A message cut short: grpc-go's reader sees io.ErrUnexpectedEOF. */
		set_status(g, PP_GRPC_CODE_INTERNAL, "unexpected EOF");
		return;
	}
	if (g->bad_grpc_status) {
		set_statusf(g, PP_GRPC_CODE_INTERNAL, "transport: malformed grpc-status: \"%s\"",
			    g->grpc_message);
		return;
	}
	if (!g->got_grpc_status) {
		set_status(g, PP_GRPC_CODE_UNKNOWN, g->grpc_message);
		return;
	}
	if (g->grpc_status != PP_GRPC_CODE_OK) {
		set_status(g, g->grpc_status, g->grpc_message);
		return;
	}
	if (!g->n_messages) {
		set_status(g, PP_GRPC_CODE_INTERNAL,
			   "cardinality violation: received no response message from "
			   "non-server-streaming RPC");
		return;
	}
	if (st == PP_GRPC_SERVING_SERVING) {
		set_result(g, PP_GRPC_SERVING, "service healthy");
		return;
	}
	if (name) {
		set_result(g, PP_GRPC_UNHEALTHY, "service unhealthy (responded with \"%s\")", name);
		return;
	}
	/* protobuf-go prints an enum value it does not know as its number. */
	snprintf(num, sizeof(num), "%d", st);
	set_result(g, PP_GRPC_UNHEALTHY, "service unhealthy (responded with \"%s\")", num);
}

/* ---- gRPC message framing ----------------------------------------------------------------- */

static void message_done(struct pp_grpc_health *g)
{
	int32_t st;

	if (pp_grpc_check_response_decode(g->msg_buf, g->msg_len, &st) < 0)
		set_status(g, PP_GRPC_CODE_INTERNAL,
			   "grpc: failed to unmarshal the received message: proto: cannot parse "
			   "invalid wire-format data");
	else
		g->serving_status = st;
	g->n_messages++;
	free(g->msg_buf);
	g->msg_buf = NULL;
	g->msg_hdr_len = 0;
	g->msg_len = g->msg_got = 0;
}

/* The 5-byte prefix is complete: check it the way grpc-go's parser and recvMsg do. */
static void message_start(struct pp_grpc_health *g)
{
	uint8_t flag;

	pp_grpc_frame_get(g->msg_hdr, &flag, &g->msg_len);
	g->msg_got = 0;
	if (g->n_messages) {
		set_status(g, PP_GRPC_CODE_INTERNAL,
			   "cardinality violation: expected <EOF> for non server-streaming RPCs, "
			   "but received another message");
		return;
	}
	if (g->msg_len > PP_GRPC_RESPONSE_MAX) {
		set_statusf(g, PP_GRPC_CODE_RESOURCE_EXHAUSTED,
			    "grpc: received message larger than max (%u vs. %d)", g->msg_len,
			    PP_GRPC_RESPONSE_MAX);
		return;
	}
	/* We send no grpc-accept-encoding, so a compressed reply is always wrong. */
	if (flag == 1) {
		set_status(g, PP_GRPC_CODE_INTERNAL,
			   "grpc: compressed flag set with identity or empty encoding");
		return;
	}
	if (flag) {
		set_statusf(g, PP_GRPC_CODE_INTERNAL, "grpc: received unexpected payload format %u",
			    flag);
		return;
	}
	if (!g->msg_len) {
		message_done(g);
		return;
	}
	g->msg_buf = malloc(g->msg_len);
	if (!g->msg_buf)
		set_status(g, PP_GRPC_CODE_RESOURCE_EXHAUSTED, "out of memory");
}

static void message_bytes(struct pp_grpc_health *g, const uint8_t *data, size_t len)
{
	while (len && g->verdict == PP_GRPC_PENDING) {
		size_t n;

		if (g->msg_hdr_len < PP_GRPC_FRAME_HDR_LEN) {
			n = PP_GRPC_FRAME_HDR_LEN - g->msg_hdr_len;
			n = n < len ? n : len;
			memcpy(g->msg_hdr + g->msg_hdr_len, data, n);
			g->msg_hdr_len = (uint8_t)(g->msg_hdr_len + n);
			if (g->msg_hdr_len == PP_GRPC_FRAME_HDR_LEN)
				message_start(g);
		} else {
			n = g->msg_len - g->msg_got;
			n = n < len ? n : len;
			memcpy(g->msg_buf + g->msg_got, data, n);
			g->msg_got += (uint32_t)n;
			if (g->msg_got == g->msg_len)
				message_done(g);
		}
		data += n;
		len -= n;
	}
}

/* ---- nghttp2 callbacks -------------------------------------------------------------------- */

static ssize_t send_cb(nghttp2_session *session UNUSED, const uint8_t *data, size_t length,
		       int flags UNUSED, void *user_data)
{
	struct pp_grpc_health *g = user_data;
	size_t room = sizeof(g->out) - g->out_len;

	if (!room)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (length > room)
		length = room;
	memcpy(g->out + g->out_len, data, length);
	g->out_len += length;
	return (ssize_t)length;
}

static ssize_t read_request_cb(nghttp2_session *session UNUSED, int32_t stream_id UNUSED,
			       uint8_t *buf, size_t length, uint32_t *data_flags,
			       nghttp2_data_source *source UNUSED, void *user_data)
{
	struct pp_grpc_health *g = user_data;
	size_t n = g->req_len - g->req_off;

	if (n > length)
		n = length;
	memcpy(buf, g->req + g->req_off, n);
	g->req_off += n;
	if (g->req_off == g->req_len)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static bool name_is(const uint8_t *name, size_t len, const char *s)
{
	return len == strlen(s) && !memcmp(name, s, len);
}

static int on_header_cb(nghttp2_session *session UNUSED, const nghttp2_frame *frame,
			const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
			uint8_t flags UNUSED, void *user_data)
{
	struct pp_grpc_health *g = user_data;
	bool first = frame->headers.cat == NGHTTP2_HCAT_RESPONSE;
	bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
	size_t i;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != g->stream_id)
		return 0;
	if (first && name_is(name, namelen, ":status")) {
		/* nghttp2 has checked it is three digits */
		g->http_status = 0;
		for (i = 0; i < valuelen && i < 3; i++)
			g->http_status = g->http_status * 10 + (value[i] - '0');
	} else if (first && name_is(name, namelen, "content-type")) {
		g->have_ctype = true;
		g->ctype_grpc = pp_grpc_content_type_is_grpc(value, valuelen);
		copy_sanitized(g->ctype, sizeof(g->ctype), value, valuelen);
	} else if (end && name_is(name, namelen, "grpc-status")) {
		/* Only the block that ends the stream carries the status (as in grpc-go). */
		uint64_t v = 0;

		g->got_grpc_status = true;
		g->bad_grpc_status = !valuelen || valuelen > 10;
		for (i = 0; i < valuelen && !g->bad_grpc_status; i++) {
			if (value[i] < '0' || value[i] > '9')
				g->bad_grpc_status = true;
			else
				v = v * 10 + (uint64_t)(value[i] - '0');
		}
		if (v > INT32_MAX)
			g->bad_grpc_status = true;
		g->grpc_status = (uint32_t)v;
		if (g->bad_grpc_status)
			copy_sanitized(g->grpc_message, sizeof(g->grpc_message), value, valuelen);
	} else if (end && name_is(name, namelen, "grpc-message") && !g->bad_grpc_status) {
		decode_grpc_message(g->grpc_message, sizeof(g->grpc_message), value, valuelen);
	}
	return 0;
}

static int on_data_chunk_cb(nghttp2_session *session UNUSED, uint8_t flags UNUSED,
			    int32_t stream_id, const uint8_t *data, size_t len, void *user_data)
{
	struct pp_grpc_health *g = user_data;

	if (stream_id == g->stream_id)
		message_bytes(g, data, len);
	return 0;
}

static int on_frame_recv_cb(nghttp2_session *session UNUSED, const nghttp2_frame *frame,
			    void *user_data)
{
	struct pp_grpc_health *g = user_data;
	bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
	char name[32];

	switch (frame->hd.type) {
	case NGHTTP2_SETTINGS:
		if (!(frame->hd.flags & NGHTTP2_FLAG_ACK))
			g->got_settings = true;
		break;
	case NGHTTP2_HEADERS:
		if (frame->hd.stream_id != g->stream_id)
			break;
		if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE && !check_response_headers(g))
			break;
		if (end)
			finish(g);
		break;
	case NGHTTP2_DATA:
		if (frame->hd.stream_id == g->stream_id && end)
			set_status(g, PP_GRPC_CODE_INTERNAL,
				   "server closed the stream without sending trailers");
		break;
	case NGHTTP2_RST_STREAM:
		if (frame->hd.stream_id == g->stream_id)
			set_statusf(
				g, h2_error_code(frame->rst_stream.error_code),
				"stream terminated by RST_STREAM with error code: %s",
				h2_error_name(frame->rst_stream.error_code, name, sizeof(name)));
		break;
	case NGHTTP2_GOAWAY:
		if (frame->goaway.last_stream_id < g->stream_id)
			set_status(g, PP_GRPC_CODE_UNAVAILABLE,
				   "the stream is rejected because server is draining the "
				   "connection");
		break;
	default:
		break;
	}
	return 0;
}

/* A frame nghttp2 refused (malformed response headers, ...): it resets the stream itself. */
static int on_invalid_frame_cb(nghttp2_session *session UNUSED, const nghttp2_frame *frame UNUSED,
			       int lib_error_code, void *user_data)
{
	struct pp_grpc_health *g = user_data;

	if (!g->detail[0])
		snprintf(g->detail, sizeof(g->detail), "%s", nghttp2_strerror(lib_error_code));
	return 0;
}

/* nghttp2's explanation of a connection error ("... expected SETTINGS frame ..."). */
static int error_cb(nghttp2_session *session UNUSED, int lib_error_code UNUSED, const char *msg,
		    size_t len, void *user_data)
{
	struct pp_grpc_health *g = user_data;

	copy_sanitized(g->detail, sizeof(g->detail), (const uint8_t *)msg, len);
	return 0;
}

static int on_stream_close_cb(nghttp2_session *session UNUSED, int32_t stream_id,
			      uint32_t error_code, void *user_data)
{
	struct pp_grpc_health *g = user_data;
	char name[32];

	if (stream_id != g->stream_id || g->verdict != PP_GRPC_PENDING)
		return 0;
	if (error_code == NGHTTP2_NO_ERROR)
		set_status(g, PP_GRPC_CODE_INTERNAL, "unexpected EOF");
	else if (g->detail[0])
		set_statusf(g, h2_error_code(error_code), "stream error: %s", g->detail);
	else
		set_statusf(g, h2_error_code(error_code), "stream error: %s",
			    h2_error_name(error_code, name, sizeof(name)));
	return 0;
}

/* ---- public API --------------------------------------------------------------------------- */

/* nghttp2 copies names and values when the request is submitted. */
static int submit_request(struct pp_grpc_health *g, const char *user_agent)
{
	static const nghttp2_settings_entry settings[] = {
		{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	};
	char timeout[16];
	nghttp2_data_provider prd = {.read_callback = read_request_cb};
	/* The order grpc-go writes them in. */
	nghttp2_nv nva[8];
	size_t n = 0;
	int32_t id;

	nva[n++] = pp_h2_nv(":method", "POST");
	nva[n++] = pp_h2_nv(":scheme", "http");
	nva[n++] = pp_h2_nv(":path", PP_GRPC_CHECK_PATH);
	nva[n++] = pp_h2_nv(":authority", g->authority);
	nva[n++] = pp_h2_nv("content-type", "application/grpc");
	nva[n++] = pp_h2_nv("user-agent", user_agent);
	nva[n++] = pp_h2_nv("te", "trailers");
	if (g->timeout_ms) {
		/* TimeoutValue is at most 8 digits. */
		if (g->timeout_ms <= 99999999)
			snprintf(timeout, sizeof(timeout), "%um", g->timeout_ms);
		else
			snprintf(timeout, sizeof(timeout), "%uS", (g->timeout_ms + 999) / 1000);
		nva[n++] = pp_h2_nv("grpc-timeout", timeout);
	}

	if (nghttp2_submit_settings(g->session, NGHTTP2_FLAG_NONE, settings,
				    sizeof(settings) / sizeof(settings[0])) < 0)
		return -ENOMEM;
	id = nghttp2_submit_request(g->session, NULL, nva, n, &prd, NULL);
	if (id < 0)
		return id == NGHTTP2_ERR_NOMEM ? -ENOMEM : -EINVAL;
	g->stream_id = id;
	return 0;
}

int pp_grpc_health_new(const char *authority, const char *service, const char *user_agent,
		       unsigned int timeout_ms, struct pp_grpc_health **ret)
{
	nghttp2_session_callbacks *cbs = NULL;
	struct pp_grpc_health *g;
	size_t slen, alen, msg_len, req_len;
	uint8_t *p;
	int err;

	if (!authority || !*authority || !service || !user_agent || !ret)
		return -EINVAL;
	slen = strlen(service);
	alen = strlen(authority);
	if (slen > PP_GRPC_SERVICE_MAX ||
	    !nghttp2_check_header_value((const uint8_t *)authority, alen) ||
	    !nghttp2_check_header_value((const uint8_t *)user_agent, strlen(user_agent)))
		return -EINVAL;

	/* The length-prefixed HealthCheckRequest, uncompressed. */
	msg_len = pp_grpc_check_request_encode(service, slen, NULL, 0);
	req_len = PP_GRPC_FRAME_HDR_LEN + msg_len;
	g = calloc(1, sizeof(*g) + req_len + alen + 1);
	if (!g)
		return -ENOMEM;
	p = g->tail;
	pp_grpc_frame_put(p, 0, (uint32_t)msg_len);
	pp_grpc_check_request_encode(service, slen, p + PP_GRPC_FRAME_HDR_LEN, msg_len);
	g->req = p;
	g->req_len = req_len;
	memcpy(p + req_len, authority, alen + 1);
	g->authority = (const char *)(p + req_len);
	g->timeout_ms = timeout_ms;

	if (nghttp2_session_callbacks_new(&cbs)) {
		err = -ENOMEM;
		goto out_free;
	}
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv_cb);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cbs, on_invalid_frame_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close_cb);
	nghttp2_session_callbacks_set_error_callback2(cbs, error_cb);
	err = nghttp2_session_client_new(&g->session, cbs, g);
	nghttp2_session_callbacks_del(cbs);
	if (err) {
		err = -ENOMEM;
		goto out_free;
	}
	err = submit_request(g, user_agent);
	if (err < 0)
		goto out_free;
	*ret = g;
	return 0;

out_free:
	pp_grpc_health_free(g);
	return err;
}

void pp_grpc_health_free(struct pp_grpc_health *g)
{
	if (!g)
		return;
	nghttp2_session_del(g->session);
	free(g->msg_buf);
	free(g);
}

/*
 * On a connection error nghttp2 queues a GOAWAY and stops reading only once that is sent, so
 * queue it into out[] now (the caller may still send it) and look whether the session ended
 * before our stream got an answer. Returns true if that made the result known.
 */
static bool check_terminated(struct pp_grpc_health *g)
{
	if (g->verdict != PP_GRPC_PENDING)
		return false;
	if (nghttp2_session_send(g->session) < 0 || !nghttp2_session_want_read(g->session)) {
		set_conn_error(g, "connection closed");
		return true;
	}
	return false;
}

ssize_t pp_grpc_health_pending(struct pp_grpc_health *g, const uint8_t **ret_data)
{
	int rv;

	if (g->verdict != PP_GRPC_PENDING)
		return 0;
	if (g->out_off == g->out_len) {
		g->out_off = g->out_len = 0;
	} else if (g->out_off) {
		memmove(g->out, g->out + g->out_off, g->out_len - g->out_off);
		g->out_len -= g->out_off;
		g->out_off = 0;
	}
	rv = nghttp2_session_send(g->session);
	if (rv < 0) {
		set_conn_error(g, nghttp2_strerror(rv));
		return rv == NGHTTP2_ERR_NOMEM ? -ENOMEM : -EPROTO;
	}
	if (check_terminated(g))
		return -EPROTO;
	if (g->out_len == g->out_off)
		return 0;
	*ret_data = g->out + g->out_off;
	return (ssize_t)(g->out_len - g->out_off);
}

void pp_grpc_health_consumed(struct pp_grpc_health *g, size_t n)
{
	size_t left = g->out_len - g->out_off;

	g->out_off += n < left ? n : left;
}

int pp_grpc_health_feed(struct pp_grpc_health *g, const uint8_t *data, size_t len)
{
	ssize_t rv;

	if (g->verdict != PP_GRPC_PENDING)
		return g->conn_error ? -EPROTO : 1;
	rv = nghttp2_session_mem_recv(g->session, data, len);
	if (rv < 0) {
		set_conn_error(g, nghttp2_strerror((int)rv));
		return rv == NGHTTP2_ERR_NOMEM ? -ENOMEM : -EPROTO;
	}
	if (g->verdict == PP_GRPC_PENDING)
		check_terminated(g);
	if (g->verdict == PP_GRPC_PENDING)
		return 0;
	return g->conn_error ? -EPROTO : 1;
}

int pp_grpc_health_eof(struct pp_grpc_health *g, int err)
{
	char buf[128];
	const char *why = "EOF";

	if (g->verdict != PP_GRPC_PENDING)
		return 1;
	if (err < 0) {
		/* Go's syscall error texts are glibc's, lower-cased. */
		why = strerror_r(-err, buf, sizeof(buf));
		if (why != buf) {
			snprintf(buf, sizeof(buf), "%s", why);
			why = buf;
		}
		if (buf[0] >= 'A' && buf[0] <= 'Z')
			buf[0] = (char)(buf[0] - 'A' + 'a');
	}
	if (!g->got_settings)
		set_result(g, PP_GRPC_ERROR, "error: failed to connect service at \"%s\": %s",
			   g->authority,
			   err < 0 ? why : "connection closed before server preface received");
	else if (err < 0)
		set_statusf(g, PP_GRPC_CODE_UNAVAILABLE, "connection error: %s", why);
	else
		set_status(g, PP_GRPC_CODE_UNAVAILABLE, "error reading from server: EOF");
	return -ECONNRESET;
}

void pp_grpc_health_timeout(struct pp_grpc_health *g)
{
	char d[32];

	if (g->verdict != PP_GRPC_PENDING)
		return;
	pp_fmt_go_duration((pp_nsec)g->timeout_ms * PP_NSEC_PER_MSEC, d, sizeof(d));
	if (!g->got_settings)
		set_result(g, PP_GRPC_TIMEOUT,
			   "timeout: failed to connect service \"%s\" within %s: context deadline "
			   "exceeded",
			   g->authority, d);
	else
		set_result(g, PP_GRPC_TIMEOUT, "timeout: health rpc did not complete within %s", d);
}

enum pp_grpc_verdict pp_grpc_health_result(const struct pp_grpc_health *g, const char **ret_message)
{
	if (g->verdict != PP_GRPC_PENDING && ret_message)
		*ret_message = g->message;
	return g->verdict;
}

const char *pp_grpc_verdict_to_string(enum pp_grpc_verdict v)
{
	if ((unsigned int)v >= _PP_GRPC_VERDICT_MAX)
		return "?";
	return verdict_names[v];
}
