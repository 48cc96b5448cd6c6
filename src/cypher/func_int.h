/* What the function files share: the argument checks and error wording
 * Neo4j uses, and the scalar functions func.c lists in its one table. Not
 * for use outside the function library. */
#ifndef GRAFT_CYPHER_FUNC_INT_H
#define GRAFT_CYPHER_FUNC_INT_H

#include "func.h"

/* "Invalid input for function 'name()': Expected <what>, got: Type(v)" as
 * a TypeError. */
int func_type_error(struct cypher_fctx *fc, const char *name,
		    const char *what, const struct graft_value *got);
/* Like func_type_error but an ArgumentError with a free-form reason. */
int func_arg_error(struct cypher_fctx *fc, const char *name,
		   const char *reason);
/* "Type(rendering)" of v, for messages, into buf. */
const char *func_describe(const struct graft_value *v, char *buf,
			  size_t size);

/* Number arguments: true for INT and FLOAT. */
static inline bool func_is_number(const struct graft_value *v)
{
	return v->type == GRAFT_VALUE_INT || v->type == GRAFT_VALUE_FLOAT;
}
static inline double func_as_double(const struct graft_value *v)
{
	return v->type == GRAFT_VALUE_INT ? (double)v->u.i : v->u.f;
}
/* GRAFT_OK with *out the argument as a double, else a TypeError. */
int func_arg_number(struct cypher_fctx *fc, const char *name,
		    const struct graft_value *v, double *out);
/* GRAFT_OK with *out the integer argument (a float is truncated as Neo4j
 * does for lengths), else a TypeError. */
int func_arg_int(struct cypher_fctx *fc, const char *name,
		 const struct graft_value *v, int64_t *out);
/* True if any of the n arguments is null: the function returns null. */
bool func_any_null(const struct graft_value *args, uint32_t n);
/* Unicode code points in UTF-8 text. */
size_t func_utf8_count(const struct graft_str *s);
/* A new STRING value of the formatted text. */
int func_string_printf(struct graft_value *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* toString() of a value (no quotes): "1", "1.5", "abc", "2020-01-01". */
int func_to_string(const struct graft_value *v, struct graft_value *out);
/* Shortest decimal digits of a > 0 that read back as a: a = 0.d1d2... *
 * 10^(*exp10 + 1). Returns the digit count. */
int func_shortest_digits(double a, char digits[32], int *exp10);
/* Java's Double.toString: shortest round-trip digits, "1.0", "1.0E10". */
size_t func_format_double(double d, char *buf, size_t size);

#define FUNC_DECL(fn)                                                        \
	int fn(struct cypher_fctx *fc, const struct graft_value *args,      \
	       uint32_t n, struct graft_value *out)

/* func_math.c */
FUNC_DECL(fn_abs); FUNC_DECL(fn_ceil); FUNC_DECL(fn_floor);
FUNC_DECL(fn_round); FUNC_DECL(fn_sign); FUNC_DECL(fn_rand);
FUNC_DECL(fn_sqrt); FUNC_DECL(fn_exp); FUNC_DECL(fn_log);
FUNC_DECL(fn_log10); FUNC_DECL(fn_e); FUNC_DECL(fn_pi);
FUNC_DECL(fn_sin); FUNC_DECL(fn_cos); FUNC_DECL(fn_tan);
FUNC_DECL(fn_asin); FUNC_DECL(fn_acos); FUNC_DECL(fn_atan);
FUNC_DECL(fn_atan2); FUNC_DECL(fn_cot); FUNC_DECL(fn_degrees);
FUNC_DECL(fn_radians); FUNC_DECL(fn_haversin); FUNC_DECL(fn_isnan);
FUNC_DECL(fn_vector_euclidean); FUNC_DECL(fn_vector_cosine);

/* func_scalar.c */
FUNC_DECL(fn_to_integer); FUNC_DECL(fn_to_float); FUNC_DECL(fn_to_string);
FUNC_DECL(fn_to_boolean); FUNC_DECL(fn_to_integer_or_null);
FUNC_DECL(fn_to_float_or_null); FUNC_DECL(fn_to_boolean_or_null);
FUNC_DECL(fn_to_string_or_null); FUNC_DECL(fn_to_integer_list);
FUNC_DECL(fn_to_float_list); FUNC_DECL(fn_to_string_list);
FUNC_DECL(fn_to_boolean_list); FUNC_DECL(fn_coalesce);
FUNC_DECL(fn_value_type); FUNC_DECL(fn_random_uuid);
FUNC_DECL(fn_timestamp); FUNC_DECL(fn_null_if);

/* func_list.c */
FUNC_DECL(fn_size); FUNC_DECL(fn_head); FUNC_DECL(fn_last);
FUNC_DECL(fn_tail); FUNC_DECL(fn_reverse); FUNC_DECL(fn_range);
FUNC_DECL(fn_is_empty);

/* func_string.c */
FUNC_DECL(fn_left); FUNC_DECL(fn_right); FUNC_DECL(fn_substring);
FUNC_DECL(fn_trim); FUNC_DECL(fn_ltrim); FUNC_DECL(fn_rtrim);
FUNC_DECL(fn_btrim); FUNC_DECL(fn_to_upper); FUNC_DECL(fn_to_lower);
FUNC_DECL(fn_replace); FUNC_DECL(fn_split); FUNC_DECL(fn_normalize);
FUNC_DECL(fn_char_length);

/* func_entity.c */
FUNC_DECL(fn_length); FUNC_DECL(fn_keys); FUNC_DECL(fn_properties);
FUNC_DECL(fn_labels); FUNC_DECL(fn_type); FUNC_DECL(fn_id);
FUNC_DECL(fn_element_id); FUNC_DECL(fn_start_node);
FUNC_DECL(fn_end_node); FUNC_DECL(fn_nodes); FUNC_DECL(fn_relationships);

/* func_temporal.c */
FUNC_DECL(fn_date); FUNC_DECL(fn_localtime); FUNC_DECL(fn_time);
FUNC_DECL(fn_localdatetime); FUNC_DECL(fn_datetime);
FUNC_DECL(fn_date_now); FUNC_DECL(fn_localtime_now); FUNC_DECL(fn_time_now);
FUNC_DECL(fn_localdatetime_now); FUNC_DECL(fn_datetime_now);
FUNC_DECL(fn_date_realtime); FUNC_DECL(fn_localtime_realtime);
FUNC_DECL(fn_time_realtime); FUNC_DECL(fn_localdatetime_realtime);
FUNC_DECL(fn_datetime_realtime);
FUNC_DECL(fn_date_truncate); FUNC_DECL(fn_localtime_truncate);
FUNC_DECL(fn_time_truncate); FUNC_DECL(fn_localdatetime_truncate);
FUNC_DECL(fn_datetime_truncate); FUNC_DECL(fn_datetime_fromepoch);
FUNC_DECL(fn_datetime_fromepochmillis); FUNC_DECL(fn_duration);
FUNC_DECL(fn_duration_between); FUNC_DECL(fn_duration_in_months);
FUNC_DECL(fn_duration_in_days); FUNC_DECL(fn_duration_in_seconds);
FUNC_DECL(fn_point); FUNC_DECL(fn_point_distance);
FUNC_DECL(fn_point_within_bbox);

#endif
