/* Unit tests for temporal values: the calendar (leap years, ISO weeks),
 * ISO 8601 parsing and printing round trips, zones from the tz database
 * (offsets, DST gaps and overlaps), constructors from maps, truncation,
 * field access, arithmetic with durations, duration.between and friends,
 * and points. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cypher/temporal.h"
#include "cypher_fn_fixture.h"

static void test_temporal_calendar_days_round_trip_civil_and_week_dates(void **state)
{
	int64_t y, wy;
	unsigned m, d, w;

	(void)state;
	assert_int_equal(temporal_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(temporal_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(temporal_days_from_civil(1969, 12, 31), -1);
	for (int64_t days = -800000; days < 800000; days += 97) {
		temporal_civil_from_days(days, &y, &m, &d);
		assert_int_equal(temporal_days_from_civil(y, m, d), days);
		assert_true(d >= 1 && d <= temporal_month_days(y, m));
	}
	assert_true(temporal_leap(2000));
	assert_true(temporal_leap(2024));
	assert_false(temporal_leap(1900));
	assert_false(temporal_leap(2100));
	assert_false(temporal_leap(2023));
	assert_true(temporal_leap(-4));
	assert_true(temporal_leap(0));
	assert_int_equal(temporal_month_days(2024, 2), 29);
	assert_int_equal(temporal_month_days(2023, 2), 28);
	assert_int_equal(temporal_month_days(2023, 4), 30);
	assert_int_equal(temporal_month_days(2023, 12), 31);
	assert_int_equal(temporal_weekday(0), 4);
	assert_int_equal(temporal_weekday(-1), 3);
	assert_int_equal(temporal_weekday(temporal_days_from_civil(2020, 6,
								    15)), 1);
	temporal_iso_week(temporal_days_from_civil(2021, 1, 3), &wy, &w);
	assert_int_equal(wy, 2020);
	assert_int_equal(w, 53);
	temporal_iso_week(temporal_days_from_civil(2021, 1, 4), &wy, &w);
	assert_int_equal(wy, 2021);
	assert_int_equal(w, 1);
	temporal_iso_week(temporal_days_from_civil(2008, 12, 29), &wy, &w);
	assert_int_equal(wy, 2009);
	assert_int_equal(w, 1);
	assert_int_equal(temporal_floor_div(-7, 2), -4);
	assert_int_equal(temporal_floor_mod(-7, 2), 1);
}

static void test_temporal_parse_dates(void **state)
{
	(void)state;
	call_is("date", "date('2015-07-21')", 1, S("2015-07-21"));
	call_is("date", "date('2015-07-21')", 1, S("20150721"));
	call_is("date", "date('2015-07-01')", 1, S("2015-07"));
	call_is("date", "date('2015-07-21')", 1, S("2015-W30-2"));
	call_is("date", "date('2015-07-21')", 1, S("2015W302"));
	call_is("date", "date('2015-07-20')", 1, S("2015-W30"));
	call_is("date", "date('2015-07-21')", 1, S("2015-202"));
	call_is("date", "date('2015-07-21')", 1, S("2015202"));
	call_is("date", "date('2015-01-01')", 1, S("2015"));
	call_is("date", "date('2016-02-29')", 1, S("2016-02-29"));
	call_is("date", "date('2000-02-29')", 1, S("2000-02-29"));
	call_is("date", "date('+12345-01-01')", 1, S("+12345-01-01"));
	call_is("date", "date('-0001-12-31')", 1, S("-0001-12-31"));
	call_is("date", "date('0000-01-01')", 1, S("0000-01-01"));
	call_is("date", "date('2016-12-31')", 1, S("2016-366"));
	call_is("date", "date('2020-12-31')", 1, S("2020-W53-4"));
	call_is("date", "null", 1, V_NULL());
	call_fails("date", "ArgumentError", 1, S("2015-02-29"));
	call_fails("date", "ArgumentError", 1, S("1900-02-29"));
	call_fails("date", "ArgumentError", 1, S("2015-13-01"));
	call_fails("date", "ArgumentError", 1, S("2015-00-10"));
	call_fails("date", "ArgumentError", 1, S("2015-07-32"));
	call_fails("date", "ArgumentError", 1, S("2015-366"));
	call_fails("date", "ArgumentError", 1, S("2017-W53"));
	call_is("date", "date('2015-12-28')", 1, S("2015-W53"));
	call_fails("date", "ArgumentError", 1, S("2015-W30-8"));
	call_fails("date", "ArgumentError", 1, S("abc"));
	call_fails("date", "ArgumentError", 1, S("2015-07-21x"));
	call_fails("date", "ArgumentError", 1, S("15-07-21"));
	call_fails("date", "ArgumentError", 1, S(""));
	call_fails("date", "TypeError", 1, I(2015));
}

static void test_temporal_parse_times(void **state)
{
	(void)state;
	call_is("localtime", "localtime('12:00:00')", 1, S("12"));
	call_is("localtime", "localtime('12:30:00')", 1, S("12:30"));
	call_is("localtime", "localtime('12:30:45')", 1, S("12:30:45"));
	call_is("localtime", "localtime('12:30:45')", 1, S("123045"));
	call_is("localtime", "localtime('12:30:00')", 1, S("1230"));
	call_is("localtime", "localtime('12:30:45.123456789')", 1,
		S("12:30:45.123456789"));
	call_is("localtime", "localtime('12:30:45.5')", 1, S("12:30:45,5"));
	call_is("localtime", "localtime('00:00:00.000000001')", 1,
		S("00:00:00.000000001"));
	call_is("localtime", "localtime('12:30:45.1')", 1,
		S("12:30:45.100"));
	call_fails("localtime", "ArgumentError", 1, S("24:00"));
	call_fails("localtime", "ArgumentError", 1, S("12:60"));
	call_fails("localtime", "ArgumentError", 1, S("12:30:60"));
	call_fails("localtime", "ArgumentError", 1, S("12:30:45."));
	call_fails("localtime", "ArgumentError", 1, S("12:30:45.1234567891"));
	call_fails("localtime", "ArgumentError", 1, S("12:00Z"));
	call_is("time", "time('12:00:00+01:00')", 1, S("12:00+0100"));
	call_is("time", "time('12:00:00-05:30')", 1, S("12:00-05:30"));
	call_is("time", "time('12:00:00Z')", 1, S("12:00Z"));
	call_is("time", "time('12:00:00Z')", 1, S("12:00"));
	call_is("time", "time('12:00:00+01:00')", 1, S("12:00+01"));
	call_is("time", "time('12:00:00+01:00:30')", 1, S("12:00+01:00:30"));
	call_fails("time", "ArgumentError", 1, S("12:00+25:00"));
	call_fails("time", "ArgumentError", 1, S("12:00+01:"));
}

static void test_temporal_parse_datetimes_and_zones(void **state)
{
	(void)state;
	call_is("localdatetime", "localdatetime('2015-07-21T21:40:32.142')",
		1, S("2015-07-21T21:40:32.142"));
	call_is("localdatetime", "localdatetime('2015-07-21T21:40:00')", 1,
		S("20150721T2140"));
	call_is("localdatetime", "localdatetime('2015-07-21T00:00:00')", 1,
		S("2015-07-21"));
	call_is("datetime", "datetime('2015-07-21T21:40:32.142+01:00')", 1,
		S("2015-07-21T21:40:32.142+0100"));
	call_is("datetime", "datetime('2015-07-21T21:40:32Z')", 1,
		S("2015-07-21T21:40:32"));
	call_is("datetime", "datetime('2015-07-21T00:00:00Z')", 1,
		S("2015-07-21"));
	call_is("datetime",
		"datetime('2015-07-21T21:40:32+01:00[Europe/London]')", 1,
		S("2015-07-21T21:40:32[Europe/London]"));
	call_is("datetime", "datetime('2015-01-21T21:40:32Z[Europe/London]')",
		1, S("2015-01-21T21:40:32[Europe/London]"));
	call_is("datetime",
		"datetime('2015-07-21T21:40:32-04:00[America/New_York]')", 1,
		S("2015-07-21T21:40:32-04:00[America/New_York]"));
	call_is("datetime", "datetime('2015-07-21T21:40:32Z[UTC]')", 1,
		S("2015-07-21T21:40:32[UTC]"));
	/* Spring forward: 02:30 does not exist in Paris that night. */
	call_is("datetime",
		"datetime('2021-03-28T03:30:00+02:00[Europe/Paris]')", 1,
		S("2021-03-28T02:30:00[Europe/Paris]"));
	/* Fall back: 02:30 happens twice; the earlier offset wins. */
	call_is("datetime",
		"datetime('2021-10-31T02:30:00+02:00[Europe/Paris]')", 1,
		S("2021-10-31T02:30:00[Europe/Paris]"));
	call_is("datetime",
		"datetime('2021-10-31T03:30:00+01:00[Europe/Paris]')", 1,
		S("2021-10-31T03:30:00[Europe/Paris]"));
	/* An offset the zone has then picks the second 02:30. */
	call_is("datetime",
		"datetime('2021-10-31T02:30:00+01:00[Europe/Paris]')", 1,
		S("2021-10-31T02:30:00+01:00[Europe/Paris]"));
	call_is("datetime",
		"datetime('2021-07-01T12:00:00+02:00[Europe/Paris]')", 1,
		S("2021-07-01T12:00:00+05:00[Europe/Paris]"));
	call_is("datetime",
		"datetime('1850-01-01T00:00:00+00:09:21[Europe/Paris]')", 1,
		S("1850-01-01T00:00[Europe/Paris]"));
	/* Past the last listed transition the zone's POSIX rule holds. */
	call_is("datetime",
		"datetime('2050-07-01T12:00:00+02:00[Europe/Paris]')", 1,
		S("2050-07-01T12:00[Europe/Paris]"));
	call_is("datetime",
		"datetime('2050-01-01T12:00:00+01:00[Europe/Paris]')", 1,
		S("2050-01-01T12:00[Europe/Paris]"));
	call_is("datetime",
		"datetime('2050-03-27T03:30:00+02:00[Europe/Paris]')", 1,
		S("2050-03-27T02:30[Europe/Paris]"));
	call_is("datetime",
		"datetime('2050-01-01T12:00:00+11:00[Australia/Sydney]')", 1,
		S("2050-01-01T12:00[Australia/Sydney]"));
	call_is("datetime",
		"datetime('2050-07-01T12:00:00+10:00[Australia/Sydney]')", 1,
		S("2050-07-01T12:00[Australia/Sydney]"));
	call_is("datetime",
		"datetime('2050-03-13T01:59:00-05:00[America/New_York]')", 1,
		S("2050-03-13T01:59[America/New_York]"));
	call_is("datetime",
		"datetime('2050-03-13T03:00:00-04:00[America/New_York]')", 1,
		S("2050-03-13T03:00[America/New_York]"));
	call_is("datetime",
		"datetime('2050-11-06T01:30:00-04:00[America/New_York]')", 1,
		S("2050-11-06T01:30[America/New_York]"));
	call_is("datetime",
		"datetime('2050-11-06T02:30:00-05:00[America/New_York]')", 1,
		S("2050-11-06T02:30[America/New_York]"));
	call_is("datetime",
		"datetime('2050-07-01T12:00:00-03:00[America/Sao_Paulo]')", 1,
		S("2050-07-01T12:00[America/Sao_Paulo]"));
	call_fails("datetime", "ArgumentError", 1,
		   S("2015-07-21T21:40:32[Mars/Olympus]"));
	call_fails("datetime", "ArgumentError", 1,
		   S("2015-07-21T21:40:32[../../etc/passwd]"));
	call_fails("datetime", "ArgumentError", 1, S("2015-07-21T"));
	call_fails("datetime", "ArgumentError", 1, S("2015-07-21X10:00"));
}

static void test_temporal_parse_durations(void **state)
{
	(void)state;
	call_is("duration", "duration('P14DT16H12M')", 1, S("P14DT16H12M"));
	call_is("duration", "duration('P1Y2M')", 1, S("P14M"));
	call_is("duration", "duration('P5M1DT12H')", 1, S("P5M1.5D"));
	call_is("duration", "duration('PT45S')", 1, S("PT0.75M"));
	call_is("duration", "duration('P17DT12H')", 1, S("P2.5W"));
	call_is("duration", "duration('PT-1.5S')", 1, S("PT-1.5S"));
	call_is("duration", "duration('PT-0.5S')", 1, S("PT-0.5S"));
	call_is("duration", "duration('P-1D')", 1, S("-P1D"));
	call_is("duration", "duration('PT1H30M')", 1, S("PT90M"));
	call_is("duration", "duration('PT36H')", 1, S("PT36H"));
	call_is("duration", "duration('PT0S')", 1, S("PT0S"));
	call_is("duration", "duration('PT0S')", 1, S("P0D"));
	call_is("duration", "duration('PT0.000000001S')", 1,
		S("PT0.000000001S"));
	call_is("duration", "duration('P1Y2M3DT4H5M6.7S')", 1,
		S("P1Y2M3DT4H5M6.7S"));
	call_is("duration", "duration('PT2777777777H46M40S')", 1,
		S("PT10000000000000S"));
	call_is("duration", "duration('PT2777777777H46M40.5S')", 1,
		M(2, "seconds", I(10000000000000), "milliseconds", I(500)));
	call_is("duration", "duration('P2012Y2M2DT14H37M21.545S')", 1,
		S("P2012-02-02T14:37:21.545"));
	call_fails("duration", "ArgumentError", 1, S("P2012-02-02"));
	call_fails("duration", "ArgumentError", 1, S("P"));
	call_fails("duration", "ArgumentError", 1, S("PT"));
	call_fails("duration", "ArgumentError", 1, S("P1DT"));
	call_fails("duration", "ArgumentError", 1, S("1D"));
	call_fails("duration", "ArgumentError", 1, S("P1H"));
	call_fails("duration", "ArgumentError", 1, S("PT1S1M"));
	call_fails("duration", "ArgumentError", 1, S("P1D2Y"));
	call_fails("duration", "TypeError", 1, I(1));
	call_is("duration", "duration('P1Y5M111DT42M')", 1,
		M(4, "years", I(1), "months", I(5), "days", I(111),
		  "minutes", I(42)));
	call_is("duration", "duration('PT1H0.5S')", 1,
		M(2, "hours", I(1), "milliseconds", I(500)));
	call_is("duration", "duration('P1DT12H')", 1, M(1, "days", F(1.5)));
	call_is("duration", "duration('P21D')", 1, M(1, "weeks", I(3)));
	call_is("duration", "duration('P6M')", 1, M(1, "quarters", I(2)));
	call_is("duration", "duration('PT0.000001001S')", 1,
		M(2, "microseconds", I(1), "nanoseconds", I(1)));
	call_is("duration", "duration('PT-1M')", 1, M(1, "seconds", I(-60)));
	call_fails("duration", "ArgumentError", 1, M(1, "fortnights", I(1)));
	call_fails("duration", "TypeError", 1, M(1, "days", S("1")));
}

static void test_temporal_constructors_from_maps(void **state)
{
	(void)state;
	call_is("date", "date('1984-10-11')", 1,
		M(3, "year", I(1984), "month", I(10), "day", I(11)));
	call_is("date", "date('1984-03-07')", 1,
		M(3, "year", I(1984), "week", I(10), "dayOfWeek", I(3)));
	call_is("date", "date('1984-08-14')", 1,
		M(3, "year", I(1984), "quarter", I(3), "dayOfQuarter", I(45)));
	call_is("date", "date('1984-07-20')", 1,
		M(2, "year", I(1984), "ordinalDay", I(202)));
	call_is("date", "date('1984-01-01')", 1, M(1, "year", I(1984)));
	call_is("date", "date('2019-10-28')", 1,
		M(2, "date", T("date", S("2019-10-21")), "day", I(28)));
	call_fails("date", "ArgumentError", 1,
		   M(3, "year", I(1984), "month", I(2), "day", I(30)));
	call_fails("date", "ArgumentError", 1, M(1, "month", I(2)));
	call_fails("date", "ArgumentError", 1,
		   M(2, "year", I(1984), "month", I(13)));
	call_fails("date", "ArgumentError", 1, M(1, "yeer", I(1984)));
	call_is("localtime", "localtime('12:31:14.123456789')", 1,
		M(6, "hour", I(12), "minute", I(31), "second", I(14),
		  "millisecond", I(123), "microsecond", I(456),
		  "nanosecond", I(789)));
	call_is("localtime", "localtime('12:00:00')", 1, M(1, "hour", I(12)));
	call_is("time", "time('12:31:14.645876+01:00')", 1,
		M(5, "hour", I(12), "minute", I(31), "second", I(14),
		  "microsecond", I(645876), "timezone", S("+01:00")));
	call_is("datetime",
		"datetime('1984-10-11T12:31:14.123456789+01:00[Europe/"
		"Stockholm]')",
		1,
		M(10, "year", I(1984), "month", I(10), "day", I(11), "hour",
		  I(12), "minute", I(31), "second", I(14), "millisecond",
		  I(123), "microsecond", I(456), "nanosecond", I(789),
		  "timezone", S("Europe/Stockholm")));
	call_is("datetime", "datetime('1984-10-11T12:00:00+01:00')", 1,
		M(5, "year", I(1984), "month", I(10), "day", I(11), "hour",
		  I(12), "timezone", S("+01:00")));
	call_is("datetime", "datetime('1984-10-11T00:00:00Z')", 1,
		M(3, "year", I(1984), "month", I(10), "day", I(11)));
	call_is("datetime",
		"datetime('1984-10-11T08:00:00-04:00[America/New_York]')", 1,
		M(2, "datetime", T("datetime", S("1984-10-11T12:00Z")),
		  "timezone", S("America/New_York")));
	call_is("date", "date('1984-01-08')", 1,
		M(2, "date", T("date", S("1984-11-11")), "week", I(1)));
	call_is("date", "date('1984-08-11')", 1,
		M(2, "date", T("date", S("1984-11-11")), "quarter", I(3)));
	call_is("time", "time('16:31:42.645876+05:00')", 1,
		M(3, "time", T("time", S("12:31:14.645876+01:00")), "second",
		  I(42), "timezone", S("+05:00")));
	call_is("datetime",
		"datetime('1984-03-28T00:00:42-10:00[Pacific/Honolulu]')", 1,
		M(5, "date", T("date", S("1984-03-07")), "time",
		  T("datetime", S("1984-10-11T12:00[Europe/Stockholm]")), "day",
		  I(28), "second", I(42), "timezone", S("Pacific/Honolulu")));
	call_is("localdatetime", "localdatetime('1984-10-11T12:00:00')", 1,
		M(2, "date", T("date", S("1984-10-11")), "time",
		  T("localtime", S("12:00"))));
	call_is("datetime",
		"datetime('2021-10-31T02:30:00+01:00[Europe/Paris]')", 1,
		T("datetime", S("2021-10-31T02:30+01:00[Europe/Paris]")));
	call_is("date", "date('2015-07-21')", 1,
		T("datetime", S("2015-07-21T21:40:32+01:00")));
	call_is("localtime", "localtime('21:40:32')", 1,
		T("datetime", S("2015-07-21T21:40:32+01:00")));
	call_is("time", "time('21:40:32+01:00')", 1,
		T("datetime", S("2015-07-21T21:40:32+01:00")));
	call_is("datetime", "datetime('2015-07-21T00:00:00Z')", 1,
		T("date", S("2015-07-21")));
	call_is("localdatetime", "localdatetime('2015-07-21T21:40:32')", 1,
		T("datetime", S("2015-07-21T21:40:32+01:00")));
	call_fails("time", "ArgumentError", 1,
		   M(2, "hour", I(25), "timezone", S("Z")));
	call_fails("datetime", "ArgumentError", 1,
		   M(2, "year", I(2000), "timezone", S("Nowhere/Land")));
	call_fails("localtime", "TypeError", 1, T("date", S("2015-07-21")));
}

static void test_temporal_now_uses_the_statement_clock(void **state)
{
	(void)state;
	/* The fixture's clock is 2020-06-15T10:30:45.123Z. */
	call_is("date", "date('2020-06-15')", 0);
	call_is("datetime", "datetime('2020-06-15T10:30:45.123Z')", 0);
	call_is("localtime", "localtime('10:30:45.123')", 0);
	call_is("time", "time('10:30:45.123Z')", 0);
	call_is("localdatetime", "localdatetime('2020-06-15T10:30:45.123')",
		0);
	call_is("datetime",
		"datetime('2020-06-15T12:30:45.123+02:00[Europe/Paris]')", 1,
		M(1, "timezone", S("Europe/Paris")));
	call_is("date.statement", "date('2020-06-15')", 0);
	call_is("date.transaction", "date('2020-06-15')", 1,
		S("Asia/Tokyo"));
	call_is("datetime.transaction",
		"datetime('2020-06-15T19:30:45.123+09:00[Asia/Tokyo]')", 1,
		S("Asia/Tokyo"));
	{
		/* realtime reads the wall clock, not the statement's. */
		struct graft_value d = T("datetime.realtime", V_NULL());
		struct graft_value r;
		const struct cypher_func *f = cypher_func_lookup(
			"datetime.realtime", 17);
		struct timespec ts;
		assert_int_equal(d.type, GRAFT_VALUE_NULL);
		assert_int_equal(f->fn(cfx(), NULL, 0, &r), GRAFT_OK);
		clock_gettime(CLOCK_REALTIME, &ts);
		assert_true(r.u.x->secs <= ts.tv_sec &&
			    r.u.x->secs >= ts.tv_sec - 5);
		graft_value_free(&r);
	}
	call_is("localtime.statement", "localtime('12:30:45.123')", 1,
		S("+02:00"));
	call_is("time.transaction", "time('10:30:45.123Z')", 0);
	call_is("localdatetime.statement",
		"localdatetime('2020-06-15T10:30:45.123')", 0);
	call_fails("date.statement", "ArgumentError", 1, S("Bad/Zone"));
	call_is("date.statement", "null", 1, V_NULL());
	call_is("datetime.realtime", "null", 1, V_NULL());
}

static void test_temporal_truncate_cuts_to_each_unit(void **state)
{
	(void)state;
	call_is("date.truncate", "date('2019-10-01')", 2, S("month"),
		T("date", S("2019-10-21")));
	call_is("date.truncate", "date('2019-10-21')", 2, S("week"),
		T("date", S("2019-10-21")));
	call_is("date.truncate", "date('2019-10-21')", 2, S("week"),
		T("date", S("2019-10-27")));
	call_is("date.truncate", "date('2019-10-01')", 2, S("quarter"),
		T("date", S("2019-11-21")));
	call_is("date.truncate", "date('2019-01-01')", 2, S("year"),
		T("date", S("2019-10-21")));
	call_is("date.truncate", "date('2010-01-01')", 2, S("decade"),
		T("date", S("2019-10-21")));
	call_is("date.truncate", "date('1900-01-01')", 2, S("century"),
		T("date", S("1999-10-21")));
	call_is("date.truncate", "date('1000-01-01')", 2, S("millennium"),
		T("date", S("1999-10-21")));
	call_is("date.truncate", "date('2018-12-31')", 2, S("weekYear"),
		T("date", S("2019-10-21")));
	call_is("date.truncate", "date('2019-10-21')", 2, S("day"),
		T("datetime", S("2019-10-21T23:00+05:00")));
	call_is("date.truncate", "date('2019-10-05')", 3, S("month"),
		T("date", S("2019-10-21")), M(1, "day", I(5)));
	call_is("datetime.truncate", "datetime('2017-11-11T12:00:00+01:00')",
		2, S("hour"),
		T("datetime", S("2017-11-11T12:31:14.645876123+01:00")));
	call_is("datetime.truncate",
		"datetime('2017-11-11T12:31:14.645+01:00')", 2,
		S("millisecond"),
		T("datetime", S("2017-11-11T12:31:14.645876123+01:00")));
	call_is("datetime.truncate",
		"datetime('2017-11-11T12:31:14.645876+01:00')", 2,
		S("microsecond"),
		T("datetime", S("2017-11-11T12:31:14.645876123+01:00")));
	call_is("datetime.truncate",
		"datetime('2017-11-01T00:00:00+01:00[Europe/Paris]')", 2,
		S("month"),
		T("datetime", S("2017-11-11T12:31:14[Europe/Paris]")));
	call_is("localdatetime.truncate",
		"localdatetime('2017-11-11T12:31:00')", 2, S("minute"),
		T("localdatetime", S("2017-11-11T12:31:14.5")));
	call_is("localtime.truncate", "localtime('12:31:00')", 2, S("minute"),
		T("localtime", S("12:31:14.645876")));
	call_is("localtime.truncate", "localtime('12:31:14')", 2, S("second"),
		T("localtime", S("12:31:14.645876")));
	call_is("time.truncate", "time('12:00:00+01:00')", 2, S("hour"),
		T("time", S("12:31:14+01:00")));
	call_is("localtime.truncate", "localtime('12:31:14.645000002')", 3,
		S("millisecond"), T("localtime", S("12:31:14.645876123")),
		M(1, "nanosecond", I(2)));
	call_is("time.truncate", "time('12:00:00+01:00')", 3, S("hour"),
		T("time", S("12:31:14-01:00")), M(1, "timezone", S("+01:00")));
	call_is("date.truncate", "null", 2, S("day"), V_NULL());
	call_fails("date.truncate", "ArgumentError", 2, S("hour"),
		   T("date", S("2019-10-21")));
	call_fails("date.truncate", "ArgumentError", 2, S("fortnight"),
		   T("date", S("2019-10-21")));
	call_fails("localtime.truncate", "ArgumentError", 2, S("month"),
		   T("localtime", S("12:00")));
	call_fails("date.truncate", "TypeError", 2, S("day"), I(1));
}

static void test_temporal_epoch_constructors_keep_nanoseconds(void **state)
{
	(void)state;
	call_is("datetime.fromepoch",
		"datetime('2021-01-01T00:00:00.000000005Z')", 2,
		I(1609459200), I(5));
	call_is("datetime.fromepochmillis", "datetime('2021-01-01T00:00:00.123Z')",
		1, I(1609459200123));
	call_is("datetime.fromepochmillis",
		"datetime('1969-12-31T23:59:59.999Z')", 1, I(-1));
	call_is("datetime.fromepoch", "null", 2, V_NULL(), I(1));
	call_fails("datetime.fromepoch", "TypeError", 2, S("1"), I(1));
	call_is("datetime", "datetime('2021-01-01T00:00:00.000000005Z')", 1,
		M(2, "epochSeconds", I(1609459200), "nanosecond", I(5)));
	call_is("datetime",
		"datetime('2021-01-01T01:00:00.123+01:00[Europe/Paris]')", 1,
		M(2, "epochMillis", I(1609459200123), "timezone",
		  S("Europe/Paris")));
	call_fails("datetime", "ArgumentError", 1,
		   M(2, "epochSeconds", I(1), "year", I(2000)));
}

static void field_is(struct graft_value v, const char *name, const char *want)
{
	struct graft_value out;
	int rv = cypher_temporal_field(cfx(), &v, name, strlen(name), &out);

	if (rv != GRAFT_OK)
		fail_msg("%s.%s: %d", R(&v), name, rv);
	if (strcmp(R(&out), want) != 0)
		fail_msg("%s gave %s, want %s", name, R(&out), want);
	graft_value_free(&out);
	graft_value_free(&v);
}

static void field_absent(struct graft_value v, const char *name)
{
	struct graft_value out;

	assert_int_equal(cypher_temporal_field(cfx(), &v, name, strlen(name),
					       &out),
			 GRAFT_ENOTFOUND);
	graft_value_free(&v);
}

static void test_temporal_fields_read_every_component(void **state)
{
	static const char *const date_fields[][2] = {
		{"year", "2019"}, {"quarter", "4"}, {"month", "10"},
		{"week", "43"}, {"weekYear", "2019"}, {"dayOfQuarter", "21"},
		{"quarterDay", "21"}, {"day", "21"}, {"ordinalDay", "294"},
		{"dayOfWeek", "1"}, {"weekDay", "1"}};
	static const char *const dt_fields[][2] = {
		{"year", "1984"}, {"hour", "12"}, {"minute", "31"},
		{"second", "14"}, {"millisecond", "645"},
		{"microsecond", "645876"}, {"nanosecond", "645876123"},
		{"timezone", "'Europe/Stockholm'"}, {"offset", "'+01:00'"},
		{"offsetMinutes", "60"}, {"offsetSeconds", "3600"},
		{"epochSeconds", "466342274"}, {"epochMillis", "466342274645"}};
	static const char *const dur_fields[][2] = {
		{"years", "1"}, {"quarters", "5"}, {"months", "17"},
		{"weeks", "15"}, {"days", "111"}, {"hours", "0"},
		{"minutes", "42"}, {"seconds", "2520"},
		{"milliseconds", "2520000"}, {"microseconds", "2520000000"},
		{"nanoseconds", "2520000000000"}, {"quartersOfYear", "1"},
		{"monthsOfQuarter", "2"}, {"monthsOfYear", "5"},
		{"daysOfWeek", "6"}, {"minutesOfHour", "42"},
		{"secondsOfMinute", "0"}, {"millisecondsOfSecond", "0"},
		{"microsecondsOfSecond", "0"}, {"nanosecondsOfSecond", "0"}};

	(void)state;
	for (size_t i = 0; i < sizeof date_fields / sizeof date_fields[0]; i++)
		field_is(T("date", S("2019-10-21")), date_fields[i][0],
			 date_fields[i][1]);
	for (size_t i = 0; i < sizeof dt_fields / sizeof dt_fields[0]; i++)
		field_is(T("datetime", S("1984-10-11T12:31:14.645876123"
					 "[Europe/Stockholm]")),
			 dt_fields[i][0], dt_fields[i][1]);
	for (size_t i = 0; i < sizeof dur_fields / sizeof dur_fields[0]; i++)
		field_is(T("duration", S("P1Y5M111DT42M")), dur_fields[i][0],
			 dur_fields[i][1]);
	field_is(T("time", S("12:00-05:30")), "offset", "'-05:30'");
	field_is(T("time", S("12:00-05:30")), "timezone", "'-05:30'");
	field_is(T("time", S("12:00Z")), "offset", "'Z'");
	field_is(T("localdatetime", S("2015-07-21T21:40:32")), "week", "30");
	field_is(T("duration", S("PT1.5S")), "millisecondsOfSecond", "500");
	field_is(T("point", M(3, "x", I(1), "y", I(2), "z", I(3))), "z",
		 "3.0");
	field_is(T("point", M(2, "x", I(1), "y", I(2))), "crs", "'cartesian'");
	field_is(T("point", M(2, "latitude", I(10), "longitude", I(20))),
		 "latitude", "10.0");
	field_is(T("point", M(2, "latitude", I(10), "longitude", I(20))),
		 "longitude", "20.0");
	field_is(T("point", M(2, "latitude", I(10), "longitude", I(20))),
		 "x", "20.0");
	field_is(T("point", M(2, "latitude", I(10), "longitude", I(20))),
		 "srid", "4326");
	field_is(T("point", M(2, "latitude", I(10), "longitude", I(20))),
		 "crs", "'wgs-84'");
	field_absent(T("date", S("2019-10-21")), "hour");
	field_absent(T("date", S("2019-10-21")), "timezone");
	field_absent(T("localtime", S("12:00")), "year");
	field_absent(T("localdatetime", S("2015-07-21T21:40")), "offset");
	field_absent(T("time", S("12:00Z")), "epochSeconds");
	field_absent(T("date", S("2019-10-21")), "Year");
	field_absent(T("duration", S("P1D")), "year");
	field_absent(T("point", M(2, "x", I(1), "y", I(2))), "latitude");
	field_absent(T("point", M(2, "x", I(1), "y", I(2))), "z");
	field_absent(I(1), "year");
}

static void test_temporal_arithmetic_clamps_month_ends(void **state)
{
	(void)state;
	arith_is(CYPHER_ADD, T("date", S("2020-01-31")),
		 T("duration", S("P1M")), "date('2020-02-29')");
	arith_is(CYPHER_ADD, T("date", S("2021-01-31")),
		 T("duration", S("P1M")), "date('2021-02-28')");
	arith_is(CYPHER_SUB, T("date", S("2021-03-31")),
		 T("duration", S("P1M")), "date('2021-02-28')");
	arith_is(CYPHER_ADD, T("duration", S("P1Y")),
		 T("date", S("2020-02-29")), "date('2021-02-28')");
	arith_is(CYPHER_ADD, T("date", S("2020-12-31")),
		 T("duration", S("P1D")), "date('2021-01-01')");
	arith_is(CYPHER_ADD, T("date", S("2020-01-01")),
		 T("duration", S("PT25H")), "date('2020-01-02')");
	arith_is(CYPHER_ADD, T("localtime", S("23:00")),
		 T("duration", S("PT2H")), "localtime('01:00:00')");
	arith_is(CYPHER_SUB, T("localtime", S("00:00:00.5")),
		 T("duration", S("PT1S")), "localtime('23:59:59.5')");
	arith_is(CYPHER_ADD, T("time", S("23:00+01:00")),
		 T("duration", S("P1DT2H")), "time('01:00:00+01:00')");
	arith_is(CYPHER_ADD, T("localdatetime", S("2020-02-28T23:00")),
		 T("duration", S("PT25H")),
		 "localdatetime('2020-03-01T00:00:00')");
	arith_is(CYPHER_ADD, T("datetime", S("2021-03-27T12:00[Europe/Paris]")),
		 T("duration", S("P1D")),
		 "datetime('2021-03-28T12:00:00+02:00[Europe/Paris]')");
	arith_is(CYPHER_ADD, T("datetime", S("2021-03-27T12:00[Europe/Paris]")),
		 T("duration", S("PT24H")),
		 "datetime('2021-03-28T13:00:00+02:00[Europe/Paris]')");
	/* The second 02:30 of the night the clocks go back, one hour on. */
	arith_is(CYPHER_ADD,
		 T("datetime", S("2021-10-31T02:30+01:00[Europe/Paris]")),
		 T("duration", S("PT1H")),
		 "datetime('2021-10-31T03:30:00+01:00[Europe/Paris]')");
	arith_is(CYPHER_ADD,
		 T("datetime", S("2021-10-31T02:30+02:00[Europe/Paris]")),
		 T("duration", S("PT1H")),
		 "datetime('2021-10-31T02:30:00+01:00[Europe/Paris]')");
	arith_is(CYPHER_ADD, T("datetime", S("2020-01-01T00:00+05:00")),
		 T("duration", S("PT0.000000001S")),
		 "datetime('2020-01-01T00:00:00.000000001+05:00')");
	arith_is(CYPHER_SUB, T("datetime", S("2020-01-01T00:00Z")),
		 T("duration", S("PT0.5S")),
		 "datetime('2019-12-31T23:59:59.5Z')");
	arith_is(CYPHER_ADD, T("duration", S("P1DT1H")),
		 T("duration", S("PT23H")), "duration('P1DT24H')");
	arith_is(CYPHER_SUB, T("duration", S("P1D")),
		 T("duration", S("PT1H")), "duration('P1DT-1H')");
	arith_is(CYPHER_MUL, T("duration", S("P1DT1H")), I(2),
		 "duration('P2DT2H')");
	arith_is(CYPHER_MUL, F(0.5), T("duration", S("P1D")),
		 "duration('PT12H')");
	arith_is(CYPHER_DIV, T("duration", S("PT1H")), I(4),
		 "duration('PT15M')");
	arith_is(CYPHER_MUL, T("duration", S("P1M")), F(1.5),
		 "duration('P1M15DT5H14M33S')");
	arith_is(CYPHER_DIV, T("duration", S("PT16H13M10.000000001S")), I(2),
		 "duration('PT8H6M35S')");
	arith_is(CYPHER_MUL, T("duration", S("PT0.000000001S")), I(2),
		 "duration('PT0.000000002S')");
	arith_fails(CYPHER_DIV, T("duration", S("PT1H")), I(0),
		    "ArithmeticError");
	arith_fails(CYPHER_ADD, T("date", S("2020-01-01")), I(1),
		    "TypeError");
	arith_fails(CYPHER_SUB, T("date", S("2020-01-01")),
		    T("date", S("2019-01-01")), "TypeError");
	arith_fails(CYPHER_SUB, T("duration", S("P1D")),
		    T("date", S("2019-01-01")), "TypeError");
	arith_fails(CYPHER_ADD, T("date", S("+999999999-12-31")),
		    T("duration", S("P1Y")), "ArithmeticError");
	{
		struct graft_value d = T("duration", S("P1Y-2DT3.5S")), out;
		assert_int_equal(cypher_negate(cfx(), &d, &out), GRAFT_OK);
		assert_string_equal(R(&out), "duration('P-1Y2DT-3.5S')");
		graft_value_free(&out);
		graft_value_free(&d);
	}
}

static enum cypher_tri eqv(struct graft_value a, struct graft_value b)
{
	enum cypher_tri t = cypher_equals(&a, &b);

	graft_value_free(&a);
	graft_value_free(&b);
	return t;
}

static enum cypher_tri cmpv(struct graft_value a, struct graft_value b,
			    int *c)
{
	enum cypher_tri t = cypher_compare(&a, &b, c);

	graft_value_free(&a);
	graft_value_free(&b);
	return t;
}

static void test_temporal_comparison_compares_instants_across_zones(void **state)
{
	int c;

	(void)state;
	assert_int_equal(cmpv(T("date", S("2020-01-01")),
			      T("date", S("2020-01-02")), &c), CYPHER_TRUE);
	assert_true(c < 0);
	assert_int_equal(eqv(T("datetime", S("2020-01-01T12:00Z")),
			     T("datetime", S("2020-01-01T13:00+01:00"))),
			 CYPHER_TRUE);
	assert_int_equal(cmpv(T("datetime", S("2020-01-01T12:00Z")),
			      T("datetime", S("2020-01-01T12:30+01:00")), &c),
			 CYPHER_TRUE);
	assert_true(c > 0);
	assert_int_equal(cmpv(T("date", S("2020-01-01")),
			      T("datetime", S("2020-01-01T00:00Z")), &c),
			 CYPHER_NULL);
	assert_int_equal(eqv(T("date", S("2020-01-01")),
			     T("localdatetime", S("2020-01-01T00:00"))),
			 CYPHER_FALSE);
	assert_int_equal(cmpv(T("localtime", S("10:00")),
			      T("localtime", S("09:59:59.999")), &c),
			 CYPHER_TRUE);
	assert_true(c > 0);
	assert_int_equal(cmpv(T("time", S("10:00+01:00")),
			      T("time", S("09:30Z")), &c), CYPHER_TRUE);
	assert_true(c < 0);
	assert_int_equal(cmpv(T("duration", S("P1D")),
			      T("duration", S("P2D")), &c), CYPHER_NULL);
	assert_int_equal(eqv(T("duration", S("P1D")),
			     T("duration", S("PT24H"))), CYPHER_FALSE);
	assert_int_equal(eqv(T("duration", S("P12M")),
			     T("duration", S("P1Y"))), CYPHER_TRUE);
	assert_int_equal(eqv(T("point", M(2, "x", I(1), "y", I(2))),
			     T("point", M(2, "x", F(1), "y", F(2)))),
			 CYPHER_TRUE);
	assert_int_equal(eqv(T("point", M(2, "x", I(1), "y", I(2))),
			     T("point", M(2, "latitude", I(2), "longitude",
					  I(1)))),
			 CYPHER_FALSE);
}

static void test_temporal_between_gives_signed_calendar_durations(void **state)
{
	(void)state;
	call_is("duration.between", "duration('P30Y8M13D')", 2,
		T("date", S("1984-10-11")), T("date", S("2015-06-24")));
	call_is("duration.between", "duration('P-30Y-8M-13D')", 2,
		T("date", S("2015-06-24")), T("date", S("1984-10-11")));
	call_is("duration.between", "duration('P1DT21H40M32.142S')", 2,
		T("date", S("1984-10-11")),
		T("datetime", S("1984-10-12T21:40:32.142+0100")));
	call_is("duration.between", "duration('PT2H30M')", 2,
		T("localtime", S("12:00")), T("localtime", S("14:30")));
	call_is("duration.between", "duration('PT-0.5S')", 2,
		T("localtime", S("12:00:00.5")), T("localtime", S("12:00")));
	call_is("duration.between", "duration('PT1H')", 2,
		T("time", S("12:00+01:00")), T("time", S("12:00Z")));
	call_is("duration.between", "duration('P29D')", 2,
		T("date", S("2020-01-31")), T("date", S("2020-02-29")));
	call_is("duration.between", "duration('P1M')", 2,
		T("date", S("2020-01-29")), T("date", S("2020-02-29")));
	call_is("duration.inMonths", "duration('P30Y8M')", 2,
		T("date", S("1984-10-11")), T("date", S("2015-06-24")));
	call_is("duration.inDays", "duration('P11213D')", 2,
		T("date", S("1984-10-11")), T("date", S("2015-06-24")));
	call_is("duration.inSeconds", "duration('PT25H32.142S')", 2,
		T("date", S("1984-10-11")),
		T("datetime", S("1984-10-12T01:00:32.142+0100")));
	call_is("duration.inMonths", "duration('PT0S')", 2,
		T("localtime", S("12:00")), T("localtime", S("14:30")));
	call_is("duration.inSeconds", "duration('PT8760H')", 2,
		T("datetime", S("2014-07-21T21:40:36.143+0200")),
		T("datetime", S("2015-07-21T21:40:36.143+0200")));
	/* Across a DST change: months and days on local times, the rest
	 * between instants. */
	call_is("duration.between", "duration('PT6H')", 2,
		T("datetime", S("2017-10-28T23:00+02:00[Europe/Stockholm]")),
		T("datetime", S("2017-10-29T04:00+01:00[Europe/Stockholm]")));
	call_is("duration.inSeconds", "duration('PT5H')", 2,
		T("datetime", S("2017-10-29T00:00[Europe/Stockholm]")),
		T("localdatetime", S("2017-10-29T04:00")));
	call_is("duration.inSeconds", "duration('PT5H')", 2,
		T("datetime", S("2017-10-29T00:00[Europe/Stockholm]")),
		T("localtime", S("04:00")));
	call_is("duration.inSeconds", "duration('PT25H')", 2,
		T("datetime", S("2017-10-29T00:00[Europe/Stockholm]")),
		T("date", S("2017-10-30")));
	call_is("duration.inSeconds", "duration('PT17531639991215H59M59S')", 2,
		T("localdatetime", S("-999999999-01-01")),
		T("localdatetime", S("+999999999-12-31T23:59:59")));
	call_is("duration.between", "null", 2, V_NULL(),
		T("date", S("2015-06-24")));
	call_fails("duration.between", "TypeError", 2, I(1),
		   T("date", S("2015-06-24")));
}

static void test_temporal_points_need_coordinates_of_the_right_type(void **state)
{
	struct graft_value a, b;

	(void)state;
	call_is("point", "null", 1, V_NULL());
	call_is("point", "null", 1, M(2, "x", V_NULL(), "y", I(1)));
	call_is("point", "point({srid: 4326, x: 1.0, y: 2.0})", 1,
		M(3, "x", I(1), "y", I(2), "crs", S("WGS-84")));
	call_is("point", "point({srid: 4979, x: 1.0, y: 2.0, z: 3.0})", 1,
		M(3, "longitude", I(1), "latitude", I(2), "height", I(3)));
	call_is("point", "point({srid: 4326, x: 1.0, y: 2.0})", 1,
		M(3, "x", I(1), "y", I(2), "srid", I(4326)));
	call_fails("point", "ArgumentError", 1, M(1, "x", I(1)));
	call_fails("point", "ArgumentError", 1,
		   M(2, "latitude", I(91), "longitude", I(0)));
	call_fails("point", "TypeError", 1, M(2, "x", S("1"), "y", I(1)));
	call_is("point.withinBBox", "true", 3,
		T("point", M(2, "x", I(1), "y", I(1))),
		T("point", M(2, "x", I(0), "y", I(0))),
		T("point", M(2, "x", I(2), "y", I(2))));
	call_is("point.withinBBox", "false", 3,
		T("point", M(2, "x", I(3), "y", I(1))),
		T("point", M(2, "x", I(0), "y", I(0))),
		T("point", M(2, "x", I(2), "y", I(2))));
	call_is("point.withinBBox", "true", 3,
		T("point", M(2, "longitude", I(179), "latitude", I(0))),
		T("point", M(2, "longitude", I(170), "latitude", I(-10))),
		T("point", M(2, "longitude", I(-170), "latitude", I(10))));
	call_is("point.withinBBox", "null", 3,
		T("point", M(2, "x", I(1), "y", I(1))),
		T("point", M(2, "longitude", I(0), "latitude", I(0))),
		T("point", M(2, "x", I(2), "y", I(2))));
	call_is("point.distance", "5.0", 2,
		T("point", M(2, "x", I(0), "y", I(0))),
		T("point", M(2, "x", I(3), "y", I(4))));
	call_is("point.distance", "null", 2,
		T("point", M(2, "x", I(0), "y", I(0))),
		T("point", M(2, "latitude", I(3), "longitude", I(4))));
	a = T("point", M(2, "latitude", F(55.6121514), "longitude",
			  F(12.9950357)));
	b = T("point", M(2, "latitude", F(56.7), "longitude", F(12.78)));
	{
		const struct cypher_func *f = cypher_func_lookup(
			"point.distance", 14);
		struct graft_value args[2] = {a, b}, out;
		assert_int_equal(f->fn(cfx(), args, 2, &out), GRAFT_OK);
		/* Haversine on a 6378140 m sphere: about 121.8 km. */
		if (!(out.u.f > 121800 && out.u.f < 121900))
			fail_msg("distance %f", out.u.f);
	}
	graft_value_free(&a);
	graft_value_free(&b);
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* format then parse gives the value back, for random values of every
 * temporal type over +-10000 years, with fractions and offsets. */
static void test_temporal_format_parse_round_trip(void **state)
{
	static const uint8_t types[] = {
		GRAFT_VALUE_DATE, GRAFT_VALUE_LOCALTIME, GRAFT_VALUE_TIME,
		GRAFT_VALUE_LOCALDATETIME, GRAFT_VALUE_DATETIME,
		GRAFT_VALUE_DURATION};
	uint64_t seed = 0x2545f4914f6cdd1dull;
	char text[128], why[160];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint8_t t = types[i % 6];
		struct graft_value v, back;
		struct graft_ext *x;
		int64_t r = (int64_t)(rng(&seed) >> 1);
		int32_t nanos = (int32_t)(rng(&seed) % 4 == 0
						  ? 0
						  : rng(&seed) % 1000000000);
		assert_int_equal(graft_value_ext(&v, t), GRAFT_OK);
		x = v.u.x;
		switch (t) {
		case GRAFT_VALUE_DATE:
			x->days = r % 7300000 - 3650000;
			break;
		case GRAFT_VALUE_TIME:
			x->offset = (int32_t)(r % 64801 - 32400) / 60 * 60;
			/* fall through */
		case GRAFT_VALUE_LOCALTIME:
			x->secs = r % 86400;
			x->nanos = nanos;
			break;
		case GRAFT_VALUE_DURATION:
			x->months = r % 2000 - 1000;
			x->days = (int64_t)(rng(&seed) % 20000) - 10000;
			x->secs = (int64_t)(rng(&seed) % 2000000000) - 1000000000;
			x->nanos = nanos;
			break;
		default:
			x->secs = r % (INT64_C(315360000000) * 2) -
				  INT64_C(315360000000);
			x->nanos = nanos;
			if (t == GRAFT_VALUE_DATETIME)
				x->offset = (int32_t)(rng(&seed) % 129601) -
					    64800;
			break;
		}
		if (t == GRAFT_VALUE_DATETIME && i % 12 == 4) {
			/* A named zone, DST overlaps included. */
			int64_t secs = x->secs;
			graft_value_free(&v);
			assert_int_equal(temporal_from_utc(&v, secs, nanos,
							   "Europe/Paris", 12),
					 GRAFT_OK);
			x = v.u.x;
		}
		temporal_format(&v, text, sizeof text);
		if (temporal_parse(t, text, strlen(text), &back, why,
				   sizeof why) != GRAFT_OK)
			fail_msg("%s does not parse back: %s", text, why);
		if (temporal_cmp(&v, &back) != 0 ||
		    (t == GRAFT_VALUE_TIME || t == GRAFT_VALUE_DATETIME
			     ? back.u.x->offset != x->offset
			     : false) ||
		    !graft_value_equal(&v, &back))
			fail_msg("%s parsed to %s", text, R(&back));
		graft_value_free(&v);
		graft_value_free(&back);
	}
}

/* Random text over the characters ISO 8601 uses never crashes a parser:
 * it parses or is refused with a reason (run under ASan). */
static void test_temporal_parse_survives_random_text(void **state)
{
	static const char alphabet[] = "0123456789-+:.,TWPYMDHSZ[]/_Ea ";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char text[40], why[160];

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t n = rng(&seed) % sizeof text;
		struct graft_value v;
		uint8_t t = (uint8_t)(GRAFT_VALUE_DATE + rng(&seed) % 6);
		for (size_t k = 0; k < n; k++)
			text[k] = alphabet[rng(&seed) % (sizeof alphabet - 1)];
		why[0] = '\0';
		/* Not NUL-terminated: parsers must stay within n bytes. */
		if (temporal_parse(t, text, n, &v, why, sizeof why) == GRAFT_OK)
			graft_value_free(&v);
		else
			assert_true(why[0] != '\0');
	}
}

/* More zones than the cache holds still resolve. */
static void test_temporal_many_zones(void **state)
{
	DIR *d = opendir("/usr/share/zoneinfo/America");
	struct dirent *e;
	int used = 0;
	char text[300], why[160];

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL && used < 60) {
		struct graft_value v;
		if (e->d_type != DT_REG)
			continue;
		snprintf(text, sizeof text, "2020-01-01T00:00[America/%s]",
			 e->d_name);
		if (temporal_parse(GRAFT_VALUE_DATETIME, text, strlen(text), &v,
				   why, sizeof why) != GRAFT_OK)
			fail_msg("%s: %s", text, why);
		assert_true(v.u.x->offset <= 0);
		graft_value_free(&v);
		used++;
	}
	closedir(d);
	assert_true(used > 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_temporal_calendar_days_round_trip_civil_and_week_dates),
		cmocka_unit_test(test_temporal_parse_dates),
		cmocka_unit_test(test_temporal_parse_times),
		cmocka_unit_test(test_temporal_parse_datetimes_and_zones),
		cmocka_unit_test(test_temporal_parse_durations),
		cmocka_unit_test(test_temporal_constructors_from_maps),
		cmocka_unit_test(test_temporal_now_uses_the_statement_clock),
		cmocka_unit_test(test_temporal_truncate_cuts_to_each_unit),
		cmocka_unit_test(test_temporal_epoch_constructors_keep_nanoseconds),
		cmocka_unit_test(test_temporal_fields_read_every_component),
		cmocka_unit_test(test_temporal_arithmetic_clamps_month_ends),
		cmocka_unit_test(test_temporal_comparison_compares_instants_across_zones),
		cmocka_unit_test(test_temporal_between_gives_signed_calendar_durations),
		cmocka_unit_test(test_temporal_points_need_coordinates_of_the_right_type),
		cmocka_unit_test(test_temporal_format_parse_round_trip),
		cmocka_unit_test(test_temporal_parse_survives_random_text),
		cmocka_unit_test(test_temporal_many_zones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
