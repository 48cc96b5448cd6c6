// The security holes of the adversarial review, closed, through the official
// driver against a fresh graftd: the forced password change cannot be
// skipped, the system database runs administration only, password literals
// never show in SHOW TRANSACTIONS, dbms.listQueries or errors, and a user
// command's bookmark covers its change. Names are never cut at a NUL.
'use strict'
const { driver, run, expectError, check, num, suite } = require('./lib')

const EXPIRED = 'Neo.ClientError.Security.CredentialsExpired'
const INVALID = 'Neo.ClientError.General.InvalidArguments'
const SEMANTIC = 'Neo.ClientError.Statement.SemanticError'
const NOT_SYSTEM = 'Not a recognised system command or procedure. This Cypher command can only be executed in a user database'
const PW = 'admin-secret-1'

// Runs fn(session) on one connection of a fresh driver for user/password.
async function onSystem (user, password, fn) {
  const d = driver(user, password)
  const s = d.session({ database: 'system' })
  try {
    return await fn(s)
  } finally {
    await s.close().catch(() => {})
    await d.close().catch(() => {})
  }
}

const admin = (q, params = {}, db = 'system') => run('neo4j', PW, q, params, db)

const steps = [
  ['a password change rolled back leaves the change required', async () => {
    await onSystem('neo4j', 'neo4j', async (s) => {
      const tx = await s.beginTransaction()
      await tx.run("ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO 'skipped-pw-1'")
      await tx.rollback()
      await expectError(s.run('SHOW USERS'), EXPIRED, 'SHOW USERS after the rollback')
    })
    await expectError(run('neo4j', 'skipped-pw-1', 'RETURN 1'),
      'Neo.ClientError.Security.Unauthorized', 'the rolled back password')
  }],
  ['a wrong old password fails the commit and leaves the change required', async () => {
    await onSystem('neo4j', 'neo4j', async (s) => {
      const tx = await s.beginTransaction()
      await tx.run("ALTER CURRENT USER SET PASSWORD FROM 'not-neo4j' TO 'skipped-pw-1'")
      const e = await expectError(tx.commit(), INVALID, 'commit with a wrong old password')
      check(e.message.includes("User 'neo4j' failed to alter their own password: Invalid principal or credentials."),
        `message: ${e.message}`)
      await expectError(s.run('SHOW USERS'), EXPIRED, 'SHOW USERS after the failed commit')
    })
  }],
  ['a committed change in an explicit transaction lifts the requirement', async () => {
    await onSystem('neo4j', 'neo4j', async (s) => {
      const tx = await s.beginTransaction()
      await tx.run('ALTER CURRENT USER SET PASSWORD FROM $old TO $new', { old: 'neo4j', new: PW })
      await tx.commit()
      const r = await s.run('SHOW CURRENT USER YIELD user, passwordChangeRequired')
      check(r.records[0].get('passwordChangeRequired') === false, 'passwordChangeRequired after the commit')
    })
  }],
  ['plain Cypher on system is refused with Neo4j\'s error', async () => {
    const queries = [
      'MATCH (u:User) RETURN u.credentials',
      "CREATE (:User {name: 'eve', credentials: 'pbkdf2-sha256$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', suspended: false})",
      'MATCH (u:User) SET u.suspended = false',
      'MATCH (r:__SchemaRule) RETURN r',
      'RETURN 1',
      'CALL db.labels()',
      'SHOW USERS YIELD user WHERE EXISTS { MATCH (u:User) WHERE u.credentials STARTS WITH "pbkdf2" } RETURN user',
      'CALL dbms.components() YIELD name RETURN exists { (u:User) } AS c',
      'CREATE INDEX FOR (n:User) ON (n.name)'
    ]
    for (const q of queries) {
      const e = await expectError(admin(q), SEMANTIC, q)
      check(e.message.startsWith(NOT_SYSTEM), `${q}: ${e.message}`)
    }
    await expectError(admin('USE system MATCH (u:User) RETURN u.credentials', {}, 'neo4j'), SEMANTIC,
      'USE system from the default database')
    await expectError(run('eve', 'x', 'RETURN 1'), 'Neo.ClientError.Security.Unauthorized', 'eve')
  }],
  ['administration, SHOW and DBMS procedures still run on system', async () => {
    await admin("CREATE USER frank SET PASSWORD 'frank-pass-1' CHANGE NOT REQUIRED")
    const users = (await admin('SHOW USERS YIELD user RETURN user')).records.map((r) => r.get('user'))
    check(users.includes('frank') && users.includes('neo4j'), `SHOW USERS: ${users}`)
    await admin('SHOW DATABASES')
    await admin('SHOW TRANSACTIONS')
    await admin('CALL db.ping()')
    const c = await admin('CALL dbms.components() YIELD name RETURN name')
    check(c.records.length === 1, 'dbms.components')
    await admin('ALTER USER frank SET STATUS SUSPENDED')
    await admin('DROP USER frank')
    const r = await admin('USE neo4j RETURN 1 AS one')
    check(num(r.records[0].get('one')) === 1, 'USE neo4j from a system session')
  }],
  ['a quoted name with a NUL in it is refused, not cut at the NUL', async () => {
    await admin("CREATE USER grace SET PASSWORD 'grace-pass-1' CHANGE NOT REQUIRED")
    await expectError(admin("CREATE USER `bob\u0000evil` SET PASSWORD 'bob-pass-12'"),
      'Neo.ClientError.Statement.SyntaxError', 'CREATE USER with a NUL in the name')
    await expectError(admin('DROP USER `grace\u0000x`'),
      'Neo.ClientError.Statement.SyntaxError', 'DROP USER with a NUL in the name')
    const users = (await admin('SHOW USERS YIELD user RETURN user')).records.map((r) => r.get('user'))
    check(!users.includes('bob') && users.includes('grace'), `SHOW USERS: ${users}`)
    await admin('DROP USER grace')
  }],
  ['SHOW TRANSACTIONS and dbms.listQueries show password literals as ******', async () => {
    await onSystem('neo4j', PW, async (s) => {
      const tx = await s.beginTransaction()
      await tx.run("CREATE USER carol SET PASSWORD 'carol-secret-1' CHANGE NOT REQUIRED")
      try {
        const shown = (await admin('SHOW TRANSACTIONS YIELD currentQuery RETURN currentQuery'))
          .records.map((r) => r.get('currentQuery')).filter((q) => q.includes('carol'))
        const listed = (await admin('CALL dbms.listQueries() YIELD query RETURN query'))
          .records.map((r) => r.get('query')).filter((q) => q.includes('carol'))
        for (const q of shown.concat(listed)) {
          check(!q.includes('carol-secret-1'), `clear text password: ${q}`)
        }
        check(shown.length === 1 && shown[0] === "CREATE USER carol SET PASSWORD '******' CHANGE NOT REQUIRED",
          `SHOW TRANSACTIONS: ${JSON.stringify(shown)}`)
        check(listed.length === 1 && listed[0] === shown[0], `dbms.listQueries: ${JSON.stringify(listed)}`)
      } finally {
        await tx.commit()
      }
    })
    await run('carol', 'carol-secret-1', 'RETURN 1')
    await onSystem('carol', 'carol-secret-1', async (s) => {
      const tx = await s.beginTransaction()
      await tx.run("ALTER CURRENT USER SET PASSWORD FROM 'carol-secret-1' TO $pw", { pw: 'carol-secret-2' })
      const shown = (await admin('SHOW TRANSACTIONS YIELD currentQuery, username WHERE username = "carol" RETURN currentQuery'))
        .records.map((r) => r.get('currentQuery'))
      check(shown.length === 1 && shown[0] === "ALTER CURRENT USER SET PASSWORD FROM '******' TO $pw",
        `SHOW TRANSACTIONS: ${JSON.stringify(shown)}`)
      await tx.rollback()
    })
  }],
  ['a syntax error does not echo a password literal', async () => {
    const e = await expectError(admin("ALTER CURRENT USER SET PASSWORD 'old-secret-9' TO 'new-secret-9'"),
      'Neo.ClientError.Statement.SyntaxError', 'missing FROM')
    check(!e.message.includes('secret-9'), `message: ${e.message}`)
    const u = await expectError(admin("CREATE USER gina SET PASSWORD 'gina-secret-9"),
      'Neo.ClientError.Statement.SyntaxError', 'unterminated password')
    check(!u.message.includes('secret-9'), `message: ${u.message}`)
  }],
  ['SHOW DATABASES reports the address Bolt is advertised on', async () => {
    const r = await admin('SHOW DATABASES YIELD name, address RETURN name, address')
    for (const rec of r.records) {
      check(rec.get('address') === `127.0.0.1:${process.env.BOLT_PORT}`,
        `${rec.get('name')}: address ${rec.get('address')}`)
    }
  }],
  ['a user command\'s bookmark covers its change', async () => {
    const d = driver('neo4j', PW)
    const s = d.session({ database: 'system' })
    try {
      await s.run("CREATE USER henry SET PASSWORD 'henry-pass-1'")
      const bookmarks = s.lastBookmarks()
      check(bookmarks.length === 1 && bookmarks[0].startsWith('system:'), `bookmarks: ${bookmarks}`)
      const r = await s.run("SHOW DATABASES YIELD name, lastCommittedTxn WHERE name = 'system' RETURN lastCommittedTxn")
      const last = num(r.records[0].get('lastCommittedTxn'))
      const mark = Number(bookmarks[0].split(':').pop()) // <database>:<id>:<transaction id>
      check(mark === last, `bookmark ${bookmarks[0]} while system is at ${last}`)
    } finally {
      await s.close()
      await d.close()
    }
  }]
]

suite('security', steps)
