// Validates Kubernetes manifests offline against the API schemas
// (kubernetes-models): every document of every YAML file given, except
// kustomization files, must be a known apiVersion/kind that validates.
// Usage: node k8s_validate.js FILE.yaml...   Exit 1 naming each failure.
'use strict'
const fs = require('fs')
const path = require('path')
const yaml = require('js-yaml')

// "v1" and "apps/v1" are both module paths of kubernetes-models
function model (apiVersion, kind) {
  return require(`kubernetes-models/${apiVersion}`)[kind]
}

let failures = 0
let checked = 0
for (const file of process.argv.slice(2)) {
  if (path.basename(file) === 'kustomization.yaml') continue
  for (const doc of yaml.loadAll(fs.readFileSync(file, 'utf8'))) {
    if (doc == null) continue
    const where = `${file}: ${doc.kind || '?'} ${doc.metadata && doc.metadata.name}`
    try {
      const Model = model(doc.apiVersion, doc.kind)
      if (typeof Model !== 'function') throw new Error(`unknown kind ${doc.apiVersion}/${doc.kind}`)
      new Model(doc).validate()
      checked++
    } catch (e) {
      failures++
      console.error(`${where}: ${e.message}`)
    }
  }
}
console.log(`${checked} resources valid, ${failures} invalid`)
process.exit(failures || checked === 0 ? 1 : 0)
