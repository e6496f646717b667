/**
 * The Node.js web action starts the worker non-blocking through the REST API and maps
 * every failure; the API it calls is a fake server on a loopback port.
 * Its answer carries the job's status URL, signed as the Python bundle signs it.
 */
'use strict'

const assert = require('node:assert/strict')
const path = require('node:path')
const { test } = require('node:test')
const { startFakeOpenWhisk, HANG, DROP } = require('./fake_openwhisk')

const webAction = require(path.resolve(__dirname, '../../../../actions/nodejs/web_action.js'))

const KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret-half'
const ACTIVATION = 'a'.repeat(32)
const NOW_MS = 1764300000123

async function withApi (answer, body) {
  const api = await startFakeOpenWhisk(answer)
  try {
    const env = { __OW_API_HOST: api.url, __OW_API_KEY: KEY, __OW_NAMESPACE: 'guest', __OW_ACTION_NAME: '/guest/test' }
    return await body(api, env)
  } finally {
    await api.close()
  }
}

const accepted = () => ({ status: 202, json: { activationId: ACTIVATION } })

test('starts the bound worker non-blocking and answers its id and status URL', async () => {
  await withApi(accepted, async (api, env) => {
    const args = {
      worker_action: 'my-worker',
      status_action: 'status',
      duration_ms: '2000',
      __ow_method: 'get',
      __ow_headers: { accept: '*/*', host: '127.0.0.1:3233' },
      __ow_path: ''
    }
    const token = webAction.issueToken(KEY, 'guest', 'my-worker', ACTIVATION, NOW_MS)
    const statusUrl = `http://127.0.0.1:3233/api/v1/web/guest/default/status?id=${token}`
    assert.deepEqual(await webAction.startWorker(args, env, undefined, () => NOW_MS), {
      statusCode: 200,
      headers: { 'Content-Type': 'application/json', Location: statusUrl },
      body: { activationId: ACTIVATION, statusUrl }
    })
    assert.equal(api.requests.length, 1)
    const [sent] = api.requests
    assert.equal(sent.method, 'POST')
    assert.equal(sent.path, '/api/v1/namespaces/guest/actions/my-worker')
    assert.deepEqual(sent.query, { blocking: 'false' })
    // Only the caller's own parameters go to the worker: no __ow_* fields, no settings.
    assert.equal(sent.raw, '{"duration_ms":"2000"}')
    assert.equal(sent.headers['content-type'], 'application/json')
    assert.equal(sent.headers['content-length'], String(sent.raw.length))
    assert.equal(sent.headers.authorization, `Basic ${Buffer.from(KEY).toString('base64')}`)
  })
})

test('a warm action starts every job over one connection', async () => {
  await withApi(accepted, async (api, env) => {
    for (let i = 0; i < 3; i++) assert.equal((await webAction.startWorker({}, env)).statusCode, 200)
    assert.deepEqual(api.requests.map(r => r.connection), [0, 0, 0])
  })
})

test('a dropped connection is a 502 and the job is not started twice', async () => {
  await withApi(() => DROP, async (api, env) => {
    const result = await webAction.startWorker({}, env)
    assert.equal(result.statusCode, 502)
    assert.match(result.body.error, /^cannot reach the OpenWhisk API at /)
    assert.equal(api.requests.length, 1) // a POST is never sent again: the worker could run twice
  })
})

test('main reads the platform environment', async () => {
  await withApi(accepted, async (api, env) => {
    const saved = { ...process.env }
    Object.assign(process.env, env)
    try {
      const result = await webAction.main({ worker_action: 'my-worker' })
      assert.equal(result.body.activationId, ACTIVATION)
    } finally {
      for (const key of Object.keys(env)) {
        if (key in saved) process.env[key] = saved[key]
        else delete process.env[key]
      }
    }
    assert.equal(api.requests[0].path, '/api/v1/namespaces/guest/actions/my-worker')
  })
})

test('the worker defaults to my-worker when no name is bound', async () => {
  await withApi(accepted, async (api, env) => {
    await webAction.startWorker({}, env)
    assert.equal(api.requests[0].path, '/api/v1/namespaces/guest/actions/my-worker')
  })
})

test('the worker name comes from the bound parameter and may be packaged', async () => {
  const answer = () => ({ status: 202, json: { activationId: 'b'.repeat(32) } })
  await withApi(answer, async (api, env) => {
    const result = await webAction.startWorker({ worker_action: 'jobs/long one' }, env)
    assert.equal(result.body.activationId, 'b'.repeat(32))
    assert.equal(api.requests[0].path, '/api/v1/namespaces/guest/actions/jobs/long%20one')
  })
})

const REFUSALS = [
  [401, { error: 'The supplied authentication is invalid', code: 'x' }, 502, "not allowed to invoke 'my-worker'"],
  [403, { error: 'not authorized', code: 'x' }, 502, 'not allowed'],
  [404, { error: 'The requested resource does not exist.', code: 'x' }, 502, "does not exist in namespace 'guest'"],
  [429, { error: 'Too many requests in the last minute (count: 61, allowed: 60).', code: 'x' }, 429, 'throttling'],
  [500, { error: 'There was an internal server error.', code: 'x' }, 502, 'HTTP 500']
]

for (const [status, payload, expected, fragment] of REFUSALS) {
  test(`a refused start (HTTP ${status}) is a clear HTTP ${expected}`, async () => {
    await withApi(() => ({ status, json: payload }), async (api, env) => {
      const result = await webAction.startWorker({ worker_action: 'my-worker' }, env)
      assert.equal(result.statusCode, expected)
      assert.ok(result.body.error.includes(fragment), result.body.error)
      assert.ok(!JSON.stringify(result).includes(KEY.split(':')[1]), 'the key is in the answer')
    })
  })
}

test('an error without a message is explained by its HTTP status', async () => {
  await withApi(() => ({ status: 503, json: {} }), async (api, env) => {
    const result = await webAction.startWorker({}, env)
    assert.equal(result.statusCode, 502)
    assert.equal(result.body.error, "starting 'my-worker' failed with HTTP 503: Service Unavailable")
  })
})

test('an accepted start without an activation id is a 502', async () => {
  await withApi(() => ({ status: 202, json: {} }), async (api, env) => {
    const result = await webAction.startWorker({}, env)
    assert.equal(result.statusCode, 502)
    assert.match(result.body.error, /without an activation id/)
  })
})

test('an unreachable API host is a 502, not a thrown error', async () => {
  const api = await startFakeOpenWhisk(accepted)
  const url = api.url
  await api.close() // nothing listens on that port any more
  const env = { __OW_API_HOST: url, __OW_API_KEY: KEY, __OW_NAMESPACE: 'guest' }
  const result = await webAction.startWorker({}, env)
  assert.equal(result.statusCode, 502)
  assert.match(result.body.error, /^cannot reach the OpenWhisk API at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/)
})

test('a silent API is a 504 within the bound', async () => {
  await withApi(() => HANG, async (api, env) => {
    const started = process.hrtime.bigint()
    const result = await webAction.startWorker({}, env, { connectMs: 100, readMs: 200 })
    const waited = Number(process.hrtime.bigint() - started) / 1e6
    assert.equal(result.statusCode, 504)
    assert.equal(result.body.error, `the OpenWhisk API at ${api.url} did not answer within 0.3 s`)
    assert.ok(waited < 10000, `answered after ${waited} ms`) // bounded, not hung until the server closes
  })
})

test('a worker name the client cannot parse is explained', async () => {
  await withApi(accepted, async (api, env) => {
    const result = await webAction.startWorker({ worker_action: 'a/b/c/d/e' }, env)
    assert.equal(result.statusCode, 502)
    assert.match(result.body.error, /^starting 'a\/b\/c\/d\/e' failed: Invalid resource identifier/)
    assert.equal(api.requests.length, 0)
  })
})

test('without an API key it names the missing annotation', async () => {
  const result = await webAction.startWorker({}, { __OW_API_HOST: 'http://127.0.0.1:9', __OW_NAMESPACE: 'guest' })
  assert.equal(result.statusCode, 500)
  assert.match(result.body.error, /provide-api-key: true/)
})

test('without an API host it says it must run on OpenWhisk', async () => {
  const result = await webAction.startWorker({}, { __OW_API_KEY: KEY })
  assert.equal(result.statusCode, 500)
  assert.match(result.body.error, /__OW_API_HOST is not set/)
})

test('the client timeout is bounded below the synchronous cut', () => {
  assert.ok(webAction.CONNECT_TIMEOUT_MS + webAction.READ_TIMEOUT_MS < 60000)
})

test('the status URL is signed for the worker and carries no key', async () => {
  await withApi(accepted, async (api, env) => {
    const result = await webAction.startWorker({ __ow_headers: { host: 'example.com' } }, env)
    const url = result.body.statusUrl
    assert.ok(url.startsWith('http://example.com/api/v1/web/guest/default/status?id='), url)
    const job = webAction.verifyToken(url.split('?id=')[1], KEY, 'guest', 'my-worker')
    assert.equal(job.activationId, ACTIVATION)
    for (const part of KEY.split(':')) assert.ok(!JSON.stringify(result).includes(part))
  })
})

test('invoked without a request, the status URL uses the API host', async () => {
  await withApi(accepted, async (api, env) => {
    const result = await webAction.startWorker({}, env)
    assert.ok(result.body.statusUrl.startsWith(`${api.url}/api/v1/web/guest/default/status?id=`))
  })
})
