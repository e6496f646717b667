/** The Node.js worker waits the asked duration and returns the guide's payload; bad input is an app error. */
'use strict'

const assert = require('node:assert/strict')
const path = require('node:path')
const { test } = require('node:test')
const { inspect } = require('node:util')

const worker = require(path.resolve(__dirname, '../../../../actions/nodejs/worker.js'))

const PAYLOAD = { statusCode: 200, body: { payload: 'Hello from the long running job!' } }

test('returns the guide payload after the duration', async () => {
  const started = process.hrtime.bigint()
  const result = await worker.main({ duration_ms: 50 })
  const waited = Number(process.hrtime.bigint() - started) / 1e6
  assert.ok(waited >= 49, `returned after ${waited} ms`) // timers count whole milliseconds
  assert.deepEqual(result, PAYLOAD)
})

test('a zero-length job returns before the next turn of the event loop', async () => {
  const later = new Promise(resolve => setImmediate(() => resolve('a turn later')))
  assert.deepEqual(await Promise.race([worker.main({ duration_ms: 0 }), later]), PAYLOAD)
})

test('accepts a numeric string, as web query parameters are strings', async () => {
  assert.deepEqual(await worker.main({ duration_ms: '0' }), PAYLOAD)
  assert.deepEqual(await worker.main({ duration_ms: ' 1.5 ' }), PAYLOAD)
})

test('defaults to the guide 100 seconds', () => {
  assert.equal(worker.DEFAULT_DURATION_MS, 100000)
  assert.deepEqual(worker.parseDuration(worker.DEFAULT_DURATION_MS), { millis: 100000 })
})

const BAD = [-1, '-5', 'soon', '', '0x10', null, true, NaN, Infinity, [1], { ms: 1 }]

for (const bad of BAD) {
  test(`reports the bad duration ${inspect(bad)} as an application error`, async () => {
    const result = await worker.main({ duration_ms: bad })
    assert.deepEqual(Object.keys(result), ['error'])
    assert.match(result.error, /^duration_ms must be/)
  })
}

test('names what was given', () => {
  assert.equal(worker.parseDuration('soon').error, 'duration_ms must be a number of milliseconds, got "soon"')
  assert.equal(worker.parseDuration(-1).error, 'duration_ms must be zero or more milliseconds, got -1')
  assert.equal(worker.parseDuration(NaN).error, 'duration_ms must be zero or more milliseconds, got NaN')
})
