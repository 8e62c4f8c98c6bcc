#!/usr/bin/env python3
"""Offline check of rendered deploy/k8s overlays against what the build installs.

Usage: check_k8s.py PREFIX MANIFEST...   (PREFIX: a `cmake --install` tree;
MANIFEST: the output of `kubectl kustomize deploy/k8s/overlays/<name>`)

There is no cluster in CI, so this checks what can go wrong without one:
every document parses and has apiVersion/kind/metadata.name; every container
of the dpfleet image (init containers too) runs a binary the install provides
with options it has (its --help lists each environment variable and --flag);
every dpfleet ConfigMap key is an option of some service; every path given
under /usr/share/dpfleet exists in the install; each control-plane
Deployment runs `dbmon --migrate-only` before its service, probes /healthz
(liveness) and /readyz (readiness) on the port the service is told to
listen on, runs non-root with a read-only root filesystem, has memory
requests and limits and a PodDisruptionBudget; what a service writes
(DPFLEET_CONTENT_LIBRARY, DPFLEET_AGENT_ROOT) is on a writable volume; the
connections come from configMapRef/secretRef objects that exist or (Secret)
are documented as made by the operator; a KEDA ScaledObject scales distmgr on
the stream and durable consumers distmgr really uses (their names are in the
installed binary) with the dp.ins lag threshold equal to the per-replica
DPUpgradeThreadLimit. Prints "N passed, N failed".
"""
import os
import subprocess
import sys

import yaml

# read by libdpf (lib/src), not by a service's option table
LIBRARY_ENV = {"DPFLEET_LOG_LEVEL", "DPFLEET_SYSTEM_NAME", "DPFLEET_NATS_CREDS",
               "NATS_USER", "NATS_PASS", "MALLOC_ARENA_MAX"}
CONTROL_PLANE = ["provider", "dbmon", "hman", "distmgr"]
# commands of the image's Debian base (coreutils), not of the install tree
IMAGE_TOOLS = {"install"}
WRITTEN = {"DPFLEET_CONTENT_LIBRARY", "DPFLEET_AGENT_ROOT"}
OPERATOR_SECRETS = {"dpfleet-connection", "dpfleet-nats-creds"}
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("ok   - " + what)
    else:
        failed += 1
        print("FAIL - " + what)


def help_text(prefix, binary):
    path = os.path.join(prefix, "bin", binary)
    if not binary or not os.access(path, os.X_OK):
        return None
    out = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
    return out.stdout + out.stderr


def pod_spec(doc):
    return doc.get("spec", {}).get("template", {}).get("spec", {})


def is_dpfleet_image(image):
    name = (image or "").rsplit("/", 1)[-1].split(":")[0].split("@")[0]
    return name == "dpfleet"


def env_map(c, configmaps):
    """Every variable the container gets: env values and envFrom ConfigMaps."""
    env = {}
    for ref in c.get("envFrom", []):
        cm = ref.get("configMapRef", {}).get("name")
        if cm in configmaps:
            env.update(configmaps[cm])
    for e in c.get("env", []):
        env[e.get("name")] = str(e.get("value", "")) if "value" in e else None
    return env


def listen_port(addr):
    try:
        return int(str(addr).rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return None


def check_container(prefix, name, c, helps, configmaps):
    binary = (c.get("command") or [""])[0]
    if binary in IMAGE_TOOLS:
        return
    text = help_text(prefix, binary)
    check(text is not None, "%s/%s runs %s, which the install provides" % (name, c.get("name"), binary))
    if text is None:
        return
    helps[binary] = text
    for e in c.get("env", []):
        n = e.get("name")
        check(n in LIBRARY_ENV or "(" + n in text, "%s: %s is an option of %s" % (name, n, binary))
        v = str(e.get("value", ""))
        if v.startswith("/usr/share/dpfleet/"):
            check(os.path.exists(os.path.join(prefix, v[len("/usr/"):])),
                  "%s: %s is installed" % (name, v))
    for a in c.get("command", [])[1:]:
        if a.startswith("--"):
            check(a.split("=")[0] in text, "%s: %s %s is an option" % (name, binary, a))
    for ref in c.get("envFrom", []):
        cm = ref.get("configMapRef", {}).get("name")
        sec = ref.get("secretRef", {}).get("name")
        if cm:
            check(cm in configmaps, "%s: ConfigMap %s exists" % (name, cm))
        if sec:
            check(sec in OPERATOR_SECRETS, "%s: Secret %s is one the README has the operator make" % (name, sec))


def check_service(name, doc, configmaps, pdbs):
    spec = pod_spec(doc)
    c = spec["containers"][0]
    env = env_map(c, configmaps)
    inits = spec.get("initContainers", [])
    check(any(i.get("command") == ["dbmon", "--migrate-only"] for i in inits),
          "%s: an init container runs dbmon --migrate-only before it" % name)
    for i in inits:
        if (i.get("command") or [""])[0] != "dbmon":
            continue
        check(i.get("envFrom") == c.get("envFrom"),
              "%s: init container %s has the service's connection settings" % (name, i.get("name")))
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    live = c.get("livenessProbe", {}).get("httpGet", {})
    ready = c.get("readinessProbe", {}).get("httpGet", {})
    check(live.get("path") == "/healthz", "%s: liveness probes /healthz" % name)
    check(ready.get("path") == "/readyz", "%s: readiness probes /readyz" % name)
    want = listen_port(env.get("DPFLEET_LISTEN" if name == "provider" else "DPFLEET_HEALTH_LISTEN"))
    got = ports.get(ready.get("port"), ready.get("port"))
    check(want is not None and got == want and ports.get(live.get("port"), live.get("port")) == want,
          "%s: probes go to the port it listens on (%s)" % (name, want))
    psc, csc = spec.get("securityContext", {}), c.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and (psc.get("runAsUser") or 0) > 0,
          "%s: runs as a non-root user" % name)
    check(csc.get("readOnlyRootFilesystem") is True and csc.get("allowPrivilegeEscalation") is False,
          "%s: read-only root filesystem, no privilege escalation" % name)
    res = c.get("resources", {})
    check(bool(res.get("requests", {}).get("memory")) and bool(res.get("limits", {}).get("memory")),
          "%s: memory requests and limits" % name)
    key = env.get("DPFLEET_STEP_SIGNING_KEY")
    if name == "distmgr":
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        mount = [m for m in c.get("volumeMounts", [])
                 if key and key.startswith(m["mountPath"].rstrip("/") + "/")]
        vol = vols.get(mount[0]["name"], {}) if mount else {}
        # a Secret/ConfigMap file is 0440 under fsGroup (0644 under podman):
        # distmgr refuses a private key others may read
        check("emptyDir" in vol and any(
                  i.get("command", [""])[0] == "install" and "0600" in i.get("command", [])
                  and key in i.get("command", []) for i in inits),
              "distmgr: the step signing key %s is a 0600 copy an init container makes on an "
              "emptyDir, not a Secret file (0440 under fsGroup)" % key)
    labels = spec and doc["spec"]["template"]["metadata"].get("labels", {})
    check(any(all(labels.get(k) == v for k, v in sel.items()) for sel in pdbs),
          "%s: a PodDisruptionBudget covers its pods" % name)


def check_writable(name, doc, configmaps):
    spec = pod_spec(doc)
    for c in spec.get("containers", []):
        if not is_dpfleet_image(c.get("image")):
            continue
        env = env_map(c, configmaps)
        mounts = [m for m in c.get("volumeMounts", []) if not m.get("readOnly")]
        for k in sorted(WRITTEN & set(env)):
            binary = (c.get("command") or [""])[0]
            if k == "DPFLEET_CONTENT_LIBRARY" and binary != "distmgr":
                continue
            path = env[k] or ""
            check(any(path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/")
                      for m in mounts),
                  "%s: %s=%s is on a writable volume" % (name, k, path))


def check_scaledobject(prefix, doc, configmaps):
    """KEDA measures consumers by name: a renamed durable would leave it
    reading a consumer that does not exist (no scaling, no error)."""
    name = doc["metadata"]["name"]
    spec = doc.get("spec", {})
    check(spec.get("scaleTargetRef", {}).get("name") == "distmgr",
          "ScaledObject %s scales the distmgr Deployment" % name)
    try:
        with open(os.path.join(prefix, "bin", "distmgr"), "rb") as f:
            binary = f.read()
    except OSError:
        binary = b""
    consumers = {}
    for t in spec.get("triggers", []):
        md = t.get("metadata", {})
        check(t.get("type") == "nats-jetstream", "ScaledObject %s: trigger type nats-jetstream" % name)
        for k in ("stream", "consumer"):
            v = str(md.get(k, ""))
            check(bool(v) and v.encode() + b"\0" in binary,
                  "ScaledObject %s: %s %s is the one distmgr uses" % (name, k, v))
        consumers[md.get("consumer")] = md.get("lagThreshold")
    check(set(consumers) == {"distmgr-ins", "distmgr-dpn"},
          "ScaledObject %s: triggers on distmgr-ins and distmgr-dpn" % name)
    limit = configmaps.get("dpfleet-config", {}).get("DPFLEET_DP_UPGRADE_THREAD_LIMIT")
    check(consumers.get("distmgr-ins") == limit,
          "ScaledObject %s: dp.ins lagThreshold (%s) = DPUpgradeThreadLimit (%s)"
          % (name, consumers.get("distmgr-ins"), limit))
    check(0 < spec.get("minReplicaCount", 0) <= spec.get("maxReplicaCount", 0),
          "ScaledObject %s: 0 < minReplicaCount <= maxReplicaCount" % name)


def main():
    prefix, manifests = sys.argv[1], sys.argv[2:]
    docs = []
    for m in manifests:
        with open(m) as f:
            docs += [d for d in yaml.safe_load_all(f) if d]
    check(len(docs) > 0, "manifests hold documents (%d)" % len(docs))
    configmaps = {d["metadata"]["name"]: {k: str(v) for k, v in (d.get("data") or {}).items()}
                  for d in docs if d.get("kind") == "ConfigMap"}
    pdbs = [d["spec"]["selector"]["matchLabels"] for d in docs
            if d.get("kind") == "PodDisruptionBudget"]
    deployments = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Deployment"}
    helps = {}
    used_configmaps = set()
    for d in docs:
        name = d.get("metadata", {}).get("name")
        check(bool(d.get("apiVersion")) and bool(d.get("kind")) and bool(name),
              "%s/%s has apiVersion, kind and a name" % (d.get("kind"), name))
        spec = pod_spec(d)
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            if is_dpfleet_image(c.get("image")):
                check_container(prefix, name, c, helps, configmaps)
                used_configmaps |= {r["configMapRef"]["name"] for r in c.get("envFrom", [])
                                    if "configMapRef" in r}
        if d.get("kind") == "Deployment":
            check_writable(name, d, configmaps)
    for d in docs:
        if d.get("kind") == "ScaledObject":
            check_scaledobject(prefix, d, configmaps)
    for svc in CONTROL_PLANE:
        check(svc in deployments, "Deployment %s exists" % svc)
        if svc in deployments:
            check_service(svc, deployments[svc], configmaps, pdbs)
    for cm in sorted(used_configmaps & set(configmaps)):
        for k in sorted(configmaps[cm]):
            known = k in LIBRARY_ENV or any("(" + k in t for t in helps.values())
            check(known, "ConfigMap %s key %s is an option of some service" % (cm, k))
            v = configmaps[cm][k]
            if v.startswith("/usr/share/dpfleet/"):
                check(os.path.isdir(os.path.join(prefix, v[len("/usr/"):])),
                      "ConfigMap %s=%s is installed" % (k, v))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
