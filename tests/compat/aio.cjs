// `node tests/compat/aio.cjs rt ...`: Adobe's `aio rt` commands without the whole aio
// CLI. @adobe/aio-cli-plugin-runtime is an oclif plugin with no bin of its own; oclif
// runs it as the root of a CLI, so every command and alias (`rt action create`, ...)
// works as `aio` runs it.
const path = require('node:path')

const plugin = path.dirname(require.resolve('@adobe/aio-cli-plugin-runtime/package.json'))
// The plugin's own copy of oclif, wherever npm put it.
const { execute } = require(require.resolve('@oclif/core', { paths: [plugin] }))
execute({ dir: plugin }).catch((error) => {
  console.error(error)
  process.exit(1)
})
