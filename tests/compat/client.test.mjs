// Compatibility: the official OpenWhisk JavaScript client (npm "openwhisk") against a server.
//
// Run by tests/integration/test_compat_node.py with OW_APIHOST (http://host:port) and
// OW_API_KEY set; also runs against a real OpenWhisk the same way. Every entity gets a
// per-run name and is deleted in `after`, so runs never collide or leak.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import openwhisk from 'openwhisk'

const APIHOST = process.env.OW_APIHOST
const API_KEY = process.env.OW_API_KEY
if (!APIHOST || !API_KEY) {
  throw new Error('set OW_APIHOST (http://host:port) and OW_API_KEY (uuid:key) to run these tests')
}

// The same scenario for both languages the server runs, with the same greeting.
const LANGUAGES = {
  Python: {
    kind: 'python:3.11',
    code: 'def main(args):\n    return {"greeting": "hello " + args.get("name", "world")}\n'
  },
  'Node.js': {
    kind: 'nodejs:20',
    code: "function main(args) {\n  return { greeting: 'hello ' + (args.name || 'world') }\n}\n"
  }
}
const WAIT_MS = 60000 // bounded: a cold Python process plus a 60 s blocking window at most

const ow = openwhisk({ apihost: APIHOST, api_key: API_KEY })

// Poll `probe` until it returns a value other than undefined, or fail after WAIT_MS.
// A 404 while the activation is still being recorded counts as "not yet".
async function waitFor (what, probe) {
  const deadline = Date.now() + WAIT_MS
  let last
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      if (err.statusCode !== 404) throw err
      last = err
    }
    await delay(100)
  }
  throw new Error(`gave up after ${WAIT_MS} ms waiting for ${what}${last ? `: ${last.message}` : ''}`)
}

async function activationWithResult (activationId) {
  return waitFor(`activation ${activationId}`, async () => {
    const activation = await ow.activations.get({ activationId })
    return activation.response && 'result' in activation.response ? activation : undefined
  })
}

for (const [language, { kind: KIND, code: CODE }] of Object.entries(LANGUAGES)) {
  const RUN = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  const ACTION = `compat-hello-${RUN}`
  const WEB_ACTION = `compat-web-${RUN}`
  const TRIGGER = `compat-trigger-${RUN}`
  const RULE = `compat-rule-${RUN}`

  describe(`official openwhisk client, ${language} actions`, () => {
    let namespace

    before(async () => {
      const namespaces = await ow.namespaces.list()
      assert.ok(Array.isArray(namespaces) && namespaces.length > 0, 'namespaces.list() returned none')
      namespace = namespaces[0]
    })

    after(async () => {
      // Best effort: a failed step earlier must not hide the real failure.
      const steps = [
        () => ow.rules.delete({ name: RULE }),
        () => ow.triggers.delete({ name: TRIGGER }),
        () => ow.actions.delete({ name: ACTION }),
        () => ow.actions.delete({ name: WEB_ACTION })
      ]
      for (const step of steps) await step().catch(() => {})
    })

    it(`creates a ${language} action`, async () => {
      const action = await ow.actions.create({ name: ACTION, action: CODE, kind: KIND })
      assert.equal(action.name, ACTION)
      assert.equal(action.exec.kind, KIND)
    })

    it('gets the action with its code', async () => {
      const action = await ow.actions.get({ name: ACTION })
      assert.equal(action.name, ACTION)
      assert.equal(action.namespace, namespace)
      assert.equal(action.exec.code, CODE)
    })

    it('lists the action', async () => {
      const actions = await ow.actions.list({ limit: 200 })
      assert.ok(actions.some((a) => a.name === ACTION), `${ACTION} missing from actions.list()`)
    })

    it('invokes blocking and returns the result', async () => {
      const result = await ow.actions.invoke({
        name: ACTION, blocking: true, result: true, params: { name: 'compat' }
      })
      assert.deepEqual(result, { greeting: 'hello compat' })
    })

    it('invokes non-blocking, then the activation completes', async () => {
      const accepted = await ow.actions.invoke({ name: ACTION, params: { name: 'later' } })
      assert.match(accepted.activationId, /^[0-9a-f]{32}$/)
      const activation = await activationWithResult(accepted.activationId)
      assert.equal(activation.name, ACTION)
      assert.equal(activation.response.success, true)
      assert.deepEqual(activation.response.result, { greeting: 'hello later' })
    })

    it('lists activations of the action', async () => {
      const activations = await ow.activations.list({ name: ACTION, limit: 10 })
      assert.ok(activations.length >= 2, `expected 2 activations, got ${activations.length}`)
      assert.ok(activations.every((a) => a.name === ACTION))
    })

    it('fires a trigger through a rule to the action', async () => {
      await ow.triggers.create({ name: TRIGGER })
      const rule = await ow.rules.create({ name: RULE, action: ACTION, trigger: TRIGGER })
      assert.equal(rule.name, RULE)

      const fired = await ow.triggers.invoke({ name: TRIGGER, params: { name: 'rule' } })
      assert.ok(fired.activationId, 'firing a trigger with an active rule returns an activationId')

      // The trigger's activation logs one JSON line per rule, naming the action's activation.
      const triggerActivation = await waitFor('the trigger activation', async () => {
        const activation = await ow.activations.get({ activationId: fired.activationId })
        return activation.logs && activation.logs.length > 0 ? activation : undefined
      })
      const entries = triggerActivation.logs.map((line) => JSON.parse(line))
      const entry = entries.find((e) => e.rule && e.rule.endsWith(`/${RULE}`))
      assert.ok(entry && entry.activationId, `no rule entry in ${JSON.stringify(triggerActivation.logs)}`)

      const activation = await activationWithResult(entry.activationId)
      assert.equal(activation.name, ACTION)
      assert.deepEqual(activation.response.result, { greeting: 'hello rule' })
    })

    it('disables and enables the rule', async () => {
      await ow.rules.disable({ name: RULE })
      assert.equal((await ow.rules.get({ name: RULE })).status, 'inactive')
      await ow.rules.enable({ name: RULE })
      assert.equal((await ow.rules.get({ name: RULE })).status, 'active')
    })

    it('serves a web action at its .json URL', async () => {
      await ow.actions.create({
        name: WEB_ACTION,
        action: {
          exec: { kind: KIND, code: CODE },
          annotations: [{ key: 'web-export', value: true }]
        }
      })
      const url = `${APIHOST}/api/v1/web/${namespace}/default/${WEB_ACTION}.json?name=web`
      const response = await fetch(url)
      const text = await response.text()
      assert.equal(response.status, 200, text)
      assert.match(response.headers.get('content-type'), /^application\/json/)
      assert.equal(response.headers.get('access-control-allow-origin'), '*')
      assert.match(response.headers.get('x-openwhisk-activation-id') || '', /^[0-9a-f]{32}$/)
      assert.deepEqual(JSON.parse(text), { greeting: 'hello web' })
    })

    it('deletes everything it made', async () => {
      await ow.rules.delete({ name: RULE })
      await ow.triggers.delete({ name: TRIGGER })
      await ow.actions.delete({ name: ACTION })
      await ow.actions.delete({ name: WEB_ACTION })
      const names = (await ow.actions.list({ limit: 200 })).map((a) => a.name)
      assert.ok(!names.includes(ACTION) && !names.includes(WEB_ACTION), 'actions still listed')
      await assert.rejects(ow.rules.get({ name: RULE }), (err) => err.statusCode === 404)
      await assert.rejects(ow.triggers.get({ name: TRIGGER }), (err) => err.statusCode === 404)
    })
  })
}
