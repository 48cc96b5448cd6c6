// Resource limits against a graftd started by cluster-tests/limits.sh, with
// the official driver and, where a client must misbehave, raw sockets.
// PHASE=memory (db.memory.transaction.max=50M,
// db.transaction.concurrent.maximum=5, a 2 s login deadline): statements
// past the memory limit fail with Neo4j's error and leave the server
// serving, UNWIND range() streams, parked results count, a catastrophic
// regex is cut off, strings with NUL are whole, the transaction maximum
// holds, idle connections that never log in are closed.
// PHASE=connections (server.bolt.max_connections=MAX_CONNECTIONS, a long
// login deadline, no memory limit): unread streams keep the server bounded,
// at the cap the oldest connection not logged in gives way, and a HELLO past
// the size allowed before login closes the connection.
'use strict'
const net = require('net')
const fs = require('fs')
const { driver, run, expectError, check, num, suite, sleep } = require('./lib')

const USER = 'neo4j'
const PW = process.env.GRAFT_PW
const MEM = 'Neo.TransientError.General.MemoryPoolOutOfMemoryError'
const MAXTX = 'Neo.TransientError.Transaction.MaximumTransactionLimitReached'
const ARG = 'Neo.ClientError.Statement.ArgumentError'
const port = Number(process.env.BOLT_PORT)
const graftdPid = Number(process.env.GRAFTD_PID)
const BUDGET_MS = 1000 * Number(process.env.GRAFT_TEST_BUDGET || 120)

const q = (query, params) => run(USER, PW, query, params)

function rssKiB () {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${graftdPid}/status`, 'utf8'))
  return Number(m[1])
}

// Polls cond every 100 ms; fails naming what after the test budget.
async function waitUntil (what, cond) {
  const end = Date.now() + BUDGET_MS
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not after ${BUDGET_MS} ms`)
    await sleep(100)
  }
}

// PackStream, just what the raw clients send.
function packString (s) {
  const b = Buffer.from(s, 'utf8')
  if (b.length < 16) return Buffer.concat([Buffer.from([0x80 | b.length]), b])
  if (b.length < 256) return Buffer.concat([Buffer.from([0xd0, b.length]), b])
  const h = Buffer.from([0xd1, 0, 0])
  h.writeUInt16BE(b.length, 1)
  return Buffer.concat([h, b])
}
function packMap (obj) {
  const parts = [Buffer.from([0xa0 | Object.keys(obj).length])]
  for (const [k, v] of Object.entries(obj)) {
    parts.push(packString(k))
    parts.push(typeof v === 'string' ? packString(v) : Buffer.from([v & 0xff])) // tiny ints only
  }
  return Buffer.concat(parts)
}
function chunked (msg) {
  const h = Buffer.alloc(2)
  h.writeUInt16BE(msg.length, 0)
  return Buffer.concat([h, msg, Buffer.from([0, 0])])
}
const HELLO = chunked(Buffer.concat([Buffer.from([0xb1, 0x01]),
  packMap({ user_agent: 'limits/1', scheme: 'basic', principal: USER, credentials: PW })]))
const runMsg = (query) => chunked(Buffer.concat([Buffer.from([0xb3, 0x10]), packString(query), packMap({}), packMap({})]))
const PULL_ALL = chunked(Buffer.concat([Buffer.from([0xb1, 0x3f]), packMap({ n: -1 })]))

// A socket that did the Bolt handshake (5.0 only: login in HELLO) and
// says nothing more. Resolves once the server chose the version. The
// signatures of the first messages the server sends go to s.sigs; once a
// RECORD arrived the socket stops reading (a client that does not read).
function handshaken () {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    let shook = false
    s.sigs = []
    s.closedAt = null
    s.on('error', () => {})
    s.on('close', () => { s.closedAt = Date.now() })
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      if (!shook) {
        if (buf.length < 4) return
        shook = true
        buf = buf.subarray(4)
        resolve(s)
      }
      // message signatures: the byte after B? at the start of a message
      let atStart = true
      while (buf.length >= 2 && !s.isPaused()) {
        const len = buf.readUInt16BE(0)
        if (buf.length < 2 + len) break
        if (len > 0 && atStart) s.sigs.push(buf[3])
        if (s.sigs.includes(0x71)) s.pause()
        atStart = len === 0
        buf = buf.subarray(2 + len)
      }
    })
    s.once('close', () => { if (!shook) reject(new Error('closed before the handshake answer')) })
    s.write(Buffer.from([0x60, 0x60, 0xb0, 0x17, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
  })
}

const closed = (s) => s.closedAt !== null || s.destroyed

async function openMany (n) {
  const socks = []
  for (let i = 0; i < n; i++) socks.push(await handshaken())
  return socks
}

const memory = [
  ['a string doubled past the limit fails with MemoryPoolOutOfMemoryError', async () => {
    const e = await expectError(q("RETURN size(reduce(acc = 'a', x IN range(1, 28) | acc + acc)) AS n"), MEM, 'string doubling')
    check(e.message.includes('db.memory.transaction.max'), `the message names the setting: ${e.message}`)
  }],
  ['collect() of 16 M values fails the same way', async () => {
    await expectError(q('UNWIND range(1, 16000000) AS x RETURN size(collect(x)) AS n'), MEM, 'collect')
  }],
  ['a sort of many rows fails; UNWIND range() of more rows streams', async () => {
    await expectError(q('UNWIND range(1, 3000000) AS x WITH x ORDER BY x DESC RETURN x LIMIT 1'), MEM, 'sort')
    const r = await q('UNWIND range(1, 10000000) AS x WITH x WHERE x % 2500000 = 0 RETURN count(*) AS n')
    check(num(r.records[0].get('n')) === 4, 'streamed count')
  }],
  ['a pattern of 30,000 hops in 150 KB of text is cheap', async () => {
    const text = 'MATCH (a)' + '-->()'.repeat(30000) + ' RETURN a'
    const before = rssKiB()
    const r = await q(text)
    check(r.records.length === 0, 'no 30,000-hop path in an empty graph')
    const grew = rssKiB() - before
    check(grew < 512 * 1024, `the server grew by ${grew} KiB`)
  }],
  ['records parked by a second RUN count against the transaction', async () => {
    const d = driver(USER, PW)
    const s = d.session()
    try {
      const tx = s.beginTransaction()
      // the driver pulls a first batch; the rest is parked by the next RUN
      const first = tx.run('UNWIND range(1, 8000000) AS x RETURN x')
      await first.keys()
      await expectError(tx.run('RETURN 1 AS one'), MEM, 'parking 8 M records')
      await tx.rollback().catch(() => {})
    } finally {
      await s.close().catch(() => {})
      await d.close()
    }
  }],
  ['the server still answers after every failure', async () => {
    const r = await q('RETURN 1 AS one')
    check(num(r.records[0].get('one')) === 1, 'RETURN 1')
  }],
  ['a catastrophic regex is cut off with a clear error', async () => {
    const e = await expectError(q("RETURN '" + 'a'.repeat(60) + "b' =~ '(a|aa)+' AS m"), ARG, 'exponential backtracking')
    check(/backtracking/.test(e.message), `message: ${e.message}`)
    await expectError(q("RETURN 'a' =~ '((a{1,100}){1,100}){1,100}' AS m"), ARG, 'nested counted repeats')
  }],
  ['regex: whole-string, back-references, no escaping the anchors', async () => {
    const r = await q("RETURN 'abcabc' =~ '(abc)\\\\1' AS backref, 'ab' =~ 'a' AS partial, 'AB' =~ '(?i)ab' AS ci, 'x1' =~ '\\\\w\\\\d' AS cls")
    const rec = r.records[0]
    check(rec.get('backref') === true, 'back-reference')
    check(rec.get('partial') === false, 'a partial match is no match')
    check(rec.get('ci') === true && rec.get('cls') === true, 'Java syntax')
    await expectError(q("RETURN 'zzz' =~ 'q)|(z' AS m"), ARG, 'an unbalanced pattern is invalid')
  }],
  ['a string parameter with NUL is matched whole', async () => {
    const r = await q('RETURN $s =~ \'abc\' AS m, size($s) AS n, $s = \'abc\' AS eq', { s: 'abc\u0000def' })
    const rec = r.records[0]
    check(rec.get('m') === false, 'abc\\0def =~ abc is false')
    check(num(rec.get('n')) === 7, `size is 7, got ${rec.get('n')}`)
    check(rec.get('eq') === false, 'abc\\0def <> abc')
  }],
  ['db.transaction.concurrent.maximum is enforced', async () => {
    const drivers = []
    const txs = []
    try {
      for (let i = 0; i < 5; i++) {
        const d = driver(USER, PW)
        drivers.push(d)
        const tx = d.session().beginTransaction()
        await tx.run('RETURN 1')
        txs.push(tx)
      }
      await expectError(q('RETURN 1'), MAXTX, 'the sixth transaction')
      await txs[0].rollback()
      const r = await q('RETURN 2 AS two')
      check(num(r.records[0].get('two')) === 2, 'a slot freed by a rollback is usable')
    } finally {
      for (const d of drivers) await d.close().catch(() => {})
    }
  }],
  ['connections that never log in are closed at the deadline; others log in meanwhile', async () => {
    const socks = await openMany(200)
    const r = await q('RETURN 1 AS one')
    check(num(r.records[0].get('one')) === 1, 'login during the flood')
    await waitUntil('200 idle connections closed', () => socks.every(closed))
  }]
]

const connections = [
  ['20 clients streaming 100 M rows without reading keep the server bounded', async () => {
    const before = rssKiB()
    const socks = await openMany(20)
    for (const s of socks) s.write(Buffer.concat([HELLO, runMsg('UNWIND range(1, 100000000) AS x RETURN x'), PULL_ALL]))
    // each gets a record, then stops reading
    await waitUntil('three answers for every client', () => socks.every((s) => s.sigs.length >= 3 || closed(s)))
    for (const s of socks) {
      check(!closed(s), `a client was closed; it got ${s.sigs}`)
      check(s.sigs.join() === '112,112,113', `HELLO, RUN, RECORD: got ${s.sigs}`)
    }
    // the output stops at its bound: two samples a second apart agree
    let last = -1
    let now = rssKiB()
    await waitUntil('the server stops growing', () => {
      last = now
      now = rssKiB()
      return now - last < 4096
    })
    await sleep(1000)
    const grew = rssKiB() - before
    check(grew < 512 * 1024, `20 unread streams grew the server by ${grew} KiB`)
    for (const s of socks) s.destroy()
    const r = await q('RETURN 1 AS one')
    check(num(r.records[0].get('one')) === 1, 'the server answers after they left')
  }],
  ['a RUN whose text is not UTF-8 is refused, its connection closed, nothing stored', async () => {
    const s = await handshaken()
    const text = Buffer.concat([Buffer.from('CREATE (:NotUtf8 {s: "'), Buffer.from([0xff, 0xfe]), Buffer.from('"})')])
    s.write(Buffer.concat([HELLO, chunked(Buffer.concat([Buffer.from([0xb3, 0x10, 0xd0, text.length]), text,
      packMap({}), packMap({})]))]))
    await waitUntil('the connection closed', () => closed(s))
    check(s.sigs.join() === '112,127', `HELLO SUCCESS, then a FAILURE: got ${s.sigs}`)
    const r = await q('MATCH (n:NotUtf8) RETURN count(n) AS n')
    check(num(r.records[0].get('n')) === 0, 'the statement ran')
  }],
  ['past server.bolt.max_connections the oldest connection not logged in gives way', async () => {
    const max = Number(process.env.MAX_CONNECTIONS)
    const socks = await openMany(max)
    const r = await q('RETURN 3 AS three')
    check(num(r.records[0].get('three')) === 3, 'a login at the cap')
    await waitUntil('the oldest idle connection closed', () => closed(socks[0]))
    check(!closed(socks[max - 1]), 'the newest idle connection is open')
    for (const s of socks) s.destroy()
  }],
  ['a HELLO larger than the limit before login is refused by closing', async () => {
    const s = await handshaken()
    // the start of a 64 KiB HELLO, never completed
    const chunk = Buffer.alloc(2 + 65535, 0x41)
    chunk.writeUInt16BE(65535, 0)
    chunk[2] = 0xb1
    chunk[3] = 0x01
    s.write(chunk)
    await waitUntil('the connection closed', () => closed(s))
    check(s.sigs.length === 0, `no answer before the close: ${s.sigs}`)
  }]
]

suite(`limits (${process.env.PHASE})`, process.env.PHASE === 'connections' ? connections : memory)
