/**
 * A small fake OpenWhisk API on a loopback port, for driving the web actions' HTTP calls.
 *
 * `startFakeOpenWhisk(answer)` listens on 127.0.0.1:0; every request is recorded
 * (method, path, query, headers, raw and parsed JSON body, and which TCP connection
 * carried it: 0, 1, ... in order of opening) and answered by `answer(request)`, which
 * returns `{ status, json }` (or `text` for a body that is not JSON, and `headers` to
 * add), `HANG` to hold the request open until the server closes, or `DROP` to close the
 * connection without a word. Resolves to `{ url, requests, close }`.
 */
'use strict'

const http = require('node:http')

const HANG = Symbol('hang')
const DROP = Symbol('drop')

function startFakeOpenWhisk (answer) {
  const requests = []
  const held = new Set()
  let connections = 0
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', chunk => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url, 'http://fake')
      const text = Buffer.concat(chunks).toString('utf8')
      const request = {
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        raw: text,
        body: text ? JSON.parse(text) : undefined,
        connection: req.socket.number
      }
      requests.push(request)
      const reply = answer(request)
      if (reply === HANG) {
        held.add(res)
        return
      }
      if (reply === DROP) {
        req.socket.destroy()
        return
      }
      const payload = 'text' in reply ? reply.text : JSON.stringify(reply.json)
      res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers })
      res.end(payload)
    })
  })
  server.on('connection', socket => { socket.number = connections++ })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => new Promise(done => {
          for (const res of held) res.destroy()
          server.closeAllConnections()
          server.close(() => done())
        })
      })
    })
  })
}

module.exports = { startFakeOpenWhisk, HANG, DROP }
