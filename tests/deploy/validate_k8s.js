#!/usr/bin/env node
// Validates rendered Kubernetes objects against the Kubernetes 1.27 schemas
// of the npm package `kubernetes-models` (its JSON schemas, checked by
// @kubernetes-models/validate's ajv), offline.
//
// Usage: NODE_PATH=<dir>/node_modules node validate_k8s.js OBJECTS.json
//   OBJECTS.json: a JSON array of the objects of one rendered overlay
//   (check_deploy.sh turns `kubectl kustomize`'s YAML into it).
// Prints one "ok"/"FAIL" line per object and "N passed, N failed"; exits 1
// when any object fails. What the schemas check: types (a string where an
// integer belongs), required fields (a container without a name), enums and
// formats. What they do not: unknown fields (they are allowed), and objects
// of custom resources (below).
"use strict";
const fs = require("fs");

// Custom resources: kubernetes-models has no schema for them (their CRDs are
// installed in a cluster by their operators). Skipped by name, with a line
// saying so; any other apiVersion the package lacks is a failure, so a typo
// in a core apiVersion cannot pass unvalidated.
const CRD_GROUPS = {
  "keda.sh": "KEDA's CRD (ScaledObject, TriggerAuthentication): not in kubernetes-models",
};

function moduleFor(apiVersion) {
  // "v1" -> kubernetes-models/v1, "apps/v1" -> kubernetes-models/apps/v1
  return "kubernetes-models/" + apiVersion;
}

function main() {
  const objects = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  let passed = 0, failed = 0, skipped = 0;
  for (const obj of objects) {
    const what = `${obj && obj.kind}/${obj && obj.metadata && obj.metadata.name}`;
    if (!obj || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
      console.log(`FAIL - ${what}: no apiVersion or kind`);
      failed++;
      continue;
    }
    const group = obj.apiVersion.includes("/") ? obj.apiVersion.split("/")[0] : "";
    if (CRD_GROUPS[group]) {
      console.log(`skip - ${what} (${obj.apiVersion}): ${CRD_GROUPS[group]}`);
      skipped++;
      continue;
    }
    let Model;
    try {
      Model = require(moduleFor(obj.apiVersion))[obj.kind];
    } catch (e) {
      Model = undefined;
    }
    if (typeof Model !== "function") {
      console.log(`FAIL - ${what}: no schema for ${obj.apiVersion} ${obj.kind}`);
      failed++;
      continue;
    }
    try {
      // the constructor keeps every field as given; validate() checks the
      // object against the schema of its kind and throws with the paths
      new Model(obj).validate();
      console.log(`ok   - ${what} (${obj.apiVersion}) matches its schema`);
      passed++;
    } catch (e) {
      const detail = e.errors ? JSON.stringify(e.errors.map((x) => ({
        path: x.instancePath, message: x.message, params: x.params })))
        : String(e.message || e);
      console.log(`FAIL - ${what} (${obj.apiVersion}): ${detail}`);
      failed++;
    }
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped (custom resources)`);
  process.exit(failed || objects.length === 0 ? 1 : 0);
}

main();
