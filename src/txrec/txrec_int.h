/* What each op type carries on the wire, shared by encoder and decoder. */
#ifndef GRAFT_TXREC_TXREC_INT_H
#define GRAFT_TXREC_TXREC_INT_H

enum {
	TXREC_F_ID = 1,
	TXREC_F_ENDS = 2, /* src and dst */
	TXREC_F_NAME = 4,
	TXREC_F_NAME2 = 8,
	TXREC_F_VALUE = 16,
};

static inline unsigned txrec_field_mask(unsigned type)
{
	switch (type) {
	case TXREC_NODE_CREATE:
	case TXREC_NODE_DELETE:
	case TXREC_REL_DELETE:
		return TXREC_F_ID;
	case TXREC_NODE_ADD_LABEL:
	case TXREC_NODE_REMOVE_LABEL:
		return TXREC_F_ID | TXREC_F_NAME;
	case TXREC_NODE_SET_PROP:
	case TXREC_REL_SET_PROP:
		return TXREC_F_ID | TXREC_F_NAME | TXREC_F_VALUE;
	case TXREC_REL_CREATE:
		return TXREC_F_ID | TXREC_F_ENDS | TXREC_F_NAME;
	case TXREC_INDEX_CREATE:
	case TXREC_INDEX_DROP:
		return TXREC_F_NAME | TXREC_F_NAME2;
	default:
		return 0;
	}
}

#endif
