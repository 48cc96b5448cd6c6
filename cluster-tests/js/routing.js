// Client side of cluster_routing.sh, with the official driver, auth off.
// CORE_PORTS lists every member's Bolt port; the routing driver dials
// neo4j://cluster.test with a resolver that names every member, so no
// member is special to it.
//   table PORT [PROC [POLICY]]   the routing table of member PORT for
//                       neo4j, from PROC (default
//                       dbms.routing.getRoutingTable) over bolt://, with
//                       routing context {policy: POLICY} if given: one
//                       "ROLE addr addr..." line per role
//   route PORT [POLICY] the same from a ROUTE request (the routing driver
//                       pointed at that member alone, resolver-free;
//                       neo4j://...?policy=POLICY)
//   info                verifyConnectivity() and getServerInfo() through
//                       routing; prints the address getServerInfo names
//   writes TAG CLIENTS MS   CLIENTS executeWrite loops for MS ms through
//                       the routing driver (MERGE: idempotent, as
//                       transaction functions must be); prints each
//                       acknowledged key and the member that acknowledged
//                       it ("key addr"); stops early once the file
//                       STOP_FILE exists
//   read-your-writes TAG N  N times: executeWrite on the leader, then
//                       executeRead with the bookmark; fails unless the
//                       read was served by another member and saw the write
//   lb-writes TAG PORT N   N MERGEs of (:L {key}) over bolt:// to PORT (a
//                       load balancer), each retried with a new connection
//                       while the failure says nothing was written or the
//                       connection was lost; prints each acknowledged key
//   lb-keys PORT        the keys of the (:L) nodes on PORT over bolt://,
//                       sorted, one a line
//   table-error PORT [POLICY]   the status code with which member PORT
//                       refuses its routing table, or "ok"
//   write-bookmark PORT KEY   CREATE (:B {key}) on member PORT over
//                       bolt://; prints the bookmark
//   query PORT CYPHER   runs CYPHER on member PORT over bolt://; prints
//                       the first column of each record, or the error code
//   server-side PORT TAG   server-side routing through member PORT (a
//                       follower) over bolt://: executeWrite runs on the
//                       leader and executeRead here (dbms.cluster.role),
//                       explicit transactions commit and roll back, a
//                       failing statement's error comes back and the
//                       session goes on, a large result streams, and a
//                       read here with the forwarded write's bookmark
//                       sees it; prints "ok"
//   ssr-write PORT KEY  executeWrite MERGE (:S {key}) over bolt:// to
//                       member PORT (retried as transaction functions are)
//   ssr-error PORT      the status code of an auto-commit write on member
//                       PORT over bolt://, or "ok"
//   read-bookmark PORT BOOKMARK KEY   counts (:B {key}) on member PORT
//                       with the bookmark; prints the count or the error
//                       code
//   reads N             N executeRead calls through the routing driver;
//                       prints the member that served each
//   readers-held PORTS MS ADDRS   for MS ms, the routing table of each
//                       member of PORTS (comma-separated) over and over:
//                       fails, printing each table that lacks it, unless
//                       every router but the writer and every address of
//                       ADDRS (comma-separated replicas) is in READ each
//                       time; prints "held in N tables"
'use strict'
const fs = require('fs')
const path = require('path')

const src = process.env.GRAFT_SRC_DIR || path.join(__dirname, '..', '..')
const neo4j = require(path.join(src, 'node_modules', 'neo4j-driver'))
const ports = (process.env.CORE_PORTS || '').split(',').filter(Boolean)
const auth = neo4j.auth.basic('neo4j', 'x')

function direct (port) {
  return neo4j.driver(`bolt://127.0.0.1:${port}`, auth, { connectionTimeout: 5000 })
}

function routed (seeds = ports, opts = {}, query = '') {
  return neo4j.driver(`neo4j://cluster.test:7687${query}`, auth, {
    resolver: () => seeds.map(p => `127.0.0.1:${p}`),
    connectionTimeout: 5000,
    maxTransactionRetryTime: 30000,
    ...opts
  })
}

function printTable (servers) {
  for (const s of servers) console.log([s.role, ...s.addresses].join(' '))
}

async function table (port, proc = 'dbms.routing.getRoutingTable', policy = '') {
  const d = direct(port)
  const s = d.session()
  try {
    const r = await s.run(`CALL ${proc}($context, 'neo4j')`, { context: policy ? { policy } : {} })
    console.log(`ttl ${r.records[0].get('ttl')}`)
    printTable(r.records[0].get('servers'))
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

async function route (port, policy = '') {
  // The driver's own ROUTE request, seen through its routing table; the
  // URI's query (?policy=) is the routing context it sends.
  const d = routed([port], {}, policy ? `?policy=${policy}` : '')
  try {
    await d.verifyConnectivity({ database: 'neo4j' })
    const rt = d._connectionProvider._routingTableRegistry.get('neo4j')
    console.log(['WRITE', ...rt.writers].join(' '))
    console.log(['READ', ...rt.readers].join(' '))
    console.log(['ROUTE', ...rt.routers].join(' '))
  } finally {
    await d.close().catch(() => {})
  }
}

async function info () {
  const d = routed()
  try {
    await d.verifyConnectivity()
    const i = await d.getServerInfo()
    console.log(i.address)
  } finally {
    await d.close().catch(() => {})
  }
}

async function writes (tag, clients, ms) {
  const d = routed()
  const until = Date.now() + ms
  const stop = process.env.STOP_FILE
  const going = () => Date.now() < until && !(stop && fs.existsSync(stop))
  const out = []
  const flush = setInterval(() => { while (out.length) console.log(out.shift()) }, 50)
  async function client (c) {
    for (let i = 0; going(); i++) {
      const key = `${tag}-${c}-${i}`
      const s = d.session({ database: 'neo4j' })
      try {
        // A transaction function may run again after a commit whose outcome
        // was lost with its connection: MERGE makes the retry harmless.
        const r = await s.executeWrite(tx => tx.run('MERGE (:W {tag: $tag, key: $key})', { tag, key }))
        out.push(`${key} ${r.summary.server.address}`)
      } finally {
        await s.close().catch(() => {})
      }
    }
  }
  try {
    const all = []
    for (let c = 0; c < clients; c++) all.push(client(c))
    await Promise.all(all)
  } finally {
    clearInterval(flush)
    while (out.length) console.log(out.shift())
    await d.close().catch(() => {})
  }
}

async function readYourWrites (tag, n) {
  const d = routed()
  try {
    for (let i = 0; i < n; i++) {
      const key = `${tag}-${i}`
      const w = d.session({ database: 'neo4j' })
      const wr = await w.executeWrite(tx => tx.run('CREATE (:R {key: $key})', { key }))
      const bookmarks = w.lastBookmarks()
      await w.close()
      const r = d.session({ database: 'neo4j', defaultAccessMode: neo4j.session.READ, bookmarks })
      const rr = await r.executeRead(tx => tx.run('MATCH (n:R {key: $key}) RETURN count(n) AS c', { key }))
      await r.close()
      const seen = rr.records[0].get('c').toNumber()
      const writer = wr.summary.server.address
      const reader = rr.summary.server.address
      if (reader === writer) throw new Error(`read ${key} was served by the writer ${writer}, not a follower`)
      if (seen !== 1) throw new Error(`read on ${reader} with bookmark ${bookmarks} saw ${seen} nodes for ${key} written on ${writer}`)
    }
    console.log(`${n} reads saw their writes`)
  } finally {
    await d.close().catch(() => {})
  }
}

// Runs one auto-commit query on member port with bookmarks; the result,
// or the error's status code as { code }.
async function runOn (port, query, params, bookmarks = []) {
  const d = direct(port)
  const s = d.session({ database: 'neo4j', bookmarks })
  try {
    const r = await s.run(query, params)
    return { r, bookmarks: s.lastBookmarks() }
  } catch (e) {
    return { code: e.code }
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

async function tableError (port, policy = '') {
  const x = await runOn(port, "CALL dbms.routing.getRoutingTable($context, 'neo4j')", { context: policy ? { policy } : {} })
  console.log(x.code || 'ok')
}

async function writeBookmark (port, key) {
  const x = await runOn(port, 'CREATE (:B {key: $key})', { key })
  if (x.code) throw new Error(`write on ${port}: ${x.code}`)
  console.log(x.bookmarks.join(','))
}

async function readBookmark (port, bookmark, key) {
  const x = await runOn(port, 'MATCH (n:B {key: $key}) RETURN count(n) AS c', { key }, [bookmark])
  console.log(x.code || x.r.records[0].get('c').toString())
}

const retriable = new Set(['ServiceUnavailable', 'SessionExpired',
  'Neo.ClientError.Cluster.NotALeader', 'Neo.TransientError.General.DatabaseUnavailable'])

async function lbWrites (tag, port, n) {
  const budget = Number(process.env.BUDGET || 120) * 1000
  for (let i = 0; i < n; i++) {
    const key = `${tag}-${i}`
    for (const start = Date.now(); ;) {
      const x = await runOn(port, 'MERGE (:L {key: $key})', { key })
      if (!x.code) break
      if (!retriable.has(x.code) || Date.now() - start > budget) throw new Error(`${key} through ${port}: ${x.code}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    console.log(key)
  }
}

async function lbKeys (port) {
  const x = await runOn(port, 'MATCH (n:L) RETURN n.key AS k', {})
  if (x.code) throw new Error(`keys on ${port}: ${x.code}`)
  for (const k of x.r.records.map(r => r.get('k')).sort()) console.log(k)
}

async function query (port, cypher) {
  const x = await runOn(port, cypher, {})
  if (x.code) return console.log(x.code)
  for (const r of x.r.records) console.log(String(r.get(0)))
}

function check (what, got, want) {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
}

async function roleIn (session, mode) {
  const work = tx => tx.run("CALL dbms.cluster.role('neo4j')")
  const r = mode === 'write' ? await session.executeWrite(work) : await session.executeRead(work)
  return r.records[0].get(0)
}

async function expectCode (promise, code) {
  try {
    await promise
  } catch (e) {
    return check('error code', e.code, code)
  }
  throw new Error(`no ${code} error`)
}

async function serverSide (port, tag) {
  const d = direct(port)
  const s = d.session({ database: 'neo4j' })
  try {
    check('executeWrite runs on', await roleIn(s, 'write'), 'LEADER')
    check('executeRead runs on', await roleIn(s, 'read'), 'FOLLOWER')
    await s.executeWrite(tx => tx.run('CREATE (:S {key: $k})', { k: `${tag}-w` }))
    const bookmarks = s.lastBookmarks()
    const tx = s.beginTransaction()
    await tx.run('CREATE (:S {key: $k})', { k: `${tag}-tx` })
    const inTx = await tx.run('MATCH (n:S {key: $k}) RETURN count(n)', { k: `${tag}-tx` })
    check('a write seen later in its explicit transaction', inTx.records[0].get(0).toNumber(), 1)
    await tx.commit()
    const rb = s.beginTransaction()
    await rb.run('CREATE (:S {key: $k})', { k: `${tag}-rolled-back` })
    await rb.rollback()
    await expectCode(s.run('CREATE (:S {key: 1 / 0})'), 'Neo.ClientError.Statement.ArithmeticError')
    await expectCode(s.executeWrite(tx => tx.run('MATCH (n) RETURN n.')), 'Neo.ClientError.Statement.SyntaxError')
    const big = await s.run('UNWIND range(1, 200000) AS i RETURN i')
    check('rows of a large forwarded result', big.records.length, 200000)
    const r = d.session({ database: 'neo4j', bookmarks: s.lastBookmarks(), defaultAccessMode: neo4j.session.READ })
    try {
      const seen = await r.executeRead(tx => tx.run('MATCH (n:S) WHERE n.key STARTS WITH $t RETURN n.key AS k ORDER BY k', { t: tag }))
      check('forwarded writes read here with their bookmarks', seen.records.map(x => x.get('k')).join(' '),
        `${tag}-tx ${tag}-w`)
    } finally {
      await r.close().catch(() => {})
    }
    check('a bookmark came back', bookmarks.length, 1)
    console.log('ok')
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

async function ssrWrite (port, key) {
  const d = neo4j.driver(`bolt://127.0.0.1:${port}`, auth, { connectionTimeout: 5000, maxTransactionRetryTime: 30000 })
  const s = d.session({ database: 'neo4j' })
  try {
    await s.executeWrite(tx => tx.run('MERGE (:S {key: $key})', { key }))
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

async function ssrError (port) {
  const x = await runOn(port, 'CREATE (:S {key: "x"})', {})
  console.log(x.code || 'ok')
}

async function reads (n) {
  // executeRead through the routing driver: prints the member that served
  // each read
  const d = routed()
  try {
    for (let i = 0; i < n; i++) {
      const s = d.session({ database: 'neo4j', defaultAccessMode: neo4j.session.READ })
      try {
        const r = await s.executeRead(tx => tx.run('MATCH (n) RETURN count(n) AS c'))
        console.log(r.summary.server.address)
      } finally {
        await s.close().catch(() => {})
      }
    }
  } finally {
    await d.close().catch(() => {})
  }
}

async function readersHeld (ports, ms, addrs) {
  const want = addrs.split(',').filter(Boolean)
  const drivers = ports.split(',').map(p => [p, direct(p)])
  const until = Date.now() + ms
  let tables = 0
  let misses = 0
  try {
    while (Date.now() < until) {
      for (const [port, d] of drivers) {
        const s = d.session()
        try {
          const r = await s.run("CALL dbms.routing.getRoutingTable({}, 'neo4j')")
          const servers = r.records[0].get('servers')
          const of = role => (servers.find(x => x.role === role) || { addresses: [] }).addresses
          const writers = of('WRITE')
          const readers = of('READ')
          const lacking = [...of('ROUTE').filter(a => !writers.includes(a)), ...want]
            .filter(a => !readers.includes(a))
          tables++
          if (lacking.length) {
            misses++
            console.log(`member ${port} left ${lacking.join(' ')} out of READ (READ ${readers.join(' ')})`)
          }
        } finally {
          await s.close().catch(() => {})
        }
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  } finally {
    for (const [, d] of drivers) await d.close().catch(() => {})
  }
  if (misses) throw new Error(`${misses} of ${tables} tables left a reader out`)
  console.log(`held in ${tables} tables`)
}

async function main () {
  const [cmd, ...args] = process.argv.slice(2)
  if (cmd === 'table') return table(args[0], args[1], args[2])
  if (cmd === 'route') return route(args[0], args[1])
  if (cmd === 'info') return info()
  if (cmd === 'writes') return writes(args[0], Number(args[1]), Number(args[2]))
  if (cmd === 'read-your-writes') return readYourWrites(args[0], Number(args[1]))
  if (cmd === 'table-error') return tableError(args[0], args[1])
  if (cmd === 'lb-keys') return lbKeys(args[0])
  if (cmd === 'lb-writes') return lbWrites(args[0], args[1], Number(args[2]))
  if (cmd === 'write-bookmark') return writeBookmark(args[0], args[1])
  if (cmd === 'query') return query(args[0], args[1])
  if (cmd === 'server-side') return serverSide(args[0], args[1])
  if (cmd === 'ssr-write') return ssrWrite(args[0], args[1])
  if (cmd === 'ssr-error') return ssrError(args[0])
  if (cmd === 'read-bookmark') return readBookmark(args[0], args[1], args[2])
  if (cmd === 'reads') return reads(Number(args[0]))
  if (cmd === 'readers-held') return readersHeld(args[0], Number(args[1]), args[2] || '')
  throw new Error(`unknown command ${cmd}`)
}

main().catch(e => {
  console.error(`routing.js: ${e.code || ''} ${e.message}`)
  process.exit(1)
})
