// Bolt end to end with the official JavaScript driver (cluster-tests/
// bolt_driver.sh starts graftd with auth off): versions and server agent,
// bolt:// and neo4j:// (ROUTE), auto-commit, explicit, managed and rolled
// back transactions, errors with the session usable afterwards, a large
// streamed result, every PackStream type as a parameter and a result,
// nodes, relationships and paths, bookmarks and summary counters.
'use strict'
const { neo4j, check, expectError, suite } = require('./js/lib.js')

const port = process.env.BOLT_PORT
const drivers = []

function open (scheme = 'bolt') {
  const d = neo4j.driver(`${scheme}://127.0.0.1:${port}`, neo4j.auth.basic('neo4j', 'unused'), {
    maxConnectionPoolSize: 8,
    connectionTimeout: 10000,
    logging: { level: 'error', logger: (level, msg) => console.error(`driver ${level}: ${msg}`) }
  })
  drivers.push(d)
  return d
}

const direct = open()

async function one (query, params = {}, d = direct) {
  const session = d.session()
  try {
    return await session.run(query, params)
  } finally {
    await session.close()
  }
}

async function count (label) {
  const r = await one(`MATCH (n:${label}) RETURN count(n) AS c`)
  return r.records[0].get('c').toNumber()
}

function same (a, b, what) {
  const show = (v) => JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : x))
  check(show(a) === show(b), `${what}: got ${show(a)}, expected ${show(b)}`)
}

const steps = [
  ['server agent and protocol 5.4', async () => {
    const info = await direct.getServerInfo()
    check(info.agent === 'Neo4j/5.26.0', `agent ${info.agent}`)
    check(info.protocolVersion === 5.4, `protocol ${info.protocolVersion}`)
  }],
  ['RETURN 1', async () => {
    const r = await one('RETURN 1 AS x')
    check(r.records.length === 1, 'one record')
    check(r.records[0].get('x').toNumber() === 1, 'x = 1')
    same(r.records[0].keys, ['x'], 'keys')
  }],
  ['neo4j:// routes through ROUTE', async () => {
    const routed = open('neo4j')
    const r = await one('RETURN 2 AS x', {}, routed)
    check(r.records[0].get('x').toNumber() === 2, 'x = 2')
    const w = routed.session({ defaultAccessMode: neo4j.session.WRITE })
    try {
      await w.executeWrite((tx) => tx.run('CREATE (:Routed)'))
    } finally {
      await w.close()
    }
    check(await count('Routed') === 1, 'one Routed node')
  }],
  ['explicit transaction commits, counters and bookmark', async () => {
    const session = direct.session()
    try {
      const tx = session.beginTransaction()
      const r = await tx.run('CREATE (n:Tx {v: $v}) RETURN n', { v: 7 })
      check(r.summary.counters.updates().nodesCreated === 1, 'nodesCreated 1')
      check(r.summary.counters.containsUpdates(), 'containsUpdates')
      await tx.commit()
      const bm = session.lastBookmarks()
      check(bm.length === 1 && /^neo4j:\d+:\d+$/.test(bm[0]), `bookmark ${bm}`)
    } finally {
      await session.close()
    }
    check(await count('Tx') === 1, 'committed node visible')
  }],
  ['a large explicit transaction commits (its record built on a worker)', async () => {
    const session = direct.session()
    try {
      const tx = session.beginTransaction()
      await tx.run('UNWIND range(1, 5000) AS i CREATE (:Big {i: i})')
      await tx.run('MATCH (b:Big) WHERE b.i <= 10 SET b.small = true')
      await tx.commit()
    } finally {
      await session.close()
    }
    check(await count('Big') === 5000, 'all 5000 Big nodes committed')
    const r = await one('MATCH (b:Big {small: true}) RETURN sum(b.i) AS s')
    check(r.records[0].get('s').toNumber() === 55, 'the SET of the second statement committed')
  }],
  ['rollback leaves nothing', async () => {
    const session = direct.session()
    try {
      const tx = session.beginTransaction()
      await tx.run('CREATE (:Gone)')
      await tx.rollback()
    } finally {
      await session.close()
    }
    check(await count('Gone') === 0, 'no Gone node')
  }],
  ['two results of one transaction consumed interleaved', async () => {
    const session = direct.session({ fetchSize: 100 })
    try {
      const [a, b] = await session.executeRead((tx) => Promise.all([
        tx.run('UNWIND range(1, 3000) AS i RETURN i'),
        tx.run('UNWIND range(1, 500) AS j RETURN j')
      ]))
      check(a.records.length === 3000 && b.records.length === 500, `rows ${a.records.length}, ${b.records.length}`)
      check(a.records[2999].get('i').toNumber() === 3000, 'last row of the first result')
    } finally {
      await session.close()
    }
  }],
  ['executeRead and executeWrite', async () => {
    const session = direct.session()
    try {
      await session.executeWrite((tx) => tx.run('CREATE (:Managed {i: 1})'))
      const n = await session.executeRead(async (tx) => {
        const r = await tx.run('MATCH (m:Managed) RETURN count(m) AS c')
        return r.records[0].get('c').toNumber()
      })
      check(n === 1, `managed count ${n}`)
    } finally {
      await session.close()
    }
  }],
  ['errors, and the session stays usable', async () => {
    const session = direct.session()
    try {
      await expectError(session.run('RETRN 1'), 'Neo.ClientError.Statement.SyntaxError', 'syntax error')
      const r = await session.run('RETURN 3 AS x')
      check(r.records[0].get('x').toNumber() === 3, 'after error')
      const tx = session.beginTransaction()
      await expectError(tx.run('RETURN 1/0'), 'Neo.ClientError.Statement.ArithmeticError', 'division by zero')
      await tx.rollback().catch(() => {})
      const r2 = await session.run('RETURN 4 AS x')
      check(r2.records[0].get('x').toNumber() === 4, 'after failed tx')
    } finally {
      await session.close()
    }
  }],
  ['100 000 rows stream with fetch size 1000', async () => {
    const session = direct.session({ fetchSize: 1000 })
    let n = 0
    let sum = 0
    try {
      await new Promise((resolve, reject) => {
        session.run('UNWIND range(1, 100000) AS i RETURN i').subscribe({
          onNext: (rec) => { n++; sum += rec.get('i').toNumber() },
          onCompleted: resolve,
          onError: reject
        })
      })
    } finally {
      await session.close()
    }
    check(n === 100000, `rows ${n}`)
    check(sum === 100000 * 100001 / 2, `sum ${sum}`)
  }],
  ['every PackStream type round-trips as a parameter', async () => {
    const values = {
      nul: null,
      yes: true,
      int: neo4j.int(-1234567890123),
      small: neo4j.int(-16),
      float: 1.25,
      str: 'héllo wörld',
      long: 'x'.repeat(70000),
      list: [neo4j.int(1), 'two', [3.5]],
      map: { a: neo4j.int(1), b: { c: 'd' } },
      bytes: new Int8Array([1, 2, -1]),
      date: new neo4j.types.Date(2024, 2, 29),
      time: new neo4j.types.Time(12, 30, 15, 123456789, 3600),
      ltime: new neo4j.types.LocalTime(1, 2, 3, 4),
      dt: new neo4j.types.DateTime(2024, 1, 2, 3, 4, 5, 6, -7200),
      dtz: new neo4j.types.DateTime(2024, 6, 1, 12, 0, 0, 0, undefined, 'Europe/Berlin'),
      ldt: new neo4j.types.LocalDateTime(1999, 12, 31, 23, 59, 59, 999999999),
      dur: new neo4j.types.Duration(14, 3, 100, 7),
      p2: new neo4j.types.Point(neo4j.int(7203), 1.5, -2),
      p3: new neo4j.types.Point(neo4j.int(4979), 1, 2, 3)
    }
    for (const [k, v] of Object.entries(values)) {
      const r = await one('RETURN $v AS v', { v })
      const back = r.records[0].get('v')
      if (k === 'dtz') { // the server resolves the zone's offset
        check(String(back) === '2024-06-01T12:00:00+02:00[Europe/Berlin]', `dtz: got ${back}`)
      } else if (v !== null && typeof v === 'object' && v.constructor.name in neo4j.types) {
        check(back.constructor === v.constructor, `parameter ${k}: got a ${back.constructor.name}`)
        check(String(back) === String(v), `parameter ${k}: got ${back}, expected ${v}`)
      } else {
        same(back, v, `parameter ${k}`)
      }
    }
  }],
  ['nodes, relationships and paths', async () => {
    await one("CREATE (:PA {name: 'a'})-[:KNOWS {since: 2020}]->(:PB {name: 'b'})")
    const r = await one('MATCH p = (a:PA)-[k:KNOWS]->(b:PB) RETURN a, k, b, p')
    const rec = r.records[0]
    const a = rec.get('a')
    const k = rec.get('k')
    const b = rec.get('b')
    const p = rec.get('p')
    same(a.labels, ['PA'], 'node labels')
    check(a.properties.name === 'a', 'node property')
    check(typeof a.elementId === 'string' && a.elementId.length > 0, 'node elementId')
    check(k.type === 'KNOWS' && k.properties.since.toNumber() === 2020, 'relationship')
    check(k.startNodeElementId === a.elementId && k.endNodeElementId === b.elementId, 'relationship ends')
    check(p.length === 1 && p.start.elementId === a.elementId && p.end.elementId === b.elementId, 'path ends')
    check(p.segments[0].relationship.type === 'KNOWS', 'path relationship')
    const back = await one('MATCH p = (b:PB)<-[:KNOWS]-(a:PA) RETURN p')
    const q = back.records[0].get('p')
    check(q.start.elementId === b.elementId && q.end.elementId === a.elementId, 'reversed path ends')
    check(q.segments[0].relationship.startNodeElementId === a.elementId, 'reversed relationship keeps its direction')
  }],
  ['EXPLAIN and PROFILE summaries, DISCARD, timeout and metadata', async () => {
    const e = await one('EXPLAIN MATCH (n) RETURN n')
    check(e.records.length === 0 && e.summary.plan !== false, 'EXPLAIN has a plan')
    const p = await one('PROFILE MATCH (n) RETURN count(n) AS c')
    check(p.summary.profile !== false, 'PROFILE has a profile')
    const session = direct.session({ fetchSize: 100 })
    try {
      const s = await session.run('UNWIND range(1, 5000) AS i RETURN i').summary()
      check(s.queryType === 'r', `queryType ${s.queryType}`)
      const r = await session.run('RETURN 5 AS x', {}, { timeout: 5000, metadata: { app: 'bolt_driver' } })
      check(r.records[0].get('x').toNumber() === 5, 'with timeout and metadata')
    } finally {
      await session.close()
    }
  }],
  ['dbms.routing.getRoutingTable answers like ROUTE', async () => {
    const r = await one("CALL dbms.routing.getRoutingTable({}, 'neo4j')")
    const rec = r.records[0]
    check(rec.get('ttl').toNumber() > 0, 'ttl')
    const roles = rec.get('servers').map((s) => s.role).sort()
    same(roles, ['READ', 'ROUTE', 'WRITE'], 'roles')
    same(rec.get('servers')[0].addresses, [`127.0.0.1:${port}`], 'addresses')
  }],
  ['50 concurrent sessions write and read', async () => {
    const pool = neo4j.driver(`bolt://127.0.0.1:${port}`, neo4j.auth.basic('neo4j', 'unused'), { maxConnectionPoolSize: 50 })
    drivers.push(pool)
    await Promise.all(Array.from({ length: 50 }, async (_, c) => {
      const session = pool.session()
      try {
        for (let i = 0; i < 10; i++) {
          await session.executeWrite((tx) => tx.run('CREATE (:Conc {c: $c, i: $i})', { c: neo4j.int(c), i: neo4j.int(i) }))
        }
      } finally {
        await session.close()
      }
    }))
    check(await count('Conc') === 500, 'all 500 writes committed')
  }],
  ['bookmarks chain sessions', async () => {
    const w = direct.session()
    let bookmarks
    try {
      await w.executeWrite((tx) => tx.run('CREATE (:Chained)'))
      bookmarks = w.lastBookmarks()
    } finally {
      await w.close()
    }
    const r = direct.session({ bookmarks })
    try {
      const res = await r.run('MATCH (c:Chained) RETURN count(c) AS c')
      check(res.records[0].get('c').toNumber() === 1, 'read after bookmark')
    } finally {
      await r.close()
    }
    const bad = direct.session({ bookmarks: ['not-a-bookmark'] })
    try {
      await expectError(bad.run('RETURN 1'), 'Neo.ClientError.Transaction.InvalidBookmark', 'malformed bookmark')
    } finally {
      await bad.close()
    }
  }]
]

suite('bolt_driver', steps).finally(() => Promise.all(drivers.map((d) => d.close())))
