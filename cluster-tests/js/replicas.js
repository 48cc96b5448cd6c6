// Client side of the read-replica suites, with the official driver, auth
// off, bolt:// to one member at a time:
//   bookmark-read WRITE_PORT READ_PORT KEY
//                       writes (:W {tag:'bm', key}) on WRITE_PORT, then reads
//                       it on READ_PORT in a session given the write's
//                       bookmark; fails unless the read sees it
//   digest PORT         a digest of the whole default database by names and
//                       values (labels, types, properties; not internal
//                       ids), equal on members holding the same graph
//   proxy FROM:TO...    forwards each loopback port FROM to TO; on every
//                       connection, flips one byte 40 bytes after the
//                       upstream's first line (inside the first record of a
//                       catch-up stream); prints "ready" once listening
//   relay FROM:TO...    forwards each loopback port FROM to TO unchanged
//                       (streams that a test holds up with SIGSTOP);
//                       prints "ready" once listening
//   store-proxy FILE FROM:TO...
//                       the same, but flips only in store copies (inside the
//                       checkpoint's bytes), and only while FILE exists
//   store-stall FILE FROM:TO...
//                       forwards unchanged, but a store copy that starts
//                       while FILE exists stops after its first line and
//                       1 MB: the proxy stops reading the upstream (whose
//                       socket fills) and prints "stalled"; once FILE is
//                       removed, it cuts both sides of that connection
//   bulk PORT TAG N TXS [PAD]  TXS transactions of N (:B {tag, i, pad})
//                       nodes each, pad a string of PAD bytes (80: about
//                       100 bytes a node)
//   count PORT TAG      how many (:B {tag}) nodes PORT holds
'use strict'
const net = require('net')
const crypto = require('crypto')
const fs = require('fs')

const { neo4j, driver } = require('./cluster.js')

async function bookmarkRead (writePort, readPort, key) {
  const w = driver(writePort)
  const r = driver(readPort)
  try {
    const ws = w.session()
    await ws.run('CREATE (:W {tag: "bm", key: $key})', { key })
    const bookmarks = ws.lastBookmarks()
    await ws.close()
    if (!bookmarks.length) throw new Error('the write returned no bookmark')
    const rs = r.session({ bookmarks, defaultAccessMode: neo4j.session.READ })
    const res = await rs.run('MATCH (n:W {key: $key}) RETURN count(n) AS c', { key })
    await rs.close()
    const c = res.records[0].get('c').toNumber()
    if (c !== 1) throw new Error(`the bookmarked read saw ${c} nodes with key ${key}, expected 1`)
    console.log(bookmarks.join(','))
  } finally {
    await w.close().catch(() => {})
    await r.close().catch(() => {})
  }
}

function canon (v) {
  if (neo4j.isInt(v)) return v.toString()
  if (Array.isArray(v)) return v.map(canon)
  if (v && typeof v === 'object') {
    const o = {}
    for (const k of Object.keys(v).sort()) o[k] = canon(v[k])
    return o
  }
  return v
}

async function digest (port) {
  const d = driver(port)
  const s = d.session({ defaultAccessMode: neo4j.session.READ })
  try {
    const nodes = await s.run('MATCH (n) RETURN labels(n) AS l, properties(n) AS p')
    const rels = await s.run('MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, ' +
      'properties(a) AS a, properties(b) AS b')
    const lines = nodes.records.map(x => JSON.stringify(['N', x.get('l').sort(), canon(x.get('p'))]))
      .concat(rels.records.map(x => JSON.stringify(['R', x.get('t'), canon(x.get('p')),
        canon(x.get('a')), canon(x.get('b'))])))
      .sort()
    const h = crypto.createHash('sha256')
    for (const l of lines) h.update(l + '\n')
    console.log(`${lines.length} ${h.digest('hex')}`)
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

async function bulk (port, tag, n, txs, pad = 80) {
  const d = driver(port)
  const s = d.session()
  try {
    for (let t = 0; t < txs; t++) {
      await s.run('UNWIND range(1, $n) AS i CREATE (:B {tag: $tag, i: $t * $n + i, pad: $pad})',
        { n: neo4j.int(n), t: neo4j.int(t), tag, pad: 'x'.repeat(pad) })
    }
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

async function count (port, tag) {
  const d = driver(port)
  const s = d.session({ defaultAccessMode: neo4j.session.READ })
  try {
    const r = await s.run('MATCH (n:B {tag: $tag}) RETURN count(n) AS c', { tag })
    console.log(r.records[0].get('c').toString())
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

// damage(firstLine): whether to flip a byte on this connection;
// stall(firstLine): whether to stop forwarding it 1 MB after that line;
// release(): whether a stalled connection is to be cut now
function proxy (pairs, damage = () => true, stall = () => false, release = () => false) {
  let pending = pairs.length
  for (const pair of pairs) {
    const [from, to] = pair.split(':').map(Number)
    const server = net.createServer(client => {
      const up = net.connect(to, '127.0.0.1')
      let seen = 0
      let flipAt = -1
      let stallAt = -1
      let firstLine = true
      up.on('data', buf => {
        const nl = firstLine ? buf.indexOf(10) : -1
        if (nl >= 0) {
          firstLine = false
          const line = buf.subarray(0, nl).toString()
          if (damage(line)) flipAt = seen + nl + 1 + 40
          if (stall(line)) stallAt = seen + nl + 1 + (1 << 20)
        }
        if (stallAt >= 0 && seen + buf.length >= stallAt) {
          if (stallAt > seen) client.write(buf.subarray(0, stallAt - seen))
          if (seen < stallAt) {
            console.log('stalled')
            const t = setInterval(() => {
              if (release()) { clearInterval(t); end() }
            }, 100)
            client.on('close', () => clearInterval(t))
          }
          seen = stallAt
          up.pause()
          return
        }
        if (flipAt >= 0 && flipAt >= seen && flipAt < seen + buf.length) {
          buf = Buffer.from(buf)
          buf[flipAt - seen] ^= 0x01
        }
        seen += buf.length
        client.write(buf)
      })
      client.on('data', b => up.write(b))
      const end = () => { client.destroy(); up.destroy() }
      up.on('error', end)
      up.on('close', end)
      client.on('error', end)
      client.on('close', end)
    })
    server.listen(from, '127.0.0.1', () => {
      if (--pending === 0) console.log('ready')
    })
  }
}

async function main () {
  const [cmd, ...args] = process.argv.slice(2)
  if (cmd === 'bookmark-read') return bookmarkRead(args[0], args[1], args[2])
  if (cmd === 'digest') return digest(args[0])
  if (cmd === 'proxy') return proxy(args)
  if (cmd === 'relay') return proxy(args, () => false)
  if (cmd === 'store-stall') {
    return proxy(args.slice(1), () => false, line => line.includes(' STORE ') && fs.existsSync(args[0]),
      () => !fs.existsSync(args[0]))
  }
  if (cmd === 'store-proxy') {
    return proxy(args.slice(1), line => line.includes(' STORE ') && fs.existsSync(args[0]))
  }
  if (cmd === 'bulk') return bulk(args[0], args[1], Number(args[2]), Number(args[3]), Number(args[4] || 80))
  if (cmd === 'count') return count(args[0], args[1])
  throw new Error(`unknown command ${cmd}`)
}

main().catch(e => {
  console.error(`replicas.js: ${e.message}`)
  process.exit(1)
})
