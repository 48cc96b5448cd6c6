/* Seeded mutations of valid Cypher — byte flips, dropped and repeated
 * tokens, two queries spliced, deep nesting, huge numbers, unterminated
 * strings, stray unicode — run through the parser and the engine on a small
 * graph, each in a transaction with a timeout that is rolled back. Every
 * statement must give rows or a clean error (a Neo.* code and a message);
 * never a crash, a leak (ASan) or a hang. Deterministic: the same seed gives
 * the same queries, so a failure names the query to replay.
 *
 * The valid queries are the query and setup lines of the case corpus (tests/cypher, *.cases files).
 * GRAFT_FUZZ_SEED and GRAFT_FUZZ_ITERS override the seed and the count;
 * GRAFT_FUZZ_VERBOSE=1 prints every query before it runs;
 * GRAFT_FUZZ_REPLAY='<query>' runs that one statement in place of the
 * mutations (on the same graph, with the same parameters). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "cypher/cypher.h"
#include "cypher_harness.h"

#define ITERATIONS 20000
#define MAX_ROWS 200          /* rows pulled per statement */
#define TX_TIMEOUT_MS 250     /* per statement; bounds every loop */
#define TX_MEMORY_MAX (64u << 20)
#define GUARD_SECONDS 600     /* the whole run; a hang fails loudly */
#define MAX_QUERY 65536

/* The graph every statement sees (committed once, never changed: each
 * statement is rolled back). */
static const char *const graph_setup[] = {
	"CREATE INDEX fuzz_a_x FOR (n:A) ON (n.x)",
	"CREATE (a:A {x: 1, name: 'a', l: [1, 2]})-[:T {w: 2}]->"
	"(b:B {x: 2, name: 'b'}), (b)-[:T {w: 3}]->(c:A:B {x: 3}), "
	"(c)-[:U]->(a), (a)-[:T]->(a), (:C {d: date('2020-01-01')})",
};

/* Parameters for the corpus's $names. */
static const char params_text[] =
	"{props: {name: 'n', age: 3}, p: {w: 2}, a: 1, m: {a: 1}, v: 5, "
	"x: null, i: 1, s: 'x', l: [1, 'a'], n: null, f: 2.5, b: true, "
	"k: 'x', z: 0, xs: ['a', 'b'], rows: [{n: 'a'}, {n: 'b'}], id: 1, "
	"ids: [1, 2]}";

/* Queries beside the corpus, so that the test stands without it. */
static const char *const builtin[] = {
	"MATCH (n:A {x: 1})-[r:T]->(m) RETURN n.name, r.w, m ORDER BY m.x",
	"UNWIND [1, 2, 3] AS x WITH x WHERE x > 1 RETURN collect(x) AS c",
	"MATCH p = (a)-[*1..3]->(b) RETURN length(p), nodes(p) LIMIT 5",
	"MERGE (n:A {x: 9}) ON CREATE SET n.y = 'new' RETURN n",
	"RETURN [x IN range(1, 10) WHERE x % 2 = 0 | x * x] AS l, "
	"{a: 1, b: [1, 'two', 3.0]} AS m, 'str\\'ing' AS s",
	"CALL { MATCH (n) RETURN count(n) AS c } RETURN c",
	"MATCH (n) OPTIONAL MATCH (n)-[:U]->(m) RETURN n, m",
	"RETURN CASE WHEN 1 < 2 THEN 'y' ELSE 'n' END, reduce(s = 0, x IN "
	"[1, 2] | s + x), duration('P1D') + date('2020-01-01')",
};

/* Fragments that sit on the edges of the lexer and parser. */
static const char *const huge_numbers[] = {
	"99999999999999999999999999", "9223372036854775807",
	"-9223372036854775808", "9223372036854775808", "1e309", "-1e-400",
	"0x7fffffffffffffffff", "0o777777777777777777777777", "1.7976931348623157e308",
	"4.9e-324", ".e1", "1e", "0x", "00000000000000000000001",
};
static const char *const unicode[] = {
	"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80",
	"\xff", "\xc0\xaf", "\xe2\x80\xae", "\xef\xbb\xbf", "\x00",
	"\xf4\x90\x80\x80", "\\u", "\\uD800", "\\u0000", "`", "\xe3\x80\x80",
};
/* Values and expressions in place of a literal: edges of the evaluator, the
 * memory guard and the timeout. */
static const char *const values[] = {
	"null", "[]", "{}", "-0.0", "0.0 / 0.0", "1 / 0", "1 % 0",
	"9223372036854775807 + 1", "-9223372036854775807 - 2",
	"9223372036854775807 * 2", "'\\u0000'", "''", "[null]",
	"date('2020-02-30')", "datetime('9999-12-31T23:59:59Z')",
	"duration('P999999999Y')", "point({x: 1, y: 2})", "$missing", "$l",
	"[1, [2, [3, [4]]]]", "range(1, 100000000)", "range(1, 10, 0)",
	"size(range(1, 1000000000))", "reduce(s = '', x IN range(1, 200000) "
	"| s + 'xxxxxxxx')", "[x IN range(1, 300) | range(1, x)]",
	"'a' * 3", "toInteger('99999999999999999999')", "n", "r", "*",
	"count(*)", "collect(DISTINCT null)", "labels(null)", "-(-1)",
	"true AND null", "[1, 2][9223372036854775807]", "'abc'[-100..]",
};

static const char *const keywords[] = {
	"MATCH ", "RETURN ", "WITH ", "UNWIND ", "CREATE ", "MERGE ",
	"DELETE ", "DETACH ", "SET ", "REMOVE ", "WHERE ", "ORDER BY ",
	"SKIP ", "LIMIT ", "UNION ", "CALL ", "YIELD ", "OPTIONAL ", "USE ",
	"EXPLAIN ", "PROFILE ", "FOREACH ", "CASE ", "END ", "EXISTS ",
	"*", "..", "->", "<-", "-[", "]-", "|", "{", "}", "$", ":", ",",
	"count(*)", "null", "NOT ", "IN ", "=~ ", "+=", "shortestPath(",
};

struct fuzz {
	struct harness h;
	struct cypher_engine *engine; /* with timeout and memory guard */
	struct graft_value params;
	char **corpus;
	size_t ncorpus, cap;
	uint64_t rng;
	bool verbose;
	/* counts, for the summary */
	unsigned rows_ok, errors, syntax, timeouts;
};

/* The statement running now, for the crash handlers. */
static const char *current;
static size_t current_len;

static void dump_current(void)
{
	static const char head[] = "\ntest_cypher_fuzz: the statement was:\n";

	if (current == NULL)
		return;
	(void)!write(2, head, sizeof head - 1);
	(void)!write(2, current, current_len);
	(void)!write(2, "\n", 1);
}

/* AddressSanitizer calls a death callback after its report, and a signal
 * handler catches crashes in other builds; for anything else (an UBSan
 * stop) GRAFT_FUZZ_VERBOSE=1 shows the last statement. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static void crash_handler(int sig)
{
	dump_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* In place of cmocka's handlers (installed around each test), so that a
 * crash shows the statement. */
static void catch_crashes(void)
{
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(dump_current);
	signal(SIGSEGV, crash_handler);
	signal(SIGBUS, crash_handler);
	signal(SIGABRT, crash_handler);
}

static uint64_t rng(struct fuzz *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t below(struct fuzz *f, size_t n)
{
	return n == 0 ? 0 : (size_t)(rng(f) % n);
}

/* Corpus ----------------------------------------------------------------- */

static void corpus_add(struct fuzz *f, const char *q, size_t len)
{
	if (f->ncorpus == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->corpus = realloc(f->corpus, f->cap * sizeof *f->corpus);
		assert_non_null(f->corpus);
	}
	f->corpus[f->ncorpus] = strndup(q, len);
	assert_non_null(f->corpus[f->ncorpus]);
	f->ncorpus++;
}

/* The query: and setup: statements of one .cases file, with their
 * continuation lines (indented by two spaces). */
static void corpus_read_file(struct fuzz *f, const char *path)
{
	struct harness_text q = {0};
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool in = false;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	while ((n = getline(&line, &cap, fp)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (in && strncmp(line, "  ", 2) == 0) {
			harness_text_add(&q, "\n", 1);
			harness_text_add(&q, line + 2, (size_t)n - 2);
			continue;
		}
		if (in)
			corpus_add(f, q.s, q.len);
		in = false;
		if (strncmp(line, "query: ", 7) == 0 ||
		    strncmp(line, "setup: ", 7) == 0) {
			q.len = 0;
			harness_text_add(&q, line + 7, (size_t)n - 7);
			in = true;
		}
	}
	if (in)
		corpus_add(f, q.s, q.len);
	free(q.s);
	free(line);
	fclose(fp);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void corpus_load(struct fuzz *f)
{
	struct dirent **names = NULL;
	int n = scandir(GRAFT_CASES_DIR, &names, NULL, by_name); /* -1: none */

	for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++)
		corpus_add(f, builtin[i], strlen(builtin[i]));
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		char path[4096];

		if (len > 6 && strcmp(names[i]->d_name + len - 6, ".cases") == 0) {
			snprintf(path, sizeof path, "%s/%s", GRAFT_CASES_DIR,
				 names[i]->d_name);
			corpus_read_file(f, path);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

/* Mutations --------------------------------------------------------------
 * Each edits the text in t (at most MAX_QUERY bytes). */

static void replace(struct harness_text *t, size_t at, size_t del,
		    const char *s, size_t n)
{
	struct harness_text out = {0};

	if (at > t->len)
		at = t->len;
	if (del > t->len - at)
		del = t->len - at;
	if (t->len - del + n > MAX_QUERY)
		return;
	harness_text_add(&out, t->s, at);
	harness_text_add(&out, s, n);
	harness_text_add(&out, t->s + at + del, t->len - at - del);
	free(t->s);
	*t = out;
}

static void mutate_flip(struct fuzz *f, struct harness_text *t)
{
	if (t->len == 0)
		return;
	size_t at = below(f, t->len);

	if (rng(f) & 1)
		t->s[at] ^= (char)(1u << below(f, 8));
	else
		t->s[at] = (char)(32 + below(f, 95)); /* printable */
}

/* [*start, *end) of a token: a run of word characters, or one other byte. */
static void token_at(const struct harness_text *t, size_t at, size_t *start,
		     size_t *end)
{
	const char *w = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789_.'\"";
	size_t s = at, e = at + 1;

	if (strchr(w, t->s[at]) != NULL && t->s[at] != '\0') {
		while (s > 0 && strchr(w, t->s[s - 1]) && t->s[s - 1] != '\0')
			s--;
		while (e < t->len && strchr(w, t->s[e]) && t->s[e] != '\0')
			e++;
	}
	*start = s;
	*end = e;
}

static void mutate_token(struct fuzz *f, struct harness_text *t, bool dup)
{
	size_t s, e;

	if (t->len == 0)
		return;
	token_at(t, below(f, t->len), &s, &e);
	if (!dup) {
		replace(t, s, e - s, "", 0);
		return;
	}
	char *copy = strndup(t->s + s, e - s);

	assert_non_null(copy);
	for (size_t k = 1 + below(f, 3); k > 0; k--)
		replace(t, e, 0, copy, e - s);
	free(copy);
}

/* A random place in s, or (half the time) the start of a clause there. */
static size_t splice_point(struct fuzz *f, const char *s, size_t len)
{
	static const char *const clauses[] = {" MATCH ", " RETURN ", " WITH ",
					      " UNWIND ", " CREATE ", " SET ",
					      " WHERE ", " MERGE "};
	size_t at = below(f, len + 1);

	if (rng(f) & 1) {
		const char *c = clauses[below(f, sizeof clauses /
						    sizeof *clauses)];
		const char *hit = memmem(s + at, len - at, c, strlen(c));

		if (hit != NULL)
			return (size_t)(hit - s) + 1;
	}
	return at;
}

/* The tail of another statement in place of this one's tail. */
static void mutate_splice(struct fuzz *f, struct harness_text *t)
{
	const char *other = f->corpus[below(f, f->ncorpus)];
	size_t olen = strlen(other), from = splice_point(f, other, olen);

	replace(t, splice_point(f, t->s, t->len), t->len, other + from,
		olen - from);
}

/* [*s, *e) of the first number or quoted string at or after from;
 * false if there is none. */
static bool next_literal(const struct harness_text *t, size_t from, size_t *s,
			 size_t *e)
{
	for (size_t i = from; i < t->len; i++) {
		char c = t->s[i];
		bool word_before = i > 0 && (isalnum((unsigned char)t->s[i - 1]) ||
					     t->s[i - 1] == '_');

		if (c == '\'' || c == '"') {
			const char *close = memchr(t->s + i + 1, c, t->len - i - 1);

			if (close == NULL)
				return false;
			*s = i;
			*e = (size_t)(close - t->s) + 1;
			return true;
		}
		if (isdigit((unsigned char)c) && !word_before) {
			*s = *e = i;
			while (*e < t->len && (isalnum((unsigned char)t->s[*e]) ||
					       t->s[*e] == '.'))
				(*e)++;
			return true;
		}
	}
	return false;
}

/* A number or a string replaced by an edge value: the statement most
 * often still parses, so this reaches the evaluator. */
static void mutate_value(struct fuzz *f, struct harness_text *t)
{
	const char *v = values[below(f, sizeof values / sizeof *values)];
	size_t s, e;

	if (next_literal(t, below(f, t->len + 1), &s, &e) ||
	    next_literal(t, 0, &s, &e))
		replace(t, s, e - s, v, strlen(v));
}

/* depth copies of open, then the text, then depth copies of close — the
 * closers sometimes missing one. Up to 600 levels. */
static void mutate_nest(struct fuzz *f, struct harness_text *t)
{
	static const char *const pairs[][2] = {
		{"(", ")"}, {"[", "]"}, {"{a: ", "}"}, {"[x IN ", " | x]"},
		{"NOT (", ")"}, {"-(", ")"}, {"CASE WHEN true THEN ", " END"},
		{"CALL { ", " }"}, {"size([", "])"}, {"(", ")-->()"},
	};
	const char *const *p = pairs[below(f, sizeof pairs / sizeof *pairs)];
	size_t depth = 1 + below(f, 600), at = below(f, t->len + 1);
	size_t close = depth - (below(f, 4) == 0);
	struct harness_text open = {0}, shut = {0};

	harness_text_add(&open, "", 0);
	harness_text_add(&shut, "", 0);
	for (size_t i = 0; i < depth; i++)
		harness_text_add(&open, p[0], strlen(p[0]));
	for (size_t i = 0; i < close; i++)
		harness_text_add(&shut, p[1], strlen(p[1]));
	if (rng(f) & 1) { /* around a literal in a RETURN */
		t->len = 0;
		harness_text_add(t, "RETURN ", 7);
		at = t->len;
		harness_text_add(t, "1", 1);
	}
	replace(t, at + (at < t->len), 0, shut.s, shut.len);
	replace(t, at, 0, open.s, open.len);
	free(open.s);
	free(shut.s);
}

static void mutate_insert(struct fuzz *f, struct harness_text *t,
			  const char *const *set, size_t n)
{
	const char *s = set[below(f, n)];
	size_t len = s[0] == '\0' ? 1 : strlen(s); /* "\x00" is one NUL */

	replace(t, below(f, t->len + 1), 0, s, len);
}

/* A number or string replaced by a huge number (inserted anywhere if
 * there is none). */
static void mutate_number(struct fuzz *f, struct harness_text *t)
{
	const char *n = huge_numbers[below(f, sizeof huge_numbers /
						       sizeof *huge_numbers)];
	size_t s, e;

	if (next_literal(t, below(f, t->len + 1), &s, &e) ||
	    next_literal(t, 0, &s, &e))
		replace(t, s, e - s, n, strlen(n));
	else
		mutate_insert(f, t, huge_numbers,
			      sizeof huge_numbers / sizeof *huge_numbers);
}

static void mutate_unterminate(struct fuzz *f, struct harness_text *t)
{
	static const char *const opens[] = {"'", "\"", "`", "/*", "'\\",
					    "\"abc\\"};

	if (rng(f) & 1 && t->len > 0) {
		t->len = below(f, t->len); /* cut anywhere, often mid-string */
		t->s[t->len] = '\0';
	}
	mutate_insert(f, t, opens, sizeof opens / sizeof *opens);
}

static void mutate(struct fuzz *f, struct harness_text *t)
{
	switch (below(f, 13)) {
	case 0: mutate_flip(f, t); break;
	case 1: mutate_token(f, t, false); break;
	case 2: mutate_token(f, t, true); break;
	case 3:
	case 4: mutate_splice(f, t); break;
	case 5: mutate_nest(f, t); break;
	case 6: mutate_number(f, t); break;
	case 7: mutate_unterminate(f, t); break;
	case 8:
		mutate_insert(f, t, unicode, sizeof unicode / sizeof *unicode);
		break;
	case 9:
	case 10:
	case 11:
		mutate_value(f, t);
		break;
	default:
		mutate_insert(f, t, keywords,
			      sizeof keywords / sizeof *keywords);
		break;
	}
}

/* Running ---------------------------------------------------------------- */

static void print_query(const char *q, size_t len)
{
	fputs("  query: ", stderr);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)q[i];

		if (c >= 32 && c < 127 && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fputc('\n', stderr);
}

/* A clean error: a Neo4j status code and a message. */
static void check_error(const struct cypher_error *err, const char *q,
			size_t len)
{
	if (getenv("GRAFT_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "  -> %s: %s\n", err->code, err->message);
	if (strncmp(err->code, "Neo.", 4) == 0 && err->message[0] != '\0')
		return;
	fprintf(stderr, "test_cypher_fuzz: an error without a Neo4j code or "
			"message: code '%s', message '%s'\n",
		err->code, err->message);
	print_query(q, len);
	fail();
}

static void pull(struct fuzz *f, struct cypher_tx *tx, struct cypher_result *r,
		 const char *q, size_t len)
{
	const struct graft_value *row;
	const char *const *names;
	struct cypher_error err;
	size_t ncols = cypher_result_fields(r, &names);
	unsigned n = 0;
	int rv;

	while (n < MAX_ROWS && (rv = cypher_result_next(r, &row, &err)) == 1) {
		char buf[256];

		for (size_t i = 0; i < ncols; i++)
			cypher_value_render(tx, &row[i], buf, sizeof buf);
		n++;
	}
	if (n < MAX_ROWS && rv < 0) {
		check_error(&err, q, len);
		f->errors++;
		if (strstr(err.code, "TimedOut") != NULL)
			f->timeouts++;
		return;
	}
	f->rows_ok++;
}

static void run_one(struct fuzz *f, const char *q, size_t len)
{
	struct cypher_tx_options o = {.timeout_ms = TX_TIMEOUT_MS};
	struct cypher_result *r;
	struct cypher_error err;
	struct cypher_tx *tx;
	uint64_t started = uv_hrtime();

	if (f->verbose)
		print_query(q, len);
	current = q;
	current_len = len;
	assert_int_equal(cypher_tx_begin(f->engine, &o, &tx, &err), GRAFT_OK);
	if (cypher_run(tx, q, len, &f->params, &r, &err) != GRAFT_OK) {
		check_error(&err, q, len);
		f->errors++;
		f->syntax += strstr(err.code, "SyntaxError") != NULL;
	} else {
		pull(f, tx, r, q, len);
		cypher_result_close(r);
	}
	cypher_tx_rollback(tx);
	current = NULL;
	if (f->verbose)
		fprintf(stderr, "  (%.1f ms)\n",
			(double)(uv_hrtime() - started) / 1e6);
}

/* Fixture ---------------------------------------------------------------- */

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? strtoull(s, NULL, 0) : dflt;
}

static int setup(void **state)
{
	struct cypher_engine_options eo = {.tx_memory_max = TX_MEMORY_MAX};
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct cypher_error err;
	struct fuzz *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_int_equal(harness_open(&f->h, errmsg), GRAFT_OK);
	for (size_t i = 0; i < sizeof graph_setup / sizeof *graph_setup; i++) {
		struct harness_outcome o;

		assert_int_equal(harness_run(&f->h, graph_setup[i], NULL, &o),
				 GRAFT_OK);
		if (o.failed)
			fprintf(stderr, "setup '%s': %s: %s\n", graph_setup[i],
				o.error.code, o.error.message);
		assert_false(o.failed);
		harness_outcome_free(&o);
	}
	assert_int_equal(harness_map(&f->h, params_text, &f->params, &err),
			 GRAFT_OK);
	assert_int_equal(cypher_engine_new(f->h.dbms, &eo, &f->engine),
			 GRAFT_OK);
	corpus_load(f);
	f->rng = env_u64("GRAFT_FUZZ_SEED", 0x5eed);
	f->verbose = env_u64("GRAFT_FUZZ_VERBOSE", 0) != 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fuzz *f = *state;

	cypher_engine_free(f->engine);
	harness_close(&f->h);
	graft_value_free(&f->params);
	for (size_t i = 0; i < f->ncorpus; i++)
		free(f->corpus[i]);
	free(f->corpus);
	free(f);
	return 0;
}

/* Tests ------------------------------------------------------------------ */

/* The corpus as it is: each statement runs and ends cleanly. */
static void test_cypher_fuzz_corpus_runs_clean(void **state)
{
	struct fuzz *f = *state;

	catch_crashes();
	if (getenv("GRAFT_FUZZ_REPLAY") != NULL)
		return;
	assert_true(f->ncorpus > sizeof builtin / sizeof *builtin);
	for (size_t i = 0; i < f->ncorpus; i++)
		run_one(f, f->corpus[i], strlen(f->corpus[i]));
}

/* One mutation of a corpus statement per iteration, two or three in a
 * quarter of them. */
static void test_cypher_fuzz_mutations_end_cleanly(void **state)
{
	struct fuzz *f = *state;
	uint64_t iters = env_u64("GRAFT_FUZZ_ITERS", ITERATIONS);
	const char *replay = getenv("GRAFT_FUZZ_REPLAY");

	catch_crashes();
	if (replay != NULL) {
		run_one(f, replay, strlen(replay));
		return;
	}
	f->rows_ok = f->errors = f->syntax = f->timeouts = 0;
	for (uint64_t i = 0; i < iters; i++) {
		struct harness_text t = {0};
		const char *q = f->corpus[below(f, f->ncorpus)];

		harness_text_add(&t, q, strlen(q));
		for (size_t k = below(f, 4) == 0 ? 2 + below(f, 2) : 1; k > 0;
		     k--)
			mutate(f, &t);
		run_one(f, t.s, t.len);
		free(t.s);
	}
	printf("%llu mutated statements: %u gave rows (up to %d), %u clean "
	       "errors (%u syntax errors, %u timeouts)\n",
	       (unsigned long long)iters, f->rows_ok, MAX_ROWS, f->errors,
	       f->syntax, f->timeouts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cypher_fuzz_corpus_runs_clean),
		cmocka_unit_test(test_cypher_fuzz_mutations_end_cleanly),
	};

	alarm(GUARD_SECONDS);
	return cmocka_run_group_tests(tests, setup, teardown);
}
