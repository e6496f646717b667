/**
 * The bundle's two web actions: `main` starts the worker, `status` reports on it.
 *
 * The Node.js twin of actions/web_action (its __main__.py, capability.py and jobstatus.py
 * say the why of each rule at length), for targets that run only Node.js (Adobe I/O
 * Runtime). `main` (the web action `test`) starts the worker non-blocking, as the guide's
 * web-action.js does, and answers `{activationId, statusUrl}`, the URL also in `Location`.
 * `status` (declared with `main: status`) answers that URL: 202 with Retry-After while
 * the job runs, 200 with its result, 502 when it failed, 504 when it timed out, 400 for a
 * request no status URL makes, 404 and nothing more for an id this bundle did not issue.
 * One file, so both actions sign and read one token format, and `wsk action create`
 * takes it as it is.
 *
 * Both call the platform's REST API with Node's own http/https over one keep-alive
 * connection per API host, which a warm action reuses across activations, with what the
 * platform gives every action: __OW_API_HOST, __OW_NAMESPACE and, because the manifest
 * sets provide-api-key: true, __OW_API_KEY. Not through the `openwhisk` npm client: it
 * cost 3-5 ms a call inside an action against under 1 ms for the request itself, and
 * the async round trip makes two calls. Every call is bounded; a GET that finds its
 * reused connection closed by the server is sent once more, a POST never (the worker
 * could start twice); a failure is an HTTP error with a message. Nothing logs, and the
 * key appears in no URL, answer or log: the status URLs' signing key is only derived
 * from it.
 */
'use strict'

const crypto = require('crypto')
const http = require('http')
const https = require('https')

const DEFAULT_WORKER = 'my-worker'
const DEFAULT_STATUS = 'status'
const SETTINGS = ['worker_action', 'status_action']
// Connect and answer bounds: far below the 60 s synchronous cut, and the API answers in
// milliseconds on a healthy platform.
const CONNECT_TIMEOUT_MS = 5000
const READ_TIMEOUT_MS = 15000
const BOUNDS = { connectMs: CONNECT_TIMEOUT_MS, readMs: READ_TIMEOUT_MS }
const TIMED_OUT = Symbol('timed out')

function reply (status, body, headers = {}) {
  return { statusCode: status, headers: { 'Content-Type': 'application/json', ...headers }, body }
}

/** `{ apiHost, namespace, apiKey }`, or `{ answer }` saying which one is missing. */
function credentials (env) {
  const apiHost = env.__OW_API_HOST
  const apiKey = env.__OW_API_KEY
  if (!apiHost) {
    return { answer: reply(500, { error: '__OW_API_HOST is not set: this action must run on OpenWhisk' }) }
  }
  if (!apiKey || !apiKey.includes(':')) {
    return {
      answer: reply(500, { error: '__OW_API_KEY is not set: give this action the annotation provide-api-key: true' })
    }
  }
  return { apiHost, namespace: env.__OW_NAMESPACE || '_', apiKey }
}

// One keep-alive agent per protocol for the process: a warm action keeps its connection.
const AGENTS = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true })
}

/** `{ namespace, path }` of an entity name as the platform reads it: `name`, `pkg/name`,
 * `/ns/name` or `/ns/pkg/name`; null for anything else. */
function entityPath (name, namespace) {
  let parts = name.split('/')
  if (name.startsWith('/')) {
    parts = parts.slice(1)
    namespace = parts.shift()
  }
  if (!namespace || parts.length < 1 || parts.length > 2 || parts.some(part => !part)) return null
  return { namespace, path: parts.map(encodeURIComponent).join('/') }
}

/**
 * One API call, bounded: resolves to `{ value: { status, reason, headers, body } }` (body
 * the parsed JSON, or undefined when it is not JSON), `{ failed: err }` for a network
 * error, or TIMED_OUT when no answer came within connect + read bounds.
 */
function call (apiHost, apiKey, method, path, payload, bounds, again = method === 'GET') {
  let target
  try {
    target = new URL(`${apiHost.replace(/\/+$/, '')}/api/v1/${path}`)
  } catch (err) {
    return Promise.resolve({ failed: err })
  }
  const agent = AGENTS[target.protocol]
  if (!agent) return Promise.resolve({ failed: new Error(`unsupported protocol ${target.protocol}`) })
  const body = payload === undefined ? null : Buffer.from(JSON.stringify(payload))
  const headers = { Authorization: `Basic ${Buffer.from(apiKey).toString('base64')}`, Accept: 'application/json' }
  if (body) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': body.length })
  return new Promise(resolve => {
    let done = false
    const finish = outcome => {
      if (done) return
      done = true
      clearTimeout(deadline)
      clearTimeout(connecting)
      resolve(outcome)
    }
    const request = (target.protocol === 'https:' ? https : http).request(target, { method, agent, headers }, response => {
      const chunks = []
      response.on('data', chunk => chunks.push(chunk))
      response.on('error', failed => finish({ failed }))
      response.on('end', () => {
        let parsed
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        } catch (err) {
          parsed = undefined
        }
        finish({ value: { status: response.statusCode, reason: response.statusMessage, headers: response.headers, body: parsed } })
      })
    })
    const deadline = setTimeout(() => {
      finish(TIMED_OUT)
      request.destroy()
    }, bounds.connectMs + bounds.readMs)
    let connecting = null
    request.on('socket', socket => {
      if (!socket.connecting) return // a kept-alive connection
      connecting = setTimeout(() => {
        finish(TIMED_OUT)
        request.destroy()
      }, bounds.connectMs)
      socket.once('connect', () => clearTimeout(connecting))
    })
    request.on('error', failed => {
      if (again && request.reusedSocket && failed.code === 'ECONNRESET' && !done) {
        // The server closed the kept connection as it was reused: a new one, once.
        done = true
        clearTimeout(deadline)
        clearTimeout(connecting)
        resolve(call(apiHost, apiKey, method, path, payload, bounds, false))
        return
      }
      finish({ failed })
    })
    request.end(body)
  })
}

// ---- the status URL as a capability (capability.py) ------------------------------------

const LABEL = 'owasync status URL signing key v1'
const SIGNATURE_BYTES = 16
const TOKEN = /^([0-9a-f]{32})\.(0|[1-9][0-9]{0,15})\.([A-Za-z0-9_-]{22})$/
const WELL_FORMED = /^[0-9A-Za-z._-]{1,200}$/
const IPV4 = /^[0-9]{1,3}(\.[0-9]{1,3}){3}$/
const HOST = /^(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/

function signature (apiKey, namespace, worker, activationId, startMs) {
  const key = crypto.createHmac('sha256', apiKey).update(LABEL).digest()
  const message = ['status', namespace, worker.replace(/^\/+|\/+$/g, ''), activationId, String(startMs)].join('\n')
  return crypto.createHmac('sha256', key).update(message).digest().subarray(0, SIGNATURE_BYTES).toString('base64url')
}

/** The `id` of a status URL for the worker activation started at `startMs`. */
function issueToken (apiKey, namespace, worker, activationId, startMs) {
  const id = activationId.toLowerCase()
  const start = Math.trunc(startMs)
  return `${id}.${start}.${signature(apiKey, namespace, worker, id, start)}`
}

/** `{ activationId, startMs }` when this bundle issued `token`; null otherwise. */
function verifyToken (token, apiKey, namespace, worker) {
  const match = typeof token === 'string' ? TOKEN.exec(token) : null
  if (!match) return null
  const [, activationId, start, given] = match
  const startMs = Number(start)
  if (!Number.isSafeInteger(startMs)) return null
  const expected = Buffer.from(signature(apiKey, namespace, worker, activationId, startMs))
  // Constant time, so a signature cannot be found byte by byte from answer times.
  return crypto.timingSafeEqual(expected, Buffer.from(given)) ? { activationId, startMs } : null
}

function first (value) {
  return typeof value === 'string' ? value.split(',')[0].trim() : ''
}

/** `scheme://host` as the caller reached the platform (capability.py `public_base`). */
function publicBase (headers, env) {
  let api = null
  try {
    api = new URL(env.__OW_API_HOST || '')
  } catch (err) {
    api = null
  }
  const apiScheme = api && /^https?:$/.test(api.protocol) ? api.protocol.slice(0, -1) : 'https'
  let scheme = first(headers['x-forwarded-proto']).toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') scheme = apiScheme
  for (const candidate of [first(headers['x-forwarded-host']), first(headers.host)]) {
    if (candidate.length > 260 || !HOST.test(candidate)) continue
    const hostname = new URL(`http://${candidate}`).hostname
    if (hostname.includes('.') || hostname.includes(':') || hostname === 'localhost') {
      return `${scheme}://${candidate}`
    }
  }
  return api && api.host ? `${scheme}://${api.host}` : `${scheme}://localhost`
}

/** Is `host` `<namespace>.<domain>`, Adobe's per-namespace host (and not an address)? */
function namedAfter (host, namespace) {
  if (IPV4.test(host) || host.includes(':')) return false
  const prefix = `${namespace.toLowerCase()}.`
  return host.startsWith(prefix) && host.slice(prefix.length).includes('.')
}

/** The absolute URL of `status?id=<token>`, beside this web action (capability.py `status_url`). */
function statusUrl (headers, env, statusAction, token) {
  const parts = (env.__OW_ACTION_NAME || '').split('/').filter(Boolean)
  const namespace = parts.length ? parts[0] : env.__OW_NAMESPACE || '_'
  let pkg = parts.length === 3 ? parts[1] : 'default'
  let name = statusAction.replace(/^\/+|\/+$/g, '')
  if (name.includes('/')) [pkg, name] = [name.slice(0, name.indexOf('/')), name.slice(name.indexOf('/') + 1)]
  const base = publicBase(headers || {}, env)
  const path = [pkg, name].map(encodeURIComponent).join('/')
  if (namedAfter(new URL(base).hostname, namespace)) return `${base}/api/v1/web/${path}?id=${token}`
  return `${base}/api/v1/web/${encodeURIComponent(namespace)}/${path}?id=${token}`
}

// ---- main: start the worker --------------------------------------------------------------

/** The caller's parameters, without request metadata or this action's settings. */
function workerArguments (args) {
  return Object.fromEntries(
    Object.entries(args).filter(([key]) => !key.startsWith('__ow_') && !SETTINGS.includes(key))
  )
}

/**
 * Start the worker non-blocking; resolve to the web response (statusCode, headers, body).
 * `bounds` and `now` are given by tests only.
 */
async function startWorker (args, env, bounds = BOUNDS, now = Date.now) {
  const worker = String(args.worker_action || DEFAULT_WORKER)
  const found = credentials(env)
  if (found.answer) return found.answer
  const { apiHost, namespace, apiKey } = found
  const entity = entityPath(worker, namespace)
  if (!entity) {
    return reply(502, { error: `starting '${worker}' failed: Invalid resource identifier, expected name, package/name, /namespace/name or /namespace/package/name` })
  }
  const path = `namespaces/${encodeURIComponent(entity.namespace)}/actions/${entity.path}?blocking=false`
  const outcome = await call(apiHost, apiKey, 'POST', path, workerArguments(args), bounds)
  if (outcome === TIMED_OUT) {
    const bound = bounds.connectMs + bounds.readMs
    return reply(504, { error: `the OpenWhisk API at ${apiHost} did not answer within ${bound / 1000} s` })
  }
  if (outcome.failed) return reply(502, { error: `cannot reach the OpenWhisk API at ${apiHost}: ${outcome.failed.message}` })
  if (outcome.value.status !== 202) return explain(outcome.value, worker, namespace)
  const started = outcome.value.body
  if (!started || typeof started !== 'object' || !started.activationId) {
    return reply(502, { error: `starting '${worker}' failed: the API answered without an activation id` })
  }
  // Taken once the platform accepted the job: it starts no earlier than this.
  const token = issueToken(apiKey, namespace, worker, String(started.activationId), now())
  const url = statusUrl(args.__ow_headers, env, String(args.status_action || DEFAULT_STATUS), token)
  return reply(200, { activationId: started.activationId, statusUrl: url }, { Location: url })
}

/** The API's `error` text, else the HTTP reason. */
function detailOf (answer) {
  const body = answer.body && typeof answer.body === 'object' ? answer.body : {}
  return (typeof body.error === 'string' && body.error) || answer.reason || http.STATUS_CODES[answer.status] || 'no detail'
}

/** A refused start as an HTTP error that says what happened. */
function explain (answer, worker, namespace) {
  const status = answer.status
  const detail = detailOf(answer)
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

// ---- status: what became of the job (jobstatus.py) ---------------------------------------

// A record may appear after the worker's own limit (queueing, init, the record's write).
const GRACE_MS = 60000
// When the worker's limit cannot be read: the longest any platform allows (Adobe's 3 h).
const LONGEST_LIMIT_MS = 10800000
const NO_STORE = { 'Cache-Control': 'no-store' }
const NOT_FOUND = 'no job is known by this id'

/** `status` in the body and at the top, so `.json` (the result verbatim) says it too. */
function answer (code, status, body = {}, headers = {}) {
  return { status, ...reply(code, { status, ...body }, { ...NO_STORE, ...headers }) }
}

class Unanswered extends Error {
  constructor (answer) {
    super(answer.body.error)
    this.answer = answer
  }
}

function unavailable (message, retry = '1') {
  return new Unanswered(answer(503, 'unavailable', { error: message }, { 'Retry-After': retry }))
}

/** A GET of `path`: the document, or null for 404; else throws `Unanswered`. */
async function read (what, path, found, bounds) {
  const { apiHost, apiKey, namespace } = found
  const outcome = await call(apiHost, apiKey, 'GET', path, undefined, bounds)
  if (outcome === TIMED_OUT) {
    throw unavailable(`the OpenWhisk API at ${apiHost} did not answer within ${(bounds.connectMs + bounds.readMs) / 1000} s`)
  }
  if (outcome.failed) throw unavailable(`cannot reach the OpenWhisk API at ${apiHost}: ${outcome.failed.message}`)
  const answered = outcome.value
  if (answered.status === 404) return null
  if (answered.status === 200) {
    const document = answered.body
    if (document && typeof document === 'object' && !Array.isArray(document)) return document
    throw unavailable(`the OpenWhisk API answered a ${what} read without JSON`)
  }
  if (answered.status === 401 || answered.status === 403) {
    throw new Unanswered(answer(500, 'error', {
      error: `this action may not read ${what} in namespace '${namespace}': ${detailOf(answered)}; ` +
        'give it the annotation provide-api-key: true'
    }))
  }
  const retry = answered.headers['retry-after']
  throw unavailable(`the OpenWhisk API answered HTTP ${answered.status}: ${detailOf(answered)}`,
    typeof retry === 'string' && /^[0-9]+$/.test(retry) ? retry : '1')
}

function seconds (millis) {
  const s = millis / 1000
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}

function running (elapsedMs) {
  // Poll about ten times over what has passed so far: every second for a short job,
  // every minute at most for one of hours.
  const retry = Math.min(60, Math.max(1, Math.ceil(elapsedMs / 10000)))
  return answer(202, 'running', {}, { 'Retry-After': String(retry) })
}

/** Is this activation the worker's? Its `path` annotation is the action's full name. */
function isOf (record, namespace, worker) {
  const trimmed = worker.replace(/^\/+|\/+$/g, '')
  const expected = worker.startsWith('/') ? trimmed : `${namespace}/${trimmed}`
  const path = (record.annotations || []).find(a => a && a.key === 'path')
  return path ? path.value === expected : record.name === expected.split('/').pop()
}

function finished (record, activationId) {
  const response = record.response || {}
  if (response.status === 'success') return { status: 'success', ...reply(200, response.result, NO_STORE) }
  const result = response.result
  const error = result && typeof result === 'object' && 'error' in result ? result.error : result
  const body = { activationId, error }
  if ((record.annotations || []).some(a => a && a.key === 'timeout' && a.value === true)) {
    return answer(504, 'timeout', body)
  }
  return answer(502, typeof response.status === 'string' && response.status ? response.status : 'failed', body)
}

/** The status web action's answer; `bounds` and `now` are given by tests only. */
async function jobStatus (args, env, bounds = BOUNDS, now = Date.now) {
  const found = credentials(env)
  if (found.answer) return found.answer
  const { namespace, apiKey } = found
  const worker = String(args.worker_action || DEFAULT_WORKER)
  const token = args.id
  if (typeof token !== 'string' || !WELL_FORMED.test(token)) {
    const shown = token === undefined ? 'no id' : JSON.stringify(token).slice(0, 80)
    return answer(400, 'invalid', {
      error: `expected ?id=<id> exactly as the statusUrl that starting the job answered carries, got ${shown}`
    })
  }
  const job = verifyToken(token, apiKey, namespace, worker)
  if (!job) return answer(404, 'not found', { error: NOT_FOUND })
  const entity = entityPath(worker, namespace)
  if (!entity) return answer(404, 'not found', { error: NOT_FOUND }) // no job of a worker that cannot exist
  try {
    const record = await read('activations', `namespaces/${encodeURIComponent(namespace)}/activations/${job.activationId}`, found, bounds)
    if (record) {
      return isOf(record, namespace, worker) ? finished(record, job.activationId) : answer(404, 'not found', { error: NOT_FOUND })
    }
    const elapsedMs = Math.max(0, now() - job.startMs)
    if (elapsedMs <= GRACE_MS) return running(elapsedMs) // no limit is below 0: no need to read it yet
    let limit = LONGEST_LIMIT_MS
    try {
      const action = await read('actions', `namespaces/${encodeURIComponent(entity.namespace)}/actions/${entity.path}?code=false`, found, bounds)
      const timeout = action && action.limits && action.limits.timeout
      if (Number.isInteger(timeout) && timeout > 0) limit = timeout
    } catch (err) {
      if (!(err instanceof Unanswered)) throw err // the limit is only needed for a verdict
    }
    if (elapsedMs <= limit + GRACE_MS) return running(elapsedMs)
    return answer(504, 'timeout', {
      error: `the job left no record ${seconds(elapsedMs)} after it started; the worker's time limit is ${seconds(limit)}`
    })
  } catch (err) {
    if (err instanceof Unanswered) return err.answer
    throw err
  }
}

async function main (args) {
  return startWorker(args || {}, process.env)
}

async function status (args) {
  return jobStatus(args || {}, process.env)
}

exports.main = main
exports.status = status
exports.startWorker = startWorker
exports.jobStatus = jobStatus
exports.workerArguments = workerArguments
exports.issueToken = issueToken
exports.verifyToken = verifyToken
exports.statusUrl = statusUrl
exports.CONNECT_TIMEOUT_MS = CONNECT_TIMEOUT_MS
exports.READ_TIMEOUT_MS = READ_TIMEOUT_MS
exports.GRACE_MS = GRACE_MS
