#include "bolt_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cypher/cypher.h"
#include "cypher_fake.h"
#include "db/dbms.h"
#include "tmpdir.h"
#include "util/err.h"

void bolt_fixture_open(struct bolt_fixture *b, const char *name,
		       struct bolt_env *env)
{
	struct dbms_options o;
	char errmsg[GRAFT_ERRMSG_SIZE];

	assert_non_null(tmpdir_make(b->dir, sizeof b->dir, name));
	assert_int_equal(uv_loop_init(&b->loop), 0);
	memset(&o, 0, sizeof o);
	o.data_dir = b->dir;
	o.db.rotation_size = 1 << 20;
	o.db.retention.kind = GRAFT_RETAIN_ALL;
	if (dbms_open(&b->loop, &o, &b->dbms, errmsg) != GRAFT_OK)
		fail_msg("dbms_open: %s", errmsg);
	assert_int_equal(cypher_engine_new(b->dbms, NULL, &b->engine),
			 GRAFT_OK);
	cypher_fake_loop = &b->loop;
	cypher_fake_txid = 0;
	env->loop = &b->loop;
	env->engine = b->engine;
	env->cfg.routing_ttl_s = 300;
}

static void closed_cb(void *arg)
{
	*(bool *)arg = true;
}

void bolt_fixture_close(struct bolt_fixture *b)
{
	bool closed = false;

	cypher_engine_free(b->engine);
	dbms_close(b->dbms, closed_cb, &closed);
	while (!closed)
		uv_run(&b->loop, UV_RUN_ONCE);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&b->loop), 0);
	tmpdir_remove(b->dir);
}
