// Auto-commit reads of a database that is dropped and created again while
// they run (through the official driver): each read either counts the
// database's nodes or fails with DatabaseNotFound or DatabaseUnavailable,
// never anything else, and the server lives on. A read that goes to a
// worker begins its transaction there; the database it finds must not be
// closed and freed before the transaction counts on it (src/bolt/query.c,
// run_job: the begin holds the gate). Run by cluster-tests/drop_under_reads.sh.
'use strict'
const { driver, check, num, suite } = require('./lib.js')

const ROUNDS = 12
const READERS = 8
const TOLERATED = ['Neo.ClientError.Database.DatabaseNotFound',
  'Neo.TransientError.General.DatabaseUnavailable']

async function reader (d, state) {
  const session = d.session({ database: 'shop' })
  try {
    while (!state.done) {
      try {
        const r = await session.run('MATCH (n) RETURN count(n) AS c')
        check(num(r.records[0].get('c')) >= 0, 'a count below zero')
        state.ok++
      } catch (e) {
        if (!TOLERATED.includes(e.code)) throw e
        state.refused++
      }
    }
  } finally {
    await session.close().catch(() => {})
  }
}

async function churn (d) {
  const admin = d.session({ database: 'system' })
  try {
    for (let i = 0; i < ROUNDS; i++) {
      await admin.run('CREATE DATABASE shop')
      const s = d.session({ database: 'shop' })
      await s.run('UNWIND range(1, 50) AS i CREATE (:N {i: i})')
      await s.close()
      await admin.run('DROP DATABASE shop')
    }
  } finally {
    await admin.close().catch(() => {})
  }
}

suite('drop under reads', [
  ['reads of a database dropped and created again count it or find it gone', async () => {
    const d = driver('neo4j', 'unused')
    const state = { done: false, ok: 0, refused: 0 }
    try {
      const readers = []
      for (let i = 0; i < READERS; i++) readers.push(reader(d, state))
      try {
        await churn(d)
      } finally {
        state.done = true
      }
      await Promise.all(readers)
      console.log(`     ${state.ok} reads counted, ${state.refused} found shop gone, ${ROUNDS} drops`)
      check(state.ok > 0 && state.refused > 0, 'the reads never met both states: the test proves nothing')
      const s = d.session({ database: 'neo4j' })
      const r = await s.run('RETURN 1 AS one')
      await s.close()
      check(num(r.records[0].get('one')) === 1, 'the server no longer answers')
    } finally {
      await d.close()
    }
  }]
])
