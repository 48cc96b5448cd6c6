// A raw Bolt 4.4 client that does what a driver does when its user gives up
// on a running statement: HELLO (auth off), RUN query, PULL, and once
// running() resolves (the statement runs) a RESET on the same connection.
// Used by long_query.js (the RESET is answered) and bench/js/interrupt.js
// (how long it takes).
'use strict'
const net = require('net')

const chunk = (body) => Buffer.concat([Buffer.from([body.length >> 8, body.length & 255]), body, Buffer.from([0, 0])])
const str = (s) => {
  const b = Buffer.from(s)
  return Buffer.concat([b.length < 16 ? Buffer.from([0x80 | b.length]) : Buffer.from([0xd0, b.length]), b])
}

// Resolves with the signatures of the four answers (HELLO, RUN, PULL,
// RESET) and the ms from writing the RESET to reading its answer.
function resetDuringRun (host, port, query, running) {
  const hello = chunk(Buffer.concat([Buffer.from([0xb1, 0x01, 0xa1]), str('user_agent'), str('x')]))
  const runMsg = chunk(Buffer.concat([Buffer.from([0xb3, 0x10]), str(query), Buffer.from([0xa0, 0xa0])]))
  const pull = chunk(Buffer.concat([Buffer.from([0xb1, 0x3f, 0xa1]), str('n'), Buffer.from([0xff])]))
  const reset = chunk(Buffer.from([0xb0, 0x0f]))
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), host)
    let buf = Buffer.alloc(0)
    let versioned = false
    let t0 = null
    const sigs = []
    s.on('error', reject)
    s.on('connect', () => {
      s.write(Buffer.from([0x60, 0x60, 0xb0, 0x17, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
      s.write(Buffer.concat([hello, runMsg, pull]))
      running().then(() => {
        t0 = process.hrtime.bigint()
        s.write(reset)
      }, reject)
    })
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      if (!versioned && buf.length >= 4) {
        versioned = true
        buf = buf.subarray(4)
      }
      // messages: chunks up to a 00 00; the signature is the 2nd byte
      for (;;) {
        let off = 0
        let msg = Buffer.alloc(0)
        let whole = false
        while (off + 2 <= buf.length) {
          const n = buf.readUInt16BE(off)
          if (n === 0) { whole = msg.length > 0; off += 2; if (whole) break; continue }
          if (off + 2 + n > buf.length) break
          msg = Buffer.concat([msg, buf.subarray(off + 2, off + 2 + n)])
          off += 2 + n
        }
        if (!whole) break
        buf = buf.subarray(off)
        sigs.push(msg[1])
        if (sigs.length === 4) {
          const ms = Number(process.hrtime.bigint() - t0) / 1e6
          s.destroy()
          resolve({ sigs, ms })
          return
        }
      }
    })
  })
}

module.exports = { resetDuringRun }
