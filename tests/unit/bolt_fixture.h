/* Shared fixture of the Bolt test suites (test_bolt_session.c drives a
 * session message by message, test_bolt_conn.c drives connections over
 * loopback sockets): a fresh directory, a loop, a dbms on it and the
 * scripted Cypher engine (cypher_fake.c). Each suite sets the limits of
 * its own bolt_env (max_message, out_high, timeouts) after opening. */
#ifndef GRAFT_TESTS_BOLT_FIXTURE_H
#define GRAFT_TESTS_BOLT_FIXTURE_H

#include <uv.h>

#include "bolt/session.h"

struct bolt_fixture {
	char dir[256];
	uv_loop_t loop;
	struct dbms *dbms;
	struct cypher_engine *engine;
};

/* Opens everything under /tmp/graft-<name>-XXXXXX and points env's loop
 * and engine at it (routing TTL 300 s); fails the test on any error. */
void bolt_fixture_open(struct bolt_fixture *b, const char *name,
		       struct bolt_env *env);
/* Frees the engine, closes the dbms, checks the loop closes clean and
 * removes the directory. Close every session and connection first. */
void bolt_fixture_close(struct bolt_fixture *b);

#endif
