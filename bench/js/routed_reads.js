// The clients of bench/routing_reads.sh: one routing driver (neo4j://) with
// CONCURRENCY loops of executeRead point lookups of a random :P for SECONDS;
// prints one JSON line: the reads, their p50/p99 in ms and how many each
// server answered (summary.server.address).
//   node routed_reads.js URI SECONDS CONCURRENCY NODES
'use strict'
const neo4j = require('neo4j-driver')

async function main () {
  const [uri, seconds, concurrency, nodes] = process.argv.slice(2)
  const driver = neo4j.driver(uri, neo4j.auth.basic('neo4j', 'x'),
    { disableLosslessIntegers: true, maxConnectionPoolSize: Number(concurrency) })
  const lat = []
  const byServer = {}
  const end = Date.now() + 1000 * Number(seconds)
  const loop = async () => {
    const session = driver.session({ defaultAccessMode: neo4j.session.READ })
    try {
      while (Date.now() < end) {
        const id = 1 + Math.floor(Math.random() * Number(nodes))
        const t = process.hrtime.bigint()
        const r = await session.executeRead((tx) => tx.run('MATCH (n:P {id: $id}) RETURN n.id', { id }))
        lat.push(Number(process.hrtime.bigint() - t) / 1e6)
        const addr = r.summary.server.address
        byServer[addr] = (byServer[addr] || 0) + 1
      }
    } finally {
      await session.close()
    }
  }
  await Promise.all(Array.from({ length: Number(concurrency) }, loop))
  await driver.close()
  lat.sort((a, b) => a - b)
  const pct = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0
  console.log(JSON.stringify({ reads: lat.length, p50: pct(0.5), p99: pct(0.99), byServer }))
}
main().catch((e) => { console.error(e); process.exit(1) })
