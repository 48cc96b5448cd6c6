// Shared by the end-to-end suites: the official driver from the repository's
// node_modules (pinned in package-lock.json), a driver factory for the server
// the calling cluster-tests script started, and small assertions that name
// what failed. Every suite ends with the plain "N passed, N failed" line.
'use strict'
const path = require('path')

const src = process.env.GRAFT_SRC_DIR || path.join(__dirname, '..', '..')
const neo4j = require(path.join(src, 'node_modules', 'neo4j-driver'))
const port = process.env.BOLT_PORT
if (!port) throw new Error('BOLT_PORT is not set: run through the cluster-tests script')

let passed = 0
let failed = 0

function driver (user, password, scheme = 'bolt') {
  return neo4j.driver(`${scheme}://127.0.0.1:${port}`, neo4j.auth.basic(user, password), {
    maxConnectionPoolSize: 4,
    connectionTimeout: 10000,
    connectionAcquisitionTimeout: 20000
  })
}

// Runs one auto-commit statement with a fresh driver and closes it.
async function run (user, password, query, params = {}, database) {
  const d = driver(user, password)
  const session = d.session(database ? { database } : {})
  try {
    return await session.run(query, params)
  } finally {
    await session.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

// Expects the promise to fail with Neo4j status `code`; returns the error.
async function expectError (promise, code, what) {
  let err = null
  try {
    await promise
  } catch (e) {
    err = e
  }
  if (err === null) throw new Error(`${what}: succeeded, expected ${code}`)
  if (err.code !== code) throw new Error(`${what}: got ${err.code} (${err.message}), expected ${code}`)
  return err
}

// A returned number: neo4j Integer (from an integer) or a JS number.
function num (v) {
  return typeof v === 'number' ? v : v.toNumber()
}

function check (cond, what) {
  if (!cond) throw new Error(what)
}

// Runs the named steps in order; a failed step is reported and the suite
// goes on, so one run shows everything that is broken.
async function suite (name, steps) {
  for (const [title, fn] of steps) {
    try {
      await fn()
      passed++
      console.log(`ok   ${name}: ${title}`)
    } catch (e) {
      failed++
      console.log(`FAIL ${name}: ${title}: ${e.stack || e}`)
    }
  }
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed === 0 ? 0 : 1)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

module.exports = { neo4j, driver, run, expectError, check, num, suite, sleep }
