/* The test procedures a TCK scenario declares ("there exists a procedure
 * test.my.proc(in :: INTEGER?) :: (out :: STRING?)" with a table of input
 * and output values), registered with the engine for that scenario. A call
 * yields the outputs of every row whose inputs equal its arguments. */
#ifndef GRAFT_TESTS_TCK_PROC_H
#define GRAFT_TESTS_TCK_PROC_H

#include <stdio.h>

#include "cypher_harness.h"
#include "tck_gherkin.h"

struct tck_proc;

/* Registers the procedure the signature and table describe (table values
 * are Cypher literals, evaluated by the engine). Pushes it on *list, which
 * must outlive the engine. 0, or -1 with a line on out. */
int tck_proc_register(struct harness *h, const char *signature,
		      const struct tck_table *t, struct tck_proc **list,
		      FILE *out);
/* Frees every procedure of the list (after the engine is gone). */
void tck_proc_free_all(struct tck_proc *list);

#endif
