/* Unit tests for the shared resolver (src/net/resolve.h) on a real loop
 * and the system's resolver: IP addresses answer at once, a host name is
 * looked up off the loop and then answered from the cache, a name that
 * does not resolve is reported naming the host and not looked up again at
 * once, malformed addresses are named, and closing answers the waiting
 * requests. The name that does not resolve has an empty label, which the
 * system refuses without asking a DNS server. Every test ends with the
 * loop closing clean. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/resolve.h"
#include "util/err.h"

#define NO_SUCH_HOST "no-such-host..invalid"

struct fx {
	uv_loop_t loop;
	struct net_resolver r;
	struct net_resolve_req req;
	unsigned answers, closed;
	int status;
	struct sockaddr_storage sa;
};

static void answer_cb(struct net_resolve_req *req, int status,
		      const struct sockaddr *sa)
{
	struct fx *f = req->data;

	f->answers++;
	f->status = status;
	if (sa != NULL)
		memcpy(&f->sa, sa,
		       sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
						: sizeof(struct sockaddr_in6));
}

static void closed_cb(struct net_resolver *r)
{
	((struct fx *)r->data)->closed++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	net_resolver_init(&f->r, &f->loop, "test");
	f->r.data = f;
	f->req.data = f;
	f->req.cb = answer_cb;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->closed == 0)
		net_resolver_close(&f->r, closed_cb);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->closed, 1);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

static void run_until_answered(struct fx *f, unsigned want)
{
	while (f->answers < want)
		assert_true(uv_run(&f->loop, UV_RUN_ONCE) != 0 ||
			    f->answers >= want);
}

static void test_net_resolve_host_name_is_looked_up_off_the_loop_then_cached(
	void **state)
{
	struct fx *f = *state;
	struct sockaddr_storage sa;
	char ip[INET_ADDRSTRLEN];

	assert_int_equal(net_resolve(&f->r, "localhost:5000", &sa, &f->req,
				     NULL),
			 GRAFT_EAGAIN);
	assert_int_equal(net_resolver_pending(&f->r), 1);
	run_until_answered(f, 1);
	assert_int_equal(f->status, GRAFT_OK);
	assert_int_equal(f->sa.ss_family, AF_INET); /* IPv4 preferred */
	inet_ntop(AF_INET, &((struct sockaddr_in *)&f->sa)->sin_addr, ip,
		  sizeof ip);
	assert_string_equal(ip, "127.0.0.1");
	assert_int_equal(ntohs(((struct sockaddr_in *)&f->sa)->sin_port),
			 5000);
	/* the cached answer, no second lookup, no callback */
	assert_int_equal(net_resolve(&f->r, "localhost:5000", &sa, &f->req,
				     NULL),
			 GRAFT_OK);
	assert_int_equal(net_resolver_pending(&f->r), 0);
	assert_memory_equal(&sa, &f->sa, sizeof(struct sockaddr_in));
	assert_int_equal(f->answers, 1);
}

static void test_net_resolve_unknown_host_is_named_and_not_retried_at_once(
	void **state)
{
	struct fx *f = *state;
	struct sockaddr_storage sa;
	char errmsg[GRAFT_ERRMSG_SIZE];

	assert_int_equal(net_resolve(&f->r, NO_SUCH_HOST ":5000", &sa, &f->req,
				     errmsg),
			 GRAFT_EAGAIN);
	run_until_answered(f, 1);
	assert_int_equal(f->status, GRAFT_ENOTFOUND);
	assert_int_equal(net_resolve(&f->r, NO_SUCH_HOST ":5000", &sa, NULL,
				     errmsg),
			 GRAFT_ENOTFOUND);
	assert_non_null(strstr(errmsg, "the host name " NO_SUCH_HOST
					 " does not resolve"));
	/* retried only after NET_RESOLVE_RETRY_MS */
	assert_int_equal(net_resolver_pending(&f->r), 0);
}

static void test_net_resolve_malformed_address_is_named(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{"core1", "the port is missing"},
		{"core1:0", "the port 0 names no port"},
		{"core1:70000", "the port is past 65535"},
		{"core1:50x", "the port is not a number"},
		{"[::1]", "the port is missing"},
		{"[::1:7687", "has no ']'"},
		{"core 1:7687", "a host name has only letters"},
	};
	struct fx *f = *state;
	struct sockaddr_storage sa;
	char errmsg[GRAFT_ERRMSG_SIZE];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(net_resolve(&f->r, bad[i].text, &sa, &f->req,
					     errmsg),
				 GRAFT_EINVAL);
		assert_non_null(strstr(errmsg, bad[i].text));
		assert_non_null(strstr(errmsg, bad[i].why));
		assert_non_null(strstr(errmsg, "allowed: host:port or "
						 "[IPv6]:port, with a port "
						 "from 1 to 65535"));
	}
	assert_int_equal(f->answers, 0);
}

/* sa's IP address into ip (INET6_ADDRSTRLEN bytes); returns its port. */
static unsigned ip_port(const struct sockaddr_storage *sa, char *ip)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (sa->ss_family == AF_INET) {
		inet_ntop(AF_INET, &in->sin_addr, ip, INET6_ADDRSTRLEN);
		return ntohs(in->sin_port);
	}
	inet_ntop(AF_INET6, &in6->sin6_addr, ip, INET6_ADDRSTRLEN);
	return ntohs(in6->sin6_port);
}

/* IP addresses in the forms a peer's address takes: an empty host is this
 * machine; an IPv6 address bracketed, or joined to its port without
 * brackets as "%s:%u" writes it. */
static void test_net_resolve_ip_addresses_answer_at_once(void **state)
{
	static const struct {
		const char *text, *ip;
		int family;
		unsigned port;
	} forms[] = {
		{":7687", "127.0.0.1", AF_INET, 7687},
		{"[::1]:7688", "::1", AF_INET6, 7688},
		{"::1:7689", "::1", AF_INET6, 7689},
		{"[fe80::2]:1", "fe80::2", AF_INET6, 1},
		{"10.1.2.3:65535", "10.1.2.3", AF_INET, 65535},
	};
	struct fx *f = *state;
	struct sockaddr_storage sa;
	char ip[INET6_ADDRSTRLEN];
	size_t i = 0;

	for (; i < sizeof forms / sizeof forms[0]; i++) {
		int rv = net_resolve(&f->r, forms[i].text, &sa, &f->req, NULL);

		assert_int_equal(rv, GRAFT_OK);
		assert_int_equal(sa.ss_family, forms[i].family);
		assert_int_equal(ip_port(&sa, ip), forms[i].port);
		assert_string_equal(ip, forms[i].ip);
	}
	assert_int_equal(net_resolver_pending(&f->r), 0);
	assert_int_equal(f->answers, 0);
}

static void test_net_resolve_close_answers_waiting_requests(void **state)
{
	struct fx *f = *state;
	struct sockaddr_storage sa;

	assert_int_equal(net_resolve(&f->r, "localhost:6000", &sa, &f->req,
				     NULL),
			 GRAFT_EAGAIN);
	net_resolver_close(&f->r, closed_cb);
	assert_int_equal(f->closed, 0); /* a lookup is in flight */
	run_until_answered(f, 1);
	assert_int_equal(f->status, GRAFT_ESHUTDOWN);
	assert_int_equal(f->closed, 1);
	assert_int_equal(net_resolve(&f->r, "localhost:6000", &sa, NULL, NULL),
			 GRAFT_ESHUTDOWN);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_net_resolve_ip_addresses_answer_at_once),
		T(test_net_resolve_host_name_is_looked_up_off_the_loop_then_cached),
		T(test_net_resolve_unknown_host_is_named_and_not_retried_at_once),
		T(test_net_resolve_malformed_address_is_named),
		T(test_net_resolve_close_answers_waiting_requests),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
