// The long reader of bench/old_versions.sh: one read transaction that sums
// every :P's v at its start, holds its snapshot for HOLD_MS while writers
// change those nodes, sums again in the same transaction and prints both
// (equal under snapshot isolation), or the error that ended it.
//   node long_reader.js HOST:PORT HOLD_MS
'use strict'
const neo4j = require('neo4j-driver')

async function main () {
  const [addr, holdMs] = process.argv.slice(2)
  const driver = neo4j.driver(`bolt://${addr}`, neo4j.auth.basic('neo4j', 'x'),
    { disableLosslessIntegers: true })
  const session = driver.session({ defaultAccessMode: neo4j.session.READ })
  const sum = async (tx) => (await tx.run('MATCH (n:P) RETURN sum(n.v) AS s')).records[0].get('s')
  const tx = await session.beginTransaction()
  try {
    const first = await sum(tx)
    console.log(`  reader: sum at its start ${first}`)
    await new Promise((resolve) => setTimeout(resolve, Number(holdMs)))
    const again = await sum(tx)
    console.log(`  reader: sum ${holdMs} ms later in the same transaction ${again}` +
      (again === first ? ' (the same snapshot)' : ' (NOT the same snapshot)'))
    await tx.commit()
  } catch (e) {
    console.log(`  reader: ended by the server: ${e.code}: ${e.message}`)
  } finally {
    await session.close()
    await driver.close()
  }
}
main().catch((e) => { console.error(e); process.exit(1) })
