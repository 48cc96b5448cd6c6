// Client side of net_host_names.sh and the bookmark_*.sh suites, with the
// official driver, auth off. Members are named by host name (localhost),
// not by IP address.
//   routed PORT TAG N   through neo4j://localhost:PORT (no resolver: the
//                       driver follows the routing table's addresses),
//                       N executeWrite MERGE (:H {tag, key}), then one
//                       executeRead with the session's bookmarks counting
//                       them; prints the routing table ("ROLE addr..."
//                       lines), then "wrote N read M"
//   ssr-write PORT KEY  executeWrite MERGE (:H {tag: 'ssr', key}) over
//                       bolt://localhost:PORT (server-side routing on a
//                       follower); prints the address that answered
//   write-bookmark PORT DB   CREATE (:B) in DB on bolt://localhost:PORT;
//                       prints the bookmark
//   read-bookmark PORT DB BOOKMARK   counts (:B) in DB with BOOKMARK;
//                       prints the count, or the error's code and message
//   admin PORT CYPHER   runs CYPHER in the system database
//   ping URL            RETURN 1 through URL (e.g. bolt://[::1]:7687);
//                       prints 1
'use strict'
const dns = require('dns')
const path = require('path')

// The members listen on 127.0.0.1 only. Where localhost resolves to ::1
// first (a fresh Debian 12's /etc/hosts, Node 17 and later keep that
// order), the driver would try ::1 and be refused.
dns.setDefaultResultOrder('ipv4first')

const src = process.env.GRAFT_SRC_DIR || path.join(__dirname, '..', '..')
const neo4j = require(path.join(src, 'node_modules', 'neo4j-driver'))
const auth = neo4j.auth.basic('neo4j', 'x')
const opts = { connectionTimeout: 5000, maxTransactionRetryTime: 30000 }

async function withDriver (url, fn) {
  const d = neo4j.driver(url, auth, opts)
  try {
    return await fn(d)
  } finally {
    await d.close().catch(() => {})
  }
}

async function routed (port, tag, n) {
  await withDriver(`neo4j://localhost:${port}`, async d => {
    const s = d.session({ database: 'neo4j' })
    try {
      for (let i = 0; i < n; i++) {
        await s.executeWrite(tx => tx.run('MERGE (:H {tag: $tag, key: $key})', { tag, key: `${tag}-${i}` }))
      }
      const r = await s.executeRead(tx => tx.run('MATCH (h:H {tag: $tag}) RETURN count(h) AS n', { tag }))
      const rt = d._connectionProvider._routingTableRegistry.get('neo4j')
      console.log(['WRITE', ...rt.writers].join(' '))
      console.log(['READ', ...rt.readers].join(' '))
      console.log(['ROUTE', ...rt.routers].join(' '))
      console.log(`wrote ${n} read ${r.records[0].get('n').toNumber()}`)
    } finally {
      await s.close().catch(() => {})
    }
  })
}

async function ssrWrite (port, key) {
  await withDriver(`bolt://localhost:${port}`, async d => {
    const s = d.session({ database: 'neo4j' })
    try {
      const r = await s.executeWrite(tx => tx.run("MERGE (:H {tag: 'ssr', key: $key})", { key }))
      console.log(r.summary.server.address)
    } finally {
      await s.close().catch(() => {})
    }
  })
}

async function writeBookmark (port, db) {
  await withDriver(`bolt://localhost:${port}`, async d => {
    const s = d.session({ database: db })
    try {
      await s.run('CREATE (:B)')
      console.log(s.lastBookmarks().join(','))
    } finally {
      await s.close().catch(() => {})
    }
  })
}

async function readBookmark (port, db, bookmark) {
  await withDriver(`bolt://localhost:${port}`, async d => {
    const s = d.session({ database: db, bookmarks: bookmark.split(','), defaultAccessMode: neo4j.session.READ })
    try {
      const r = await s.run('MATCH (b:B) RETURN count(b) AS n')
      console.log(String(r.records[0].get('n').toNumber()))
    } catch (e) {
      console.log(`${e.code} ${e.message}`)
    } finally {
      await s.close().catch(() => {})
    }
  })
}

async function admin (port, cypher) {
  await withDriver(`bolt://localhost:${port}`, async d => {
    const s = d.session({ database: 'system' })
    try {
      await s.run(cypher)
    } finally {
      await s.close().catch(() => {})
    }
  })
}

async function ping (url) {
  await withDriver(url, async d => {
    const s = d.session()
    try {
      const r = await s.run('RETURN 1 AS n')
      console.log(String(r.records[0].get('n').toNumber()))
    } finally {
      await s.close().catch(() => {})
    }
  })
}

async function main () {
  const [cmd, ...args] = process.argv.slice(2)
  if (cmd === 'routed') return routed(args[0], args[1], Number(args[2]))
  if (cmd === 'ssr-write') return ssrWrite(args[0], args[1])
  if (cmd === 'write-bookmark') return writeBookmark(args[0], args[1])
  if (cmd === 'read-bookmark') return readBookmark(args[0], args[1], args[2])
  if (cmd === 'admin') return admin(args[0], args[1])
  if (cmd === 'ping') return ping(args[0])
  throw new Error(`unknown command ${cmd}`)
}

main().catch(e => {
  console.error(`net.js: ${e.code || ''} ${e.message}`)
  process.exit(1)
})
