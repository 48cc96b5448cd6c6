// How long a running statement takes to stop (issue 13: within 50 ms), run
// by bench/interrupt.sh against one graftd: a query of about 10^10 rows runs
// in one session, then it is stopped, ROUNDS times each way, and the time from
// the stop to its end is printed:
//   - TERMINATE TRANSACTION from another session: from sending it until the
//     long query's promise fails (both round trips to the server included);
//   - RESET on its own connection (raw Bolt, as a driver sends it): from
//     writing the RESET until its SUCCESS is read;
//   - db.transaction.timeout (a 300 ms tx_timeout): how long after the
//     300 ms the query failed.
//   node interrupt.js HOST:PORT [ROUNDS]
//   node interrupt.js HOST:PORT long   (runs LONG, prints how it ended: the
//                                       SIGTERM case of interrupt.sh)
'use strict'
const neo4j = require('neo4j-driver')
const { resetDuringRun } = require('../../cluster-tests/js/raw_reset.js')

const LONG = 'UNWIND range(1, 100000) AS a UNWIND range(1, 100000) AS b RETURN count(*) AS n'
const [addr, roundsArg] = process.argv.slice(2)
const [host, port] = addr.split(':')
const rounds = Number(roundsArg || 5)
const driver = neo4j.driver(`bolt://${addr}`, neo4j.auth.basic('neo4j', 'x'))
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6
const sleep = (n) => new Promise((resolve) => setTimeout(resolve, n))

async function run (q, params = {}) {
  const s = driver.session()
  try { return await s.run(q, params) } finally { await s.close() }
}

// The id of the open transaction running LONG, once SHOW TRANSACTIONS lists it.
async function longTxId () {
  for (;;) {
    const r = await run('SHOW TRANSACTIONS YIELD transactionId, currentQuery RETURN transactionId, currentQuery')
    const row = r.records.find((x) => x.get('currentQuery').startsWith('UNWIND range(1, 100000)'))
    if (row) return row.get('transactionId')
    await sleep(20)
  }
}

async function terminateOnce () {
  const s = driver.session()
  let end = null
  const long = s.run(LONG).then(() => 'finished', (e) => e.code)
  const id = await longTxId()
  await sleep(50) // running, not starting
  const t0 = process.hrtime.bigint()
  await run(`TERMINATE TRANSACTION '${id}'`)
  const code = await long
  end = ms(t0)
  await s.close()
  return [end, code]
}

// RESET on the long query's connection; ms from the RESET written to its
// answer read.
async function resetOnce () {
  const { sigs, ms } = await resetDuringRun(host, port, LONG, () => longTxId().then(() => sleep(50)))
  return [ms, sigs[3] === 0x70 ? 'SUCCESS' : `0x${sigs[3].toString(16)}`]
}

async function timeoutOnce () {
  const s = driver.session()
  const t0 = process.hrtime.bigint()
  const code = await s.run(LONG, {}, { timeout: 300 }).then(() => 'finished', (e) => e.code)
  const end = ms(t0) - 300
  await s.close()
  return [end, code]
}

async function series (name, fn) {
  const times = []
  let codes = new Set()
  for (let i = 0; i < rounds; i++) {
    const [t, code] = await fn()
    times.push(t)
    codes.add(code)
  }
  const shown = times.map((t) => t.toFixed(1)).join(', ')
  console.log(`${name}: ${shown} ms (max ${Math.max(...times).toFixed(1)} ms; goal <= 50 ms) ended with ${[...codes].join(', ')}`)
}

async function main () {
  await series('TERMINATE TRANSACTION, sent to the long query failing', terminateOnce)
  await series('RESET on its connection, written to its SUCCESS', resetOnce)
  await series('db.transaction.timeout 300 ms, failed after the 300 ms', timeoutOnce)
  await driver.close()
}

async function longOnly () {
  const s = driver.session()
  const end = await s.run(LONG).then(() => 'finished', (e) => e.code || e.message)
  console.log(`  the long query ended: ${end}`)
  await driver.close()
}

;(roundsArg === 'long' ? longOnly() : main()).catch((e) => { console.error(e); process.exit(1) })
