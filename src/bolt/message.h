/* Bolt messages: decoding a client's request (a PackStream structure whose
 * tag is the message signature) with its fields checked against the
 * negotiated version, and writing the server's responses, chunked, into an
 * output buffer. */
#ifndef GRAFT_BOLT_MESSAGE_H
#define GRAFT_BOLT_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"
#include "../util/value.h"

enum bolt_sig {
	BOLT_HELLO = 0x01,
	BOLT_GOODBYE = 0x02,
	BOLT_RESET = 0x0F,
	BOLT_RUN = 0x10,
	BOLT_BEGIN = 0x11,
	BOLT_COMMIT = 0x12,
	BOLT_ROLLBACK = 0x13,
	BOLT_DISCARD = 0x2F,
	BOLT_PULL = 0x3F,
	BOLT_TELEMETRY = 0x54,
	BOLT_ROUTE = 0x66,
	BOLT_LOGON = 0x6A,
	BOLT_LOGOFF = 0x6B,
	BOLT_SUCCESS = 0x70,
	BOLT_RECORD = 0x71,
	BOLT_IGNORED = 0x7E,
	BOLT_FAILURE = 0x7F,
};

/* The requests, once: X(sig, since, fields, name, states, handler).
 * since: the first protocol version that has it; fields: one letter per
 * field ('m' map, 's' string, 'l' list, 'i' integer); states: the session
 * states it is valid in; handler: the session's function for it. message.c
 * decodes with the first four; session.c dispatches with sig, states and
 * handler, so the states (ST, ANY_STATE) and handlers are names of
 * session.c and are expanded there only. A request without a row is an
 * unknown message to both. */
#define BOLT_REQUESTS(X)                                                       \
	X(BOLT_HELLO, 0, "m", "HELLO", ST(NEGOTIATION), handle_hello)          \
	X(BOLT_LOGON, BOLT_VERSION(5, 1), "m", "LOGON", ST(AUTHENTICATION),    \
	  handle_logon)                                                        \
	X(BOLT_LOGOFF, BOLT_VERSION(5, 1), "", "LOGOFF", ST(READY),            \
	  handle_logoff)                                                       \
	X(BOLT_GOODBYE, 0, "", "GOODBYE", ANY_STATE, handle_goodbye)           \
	X(BOLT_RESET, 0, "", "RESET", ANY_STATE & ~ST(NEGOTIATION),            \
	  handle_reset)                                                        \
	X(BOLT_RUN, 0, "smm", "RUN", ST(READY) | ST(TX_READY) | ST(TX_STREAMING), \
	  bolt_handle_run)                                                     \
	X(BOLT_BEGIN, 0, "m", "BEGIN", ST(READY), bolt_handle_begin)           \
	X(BOLT_COMMIT, 0, "", "COMMIT", ST(TX_READY) | ST(TX_STREAMING),       \
	  bolt_handle_commit)                                                  \
	X(BOLT_ROLLBACK, 0, "", "ROLLBACK", ST(TX_READY) | ST(TX_STREAMING),   \
	  bolt_handle_rollback)                                                \
	X(BOLT_PULL, 0, "m", "PULL", ST(STREAMING) | ST(TX_STREAMING),         \
	  bolt_handle_pull)                                                    \
	X(BOLT_DISCARD, 0, "m", "DISCARD", ST(STREAMING) | ST(TX_STREAMING),   \
	  bolt_handle_pull)                                                    \
	X(BOLT_ROUTE, 0, "mlm", "ROUTE", ST(READY), handle_route)              \
	X(BOLT_TELEMETRY, BOLT_VERSION(5, 4), "i", "TELEMETRY", ST(READY),     \
	  handle_telemetry)

struct bolt_request {
	uint8_t sig;
	unsigned nfields;
	struct graft_value f[3]; /* owned; nfields used */
};

/* Decodes one whole message for the given protocol version. Errors (with
 * errmsg): GRAFT_ECORRUPT for malformed PackStream, trailing bytes, an
 * unknown signature or one the version lacks, or fields of the wrong
 * number or type; GRAFT_EINVAL for values that cannot be parameters;
 * GRAFT_ETOOBIG for nesting too deep; GRAFT_ENOMEM. On error out holds
 * nothing. */
int bolt_request_decode(uint32_t version, const uint8_t *p, size_t n,
			struct bolt_request *out, char *errmsg);
void bolt_request_free(struct bolt_request *r);
/* "HELLO", "RUN"...; "message 0x.." style text for unknown ones is the
 * caller's business: returns NULL then. */
const char *bolt_request_name(uint8_t sig);
/* The value under key in a request's map field, or NULL if absent or not
 * of the given type (GRAFT_VALUE_*). */
const struct graft_value *bolt_field(const struct bolt_request *r,
				     unsigned field, const char *key,
				     uint8_t type);

/* Responses. bolt_response_begin starts a chunked message with the given
 * signature and field count; the caller packs the fields; bolt_response_end
 * frames it. */
int bolt_response_begin(struct graft_buf *out, uint8_t sig, unsigned fields,
			size_t *start);
int bolt_response_end(struct graft_buf *out, size_t start);
/* SUCCESS {} */
int bolt_write_success_empty(struct graft_buf *out);
/* FAILURE {code, message} */
int bolt_write_failure(struct graft_buf *out, const char *code,
		       const char *message);
int bolt_write_ignored(struct graft_buf *out);

#endif
