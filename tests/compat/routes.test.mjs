// Compatibility: the official OpenWhisk JavaScript client's `routes` (API gateway) against a server.
//
// Run with the other scenarios by tests/integration/test_compat_node.py (OW_APIHOST and
// OW_API_KEY set). routes.create/list/delete call whisk.system/apimgmt as the client does
// for `aio rt api` too; each route is then called with fetch, without credentials.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import openwhisk from 'openwhisk'

const APIHOST = process.env.OW_APIHOST
const API_KEY = process.env.OW_API_KEY
if (!APIHOST || !API_KEY) {
  throw new Error('set OW_APIHOST (http://host:port) and OW_API_KEY (uuid:key) to run these tests')
}

const RUN = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
const ACTION = `compat-route-${RUN}`
const BASE = `/compat-${RUN}`
const CODE = `function main (args) {
  const isbn = (args.__ow_path || '').split('/')[3]
  return { statusCode: 200, body: { isbn, method: args.__ow_method, name: args.name || null } }
}
`

const ow = openwhisk({ apihost: APIHOST, api_key: API_KEY })

describe('official openwhisk client, API gateway routes', () => {
  before(async () => {
    await ow.actions.create({
      name: ACTION,
      action: CODE,
      kind: 'nodejs:20',
      annotations: { 'web-export': true }
    })
  })

  after(async () => {
    await ow.routes.delete({ basepath: BASE }).catch(() => {})
    await ow.actions.delete({ name: ACTION }).catch(() => {})
  })

  let url

  it('creates a route with a path parameter', async () => {
    const created = await ow.routes.create({
      basepath: BASE,
      relpath: '/books/{isbn}',
      operation: 'GET',
      action: ACTION,
      responsetype: 'http',
      name: 'Book Club'
    })
    assert.equal(created.apidoc.basePath, BASE)
    assert.equal(created.apidoc.info.title, 'Book Club')
    assert.ok(created.apidoc.paths['/books/{isbn}'].get, 'no GET operation in the created API')
    assert.match(created.gwApiUrl, /\/api\/[0-9a-f-]{36}\/compat-/)
    url = created.gwApiUrl
  })

  it('adds a second route under the same base path', async () => {
    const created = await ow.routes.create({
      basepath: BASE, relpath: '/books', operation: 'POST', action: ACTION, responsetype: 'http'
    })
    assert.deepEqual(Object.keys(created.apidoc.paths).sort(), ['/books', '/books/{isbn}'])
  })

  it('lists the routes by base path and by name', async () => {
    const byPath = await ow.routes.list({ basepath: BASE })
    assert.equal(byPath.apis.length, 1)
    assert.equal(byPath.apis[0].value.gwApiUrl, url)
    const byName = await ow.routes.get({ name: 'Book Club' })
    assert.deepEqual(byName.apis[0].value.apidoc, byPath.apis[0].value.apidoc)
  })

  it('serves the route, path parameter and query included, without credentials', async () => {
    const answer = await fetch(`${url}/books/978-0596517748?name=fetch`)
    assert.equal(answer.status, 200)
    assert.deepEqual(await answer.json(), { isbn: '978-0596517748', method: 'get', name: 'fetch' })
    const posted = await fetch(`${url}/books`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'posted' })
    })
    assert.equal(posted.status, 200)
    assert.deepEqual(await posted.json(), { method: 'post', name: 'posted' })
  })

  it('deletes one route, then the whole API', async () => {
    await ow.routes.delete({ basepath: BASE, relpath: '/books', operation: 'POST' })
    const left = await ow.routes.list({ basepath: BASE })
    assert.deepEqual(Object.keys(left.apis[0].value.apidoc.paths), ['/books/{isbn}'])
    await ow.routes.delete({ basepath: BASE })
    assert.deepEqual((await ow.routes.list({ basepath: BASE })).apis, [])
    const gone = await fetch(`${url}/books/1`)
    assert.equal(gone.status, 404)
  })
})
