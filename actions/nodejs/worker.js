/**
 * The long-running job: waits `duration_ms` and returns the guide's payload.
 *
 * The Node.js twin of actions/worker/__main__.py, for targets that run only
 * Node.js (Adobe I/O Runtime). The duration is a parameter, default 100 s as in
 * the guide's worker.js, so tests and demos need not wait 100 s; the manifest
 * gives `my-worker` a timeout above it (120000 ms). One plain CommonJS file with
 * no dependencies, so `wsk action create my-worker worker.js` works as it is.
 */
'use strict'

const DEFAULT_DURATION_MS = 100000
// setTimeout holds a signed 32-bit delay: a longer one fires at once (Node.js timers docs),
// so a long wait is taken in steps of at most this.
const LONGEST_TIMER_MS = 2147483647
// A decimal number of milliseconds, as Python's float() reads one: a web query gives strings.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i

function show (value) {
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined) {
    return String(value)
  }
  try {
    return JSON.stringify(value)
  } catch (err) {
    return String(value)
  }
}

/** `{ millis }` for a usable duration, or `{ error }` saying what is wrong with it. */
function parseDuration (value) {
  let millis = NaN
  if (typeof value === 'number') {
    millis = value
  } else if (typeof value === 'string' && DECIMAL.test(value.trim())) {
    millis = Number(value.trim())
  } else {
    return { error: `duration_ms must be a number of milliseconds, got ${show(value)}` }
  }
  if (!Number.isFinite(millis) || millis < 0) {
    return { error: `duration_ms must be zero or more milliseconds, got ${show(value)}` }
  }
  return { millis }
}

function sleep (millis) {
  // A zero-length job takes no timer: setTimeout(fn, 0) waits at least 1 ms in Node.js,
  // where Python's time.sleep(0) returns at once.
  if (millis === 0) return Promise.resolve()
  return new Promise(resolve => {
    const step = () => {
      const now = Math.min(millis, LONGEST_TIMER_MS)
      millis -= now
      setTimeout(millis > 0 ? step : resolve, now)
    }
    step()
  })
}

async function main (args) {
  const given = args && Object.prototype.hasOwnProperty.call(args, 'duration_ms')
  const { millis, error } = parseDuration(given ? args.duration_ms : DEFAULT_DURATION_MS)
  if (error) {
    return { error }
  }
  await sleep(millis)
  return { statusCode: 200, body: { payload: 'Hello from the long running job!' } }
}

exports.main = main
exports.parseDuration = parseDuration
exports.DEFAULT_DURATION_MS = DEFAULT_DURATION_MS
