/* What each operation type carries, shared by the encoder, the decoder and
 * txrec_add_op, so that the three agree on one table. */
#ifndef GRAFT_TXREC_TXREC_INT_H
#define GRAFT_TXREC_TXREC_INT_H

#include "txrec.h"

/* Fields of an op, in their encoded order after the type. */
#define TXREC_F_ID 1u    /* id */
#define TXREC_F_NAME 2u  /* name */
#define TXREC_F_ENDS 4u  /* src, dst */
#define TXREC_F_VALUE 8u /* value */
#define TXREC_F_NAME2 16u /* name2 */

struct txrec_op_desc {
	const char *name;      /* "NODE_SET_PROP" */
	unsigned fields;       /* TXREC_F_* */
	const char *name_what; /* what name means: "label", "property key" */
};

/* Indexed by enum txrec_op_type; entry 0 is unused. */
extern const struct txrec_op_desc txrec_op_descs[TXREC_OP_MAX + 1];

/* Number of array elements an op of these fields encodes to, type included. */
unsigned txrec_op_width(unsigned fields);

/* GRAFT_OK when op's type is known and it holds what its type needs, else
 * GRAFT_EINVAL with errmsg (may be NULL) saying what is missing. */
int txrec_op_check(const struct txrec_op *op, size_t index, char *errmsg);

#endif
