/* Password literals never leave the parser: redact_query as SHOW
 * TRANSACTIONS and dbms.listQueries show query text, and the parser's error
 * messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cypher/cypher.h"
#include "cypher/parse.h"
#include "cypher/redact.h"

static void expect_redacted(const char *query, const char *want)
{
	char out[256];
	size_t n = redact_query(query, strlen(query), out, sizeof out);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_redact_hides_every_password_literal(void **state)
{
	(void)state;
	expect_redacted("CREATE USER bob SET PASSWORD 'secret1' CHANGE NOT REQUIRED",
			"CREATE USER bob SET PASSWORD '******' CHANGE NOT REQUIRED");
	expect_redacted("alter user bob set plaintext password \"x'y\"",
			"alter user bob set plaintext password '******'");
	expect_redacted("ALTER CURRENT USER SET PASSWORD FROM 'old' TO 'new'",
			"ALTER CURRENT USER SET PASSWORD FROM '******' TO '******'");
	expect_redacted("ALTER CURRENT USER SET PASSWORD FROM $old TO 'new'",
			"ALTER CURRENT USER SET PASSWORD FROM $old TO '******'");
	/* the keyword in any case (the quick check before lexing, too) */
	expect_redacted("create user bob set PaSsWoRd 'x' change not required",
			"create user bob set PaSsWoRd '******' change not required");
}

static void test_redact_leaves_other_statements_alone(void **state)
{
	(void)state;
	expect_redacted("MATCH (u:User) WHERE u.password = 'p' RETURN u",
			"MATCH (u:User) WHERE u.password = 'p' RETURN u");
	expect_redacted("LOAD CSV FROM 'file:///x' AS l RETURN l",
			"LOAD CSV FROM 'file:///x' AS l RETURN l");
	expect_redacted("CREATE USER bob SET PASSWORD $pw",
			"CREATE USER bob SET PASSWORD $pw");
}

/* An unterminated string, or one cut by the output's size, is hidden from
 * where it starts. */
static void test_redact_hides_cut_and_unterminated_passwords(void **state)
{
	static const char q[] = "CREATE USER bob SET PASSWORD 'a-long-secret'";
	char out[40];

	(void)state;
	expect_redacted("CREATE USER bob SET PASSWORD 'secre",
			"CREATE USER bob SET PASSWORD '******'");
	redact_query(q, sizeof q - 1, out, sizeof out);
	assert_string_equal(out, "CREATE USER bob SET PASSWORD '******'");
}

static void test_parse_errors_do_not_echo_passwords(void **state)
{
	static const char q[] = "ALTER CURRENT USER SET PASSWORD 'old-pw' TO 'new'";
	struct cypher_stmt *st = NULL;
	struct cypher_error err;

	(void)state;
	assert_int_not_equal(cypher_parse(q, sizeof q - 1, &st, &err), GRAFT_OK);
	assert_string_equal(err.code, "Neo.ClientError.Statement.SyntaxError");
	assert_null(strstr(err.message, "old-pw"));
	assert_non_null(strstr(err.message, "'******'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_hides_every_password_literal),
		cmocka_unit_test(test_redact_leaves_other_statements_alone),
		cmocka_unit_test(test_redact_hides_cut_and_unterminated_passwords),
		cmocka_unit_test(test_parse_errors_do_not_echo_passwords),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
