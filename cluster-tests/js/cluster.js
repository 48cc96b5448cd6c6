// Client side of the core cluster suites, with the official driver,
// bolt:// to one member at a time (BOLT_PORT; CORE_PORTS lists every
// member for the writers), as GRAFT_USER/GRAFT_PASSWORD when auth is on:
//   write TAG N         N auto-commit CREATEs of (:W {tag, key}) on this
//                       member; prints each acknowledged key
//   keys TAG            prints the keys of the (:W {tag}) nodes, one a line,
//                       sorted (a key twice means a write applied twice)
//   expect-error CODE QUERY [DB]   runs QUERY, fails unless it fails with
//                       CODE; prints the error's message
//   leaders             the split-brain check of the Neo4j operations
//                       manual: how many members this one calls LEADER
//   role DB             CALL dbms.cluster.role(DB)
//   query DB QUERY      runs QUERY on database DB; prints each record as
//                       one line of JSON (keys in order, numbers as text)
//   bookmark DB QUERY   runs QUERY on database DB; prints the bookmark the
//                       session holds after it
//   query-after BOOKMARK DB QUERY   query, in a read session that starts
//                       from BOOKMARK (the server waits until it has it)
//   retrying TAG CLIENTS STOP   CLIENTS writers that retry each key on the
//                       next member until it is acknowledged (MERGE: a
//                       retry is harmless), until the file STOP exists;
//                       prints each acknowledged key, and "# failed ..."
//                       for a failure a driver would not retry
//   digest DB           a canonical, name-based digest of database DB
//   schema TAG N        N CREATE INDEX TAG_i FOR (n:TAGi) ON (n.k) on
//                       database neo4j, one after another; prints each
//                       acknowledged name, stops at the first failure
//   writers TAG CLIENTS STOP  CLIENTS concurrent writers against whichever
//                       member takes writes, until the file STOP exists
//                       (NotALeader: retry on the next member at once; a
//                       lost connection: the outcome is unknown, the next
//                       key goes to the next member); prints each
//                       acknowledged key, and each key of unknown outcome
//                       as a line starting with #
//   concurrent MODE LABEL CLIENTS ROUNDS  CLIENTS sessions at once
//                       creating (:LABEL {k, c}), each its own key (MODE
//                       unique) or two per key (race): "ok K C BOOKMARK"
//                       or "fail K C CODE" per attempt
//   burst TAG N         N writes at once, one connection each, no retry:
//                       "ok KEY" or "fail KEY CODE" per write
//   txn DB QUERY...     the queries in one explicit transaction, then
//                       COMMIT: prints "committed"
'use strict'
const path = require('path')

const src = process.env.GRAFT_SRC_DIR || path.join(__dirname, '..', '..')
const neo4j = require(path.join(src, 'node_modules', 'neo4j-driver'))

function driver (port) {
  return neo4j.driver(`bolt://127.0.0.1:${port}`, neo4j.auth.basic(
    process.env.GRAFT_USER || 'neo4j', process.env.GRAFT_PASSWORD || 'x'), {
    maxConnectionPoolSize: 4,
    connectionTimeout: 5000,
    maxTransactionRetryTime: 0
  })
}

async function run (port, query, params = {}, database = undefined) {
  const d = driver(port)
  const s = d.session({ database })
  try {
    return await s.run(query, params)
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

const CREATE = 'CREATE (:W {tag: $tag, key: $key})'

async function write (port, tag, n) {
  for (let i = 0; i < n; i++) {
    const key = `${tag}-${i}`
    await run(port, CREATE, { tag, key })
    console.log(key)
  }
}

async function schema (port, tag, n) {
  for (let i = 0; i < n; i++) {
    const name = `${tag}_${i}`
    await run(port, `CREATE INDEX ${name} FOR (n:${tag}${i}) ON (n.k)`)
    console.log(name)
  }
}

async function keys (port, tag) {
  const r = await run(port, 'MATCH (n:W {tag: $tag}) RETURN n.key AS k', { tag })
  for (const k of r.records.map(x => x.get('k')).sort()) console.log(k)
}

async function leaders (port) {
  const r = await run(port, "CALL dbms.cluster.overview() YIELD role WITH role, count(*) AS count WHERE role = 'LEADER' RETURN count")
  console.log(r.records.length ? r.records[0].get('count').toString() : '0')
}

async function role (port, db) {
  const r = await run(port, 'CALL dbms.cluster.role($db)', { db })
  console.log(r.records[0].get('role'))
}

function text (v) {
  if (neo4j.isInt(v)) return v.toString()
  if (Array.isArray(v)) return v.map(text)
  if (v && typeof v === 'object') {
    const o = {}
    for (const k of Object.keys(v)) o[k] = text(v[k])
    return o
  }
  return v
}

async function query (port, database, q) {
  const r = await run(port, q, {}, database)
  for (const rec of r.records) console.log(JSON.stringify(text(rec.toObject())))
}

async function bookmark (port, database, q) {
  const d = driver(port)
  const s = d.session({ database })
  try {
    await s.run(q)
    console.log(s.lastBookmarks().join(','))
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

async function queryAfter (port, bookmarks, database, q) {
  const d = driver(port)
  const s = d.session({ database, bookmarks: bookmarks.split(','), defaultAccessMode: neo4j.session.READ })
  try {
    const r = await s.run(q)
    for (const rec of r.records) console.log(JSON.stringify(text(rec.toObject())))
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

async function expectError (port, code, query, database) {
  try {
    await run(port, query, {}, database)
  } catch (e) {
    if (e.code === code) return console.log(e.message)
    throw new Error(`${query}: got ${e.code} (${e.message}), expected ${code}`)
  }
  throw new Error(`${query}: succeeded, expected ${code}`)
}

// A failure that says the transaction was not applied (refused before it
// was proposed): the writer retries it on another member. A lost
// connection says nothing of the outcome: the write may have committed.
function notApplied (e) {
  return e.code === 'Neo.ClientError.Cluster.NotALeader'
}

function connectionLost (e) {
  return e.code === 'ServiceUnavailable' || e.code === 'SessionExpired'
}

// One client writing keys TAG-CLIENT-I until stop(). NotALeader: the same
// key again on the next member. Any other failure: with retry (the
// retrying writers) a retriable one is tried again on the next member and
// the rest are "# failed KEY CODE"; without, the outcome is unknown ("#
// unknown KEY CODE"), and a lost connection moves to the next member.
async function writer (ports, tag, client, stop, out, retry) {
  let m = client % ports.length
  let d = driver(ports[m])
  for (let i = 0; !stop();) {
    const key = `${tag}-${client}-${i}`
    const s = d.session()
    try {
      await s.run(retry ? MERGE : CREATE, { tag, key })
      out.push(key)
      i++
    } catch (e) {
      const again = retry ? retriable(e) : notApplied(e)
      if (!again) {
        out.push(`# ${retry ? 'failed' : 'unknown'} ${key} ${e.code}: ${e.message}`)
        i++
      }
      if (again || connectionLost(e)) {
        await d.close().catch(() => {})
        m = (m + 1) % ports.length
        d = driver(ports[m])
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    } finally {
      await s.close().catch(() => {})
    }
  }
  await d.close().catch(() => {})
}

// CLIENTS writers against the members of CORE_PORTS until stop(); prints
// what they report as it comes.
async function runWriters (tag, clients, stop, retry) {
  const ports = (process.env.CORE_PORTS || '').split(',').filter(Boolean)
  const out = []
  const flush = setInterval(() => {
    while (out.length) console.log(out.shift())
  }, 50)
  const all = []
  for (let c = 0; c < clients; c++) all.push(writer(ports, tag, c, stop, out, retry))
  await Promise.all(all)
  clearInterval(flush)
  while (out.length) console.log(out.shift())
}

// Until a file rather than for a time: on a loaded machine a fixed time
// could end before the writes a suite waits for (a failover that took a
// few seconds left none after it).
async function writers (tag, clients, stopFile) {
  return runWriters(tag, clients, untilFile(stopFile), false)
}

function untilFile (f) {
  const fs = require('fs')
  return () => fs.existsSync(f)
}

// One writer for MS ms; after KILL_AFTER_MS it sends SIGKILL to pid KILL
// (the leader) and goes on, retrying on the next member at once; prints
// the longest time between two acknowledged writes that spans the kill.
async function gap (ms, killAfter, pid) {
  const ports = (process.env.CORE_PORTS || '').split(',').filter(Boolean)
  const until = Date.now() + ms
  let m = 0
  let d = driver(ports[m])
  let last = 0
  let killedAt = 0
  let worst = 0
  const start = Date.now()
  for (let i = 0; Date.now() < until; i++) {
    if (!killedAt && Date.now() - start >= killAfter) {
      process.kill(pid, 'SIGKILL')
      killedAt = Date.now()
    }
    const s = d.session()
    try {
      await s.run(CREATE, { tag: 'gap', key: `gap-${i}` })
      const now = Date.now()
      if (killedAt && last && now - last > worst) worst = now - last
      last = now
    } catch (e) {
      await d.close().catch(() => {})
      m = (m + 1) % ports.length
      d = driver(ports[m])
    } finally {
      await s.close().catch(() => {})
    }
  }
  await d.close().catch(() => {})
  console.log(worst)
}

// The failures a driver retries: the next member may take the write.
function retriable (e) {
  return notApplied(e) || connectionLost(e) ||
    (e.code || '').startsWith('Neo.TransientError.')
}

const MERGE = 'MERGE (:W {tag: $tag, key: $key})'

// CLIENTS writers that retry each key until it is acknowledged, moving to
// the next member on every retriable failure as a driver's transaction
// functions do (MERGE makes a retry of a commit whose answer was lost
// harmless), until the file STOP exists.
async function retrying (tag, clients, stopFile) {
  return runWriters(tag, clients, untilFile(stopFile), true)
}

// A canonical, name-based digest of database DB: every node as its sorted
// labels and properties, every relationship as its type, properties and
// the canonical text of its two ends, sorted. Ids, token numbering and
// expansion order may differ between members; this may not.
function canon (v) {
  v = text(v)
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']'
  if (v && typeof v === 'object') {
    return '{' + Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}'
  }
  return JSON.stringify(v)
}

async function digest (port, database) {
  const crypto = require('crypto')
  const nodes = await run(port, 'MATCH (n) RETURN labels(n) AS l, properties(n) AS p', {}, database)
  const rels = await run(port, 'MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, ' +
    'labels(a) AS al, properties(a) AS ap, labels(b) AS bl, properties(b) AS bp', {}, database)
  const lines = []
  for (const r of nodes.records) lines.push('N' + canon([r.get('l').sort(), r.get('p')]))
  for (const r of rels.records) {
    lines.push('R' + canon([r.get('t'), r.get('p'), r.get('al').sort(), r.get('ap'),
      r.get('bl').sort(), r.get('bp')]))
  }
  lines.sort()
  const h = crypto.createHash('sha256').update(lines.join('\n')).digest('hex')
  console.log(`${nodes.records.length} nodes ${rels.records.length} relationships ${h}`)
}

// fn(sessions) with CLIENTS sessions of one driver, each with its own
// connection, every connection open before fn starts.
async function withSessions (port, clients, fn) {
  const d = neo4j.driver(`bolt://127.0.0.1:${port}`, neo4j.auth.basic(
    process.env.GRAFT_USER || 'neo4j', process.env.GRAFT_PASSWORD || 'x'), {
    maxConnectionPoolSize: clients + 2, connectionTimeout: 5000, maxTransactionRetryTime: 0
  })
  const sessions = []
  try {
    for (let c = 0; c < clients; c++) {
      sessions.push(d.session())
      await sessions[c].run('RETURN 1')
    }
    await fn(sessions)
  } finally {
    for (const s of sessions) await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

// CLIENTS sessions all at once, ROUNDS times: in each round client c runs
// CREATE (:LABEL {k, c}) with k = ROUND * CLIENTS + c (MODE unique), or
// k = ROUND * CLIENTS/2 + floor(c/2) (MODE race: two clients for each
// key). Prints "ok K C BOOKMARK" or "fail K C CODE" for each attempt.
async function concurrent (port, mode, label, clients, rounds) {
  await withSessions(port, clients, async sessions => {
    for (let r = 0; r < rounds; r++) {
      await Promise.all(sessions.map(async (s, c) => {
        const k = mode === 'race' ? r * (clients / 2) + Math.floor(c / 2) : r * clients + c
        try {
          await s.run(`CREATE (:${label} {k: $k, c: $c})`, { k, c })
          console.log(`ok ${k} ${c} ${s.lastBookmarks().join(',')}`)
        } catch (e) {
          console.log(`fail ${k} ${c} ${e.code}`)
        }
      }))
    }
  })
}

// CLIENTS writes CREATE (:W {tag, key}) at once on this member, each on
// its own connection, none retried; prints "ok KEY" or "fail KEY CODE".
// GO (optional): once every connection is open, "ready" goes to stderr and
// the writes wait until the file GO exists.
async function burst (port, tag, clients, go) {
  const fire = sessions => Promise.all(sessions.map(async (s, c) => {
    const key = `${tag}-${c}`
    try {
      await s.run(CREATE, { tag, key })
      console.log(`ok ${key}`)
    } catch (e) {
      console.log(`fail ${key} ${e.code}`)
    }
  }))
  await withSessions(port, clients, async sessions => {
    if (go) {
      console.error('ready')
      while (!require('fs').existsSync(go)) await new Promise(resolve => setTimeout(resolve, 5))
    }
    await fire(sessions)
  })
}

// QUERIES run in one explicit transaction on database DB, then COMMIT;
// prints "committed", or fails with the first error.
async function txn (port, database, queries) {
  const d = driver(port)
  const s = d.session({ database })
  try {
    const tx = s.beginTransaction()
    for (const q of queries) await tx.run(q)
    await tx.commit()
    console.log('committed')
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

async function main () {
  const [cmd, ...args] = process.argv.slice(2)
  const port = process.env.BOLT_PORT
  if (cmd === 'write') return write(port, args[0], Number(args[1]))
  if (cmd === 'keys') return keys(port, args[0])
  if (cmd === 'schema') return schema(port, args[0], Number(args[1]))
  if (cmd === 'leaders') return leaders(port)
  if (cmd === 'role') return role(port, args[0])
  if (cmd === 'expect-error') return expectError(port, args[0], args[1], args[2])
  if (cmd === 'query') return query(port, args[0], args[1])
  if (cmd === 'bookmark') return bookmark(port, args[0], args[1])
  if (cmd === 'query-after') return queryAfter(port, args[0], args[1], args[2])
  if (cmd === 'retrying') return retrying(args[0], Number(args[1]), args[2])
  if (cmd === 'digest') return digest(port, args[0])
  if (cmd === 'gap') return gap(Number(args[0]), Number(args[1]), Number(args[2]))
  if (cmd === 'writers') return writers(args[0], Number(args[1]), args[2])
  if (cmd === 'concurrent') return concurrent(port, args[0], args[1], Number(args[2]), Number(args[3]))
  if (cmd === 'burst') return burst(port, args[0], Number(args[1]), args[2])
  if (cmd === 'txn') return txn(port, args[0], args.slice(1))
  throw new Error(`unknown command ${cmd}`)
}

if (require.main === module) {
  main().catch(e => {
    console.error(`cluster.js: ${e.message}`)
    process.exit(1)
  })
}

module.exports = { neo4j, driver, run }
