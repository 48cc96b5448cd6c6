// Authentication with the official driver against a fresh graftd: the first
// login's required password change, wrong passwords, the rate limit, user
// management, and a password set offline by graft-admin (phase "reset").
'use strict'
const { run, expectError, check, num, suite, sleep, driver } = require('./lib')

const EXPIRED = 'Neo.ClientError.Security.CredentialsExpired'
const UNAUTHORIZED = 'Neo.ClientError.Security.Unauthorized'
const RATE_LIMIT = 'Neo.ClientError.Security.AuthenticationRateLimit'
const NEW_PW = 'first-secret-1'
const lockMs = Number(process.env.LOCK_MS || 2000)

const firstStart = [
  ['neo4j/neo4j logs in but must change its password first', async () => {
    await expectError(run('neo4j', 'neo4j', 'RETURN 1'), EXPIRED, 'RETURN 1 before the change')
  }],
  ['a new password equal to the old one is refused', async () => {
    await expectError(run('neo4j', 'neo4j', "ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO 'neo4j'", {}, 'system'),
      'Neo.ClientError.General.InvalidArguments', 'same password')
  }],
  ['ALTER CURRENT USER SET PASSWORD clears the requirement', async () => {
    await run('neo4j', 'neo4j', 'ALTER CURRENT USER SET PASSWORD FROM $old TO $new',
      { old: 'neo4j', new: NEW_PW }, 'system')
    const r = await run('neo4j', NEW_PW, 'RETURN 1 AS one')
    check(num(r.records[0].get('one')) === 1, 'RETURN 1 after the change')
  }],
  ['the old password no longer works', async () => {
    await expectError(run('neo4j', 'neo4j', 'RETURN 1'), UNAUTHORIZED, 'old password')
  }],
  ['wrong password and unknown user are Unauthorized', async () => {
    await expectError(run('neo4j', 'not-the-password', 'RETURN 1'), UNAUTHORIZED, 'wrong password')
    await expectError(run('nobody', NEW_PW, 'RETURN 1'), UNAUTHORIZED, 'unknown user')
    await run('neo4j', NEW_PW, 'RETURN 1') // resets neo4j's failure count
  }],
  ['CREATE USER, SHOW USERS, a new user logs in', async () => {
    await run('neo4j', NEW_PW, "CREATE USER alice SET PASSWORD 'alice-pass-1' CHANGE NOT REQUIRED", {}, 'system')
    await run('neo4j', NEW_PW, "CREATE USER bob SET PASSWORD 'bob-pass-1'", {}, 'system')
    const r = await run('neo4j', NEW_PW, 'SHOW USERS', {}, 'system')
    const users = Object.fromEntries(r.records.map((x) => [x.get('user'), x.get('passwordChangeRequired')]))
    check(users.alice === false && users.bob === true && users.neo4j === false,
      `SHOW USERS: ${JSON.stringify(users)}`)
    const a = await run('alice', 'alice-pass-1', 'RETURN 2 AS two')
    check(num(a.records[0].get('two')) === 2, 'alice runs a query')
    await expectError(run('bob', 'bob-pass-1', 'RETURN 1'), EXPIRED, 'bob must change first')
  }],
  ['a suspended user cannot log in; DROP USER removes it', async () => {
    await run('neo4j', NEW_PW, 'ALTER USER bob SET STATUS SUSPENDED', {}, 'system')
    await expectError(run('bob', 'bob-pass-1', 'RETURN 1'), UNAUTHORIZED, 'suspended bob')
    await run('neo4j', NEW_PW, 'DROP USER bob', {}, 'system')
    await expectError(run('neo4j', NEW_PW, 'DROP USER bob', {}, 'system'),
      'Neo.ClientError.General.InvalidArguments', 'dropping bob twice')
  }],
  ['repeated failures lock the user for the lock time', async () => {
    for (let i = 0; i < 3; i++) {
      await expectError(run('alice', 'wrong', 'RETURN 1'), UNAUTHORIZED, `failure ${i + 1}`)
    }
    await expectError(run('alice', 'alice-pass-1', 'RETURN 1'), RATE_LIMIT, 'right password while locked')
    await run('neo4j', NEW_PW, 'RETURN 1') // others are not locked
    await sleep(lockMs + 500)
    await run('alice', 'alice-pass-1', 'RETURN 1')
  }],
  ['an explicit transaction\'s user commands commit together, or none of them', async () => {
    const systemTxn = async () => {
      const r = await run('neo4j', NEW_PW, "SHOW DATABASES YIELD name, lastCommittedTxn WHERE name = 'system' RETURN lastCommittedTxn", {}, 'system')
      return num(r.records[0].get('lastCommittedTxn'))
    }
    // In one transaction, each user command sees the ones before it.
    const inTx = async (queries) => {
      const d = driver('neo4j', NEW_PW)
      const s = d.session({ database: 'system' })
      try {
        const tx = await s.beginTransaction()
        for (const q of queries) await tx.run(q)
        await tx.commit()
      } finally {
        await s.close().catch(() => {})
        await d.close().catch(() => {})
      }
    }
    const before = await systemTxn()
    await inTx(["CREATE USER carol SET PASSWORD 'carol-pass-1'", "CREATE USER dave SET PASSWORD 'dave-pass-1'",
      "ALTER USER carol SET PASSWORD 'carol-pass-2' CHANGE NOT REQUIRED", 'DROP USER dave'])
    const after = await systemTxn()
    check(after === before + 1, `four user commands took system transactions ${before}..${after}, not one`)
    await run('carol', 'carol-pass-2', 'RETURN 1')
    await expectError(run('dave', 'dave-pass-1', 'RETURN 1'), UNAUTHORIZED, 'dave, created and dropped')
    const err = await expectError(inTx(["CREATE USER erin SET PASSWORD 'erin-pass-1'", "CREATE USER carol SET PASSWORD 'carol-pass-3'"]),
      'Neo.ClientError.General.InvalidArguments', 'a transaction creating carol again')
    check(/already exists/.test(err.message), `the failure says: ${err.message}`)
    await expectError(run('erin', 'erin-pass-1', 'RETURN 1'), UNAUTHORIZED, 'erin, from the failed transaction')
    check(await systemTxn() === after, 'the failed transaction committed something to system')
  }],
  ['a transaction mixing a database command with a user command is refused before anything applies', async () => {
    const FORBIDDEN = 'Neo.ClientError.Transaction.ForbiddenDueToTransactionType'
    const databases = async () => {
      const r = await run('neo4j', NEW_PW, 'SHOW DATABASES YIELD name RETURN name', {}, 'system')
      return r.records.map(x => x.get('name')).sort().join(',')
    }
    const before = await databases()
    const mixes = [
      ["CREATE USER frank SET PASSWORD 'frank-pass-1'", 'CREATE DATABASE mixone'],
      ['CREATE DATABASE mixone', "CREATE USER frank SET PASSWORD 'frank-pass-1'"],
      ['CREATE DATABASE mixone', 'CREATE DATABASE mixtwo']
    ]
    for (const queries of mixes) {
      const d = driver('neo4j', NEW_PW)
      const s = d.session({ database: 'system' })
      try {
        const tx = await s.beginTransaction()
        await tx.run(queries[0])
        const err = await expectError(tx.run(queries[1]), FORBIDDEN, queries.join(' then '))
        check(/in a transaction of its own/.test(err.message), `the refusal says what to do: ${err.message}`)
      } finally {
        await s.close().catch(() => {})
        await d.close().catch(() => {})
      }
    }
    check(await databases() === before, `the refused transactions changed the databases: ${await databases()}`)
    await expectError(run('frank', 'frank-pass-1', 'RETURN 1'), UNAUTHORIZED, 'frank, from a refused transaction')
  }],
  ['neo4j:// with a pooled driver: one login, many sessions', async () => {
    const d = driver('alice', 'alice-pass-1', 'neo4j')
    try {
      for (let i = 0; i < 5; i++) {
        const s = d.session()
        const r = await s.run('RETURN $i AS i', { i })
        check(num(r.records[0].get('i')) === i, `session ${i}`)
        await s.close()
      }
    } finally {
      await d.close()
    }
  }]
]

const reset = [
  ['a password set offline by graft-admin works, no change required', async () => {
    const r = await run('neo4j', 'reset-secret-1', 'RETURN 1 AS one')
    check(num(r.records[0].get('one')) === 1, 'RETURN 1 with the reset password')
    await expectError(run('neo4j', NEW_PW, 'RETURN 1'), UNAUTHORIZED, 'the previous password')
  }],
  ['users created before the restart are still there', async () => {
    await run('alice', 'alice-pass-1', 'RETURN 1')
  }]
]

suite('auth', process.argv[2] === 'reset' ? reset : firstStart)
