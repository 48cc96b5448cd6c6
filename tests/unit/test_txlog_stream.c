/* Unit tests for the transaction log as a stream: a reader whose end moves
 * forward as the log becomes durable, the durability notification that
 * drives it, retention pins that keep pruning from cutting under a reader
 * (bounded by db.tx_log.reader_pins.max_size), and records on the wire
 * with their own CRC and database id. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txlog_fixture.h"
#include "util/buf.h"

#define MAX_SEGS 64

static void durable_cb(void *data, uint64_t last_txid)
{
	uint64_t *seen = data;

	assert_true(last_txid > *seen);
	*seen = last_txid;
}

static void expect_next(struct tfx *f, struct txlog_reader *r, uint64_t t)
{
	uint8_t want[TFX_MAX_RECORD];
	const void *rec;
	uint64_t txid;
	size_t len;

	assert_int_equal(txlog_reader_next(r, &txid, &rec, &len, f->errmsg),
			 GRAFT_OK);
	assert_true(txid == t);
	assert_int_equal(len, tfx_record(t, want));
	assert_memory_equal(rec, want, len);
}

static void expect_end(struct tfx *f, struct txlog_reader *r)
{
	const void *rec;
	uint64_t txid;
	size_t len;

	assert_int_equal(txlog_reader_next(r, &txid, &rec, &len, f->errmsg),
			 GRAFT_ENOTFOUND);
}

static void test_txlog_durable_notification_follows_every_batch(void **state)
{
	struct tfx *f = *state;
	uint64_t seen = 0;

	tfx_open(f, 400, "true");
	txlog_on_durable(f->log, durable_cb, &seen);
	assert_int_equal(tfx_append(f, 1, 3), GRAFT_OK);
	assert_true(seen == 3);
	assert_int_equal(tfx_append(f, 4, 1), GRAFT_OK);
	assert_true(seen == 4);
	txlog_on_durable(f->log, NULL, NULL);
	assert_int_equal(tfx_append(f, 5, 1), GRAFT_OK);
	assert_true(seen == 4);
}

/* A live follower reads up to what is durable, stops there, and goes on
 * from the same place once its end is moved, across rotations. */
static void test_txlog_reader_end_advances_with_the_log(void **state)
{
	struct tfx *f = *state;
	struct txlog_reader *r;
	uint64_t t = 1, firsts[MAX_SEGS];

	tfx_open(f, 400, "true");
	assert_int_equal(tfx_append(f, 1, 2), GRAFT_OK);
	assert_int_equal(txlog_reader_open(f->dir, 1, txlog_last_txid(f->log),
					   &r, f->errmsg), GRAFT_OK);
	for (uint64_t end = 2; end <= 40; end += 7) {
		for (; t <= end; t++)
			expect_next(f, r, t);
		expect_end(f, r);
		assert_true(txlog_reader_position(r) == end + 1);
		assert_int_equal(tfx_append(f, end + 1, 7), GRAFT_OK);
		/* Durable but not yet given to the reader: still the end. */
		expect_end(f, r);
		txlog_reader_set_end(r, txlog_last_txid(f->log));
	}
	assert_true(tfx_segments(f, firsts, MAX_SEGS) > 3);
	txlog_reader_close(r);
}

static size_t build(struct tfx *f, uint64_t last, uint64_t *firsts)
{
	tfx_open(f, 300, "false");
	for (uint64_t t = 1; t <= last; t++)
		assert_int_equal(tfx_append(f, t, 1), GRAFT_OK);
	return tfx_segments(f, firsts, MAX_SEGS);
}

/* Retention "false" would prune everything checkpointed; a pin keeps its
 * transaction's segment and everything after, and releasing it lets the
 * next prune go on. */
static void test_txlog_pin_keeps_pruning_from_cutting_under_a_reader(
	void **state)
{
	struct tfx *f = *state;
	struct txlog_pin pin, later;
	uint64_t firsts[MAX_SEGS], now[MAX_SEGS];
	unsigned removed;
	size_t n = build(f, 40, firsts);

	assert_true(n > 5);
	txlog_pin(f->log, &pin, firsts[2] + 1);
	txlog_pin(f->log, &later, firsts[4]);
	assert_true(txlog_pinned_from(f->log) == firsts[2] + 1);
	assert_int_equal(txlog_prune(f->log, UINT64_MAX, &removed, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(removed, 2);
	tfx_check_read(f, firsts[2] + 1, 40);
	/* Moving the pin on releases what it no longer needs. */
	txlog_pin_move(&pin, firsts[3]);
	assert_int_equal(txlog_prune(f->log, UINT64_MAX, &removed, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(removed, 1);
	txlog_unpin(&pin);
	txlog_unpin(&pin); /* harmless twice */
	assert_int_equal(txlog_prune(f->log, UINT64_MAX, &removed, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(removed, 1);
	assert_true(tfx_segments(f, now, MAX_SEGS) == n - 4);
	assert_true(now[0] == firsts[4]);
	assert_false(txlog_pin_lost(&later));
	/* Closing the log releases the pins it still has. */
	tfx_close(f);
	txlog_unpin(&later);
}

/* A pin holding back more than db.tx_log.reader_pins.max_size is dropped
 * with a warning (a dead replica cannot fill the disk); one within the
 * bound still holds. */
static void test_txlog_pin_past_the_bound_is_dropped(void **state)
{
	struct tfx *f = *state;
	struct txlog_pin old, recent;
	uint64_t firsts[MAX_SEGS], bound = 0;
	unsigned removed;
	size_t n;

	f->o.pin_max_size = 1; /* replaced below, once sizes are known */
	n = build(f, 40, firsts);
	tfx_close(f);
	for (size_t i = n - 2; i < n; i++) {
		char path[256];

		tfx_segment_path(f, firsts[i], path, sizeof path);
		bound += tfx_file_size(path);
	}
	f->o.pin_max_size = bound;
	tfx_open(f, 300, "false");
	txlog_pin(f->log, &old, 1);
	txlog_pin(f->log, &recent, firsts[n - 2]);
	assert_int_equal(txlog_prune(f->log, UINT64_MAX, &removed, f->errmsg),
			 GRAFT_OK);
	assert_true(txlog_pin_lost(&old));
	assert_false(txlog_pin_lost(&recent));
	assert_int_equal(removed, n - 2);
	assert_true(tfx_logged(f, "the pin is dropped and that reader will "
				  "need a store copy"));
	assert_true(txlog_pinned_from(f->log) == firsts[n - 2]);
	txlog_unpin(&old);
	txlog_unpin(&recent);
}

/* A stream's ids: cluster 00112233-4455-6677-8899-aabbccddeeff,
 * database id 7 (the Raft index that created it), its name's CRC. */
static struct txlog_wire_id wire_id(const char *name, uint64_t db)
{
	struct txlog_wire_id id = {.db = db, .name = txlog_wire_db_id(name)};

	for (size_t i = 0; i < 16; i++)
		id.cluster[i] = (uint8_t)(i * 0x11);
	return id;
}

static void test_txlog_wire_record_round_trips(void **state)
{
	struct tfx *f = *state;
	struct graft_buf b;
	const uint8_t *rec;
	size_t size, len;
	struct txlog_wire_id id = wire_id("neo4j", 7);
	char text[37];

	graft_buf_init(&b);
	assert_true(id.name != txlog_wire_db_id("system"));
	assert_int_equal(txlog_wire_put(&b, &id, 7, "payload", 7), GRAFT_OK);
	assert_int_equal(txlog_wire_size(b.data, &size, f->errmsg), GRAFT_OK);
	assert_int_equal(size, b.len);
	assert_int_equal(txlog_wire_check(b.data, size, &id, 7, &rec, &len,
					  f->errmsg), GRAFT_OK);
	assert_int_equal(len, 7);
	assert_memory_equal(rec, "payload", 7);
	txlog_wire_cluster_text(&id, text);
	assert_string_equal(text, "00112233-4455-6677-8899-aabbccddeeff");
	graft_buf_free(&b);
}

/* Every byte of a frame is covered: flipping any one is refused, and so
 * are a record of another cluster, of another database (another id, or
 * another name under the same id) and one out of sequence. */
static void test_txlog_wire_refuses_damage_other_database_and_gaps(
	void **state)
{
	struct tfx *f = *state;
	struct graft_buf b;
	const uint8_t *rec;
	size_t len;
	struct txlog_wire_id id = wire_id("neo4j", 7), other;

	graft_buf_init(&b);
	assert_int_equal(txlog_wire_put(&b, &id, 9, "0123456789", 10),
			 GRAFT_OK);
	for (size_t i = 0; i < b.len; i++) {
		b.data[i] ^= 0x20;
		assert_int_equal(txlog_wire_check(b.data, b.len, &id, 9, &rec,
						  &len, f->errmsg),
				 GRAFT_ECORRUPT);
		b.data[i] ^= 0x20;
	}
	other = id;
	other.cluster[15] ^= 1;
	assert_int_equal(txlog_wire_check(b.data, b.len, &other, 9, &rec, &len,
					  f->errmsg), GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, "belongs to cluster "
					  "00112233-4455-6677-8899-aabbccddeeff"
					  ", database id 7"));
	assert_non_null(strstr(f->errmsg, "being caught up: cluster "
					  "00112233-4455-6677-8899-aabbccddeefe"
					  ", database id 7"));
	other = wire_id("neo4j", 12); /* dropped and created again */
	assert_int_equal(txlog_wire_check(b.data, b.len, &other, 9, &rec, &len,
					  f->errmsg), GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, "database id 12"));
	other = wire_id("system", 7);
	assert_int_equal(txlog_wire_check(b.data, b.len, &other, 9, &rec, &len,
					  f->errmsg), GRAFT_ECORRUPT);
	assert_int_equal(txlog_wire_check(b.data, b.len, &id, 8, &rec, &len,
					  f->errmsg), GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, "where 8 must follow"));
	assert_int_equal(txlog_wire_check(b.data, 10, &id, 9, &rec, &len,
					  f->errmsg), GRAFT_ECORRUPT);
	graft_put_u32le(b.data, TXLOG_MAX_RECORD + 1u);
	assert_int_equal(txlog_wire_size(b.data, &len, f->errmsg),
			 GRAFT_ETOOBIG);
	graft_buf_free(&b);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_txlog_durable_notification_follows_every_batch),
		T(test_txlog_reader_end_advances_with_the_log),
		T(test_txlog_pin_keeps_pruning_from_cutting_under_a_reader),
		T(test_txlog_pin_past_the_bound_is_dropped),
		T(test_txlog_wire_record_round_trips),
		T(test_txlog_wire_refuses_damage_other_database_and_gaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
