/* Splitting "host:port" text (address.h). The grammar: an IPv6 address
 * is bracketed when a port follows it; a host name is letters, digits,
 * '.', '-' and '_'; a port is decimal. Each refusal says which of those
 * failed, since "not an address" alone leaves the user guessing. */
#include "address.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static const char *const allowed_text[] = {
	[GRAFT_ADDRESS_PORT_OPTIONAL] =
		"host:port, :port, host or [IPv6]:port, with a port from 0 to "
		"65535",
	[GRAFT_ADDRESS_PORT_REQUIRED] =
		"host:port or [IPv6]:port, with a port from 1 to 65535",
};

const char *graft_address_allowed(enum graft_address_port need)
{
	return allowed_text[need];
}

/* The parts of text before checking them: host [hs, he), port text ps
 * (NULL: none), v6 when the host is an IPv6 address. */
struct parts {
	const char *hs, *he, *ps;
	int v6;
};

static int refuse(enum graft_address_port need, char *errmsg,
		  const char *why)
{
	return graft_errf(errmsg, GRAFT_EINVAL, "%s; allowed: %s", why,
			  allowed_text[need]);
}

static int cut(const char *text, enum graft_address_port need,
	       struct parts *p, char *errmsg)
{
	const char *colon = strchr(text, ':');

	p->hs = text;
	p->v6 = 0;
	if (text[0] == '[') {
		p->hs = text + 1;
		p->he = strchr(p->hs, ']');
		if (p->he == NULL)
			return refuse(need, errmsg,
				      "the '[' of an IPv6 address has no ']'");
		if (p->he[1] != '\0' && p->he[1] != ':')
			return refuse(need, errmsg,
				      "text follows the ']' of an IPv6 "
				      "address where ':port' belongs");
		p->ps = p->he[1] == ':' ? p->he + 2 : NULL;
		p->v6 = 1;
	} else if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		p->v6 = 1; /* an IPv6 address without brackets */
		p->he = need == GRAFT_ADDRESS_PORT_REQUIRED
				? strrchr(text, ':')
				: text + strlen(text);
		p->ps = need == GRAFT_ADDRESS_PORT_REQUIRED ? p->he + 1 : NULL;
	} else {
		p->he = colon != NULL ? colon : text + strlen(text);
		p->ps = colon != NULL ? colon + 1 : NULL;
	}
	return GRAFT_OK;
}

static int host_char_ok(char c, int v6)
{
	if (v6)
		return isxdigit((unsigned char)c) || c == ':' || c == '.';
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static int check_host(const struct parts *p, enum graft_address_port need,
		      char *errmsg)
{
	if (p->he - p->hs > GRAFT_ADDRESS_HOST_MAX)
		return refuse(need, errmsg, "the host is longer than 255 bytes");
	if (p->v6 && p->he == p->hs)
		return refuse(need, errmsg, "the IPv6 address is empty");
	for (const char *c = p->hs; c < p->he; c++)
		if (!host_char_ok(*c, p->v6))
			return refuse(need, errmsg,
				      p->v6 ? "an IPv6 address has only hex "
					      "digits, ':' and '.'"
					    : "a host name has only letters, "
					      "digits, '.', '-' and '_'");
	return GRAFT_OK;
}

static int read_port(const char *ps, enum graft_address_port need,
		     int *port, char *errmsg)
{
	unsigned long v = 0;
	const char *c = ps;

	for (; isdigit((unsigned char)*c); c++) /* saturates past 65535 */
		v = v > 65535 ? v : v * 10 + (unsigned long)(*c - '0');
	if (c == ps || *c != '\0')
		return refuse(need, errmsg,
			      *ps == '\0' ? "the port after ':' is missing"
					  : "the port is not a number");
	if (v > 65535)
		return refuse(need, errmsg, "the port is past 65535");
	if (v == 0 && need == GRAFT_ADDRESS_PORT_REQUIRED)
		return refuse(need, errmsg,
			      "the port 0 names no port to connect to");
	*port = (int)v;
	return GRAFT_OK;
}

int graft_address_split(const char *text, enum graft_address_port need,
			char *host, int *port, char *errmsg)
{
	struct parts p = {0};
	int rv;

	*host = '\0';
	*port = -1;
	rv = cut(text, need, &p, errmsg);
	if (rv == GRAFT_OK)
		rv = check_host(&p, need, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (p.ps == NULL && (need == GRAFT_ADDRESS_PORT_REQUIRED ||
			     p.he == p.hs))
		return refuse(need, errmsg,
			      p.he == p.hs ? "the address is empty"
					   : "the port is missing");
	if (p.ps != NULL && (rv = read_port(p.ps, need, port, errmsg)) !=
				    GRAFT_OK)
		return rv;
	memcpy(host, p.hs, (size_t)(p.he - p.hs));
	host[p.he - p.hs] = '\0';
	return GRAFT_OK;
}

int graft_address_format(char *out, size_t n, const char *host,
			 unsigned port)
{
	int v6 = strchr(host, ':') != NULL;

	return snprintf(out, n, "%s%s%s:%u", v6 ? "[" : "", host,
			v6 ? "]" : "", port);
}
