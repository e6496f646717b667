// The deploy benchmark's peer: `aio rt deploy sync` without the CLI around it.
//
// Same calls as adobe/aio-cli-plugin-runtime's deploy/sync.js: setPaths -> processPackage ->
// init -> syncProject (whisk-managed annotations, then deployPackage's sequential PUTs, then
// the stale sweep), so the peer does what our managed deploy does, through aio-lib-runtime.
// Usage: node deploy.js MANIFEST   (WHISK_APIHOST, WHISK_AUTH, WHISK_NAMESPACE in the env)
// Prints one JSON line on stdout: {"requests": N, "packages": N, "actions": N, "triggers": N,
// "rules": N}: every HTTP request it made and the entities it wrote.
'use strict'

const http = require('http')
const https = require('https')

// Count every HTTP request the library makes (openwhisk-client-js goes through needle,
// the runtime list through node-fetch; both end in http(s).request at call time).
let requests = 0
for (const mod of [http, https]) {
  const original = mod.request
  mod.request = function (...args) {
    requests += 1
    return original.apply(this, args)
  }
}

const { init, utils } = require('@adobe/aio-lib-runtime')

async function main () {
  const manifest = process.argv[2]
  const components = utils.setPaths({ manifest })
  if (components.projectName === '') {
    throw new Error('the manifest has no project name (sync needs one)')
  }
  const entities = utils.processPackage(
    components.packages, components.deploymentPackages, components.deploymentTriggers, {})
  const ow = await init({
    apihost: process.env.WHISK_APIHOST,
    api_key: process.env.WHISK_AUTH,
    namespace: process.env.WHISK_NAMESPACE || 'guest'
  })
  // aio names a rule's action /ns/default/<action> for the manifest's `default` package
  // (it strips that prefix from the action's own name only); localwhisk resolves default/
  // in web URLs, not in rule paths, so the rule gets the path the action was stored at.
  const updateRule = ow.rules.update.bind(ow.rules)
  ow.rules.update = options => updateRule(
    { ...options, action: options.action.replace(/^(\/[^/]+)\/default\//, '$1/') })
  await utils.syncProject(components.projectName, components.manifestPath,
    components.manifestContent, entities, ow, () => {})
  process.stdout.write(JSON.stringify({
    requests,
    // aio skips the reserved `default` package, as our tool writes no package for it
    packages: entities.pkgAndDeps.filter(p => p.name !== 'default').length,
    actions: entities.actions.length,
    triggers: entities.triggers.length,
    rules: entities.rules.length
  }) + '\n')
}

main().catch(err => {
  process.stderr.write(`peer deploy failed: ${err.stack || err}\n`)
  process.exit(1)
})
