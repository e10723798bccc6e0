// Bundles the two sides of ./bench/run sdk for the browser into bench/sdk/dist/:
// sdk.js (@fieldsync/client, from clients/js) and watermelon.js (WatermelonDB + LokiJS).
//   node bench/sdk/build.mjs [--only watermelon|sdk]
// The SDK is resolved from its source (clients/js/src/index.js) so the bench runs the
// worktree's code; its dependencies come from clients/js/node_modules.
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const sdkEntry = join(root, 'clients/js/src/index.js')
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null

const common = {
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'chrome110',
  minify: true,
  keepNames: true,
  sourcemap: false,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
}

const built = {}
if (!only || only === 'watermelon') {
  await esbuild.build({
    ...common,
    entryPoints: [join(here, 'wm.js')],
    outfile: join(here, 'dist/watermelon.js'),
    // One WatermelonDB for the schema (clients/watermelondb/) and the database.
    alias: { '@nozbe/watermelondb': join(here, 'node_modules/@nozbe/watermelondb') },
    nodePaths: [join(here, 'node_modules')],
  })
  built.watermelon = true
}
if (!only || only === 'sdk') {
  if (existsSync(sdkEntry)) {
    await esbuild.build({
      ...common,
      entryPoints: [join(here, 'sdk.js')],
      outfile: join(here, 'dist/sdk.js'),
      alias: { '@fieldsync/client': sdkEntry },
      nodePaths: [join(root, 'clients/js/node_modules'), join(here, 'node_modules')],
    })
    built.sdk = true
  } else {
    built.sdk = false
  }
}
console.log(JSON.stringify(built))
