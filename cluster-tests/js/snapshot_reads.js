// Snapshot reads through the official driver (issue 13): a transaction
// streams a large result in small batches (fetchSize 10) while other
// sessions commit transfers between accounts, creations and deletions; it
// sees exactly the state at its start — the same count and sum in every
// statement — whatever commits meanwhile. Write skew: two transactions
// that each count a label (one that exists, one no node ever had) or a
// relationship type never used, and then write disjoint entities, cannot
// both commit. A reader whose snapshot holds more old versions than
// db.transaction.old_versions.max_size (1M here) while writers churn is
// terminated with a retriable error naming the setting, and the server
// goes on. Run by cluster-tests/snapshot_reads.sh.
'use strict'
const { neo4j, driver, run, expectError, check, num, suite } = require('./lib.js')

const ACCOUNTS = 2000
const BALANCE = 100

// A commit that a reader mixing states would see half of: money moves
// from an account the reader has not reached to one it has passed, and a
// new account and a deleted one change the count.
async function churn (session, step) {
  await session.executeWrite(async (tx) => {
    await tx.run('MATCH (a:Acc {id: $from}), (b:Acc {id: $to}) SET a.bal = a.bal - 7, b.bal = b.bal + 7',
      { from: neo4j.int(ACCOUNTS - step), to: neo4j.int(step + 1) })
    await tx.run('CREATE (:Acc {id: $id, bal: 1000})', { id: neo4j.int(ACCOUNTS + 1 + step) })
    await tx.run('MATCH (a:Acc {id: $id}) DETACH DELETE a', { id: neo4j.int(ACCOUNTS + step) })
  })
}

// Streams a result of `bal` records, committing a churn after every 20
// records read; returns [count, sum].
async function streamWhileChurning (result, writer, churned) {
  let count = 0
  let sum = 0
  for await (const rec of result) {
    count++
    sum += num(rec.get('bal'))
    if (count % 20 === 0) await churn(writer, churned.n++)
  }
  return [count, sum]
}

// Streams the reader's result, committing a change of every account
// after every 20 records, until the stream fails; returns the error (or
// throws if it never fails within 200 such commits).
async function streamUntilTerminated (result, writer) {
  let count = 0
  let commits = 0
  try {
    for await (const rec of result) {
      num(rec.get('bal'))
      if (++count % 20 !== 0) continue
      check(++commits <= 200, `${commits - 1} commits of ${ACCOUNTS} changes each and the reader still streams`)
      await writer.run('MATCH (a:Acc) SET a.touch = $n', { n: neo4j.int(commits) })
    }
  } catch (e) {
    return e
  }
  throw new Error(`the reader streamed all ${count} records across ${commits} commits of ${ACCOUNTS} changes each`)
}

// Two transactions each run read (a count, 0 for both) and then write
// (with $by 1 and 2): serially the second would have counted the first's
// write, so its commit must fail.
async function writeSkew (d, read, write) {
  const sessions = [d.session(), d.session()]
  const txs = sessions.map((s) => s.beginTransaction())
  for (const tx of txs) {
    const r = await tx.run(read)
    check(num(r.records[0].get('c')) === 0, `${read}: counted ${num(r.records[0].get('c'))} before the test`)
  }
  for (const [i, tx] of txs.entries()) await tx.run(write, { by: neo4j.int(i + 1) })
  await txs[0].commit()
  await expectError(txs[1].commit(), 'Neo.TransientError.Transaction.Outdated', 'the second commit')
  for (const s of sessions) await s.close()
}

async function totals (session) {
  const r = await session.run('MATCH (a:Acc) RETURN count(a) AS c, sum(a.bal) AS s')
  return [num(r.records[0].get('c')), num(r.records[0].get('s'))]
}

async function main () {
  await run('neo4j', 'x', 'CREATE INDEX acc_id FOR (a:Acc) ON (a.id)')
  await run('neo4j', 'x', 'UNWIND range(1, $n) AS i CREATE (:Acc {id: i, bal: $b})',
    { n: neo4j.int(ACCOUNTS), b: neo4j.int(BALANCE) })
  const d = driver('neo4j', 'x')
  const writer = d.session()
  const churned = { n: 0 }

  await suite('snapshot_reads', [
    ['an explicit read transaction sees its start in every batch and statement', async () => {
      const [c0, s0] = await totals(writer)
      const reader = d.session({ defaultAccessMode: neo4j.session.READ, fetchSize: 10 })
      const tx = reader.beginTransaction()
      const [c, s] = await streamWhileChurning(tx.run('MATCH (a:Acc) RETURN a.bal AS bal'), writer, churned)
      check(churned.n > 50, `only ${churned.n} commits happened while the result streamed`)
      check(c === c0 && s === s0, `streamed count ${c}, sum ${s}; the state at the start was count ${c0}, sum ${s0}`)
      const [c2, s2] = await totals(tx)
      check(c2 === c0 && s2 === s0, `a later statement of the same transaction saw count ${c2}, sum ${s2}, not ${c0}, ${s0}`)
      await tx.commit()
      await reader.close()
      const [c3] = await totals(writer)
      check(c3 === c0, `after the reader ended, count ${c3} (creations and deletions balance: expected ${c0})`)
    }],
    ['an auto-commit query of a write session streams one snapshot too', async () => {
      const [c0, s0] = await totals(writer)
      const reader = d.session({ fetchSize: 10 })
      const [c, s] = await streamWhileChurning(reader.run('MATCH (a:Acc) RETURN a.bal AS bal'), writer, churned)
      check(c === c0 && s === s0, `streamed count ${c}, sum ${s}; the state at the start was count ${c0}, sum ${s0}`)
      await reader.close()
    }],
    ['two transactions that each read a label scan and write disjoint nodes: one fails', async () => {
      // The rule both check: at most one Guard on duty. Each sees none
      // and adds one; serially, the second would have seen the first.
      await run('neo4j', 'x', 'CREATE (g:Guard) DELETE g')
      await writeSkew(d, 'MATCH (g:Guard) RETURN count(g) AS c', 'CREATE (:Guard {by: $by})')
      const r = await run('neo4j', 'x', 'MATCH (g:Guard) RETURN count(g) AS c')
      check(num(r.records[0].get('c')) === 1, `${num(r.records[0].get('c'))} Guards committed, expected 1`)
    }],
    ['the same through a label no node ever had: one fails', async () => {
      await writeSkew(d, 'MATCH (s:Sentry) RETURN count(s) AS c', 'CREATE (:Sentry {by: $by})')
    }],
    ['the same through a relationship type never used: one fails', async () => {
      await writeSkew(d, 'MATCH (:Acc {id: 1})-[w:WATCHES]->() RETURN count(w) AS c',
        'MATCH (a:Acc {id: 1}), (b:Acc {id: 2 + $by}) CREATE (a)-[:WATCHES]->(b)')
    }],
    ['a reader holding more old versions than the bound is terminated; the server goes on', async () => {
      const [c0, s0] = await totals(writer)
      const reader = d.session({ defaultAccessMode: neo4j.session.READ, fetchSize: 10 })
      const tx = reader.beginTransaction()
      const e = await streamUntilTerminated(tx.run('MATCH (a:Acc) RETURN a.bal AS bal'), writer)
      check(e.code === 'Neo.TransientError.General.MemoryPoolOutOfMemoryError' && neo4j.isRetriableError(e),
        `the reader failed with ${e.code} (${e.message}), expected the retriable Neo.TransientError.General.MemoryPoolOutOfMemoryError`)
      check(/db\.transaction\.old_versions\.max_size/.test(e.message), `the error does not name the setting: ${e.message}`)
      await reader.close()
      // A new reader (what a retry does) reads the current state whole.
      const again = d.session({ defaultAccessMode: neo4j.session.READ, fetchSize: 10 })
      const [c, s] = await streamWhileChurning(again.run('MATCH (a:Acc) RETURN a.bal AS bal'), writer, churned)
      check(c === c0 && s === s0, `the retried reader streamed count ${c}, sum ${s}, expected ${c0}, ${s0}`)
      await again.close()
    }]
  ])
}

main().catch((e) => { console.error(e); process.exit(1) })
