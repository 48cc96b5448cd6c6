/* Addresses as settings, peers and routing tables spell them: "host:port",
 * "[IPv6]:port", and where the port may be left out also ":port", "host"
 * and a bare IPv6 address ("::1"). One parser for the configuration
 * (src/util/config*.c) and for the addresses the network layer resolves
 * and connects to (src/net/resolve.c), so that both accept and refuse the
 * same text with the same words. */
#ifndef GRAFT_UTIL_ADDRESS_H
#define GRAFT_UTIL_ADDRESS_H

#include <stddef.h>
#include <stdint.h>

/* The longest host name an address may carry. */
#define GRAFT_ADDRESS_HOST_MAX 255
/* Room for any address graft_address_format writes: "[host]:65535". */
#define GRAFT_ADDRESS_TEXT_MAX (GRAFT_ADDRESS_HOST_MAX + 9)

struct graft_address {
	char host[GRAFT_ADDRESS_HOST_MAX + 1];
	uint16_t port;
};

enum graft_address_port {
	/* A setting's value: the port may be left out (a default fills it
	 * in) and may be 0 (a listener takes any free port). */
	GRAFT_ADDRESS_PORT_OPTIONAL,
	/* A peer to connect to: a port from 1 to 65535 is required. Text
	 * with several colons and no brackets ("::1:7687", a host and port
	 * joined without them) takes what follows the last colon as the
	 * port. */
	GRAFT_ADDRESS_PORT_REQUIRED,
};

/* Splits text into host (GRAFT_ADDRESS_HOST_MAX + 1 bytes; "" when left
 * out, brackets removed) and *port (-1 when left out). GRAFT_OK, or
 * GRAFT_EINVAL with errmsg (may be NULL) saying what is wrong and what is
 * allowed: "the port 70000 is past 65535; allowed: host:port ...". The
 * caller names the setting or peer and the value before it. */
int graft_address_split(const char *text, enum graft_address_port need,
			char *host, int *port, char *errmsg);

/* What graft_address_split accepts under need: "host:port or ...". */
const char *graft_address_allowed(enum graft_address_port need);

/* Writes host and port the way graft_address_split reads them back:
 * "host:port", or "[host]:port" when host holds a ':' (an IPv6 address;
 * "::1:7687" would read as host "::1" only by luck, and a routing table or
 * a log line showing it leaves people guessing). Every place that shows or
 * passes on a peer's address formats it here. Returns what snprintf does:
 * the length it needed (out is cut to n - 1 bytes past that). */
int graft_address_format(char *out, size_t n, const char *host,
			 unsigned port);

#endif
