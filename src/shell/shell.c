/* graft-shell: the Bolt command-line client, like cypher-shell. Until the
 * Bolt release it connects and negotiates the protocol version, which tells
 * an operator whether a server is up and what it speaks. */
#include <config.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Offered in preference order: 5.4..5.0, 4.4. */
static const unsigned char handshake[20] = {
	0x60, 0x60, 0xB0, 0x17, 0x00, 0x04, 0x04, 0x05, 0x00, 0x00,
	0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void usage(FILE *out)
{
	fprintf(out, "usage: graft-shell [-a bolt://host:port] [--version]\n");
}

/* Accepts bolt://, neo4j:// (and +s/+ssc variants) or host[:port]. */
static void parse_address(const char *a, char *host, size_t hn, char *port,
			  size_t pn)
{
	const char *p = strstr(a, "://");
	const char *colon;

	a = p != NULL ? p + 3 : a;
	colon = strrchr(a, ':');
	snprintf(host, hn, "%.*s", colon ? (int)(colon - a) : (int)strlen(a), a);
	snprintf(port, pn, "%s", colon ? colon + 1 : "7687");
	if (host[0] == '\0')
		snprintf(host, hn, "localhost");
}

static int probe(const char *address)
{
	char host[256], port[16];
	unsigned char reply[4];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	struct timeval tv = {10, 0};
	int fd, rv;
	ssize_t n;

	parse_address(address, host, sizeof host, port, sizeof port);
	rv = getaddrinfo(host, port, &hints, &res);
	if (rv != 0) {
		fprintf(stderr, "graft-shell: cannot resolve %s: %s\n", host,
			gai_strerror(rv));
		return 1;
	}
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		fprintf(stderr,
			"graft-shell: cannot connect to %s:%s; is the server "
			"running (graft status) and is server.bolt.listen_address "
			"this address?\n",
			host, port);
		freeaddrinfo(res);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	freeaddrinfo(res);
	n = write(fd, handshake, sizeof handshake) == (ssize_t)sizeof handshake
		    ? recv(fd, reply, sizeof reply, MSG_WAITALL)
		    : -1;
	close(fd);
	if (n != 4) {
		fprintf(stderr, "graft-shell: %s:%s closed the connection during "
				"the Bolt handshake\n", host, port);
		return 1;
	}
	if (reply[3] == 0) {
		fprintf(stderr,
			"graft-shell: the server at %s:%s is up but accepts none of "
			"Bolt 5.0-5.4 or 4.4 (this graftd release does not serve "
			"queries yet)\n",
			host, port);
		return 1;
	}
	printf("Connected to %s:%s, Bolt %u.%u\n", host, port, reply[3], reply[2]);
	return 0;
}

int main(int argc, char **argv)
{
	const char *address = "bolt://localhost:7687";

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-a") == 0 || strcmp(argv[i], "--address") == 0) &&
		    i + 1 < argc) {
			address = argv[++i];
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("graft-shell %s\n", PACKAGE_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	return probe(address);
}
