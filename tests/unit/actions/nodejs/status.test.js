/**
 * The Node.js status web action and its status URLs, case for case as the Python ones
 * (tests/unit/actions/test_status.py, test_capability.py): the action reads a fake API on
 * a loopback port that answers what each case needs.
 */
'use strict'

const assert = require('node:assert/strict')
const path = require('node:path')
const { test } = require('node:test')
const { startFakeOpenWhisk, HANG, DROP } = require('./fake_openwhisk')

const webAction = require(path.resolve(__dirname, '../../../../actions/nodejs/web_action.js'))

const KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret-half'
const ID = '0123456789abcdef0123456789abcdef'
const START_MS = 1764300000000
// The vector tests/unit/actions/test_capability.py pins: both bundles sign alike.
const VECTOR = `${ID}.${START_MS}.oCFb_S5KFbD7nEadaqA-vg`
const RESULT = { statusCode: 200, body: { payload: 'Hello from the long running job!' } }
const NOT_FOUND = { status: 'not found', error: 'no job is known by this id' }
const RECORD_PATH = `/api/v1/namespaces/guest/activations/${ID}`
const WORKER_PATH = '/api/v1/namespaces/guest/actions/my-worker'

function record (status = 'success', result = RESULT, fullName = 'guest/my-worker', timeout = false) {
  return {
    namespace: 'guest',
    name: fullName.split('/').pop(),
    activationId: ID,
    response: { status, success: status === 'success', result },
    annotations: [{ key: 'path', value: fullName }, { key: 'timeout', value: timeout }]
  }
}

/** The status action's answer `afterMs` after the start, against a fake API answering `routes`. */
async function ask (routes, options = {}) {
  const { afterMs = 1000, worker = 'my-worker', args = {}, bounds } = options
  const api = await startFakeOpenWhisk(request => {
    const route = routes[request.path]
    return route ? route(request) : { status: 599, json: { error: `unexpected ${request.path}` } }
  })
  try {
    const env = { __OW_API_HOST: api.url, __OW_API_KEY: KEY, __OW_NAMESPACE: 'guest' }
    const id = 'token' in options ? options.token : webAction.issueToken(KEY, 'guest', 'my-worker', ID, START_MS)
    const answer = await webAction.jobStatus({ worker_action: worker, id, ...args }, env, bounds, () => START_MS + afterMs)
    return { answer, requests: api.requests, url: api.url }
  } finally {
    await api.close()
  }
}

/** What a caller of the plain URL reads, after checking the `.json` view agrees. */
function bodyOf (answer) {
  assert.equal(answer.status, answer.body.status || 'success')
  assert.equal(answer.headers['Cache-Control'], 'no-store')
  return answer.body
}

const missing = () => ({ status: 404, json: { error: 'The requested resource does not exist.' } })

test('the token is the id, the start and the pinned signature', () => {
  assert.equal(webAction.issueToken(KEY, 'guest', 'async-nodejs/my-worker', ID.toUpperCase(), START_MS), VECTOR)
  assert.deepEqual(webAction.verifyToken(VECTOR, KEY, 'guest', 'async-nodejs/my-worker'), { activationId: ID, startMs: START_MS })
})

test('a token verifies only where it was issued', () => {
  const token = webAction.issueToken(KEY, 'guest', 'my-worker', ID, START_MS)
  assert.equal(webAction.verifyToken(token, KEY + 'x', 'guest', 'my-worker'), null)
  assert.equal(webAction.verifyToken(token, KEY, 'other', 'my-worker'), null)
  assert.equal(webAction.verifyToken(token, KEY, 'guest', 'async-nodejs/my-worker'), null)
  for (const bad of [ID, `${ID}.${START_MS + 1}.oCFb_S5KFbD7nEadaqA-vg`, `${ID}.0${START_MS}.oCFb_S5KFbD7nEadaqA-vg`,
    `${ID.toUpperCase()}.${START_MS}.oCFb_S5KFbD7nEadaqA-vg`, '', null, 42]) {
    assert.equal(webAction.verifyToken(bad, KEY, 'guest', 'async-nodejs/my-worker'), null, String(bad))
  }
})

test('the status URL is where the caller reached the platform, beside the starting action', () => {
  const env = { __OW_API_HOST: 'http://127.0.0.1:3233', __OW_ACTION_NAME: '/guest/async-nodejs/test' }
  const cases = [
    [{ host: '127.0.0.1:3233' }, env, 'status', 'http://127.0.0.1:3233/api/v1/web/guest/async-nodejs/status'],
    [{ host: 'localhost:3233' }, { ...env, __OW_ACTION_NAME: '/guest/test' }, 'status', 'http://localhost:3233/api/v1/web/guest/default/status'],
    [{ host: '10.0.0.7:8080', 'x-forwarded-host': 'ns-1.adobeioruntime.net, edge' },
      { __OW_API_HOST: 'https://adobeioruntime.net', __OW_ACTION_NAME: '/ns-1/pkg/test' }, 'status',
      'https://ns-1.adobeioruntime.net/api/v1/web/pkg/status'],
    [{ host: 'example.com', 'x-forwarded-proto': 'https' }, env, 'jobs/status', 'https://example.com/api/v1/web/guest/jobs/status'],
    [{ host: 'controllers' }, { __OW_API_HOST: 'https://ow.example', __OW_ACTION_NAME: '/guest/test' }, 'status',
      'https://ow.example/api/v1/web/guest/default/status'],
    [{ host: 'a b/c' }, env, 'status', 'http://127.0.0.1:3233/api/v1/web/guest/async-nodejs/status'],
    [{ host: 'a.'.repeat(125) + '!' }, env, 'status', 'http://127.0.0.1:3233/api/v1/web/guest/async-nodejs/status'],
    [{ host: '127.0.0.1' }, { ...env, __OW_ACTION_NAME: '/127/test' }, 'status', 'http://127.0.0.1/api/v1/web/127/default/status'],
    [{ host: 'ow.example' }, { ...env, __OW_ACTION_NAME: '/a@b.c_dev/test' }, 'status', 'http://ow.example/api/v1/web/a%40b.c_dev/default/status'],
    [undefined, { __OW_API_HOST: 'http://127.0.0.1:3233', __OW_NAMESPACE: 'guest' }, 'status', 'http://127.0.0.1:3233/api/v1/web/guest/default/status']
  ]
  for (const [headers, environ, statusAction, url] of cases) {
    assert.equal(webAction.statusUrl(headers, environ, statusAction, 'T'), `${url}?id=T`, JSON.stringify(headers))
  }
})

test('a job without a record yet is running and says when to ask again', async () => {
  const { answer, requests } = await ask({ [RECORD_PATH]: missing }, { afterMs: 1500 })
  assert.deepEqual([answer.statusCode, answer.headers['Retry-After']], [202, '1'])
  assert.deepEqual(bodyOf(answer), { status: 'running' })
  assert.equal(requests.length, 1) // within the grace the worker's limit is not even read
  assert.equal(requests[0].headers.authorization, `Basic ${Buffer.from(KEY).toString('base64')}`)
})

test('a long job is running until its own limit and polled less often', async () => {
  const routes = {
    [RECORD_PATH]: missing,
    [WORKER_PATH]: request => {
      assert.equal(request.query.code, 'false')
      return { status: 200, json: { name: 'my-worker', limits: { timeout: 3 * 3600 * 1000 } } }
    }
  }
  const { answer, requests } = await ask(routes, { afterMs: 2 * 3600 * 1000 })
  assert.deepEqual([answer.statusCode, answer.headers['Retry-After']], [202, '60'])
  assert.equal(requests.length, 2)
})

test('a finished job answers 200 with the worker result', async () => {
  const { answer } = await ask({ [RECORD_PATH]: () => ({ status: 200, json: record() }) })
  assert.equal(answer.statusCode, 200)
  assert.deepEqual(answer.body, RESULT)
  assert.equal(answer.status, 'success')
})

const FAILURES = [
  ['application error', { error: 'bad input' }, 'bad input'],
  ['application error', { error: { code: 7 } }, { code: 7 }],
  ['action developer error', { error: 'The action did not return a dictionary.' }, 'The action did not return a dictionary.'],
  ['whisk internal error', { error: 'There was an internal server error.' }, 'There was an internal server error.']
]

for (const [status, result, error] of FAILURES) {
  test(`a failed job (${status}) is a 502 with the activation status and message`, async () => {
    const { answer } = await ask({ [RECORD_PATH]: () => ({ status: 200, json: record(status, result) }) })
    assert.equal(answer.statusCode, 502)
    assert.deepEqual(bodyOf(answer), { status, activationId: ID, error })
  })
}

test('a job the platform timed out is a 504', async () => {
  const message = 'The action exceeded its time limits of 120000 milliseconds.'
  const timedOut = record('action developer error', { error: message }, 'guest/my-worker', true)
  const { answer } = await ask({ [RECORD_PATH]: () => ({ status: 200, json: timedOut }) }, { afterMs: 121000 })
  assert.equal(answer.statusCode, 504)
  assert.deepEqual(bodyOf(answer), { status: 'timeout', activationId: ID, error: message })
})

test('no record long after the worker limit is a 504', async () => {
  const routes = { [RECORD_PATH]: missing, [WORKER_PATH]: () => ({ status: 200, json: { limits: { timeout: 120000 } } }) }
  const { answer } = await ask(routes, { afterMs: 181000 })
  assert.equal(answer.statusCode, 504)
  assert.deepEqual(bodyOf(answer), {
    status: 'timeout',
    error: "the job left no record 3 min after it started; the worker's time limit is 2 min"
  })
})

test('an unreadable limit waits as long as any platform allows', async () => {
  const routes = { [RECORD_PATH]: missing, [WORKER_PATH]: missing }
  assert.equal((await ask(routes, { afterMs: 3 * 3600 * 1000 })).answer.statusCode, 202)
  assert.equal((await ask(routes, { afterMs: 3 * 3600 * 1000 + 61000 })).answer.statusCode, 504)
})

for (const [id, shown] of [[undefined, 'no id'], ['x y', '"x y"'], [7, '7'], ['a'.repeat(300), 'aaaa']]) {
  test(`a request no status URL makes (${shown.slice(0, 10)}) is a 400`, async () => {
    const { answer, requests } = await ask({}, { token: id })
    assert.equal(answer.statusCode, 400)
    const body = bodyOf(answer)
    assert.equal(body.status, 'invalid')
    assert.ok(body.error.includes(shown), body.error)
    assert.equal(requests.length, 0)
  })
}

for (const token of [ID, `${ID}.${START_MS}.AAAAAAAAAAAAAAAAAAAAAA`, `${'f'.repeat(32)}.${START_MS}.oCFb_S5KFbD7nEadaqA-vg`]) {
  test(`an unsigned or forged id (${token.slice(33) || 'bare'}) is a 404 without asking the API`, async () => {
    const { answer, requests } = await ask({}, { token })
    assert.deepEqual([answer.statusCode, bodyOf(answer)], [404, NOT_FOUND])
    assert.equal(requests.length, 0)
  })
}

test('a URL issued for another bundle worker is a 404', async () => {
  const { answer, requests } = await ask({}, { worker: 'async-nodejs/my-worker' })
  assert.deepEqual([answer.statusCode, bodyOf(answer)], [404, NOT_FOUND])
  assert.equal(requests.length, 0)
})

test('an activation of another action is a 404 that says nothing of it', async () => {
  const theirs = record('success', { secret: 'theirs' }, 'guest/test')
  const { answer } = await ask({ [RECORD_PATH]: () => ({ status: 200, json: theirs }) })
  assert.deepEqual([answer.statusCode, bodyOf(answer)], [404, NOT_FOUND])
})

test('a packaged worker is matched by its full path', async () => {
  const token = webAction.issueToken(KEY, 'guest', 'async-nodejs/my-worker', ID, START_MS)
  const options = { token, worker: 'async-nodejs/my-worker' }
  const ours = record('success', RESULT, 'guest/async-nodejs/my-worker')
  assert.equal((await ask({ [RECORD_PATH]: () => ({ status: 200, json: ours }) }, options)).answer.statusCode, 200)
  const other = record('success', RESULT, 'guest/my-worker')
  assert.equal((await ask({ [RECORD_PATH]: () => ({ status: 200, json: other }) }, options)).answer.statusCode, 404)
})

// The API's own Retry-After is passed on when it is a number of seconds, else 1.
const UNAVAILABLE = [
  ['HTTP 429', () => ({ status: 429, json: { error: 'Too many requests' }, headers: { 'Retry-After': '7' } }), '7'],
  ['HTTP 429, no seconds', () => ({ status: 429, json: { error: 'Too many requests' }, headers: { 'Retry-After': 'soon' } }), '1'],
  ['HTTP 500', () => ({ status: 500, json: { error: 'There was an internal server error.' } }), '1'],
  ['not JSON', () => ({ status: 200, text: 'not json' }), '1']
]

for (const [what, route, retry] of UNAVAILABLE) {
  test(`an API that cannot tell (${what}) is a 503 to retry`, async () => {
    const { answer } = await ask({ [RECORD_PATH]: route })
    assert.deepEqual([answer.statusCode, answer.headers['Retry-After']], [503, retry])
    assert.equal(bodyOf(answer).status, 'unavailable')
    assert.ok(!JSON.stringify(answer).includes(KEY.split(':')[1]))
  })
}

test('a silent API is a 503 within the bound', async () => {
  const { answer, url } = await ask({ [RECORD_PATH]: () => HANG }, { bounds: { connectMs: 100, readMs: 200 } })
  assert.deepEqual([answer.statusCode, answer.headers['Retry-After']], [503, '1'])
  assert.equal(answer.body.error, `the OpenWhisk API at ${url} did not answer within 0.3 s`)
})

test('an unreachable API is a 503, not a thrown error', async () => {
  const api = await startFakeOpenWhisk(missing)
  const url = api.url
  await api.close()
  const env = { __OW_API_HOST: url, __OW_API_KEY: KEY, __OW_NAMESPACE: 'guest' }
  const answer = await webAction.jobStatus({ id: webAction.issueToken(KEY, 'guest', 'my-worker', ID, START_MS) }, env)
  assert.equal(answer.statusCode, 503)
  assert.match(answer.body.error, /^cannot reach the OpenWhisk API at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/)
})

test('a reused connection the API closes is opened again and the read asked once more', async () => {
  const answers = [() => ({ status: 200, json: record() }), () => DROP, () => ({ status: 200, json: record() })]
  const api = await startFakeOpenWhisk(() => answers.shift()())
  try {
    const env = { __OW_API_HOST: api.url, __OW_API_KEY: KEY, __OW_NAMESPACE: 'guest' }
    const id = webAction.issueToken(KEY, 'guest', 'my-worker', ID, START_MS)
    for (let i = 0; i < 2; i++) {
      assert.equal((await webAction.jobStatus({ id }, env, undefined, () => START_MS + 1000)).statusCode, 200)
    }
    assert.deepEqual(api.requests.map(r => r.connection), [0, 0, 1])
  } finally {
    await api.close()
  }
})

test('an API that refuses the key names the annotation', async () => {
  const route = () => ({ status: 401, json: { error: 'The supplied authentication is invalid' } })
  const { answer } = await ask({ [RECORD_PATH]: route })
  assert.equal(answer.statusCode, 500)
  assert.match(bodyOf(answer).error, /provide-api-key: true/)
  assert.ok(!JSON.stringify(answer).includes(KEY.split(':')[1]))
})

test('without an API key it names the missing annotation', async () => {
  const answer = await webAction.jobStatus({ id: ID }, { __OW_API_HOST: 'http://127.0.0.1:9' })
  assert.equal(answer.statusCode, 500)
  assert.match(answer.body.error, /provide-api-key: true/)
})

test('the status entry point is exported as exec.main names it', () => {
  assert.equal(typeof webAction.status, 'function')
})
