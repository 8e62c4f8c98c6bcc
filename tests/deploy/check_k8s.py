#!/usr/bin/env python3
"""Offline check of deploy/k8s/*.yaml against what the build installs.

Usage: check_k8s.py PREFIX MANIFEST...   (PREFIX: a `cmake --install` tree)

There is no cluster here, so this checks what can go wrong without one:
every document parses and has apiVersion/kind/metadata.name; every
container runs a binary the install provides; every environment variable a
container sets is an option of that binary (its --help lists it); every
ConfigMap key is an option of some service; every path the manifests give
under /usr/share/dpfleet exists in the install. Prints "N passed, N failed".
"""
import os
import subprocess
import sys

import yaml

LIBRARY_ENV = {"DPFLEET_LOG_LEVEL", "DPFLEET_SYSTEM_NAME"}  # read by libdpf, not option tables
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
    if not os.access(path, os.X_OK):
        return None
    out = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
    return out.stdout + out.stderr


def containers(doc):
    spec = doc.get("spec", {})
    tmpl = spec.get("template", {}).get("spec", {})
    return tmpl.get("containers", [])


def main():
    prefix, manifests = sys.argv[1], sys.argv[2:]
    docs = []
    for m in manifests:
        with open(m) as f:
            docs += [d for d in yaml.safe_load_all(f) if d]
    check(len(docs) > 0, "manifests hold documents (%d)" % len(docs))
    helps = {}
    config_keys = set()
    for d in docs:
        name = d.get("metadata", {}).get("name")
        check(bool(d.get("apiVersion")) and bool(d.get("kind")) and bool(name),
              "%s/%s has apiVersion, kind and a name" % (d.get("kind"), name))
        if d.get("kind") == "ConfigMap":
            config_keys |= set(d.get("data", {}))
        for c in containers(d):
            binary = (c.get("command") or [""])[0]
            text = help_text(prefix, binary)
            check(text is not None, "%s runs %s, which the install provides" % (name, binary))
            if text is None:
                continue
            helps[binary] = text
            for e in c.get("env", []):
                n = e.get("name")
                check(n in LIBRARY_ENV or "(" + n in text,
                      "%s: %s is an option of %s" % (name, n, binary))
                v = str(e.get("value", ""))
                if v.startswith("/usr/share/dpfleet/"):
                    local = os.path.join(prefix, v[len("/usr/"):])
                    check(os.path.isdir(local), "%s: %s is installed" % (name, v))
            for a in c.get("command", [])[1:]:
                if a.startswith("--"):
                    check(a.split("=")[0] in text, "%s: %s %s is an option" % (name, binary, a))
    for k in sorted(config_keys):
        known = k in LIBRARY_ENV or any("(" + k in t for t in helps.values())
        check(known, "ConfigMap key %s is an option of some service" % k)
    for d in docs:
        for k, v in (d.get("data") or {}).items():
            if str(v).startswith("/usr/share/dpfleet/"):
                local = os.path.join(prefix, str(v)[len("/usr/"):])
                check(os.path.isdir(local), "ConfigMap %s=%s is installed" % (k, v))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
