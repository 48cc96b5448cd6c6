// A statement that runs for minutes must not hold up anything else: other
// sessions' reads complete meanwhile, and TERMINATE TRANSACTION from
// another session, RESET on its own connection and the transaction
// timeout stop it; a write is acknowledged while it runs (the long read
// yields the gate to the commit's apply), and a read completes while a long
// eager write runs (the write yields its exclusive gate, between rows and
// inside range()). Run by
// cluster-tests/long_query.sh.
// No timings are asserted: without statements off the event loop (or
// without the yield, for the write) a step here waits for the long query
// (many minutes) and the suite runs out of its budget.
'use strict'
const { resetDuringRun } = require('./raw_reset.js')
const { neo4j, driver, run, expectError, check, num, suite, sleep } = require('./lib.js')

// About 10^10 rows: hours on one core, unless stopped.
const LONG = 'UNWIND range(1, 100000) AS a UNWIND range(1, 100000) AS b RETURN count(*) AS n'
// A write statement over as many rows (it creates nothing): eager, so its
// RUN holds the gate exclusive for all of them unless it yields.
const LONG_WRITE = 'UNWIND range(1, 100001) AS a UNWIND range(1, 100000) AS b WITH a, b WHERE a + b = 0 CREATE (:NeverMade)'

// The id of the open transaction running LONG (or the query starting with
// prefix), once SHOW TRANSACTIONS lists it.
async function longTxId (prefix = 'UNWIND range(1, 100000)') {
  for (;;) {
    const r = await run('neo4j', 'x', 'SHOW TRANSACTIONS YIELD transactionId, currentQuery RETURN transactionId, currentQuery')
    const row = r.records.find((x) => x.get('currentQuery').startsWith(prefix))
    if (row) return row.get('transactionId')
    await sleep(50)
  }
}

// Settles the long query's promise into a record of how it ended.
function track (promise) {
  const t = { done: false, error: null }
  promise.then(() => { t.done = true }, (e) => { t.done = true; t.error = e })
  return t
}

// TERMINATE TRANSACTION id from another session; the long statement (track)
// then ends with Terminated.
async function terminate (long, id, what) {
  await run('neo4j', 'x', `TERMINATE TRANSACTION '${id}'`)
  while (!long.done) await sleep(20)
  check(long.error !== null && long.error.code === 'Neo.ClientError.Transaction.Terminated',
    `${what} ended with Terminated, got ${long.error && long.error.code}`)
}

suite('long query', [
  ['a write is acknowledged while a long read runs (the read yields the gate)', async () => {
    const d = driver('neo4j', 'x')
    const long = track(d.session().run(LONG))
    const id = await longTxId()
    await run('neo4j', 'x', 'CREATE (:AckedDuringLong)')
    check(!long.done, 'the long read was still running when the write was acknowledged')
    const r = await run('neo4j', 'x', 'MATCH (n:AckedDuringLong) RETURN count(n) AS c')
    check(num(r.records[0].get('c')) === 1, 'the acknowledged write is visible')
    check(!long.done, 'the long read was still running when the write was read back')
    await run('neo4j', 'x', `TERMINATE TRANSACTION '${id}'`)
    while (!long.done) await sleep(20)
    await d.close()
  }],
  ['a point read completes while a long query runs, and TERMINATE TRANSACTION stops it', async () => {
    const d = driver('neo4j', 'x')
    const long = track(d.session().run(LONG))
    const id = await longTxId()
    const r = await run('neo4j', 'x', 'RETURN 1 AS one')
    check(num(r.records[0].get('one')) === 1, 'the point read answered')
    check(!long.done, 'the long query was still running when the point read completed')
    // Ids are length-counted: the id with a NUL and more after it names no
    // transaction (strcmp once read it as the id itself and terminated it).
    await expectError(run('neo4j', 'x', 'TERMINATE TRANSACTION $id', { id: id + '\u0000xyz' }),
      'Neo.ClientError.Transaction.TransactionNotFound', 'TERMINATE of an id with a NUL suffix')
    check(!long.done, 'an id with a NUL suffix did not terminate the long query')
    await terminate(long, id, 'the long query')
    await d.close()
  }],
  ['a read completes while a long eager write runs (the write yields the gate)', async () => {
    const d = driver('neo4j', 'x')
    const long = track(d.session().run(LONG_WRITE))
    const id = await longTxId('UNWIND range(1, 100001)')
    const r = await run('neo4j', 'x', 'MATCH (n) RETURN count(n) AS c')
    check(r.records.length === 1, 'the read answered')
    check(!long.done, 'the long write was still running when the read completed')
    await terminate(long, id, 'the long write')
    await d.close()
  }],
  ['a read completes while a write statement builds a huge list (range yields the gate)', async () => {
    const d = driver('neo4j', 'x')
    // one expression, no rows between: range() itself yields (about 10 s in
    // the sanitizer build; the read waited for all of it before)
    const long = track(d.session().run('WITH size(range(1, 40000000)) AS n CREATE (:Sized {n: n})'))
    const id = await longTxId('WITH size(range(1, 40000000))')
    const r = await run('neo4j', 'x', 'MATCH (n) RETURN count(n) AS c')
    check(r.records.length === 1, 'the read answered')
    check(!long.done, 'the write was still building its list when the read completed')
    await terminate(long, id, 'the write')
    const made = await run('neo4j', 'x', 'MATCH (n:Sized) RETURN count(n) AS c')
    check(num(made.records[0].get('c')) === 0, 'the terminated write created nothing')
    await d.close()
  }],
  ['RESET on its connection stops a running long query', async () => {
    const { sigs } = await resetDuringRun('127.0.0.1', process.env.BOLT_PORT, LONG, () => longTxId())
    // HELLO SUCCESS; RUN FAILURE (terminated); PULL IGNORED; RESET SUCCESS
    check(sigs[0] === 0x70 && sigs[1] === 0x7f && sigs[2] === 0x7e && sigs[3] === 0x70,
      `responses ${sigs.map((x) => x.toString(16))}, expected 70 7f 7e 70`)
  }],
  ['the transaction timeout stops a running long query', async () => {
    const d = driver('neo4j', 'x')
    const s = d.session()
    await expectError(s.run(LONG, {}, { timeout: 300 }), 'Neo.ClientError.Transaction.TransactionTimedOut', 'long query with a 300 ms timeout')
    await s.close()
    await d.close()
  }],
  ['the transaction timeout stops a function building a huge list (range) in time', async () => {
    const d = driver('neo4j', 'x')
    const s = d.session()
    const t0 = Date.now()
    // 40 M: the whole list takes about 10 s to build in the sanitizer build, its
    // allocation alone about 1 s there
    await expectError(s.run('RETURN size(range(1, 40000000)) AS n', {}, { timeout: 300 }),
      'Neo.ClientError.Transaction.TransactionTimedOut', 'range() of 40 M with a 300 ms timeout')
    const took = Date.now() - t0
    check(took < 4000, `range() of 40 M stopped after ${took} ms, not near its 300 ms timeout`)
    await s.close()
    await d.close()
  }],
  ['a client that disconnects during a long query has it stopped and rolled back', async () => {
    const d = driver('neo4j', 'x')
    track(d.session().run(LONG))
    await longTxId()
    await d.close()
    for (;;) {
      const r = await run('neo4j', 'x', 'SHOW TRANSACTIONS YIELD currentQuery RETURN collect(currentQuery) AS q')
      if (!r.records[0].get('q').some((q) => q.startsWith('UNWIND range(1, 100000)'))) break
      await sleep(50)
    }
  }]
])
