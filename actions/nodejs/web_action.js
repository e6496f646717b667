/**
 * The web action: starts the worker non-blocking and answers at once with its activation id.
 *
 * The Node.js twin of actions/web_action/__main__.py, for targets that run only
 * Node.js (Adobe I/O Runtime). As the guide's web-action.js does, it calls the
 * platform through the `openwhisk` npm client, which the Node.js runtime images
 * ship, so it is required without bundling; the client reads what the platform
 * gives every action: __OW_API_HOST, __OW_NAMESPACE and, because the manifest
 * sets provide-api-key: true, __OW_API_KEY.
 *
 * The worker's name is the bound parameter `worker_action` (the guide invoked
 * `worker` but created `my-worker`). The caller's parameters, minus the __ow_*
 * request fields and this action's own settings, are passed on to the worker,
 * so `?duration_ms=2000` starts a 2-second job. When the worker cannot be
 * started, the answer is an HTTP error with a message, within a bounded time.
 * One plain CommonJS file, so `wsk action create test web_action.js --web true` works.
 */
'use strict'

const http = require('http')
const openwhisk = require('openwhisk')

const DEFAULT_WORKER = 'my-worker'
const SETTINGS = ['worker_action']
// Connect and answer bounds: far below the 60 s synchronous cut, and a non-blocking
// invoke answers in milliseconds on a healthy platform.
const CONNECT_TIMEOUT_MS = 5000
const READ_TIMEOUT_MS = 15000
const BOUNDS = { connectMs: CONNECT_TIMEOUT_MS, readMs: READ_TIMEOUT_MS }
const TIMED_OUT = Symbol('timed out')

function reply (status, body) {
  return { statusCode: status, headers: { 'Content-Type': 'application/json' }, body }
}

/** The caller's parameters, without request metadata or this action's settings. */
function workerArguments (args) {
  return Object.fromEntries(
    Object.entries(args).filter(([key]) => !key.startsWith('__ow_') && !SETTINGS.includes(key))
  )
}

/**
 * Start the worker non-blocking; resolve to the web response (statusCode, body).
 * `bounds` is given by tests only, to reach the deadline without waiting for it.
 */
async function startWorker (args, env, bounds = BOUNDS) {
  const worker = String(args.worker_action || DEFAULT_WORKER)
  const apiHost = env.__OW_API_HOST
  const namespace = env.__OW_NAMESPACE || '_'
  const apiKey = env.__OW_API_KEY
  if (!apiHost) {
    return reply(500, { error: '__OW_API_HOST is not set: this action must run on OpenWhisk' })
  }
  if (!apiKey || !apiKey.includes(':')) {
    return reply(500, {
      error: '__OW_API_KEY is not set: give this action the annotation provide-api-key: true'
    })
  }
  const ow = openwhisk({ apihost: apiHost, api_key: apiKey })
  const bound = bounds.connectMs + bounds.readMs
  const abort = new AbortController()
  let timer
  const deadline = new Promise(resolve => {
    timer = setTimeout(() => resolve(TIMED_OUT), bound)
  })
  try {
    // The client hands these options to its HTTP library (needle): open_timeout bounds
    // the connection and signal cancels the request once the deadline has answered.
    const started = ow.actions.invoke({
      name: worker,
      namespace,
      blocking: false,
      params: workerArguments(args),
      open_timeout: bounds.connectMs,
      signal: abort.signal
    })
    const outcome = await Promise.race([started.catch(err => ({ failed: err })), deadline])
    if (outcome === TIMED_OUT) {
      abort.abort()
      return reply(504, {
        error: `the OpenWhisk API at ${apiHost} did not answer within ${bound / 1000} s`
      })
    }
    return outcome.failed ? explain(outcome.failed, worker, namespace, apiHost) : accept(outcome, worker)
  } catch (err) {
    return explain(err, worker, namespace, apiHost) // a name the client refused before sending
  } finally {
    clearTimeout(timer)
  }
}

function accept (started, worker) {
  if (started && typeof started === 'object' && started.activationId) {
    return reply(200, { activationId: started.activationId })
  }
  return reply(502, { error: `starting '${worker}' failed: the API answered without an activation id` })
}

/** A refused or failed start as an HTTP error that says what happened. */
function explain (err, worker, namespace, apiHost) {
  const status = err && err.statusCode
  if (typeof status !== 'number') {
    if (err && err.name === 'OpenWhiskError') {
      // no HTTP answer at all: the client wraps the network error's message
      const cause = (err.error && err.error.error) || err.message
      return reply(502, { error: `cannot reach the OpenWhisk API at ${apiHost}: ${cause}` })
    }
    return reply(502, { error: `starting '${worker}' failed: ${err && err.message}` })
  }
  const body = err.error && typeof err.error === 'object' ? err.error : {}
  const detail = (typeof body.error === 'string' && body.error) || http.STATUS_CODES[status] || 'no detail'
  if (status === 401 || status === 403) {
    return reply(502, { error: `not allowed to invoke '${worker}' in namespace '${namespace}': ${detail}` })
  }
  if (status === 404) {
    return reply(502, { error: `the worker action '${worker}' does not exist in namespace '${namespace}'` })
  }
  if (status === 429) {
    return reply(429, { error: `the platform is throttling invocations, try again later: ${detail}` })
  }
  return reply(502, { error: `starting '${worker}' failed with HTTP ${status}: ${detail}` })
}

async function main (args) {
  return startWorker(args || {}, process.env)
}

exports.main = main
exports.startWorker = startWorker
exports.workerArguments = workerArguments
exports.CONNECT_TIMEOUT_MS = CONNECT_TIMEOUT_MS
exports.READ_TIMEOUT_MS = READ_TIMEOUT_MS
