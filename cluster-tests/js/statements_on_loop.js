// Auto-commit writes run on the event loop once their text is known to write,
// and short reads once known to be short (src/bolt/query.c, "Statements on
// the loop"), with the official driver
// (cluster-tests/statements_on_loop.sh starts graftd with two workers, auth
// off, and the loop's pause monitor logging every check 50 ms late). Each
// step runs a text once to teach it, then again, so that the later runs are
// the ones on the loop: their rows over several PULLs (fetch size 2), their
// counters and bookmarks, an error raised on the loop, a uniqueness conflict
// at commit, a DISCARD; and a statement that outruns the loop's budget, which
// must still commit exactly once (rolled back on the loop, run again on a
// worker) while another session's reads keep being answered.
'use strict'
const { neo4j, check, num, suite, expectError } = require('./lib.js')

const port = process.env.BOLT_PORT
const d = neo4j.driver(`bolt://127.0.0.1:${port}`, neo4j.auth.basic('neo4j', 'unused'), {
  maxConnectionPoolSize: 4,
  connectionTimeout: 10000,
  fetchSize: 2
})

async function count (label) {
  const s = d.session()
  try {
    const r = await s.run(`MATCH (n:${label}) RETURN count(n) AS n`)
    return num(r.records[0].get('n'))
  } finally {
    await s.close()
  }
}

suite('statements_on_loop', [
  ['rows of a write over several PULLs, counters and a bookmark each time', async () => {
    const s = d.session()
    const q = 'UNWIND range(1, $n) AS i CREATE (x:Rows {i: i, run: $run}) RETURN x.i AS i, $run AS run'
    for (let run = 0; run < 4; run++) {
      const r = await s.run(q, { n: neo4j.int(5), run: neo4j.int(run) })
      check(r.records.length === 5, `run ${run}: ${r.records.length} rows, expected 5`)
      r.records.forEach((rec, k) => {
        check(num(rec.get('i')) === k + 1 && num(rec.get('run')) === run,
          `run ${run} row ${k}: ${rec.get('i')}, ${rec.get('run')}`)
      })
      check(r.summary.counters.updates().nodesCreated === 5,
        `run ${run}: nodesCreated ${r.summary.counters.updates().nodesCreated}`)
    }
    const bm = s.lastBookmarks()
    check(bm.length === 1 && /^neo4j:\d+:\d+$/.test(bm[0]), `bookmark ${bm}`)
    await s.close()
    check(await count('Rows') === 20, `${await count('Rows')} :Rows nodes, expected 20`)
  }],
  ['a write without rows, many times, each committed once', async () => {
    const s = d.session()
    for (let i = 0; i < 50; i++) await s.run('CREATE (:Plain {v: $v})', { v: neo4j.int(i) })
    await s.close()
    check(await count('Plain') === 50, `${await count('Plain')} :Plain nodes, expected 50`)
  }],
  ['an error raised on the loop fails that statement only', async () => {
    const s = d.session()
    const q = 'CREATE (x:Div {v: 10 / $d}) RETURN x.v AS v'
    for (let i = 0; i < 3; i++) await s.run(q, { d: neo4j.int(2) })
    await expectError(s.run(q, { d: neo4j.int(0) }),
      'Neo.ClientError.Statement.ArithmeticError', 'division by zero on the loop')
    const r = await s.run(q, { d: neo4j.int(5) })
    check(num(r.records[0].get('v')) === 2, `after the error: ${r.records[0].get('v')}`)
    await s.close()
    check(await count('Div') === 4, `${await count('Div')} :Div nodes, expected 4`)
  }],
  ['a uniqueness conflict at commit, then the same text goes on', async () => {
    const s = d.session()
    await s.run('CREATE CONSTRAINT loop_u IF NOT EXISTS FOR (u:U) REQUIRE u.k IS UNIQUE')
    const q = 'CREATE (:U {k: $k})'
    for (let k = 0; k < 3; k++) await s.run(q, { k: neo4j.int(k) })
    await expectError(s.run(q, { k: neo4j.int(1) }),
      'Neo.ClientError.Schema.ConstraintValidationFailed', 'a duplicate key')
    await s.run(q, { k: neo4j.int(3) })
    await s.close()
    check(await count('U') === 4, `${await count('U')} :U nodes, expected 4`)
  }],
  ['DISCARD of a result read on the loop still commits', async () => {
    const s = d.session()
    const q = 'UNWIND range(1, 7) AS i CREATE (x:Disc {i: i}) RETURN x'
    for (let i = 0; i < 3; i++) {
      const r = s.run(q)
      await r.summary() // consumes nothing: the driver DISCARDs the rest
    }
    await s.close()
    check(await count('Disc') === 21, `${await count('Disc')} :Disc nodes, expected 21`)
  }],
  ['a write that outruns the budget commits once, other sessions answered meanwhile', async () => {
    const s = d.session()
    // 2,250,000 rows, about one node: long on any thread, short to commit
    const q = 'UNWIND range(1, $n) AS a UNWIND range(1, 1500) AS b ' +
      'WITH a, b WHERE a = $n AND b = 1500 CREATE (:Late {a: a})'
    await s.run(q, { n: neo4j.int(2) }) // teaches the text: it writes, briefly
    // a reader times its answers while the long one runs
    let done = false
    let worst = 0
    let reads = 0
    const reader = (async () => {
      const rs = d.session()
      while (!done) {
        const t0 = Date.now()
        await rs.run('RETURN 1 AS one')
        worst = Math.max(worst, Date.now() - t0)
        reads++
      }
      await rs.close()
    })()
    const t0 = Date.now()
    await s.run(q, { n: neo4j.int(1500) })
    const took = Date.now() - t0
    done = true
    await reader
    await s.close()
    check(await count('Late') === 2, `${await count('Late')} :Late nodes, expected 2`)
    console.log(`     the long write took ${took} ms; ${reads} reads meanwhile, the slowest ${worst} ms`)
    // had it run on the loop to its end, no read would be answered for its
    // whole length
    check(took < 400 || worst < took / 2,
      `the slowest read took ${worst} ms of the long write's ${took} ms: the loop was held`)
  }],
  ['reads on the loop: parameters, rows over several PULLs, each its own snapshot', async () => {
    const s = d.session()
    const q = 'MATCH (x:Rows) WHERE x.run = $run RETURN x.i AS i ORDER BY i'
    for (let k = 0; k < 6; k++) {
      const run = k % 4
      const r = await s.run(q, { run: neo4j.int(run) })
      const got = r.records.map(rec => num(rec.get('i'))).join(',')
      check(got === '1,2,3,4,5', `read ${k} (run ${run}): ${got}`)
    }
    // a write between two reads of the same text: the second sees it
    await s.run('CREATE (:Rows {i: 6, run: 0})')
    const r = await s.run(q, { run: neo4j.int(0) })
    check(r.records.length === 6, `after a write: ${r.records.length} rows, expected 6`)
    await s.close()
  }],
  ['a read that needs the gate exclusive (USE, SHOW) is sent to a worker', async () => {
    const s = d.session()
    for (let k = 0; k < 4; k++) {
      const r = await s.run('USE neo4j MATCH (x:Plain) RETURN count(x) AS n')
      check(num(r.records[0].get('n')) === 50, `USE read ${k}: ${r.records[0].get('n')}`)
      const idx = await s.run('SHOW INDEXES YIELD name RETURN count(*) AS n')
      check(idx.records.length === 1, `SHOW INDEXES ${k}: ${idx.records.length} rows`)
    }
    await s.close()
  }],
  ['a read that outruns the budget answers whole from a worker', async () => {
    const s = d.session()
    const q = 'UNWIND range(1, $n) AS i RETURN sum(i) AS total, count(*) AS rows'
    for (let k = 0; k < 3; k++) await s.run(q, { n: neo4j.int(10) }) // brief: learned
    const n = 3000000
    const r = await s.run(q, { n: neo4j.int(n) })
    check(num(r.records[0].get('rows')) === n, `rows ${r.records[0].get('rows')}, expected ${n}`)
    check(num(r.records[0].get('total')) === n * (n + 1) / 2, `total ${r.records[0].get('total')}`)
    const again = await s.run(q, { n: neo4j.int(10) })
    check(num(again.records[0].get('total')) === 55, `total ${again.records[0].get('total')}, expected 55`)
    await s.close()
  }]
]).finally(() => d.close())
