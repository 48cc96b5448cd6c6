/* The scripted Cypher engine of the Bolt tests (cypher_fake.c): the loop
 * its commits complete on, the last transaction id it handed out and how
 * many rows it produced. */
#ifndef GRAFT_TESTS_CYPHER_FAKE_H
#define GRAFT_TESTS_CYPHER_FAKE_H

#include <stdint.h>
#include <uv.h>

extern uv_loop_t *cypher_fake_loop;
extern uint64_t cypher_fake_txid;
extern uint64_t cypher_fake_rows_made; /* rows cypher_result_next gave */
/* cypher_tx_charge refuses past this many bytes per transaction (0: no
 * limit); tests that set it reset it. */
extern uint64_t cypher_fake_tx_memory_max;

#endif
