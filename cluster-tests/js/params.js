// Parameters of results that outlive their RUN, with the official driver
// (cluster-tests/bolt_params.sh starts graftd with auth off). Every result
// here has more rows than the fetch size of 2, so the rows after the first
// batch are produced by later PULLs, long after the server freed the RUN
// message that carried the parameters. Sessions run at the same time with
// different values under the same names, over bolt:// and neo4j://, in
// auto-commit, managed and explicit transactions, and two results of one
// transaction are consumed interleaved (the server parks the first). Last,
// one big transaction whose nodes share a value seeks its own writes.
'use strict'
const { neo4j, check, num, suite } = require('./lib.js')

const port = process.env.BOLT_PORT
const drivers = {}
for (const scheme of ['bolt', 'neo4j']) {
  drivers[scheme] = neo4j.driver(`${scheme}://127.0.0.1:${port}`, neo4j.auth.basic('neo4j', 'unused'), {
    maxConnectionPoolSize: 16,
    connectionTimeout: 10000,
    fetchSize: 2
  })
}

const ROWS = 9 // five PULLs of 2 (and the has_more answers between them)

// The statement every step streams: each column reads a parameter of
// another type, on every row.
const QUERY = 'UNWIND range(1, $n) AS i ' +
  'RETURN i, i + $x AS int, $s + toString(i) AS str, $xs[i % size($xs)] AS list, ' +
  '$m.k + i AS map, $nested.a[1].b[0] + i AS nested, $f * i AS float, $dt.year AS year'

// The parameters of client c: the same names, values of its own.
function params (c) {
  return {
    n: neo4j.int(ROWS),
    x: neo4j.int(1000 * c),
    s: `c${c}-`,
    xs: [`a${c}`, `b${c}`, `c${c}`],
    m: { k: neo4j.int(100 * c) },
    nested: { a: [{ b: [neo4j.int(0)] }, { b: [neo4j.int(10 * c), neo4j.int(-1)] }] },
    f: 0.5 * c,
    dt: new neo4j.types.DateTime(2000 + c, 6, 1, 12, 0, 0, 0, undefined, 'Europe/Berlin')
  }
}

// Fails unless records are exactly the rows client c's parameters give.
function expectRows (records, c, what) {
  check(records.length === ROWS, `${what}: ${records.length} rows, expected ${ROWS}`)
  records.forEach((r, k) => {
    const i = k + 1
    const got = {
      i: num(r.get('i')),
      int: num(r.get('int')),
      str: r.get('str'),
      list: r.get('list'),
      map: num(r.get('map')),
      nested: num(r.get('nested')),
      float: r.get('float'),
      year: num(r.get('year'))
    }
    const want = {
      i,
      int: i + 1000 * c,
      str: `c${c}-${i}`,
      list: [`a${c}`, `b${c}`, `c${c}`][i % 3],
      map: 100 * c + i,
      nested: 10 * c + i,
      float: 0.5 * c * i,
      year: 2000 + c
    }
    check(JSON.stringify(got) === JSON.stringify(want),
      `${what}, row ${i}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
  })
}

// Streams QUERY with client c's parameters record by record (so the driver
// PULLs batch after batch) and yields to the event loop between records,
// letting the other sessions' PULLs in between.
function stream (runner, c) {
  return new Promise((resolve, reject) => {
    const records = []
    runner.run(QUERY, params(c)).subscribe({
      onNext: (r) => { records.push(r) },
      onCompleted: () => resolve(records),
      onError: reject
    })
  })
}

async function inSession (scheme, config, fn) {
  const session = drivers[scheme].session(config)
  try {
    return await fn(session)
  } finally {
    await session.close()
  }
}

const steps = []
for (const scheme of ['bolt', 'neo4j']) {
  steps.push(
    [`${scheme}://: an auto-commit result keeps its parameters over five PULLs`, async () => {
      const records = await inSession(scheme, {}, (s) => stream(s, 1))
      expectRows(records, 1, 'auto-commit')
    }],
    [`${scheme}://: 12 concurrent sessions, each with its own values under the same names`, async () => {
      const all = await Promise.all(Array.from({ length: 12 }, (_, c) =>
        inSession(scheme, {}, (s) => stream(s, c + 1))))
      all.forEach((records, c) => expectRows(records, c + 1, `session ${c + 1}`))
    }],
    [`${scheme}://: managed read and write transactions stream with parameters`, async () => {
      const [r, w] = await Promise.all([
        inSession(scheme, {}, (s) => s.executeRead((tx) => stream(tx, 2))),
        inSession(scheme, { defaultAccessMode: neo4j.session.WRITE }, (s) =>
          s.executeWrite((tx) => stream(tx, 3)))
      ])
      expectRows(r, 2, 'executeRead')
      expectRows(w, 3, 'executeWrite')
    }],
    [`${scheme}://: two results of one transaction, consumed interleaved, keep their own values`, async () => {
      await inSession(scheme, {}, async (s) => {
        const tx = s.beginTransaction()
        try {
          // the second RUN parks the first result after its first batch
          const [a, b] = await Promise.all([stream(tx, 4), stream(tx, 5)])
          expectRows(a, 4, 'first result')
          expectRows(b, 5, 'second result')
        } finally {
          await tx.rollback()
        }
      })
    }],
    [`${scheme}://: a write streams created nodes with parameters and commits them`, async () => {
      const tag = `${scheme}-write`
      const rows = Array.from({ length: ROWS }, (_, k) => ({ id: neo4j.int(k + 1), name: `n${k + 1}` }))
      const records = await inSession(scheme, {}, (s) => new Promise((resolve, reject) => {
        const out = []
        s.run('UNWIND $rows AS row CREATE (n:ParamNode {id: row.id, name: row.name, tag: $tag}) ' +
          'RETURN n.id AS id, n.name AS name, n.tag AS tag', { rows, tag }).subscribe({
          onNext: (r) => out.push(r),
          onCompleted: () => resolve(out),
          onError: reject
        })
      }))
      check(records.length === ROWS, `${records.length} rows`)
      records.forEach((r, k) => {
        check(num(r.get('id')) === k + 1 && r.get('name') === `n${k + 1}` && r.get('tag') === tag,
          `row ${k + 1}: ${JSON.stringify(r.toObject())}`)
      })
      const c = await inSession(scheme, {}, (s) =>
        s.run('MATCH (n:ParamNode {tag: $tag}) RETURN count(n) AS c', { tag }))
      check(num(c.records[0].get('c')) === ROWS, `committed ${num(c.records[0].get('c'))} nodes`)
    }]
  )
}

steps.push(['one transaction of 20,000 nodes sharing a value, with index seeks on its own writes', async () => {
  const payload = 'p'.repeat(50)
  const n = 20000
  await inSession('bolt', {}, (s) => s.run('CREATE INDEX bulk_payload IF NOT EXISTS FOR (b:Bulk) ON (b.payload)'))
  await inSession('bolt', {}, (s) => s.run('CREATE INDEX bulk_i IF NOT EXISTS FOR (b:Bulk) ON (b.i)'))
  const seen = await inSession('bolt', {}, (s) => s.executeWrite(async (tx) => {
    await tx.run('UNWIND range(1, $n) AS i CREATE (:Bulk {i: i, name: $prefix + toString(i), payload: $payload})',
      { n: neo4j.int(n), prefix: 'item-', payload })
    const shared = await tx.run('MATCH (b:Bulk {payload: $payload}) RETURN count(b) AS c', { payload })
    const merged = await tx.run('UNWIND [7, $n] AS i MERGE (b:Bulk {i: i}) RETURN b.name AS name', { n: neo4j.int(n) })
    return { shared: num(shared.records[0].get('c')), names: merged.records.map((r) => r.get('name')) }
  }))
  check(seen.shared === n, `seek on the shared value found ${seen.shared} nodes, expected ${n}`)
  check(JSON.stringify(seen.names) === JSON.stringify(['item-7', `item-${n}`]),
    `MERGE found ${JSON.stringify(seen.names)}: it must match the transaction's own nodes, not create`)
  const after = await inSession('bolt', {}, (s) => s.run('MATCH (b:Bulk) RETURN count(b) AS c'))
  check(num(after.records[0].get('c')) === n, `committed ${num(after.records[0].get('c'))} nodes`)
}])

suite('bolt_params', steps).finally(() => Promise.all(Object.values(drivers).map((d) => d.close())))
