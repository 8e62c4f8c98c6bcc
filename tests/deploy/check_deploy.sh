#!/usr/bin/env bash
# The install tree and the Kubernetes manifests agree: `cmake --install`
# into a scratch prefix, each overlay of deploy/k8s rendered with
# `kubectl kustomize` (or `kustomize build`) and checked against it offline
# (check_k8s.py), and the migration init container's command, taken from the
# rendered manifests, run twice against the test PostgreSQL with the
# installed migrations (every pod runs it: the second run must change nothing).
# Every rendered object is also validated against the Kubernetes schemas
# offline (validate_k8s.js, the npm packages kubernetes-models and
# @kubernetes-models/validate, installed into DPF_NPM_CACHE,
# /var/tmp/dpfleet-npm, not into the tree), and two broken copies (a
# string where an integer belongs, a container without its required name)
# must fail that validation.
set -uo pipefail
BUILD=${DPFLEET_BUILD:?DPFLEET_BUILD not set}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(mktemp -d /tmp/dpfleet-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$BUILD" --prefix "$prefix" >/dev/null || { echo "FAIL - cmake --install"; exit 1; }

if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
    render() { kubectl kustomize "$1"; }
elif command -v kustomize >/dev/null; then
    render() { kustomize build "$1"; }
else
    echo "FAIL - neither kubectl (kustomize) nor kustomize is installed: cannot render deploy/k8s"
    exit 1
fi
# ---- the schema validator: node and the two npm packages (versions pinned)
NPM_CACHE=${DPF_NPM_CACHE:-/var/tmp/dpfleet-npm}
NPM_PKGS="kubernetes-models@4.5.1 @kubernetes-models/validate@4.0.0"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null 2>&1
    fi
    command -v node >/dev/null && command -v npm >/dev/null \
        || { echo "FAIL - node and npm are needed for the schema validation (apt-get install nodejs npm)"; exit 1; }
fi
have_pkgs() {
    [ "$(/usr/bin/python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1] + "/node_modules/" + p + "/package.json"))["version"] for p in ("kubernetes-models", "@kubernetes-models/validate")))' "$NPM_CACHE" 2>/dev/null)" = "4.5.1 4.0.0" ]
}
if ! have_pkgs; then
    mkdir -p "$NPM_CACHE"
    (cd "$NPM_CACHE" && flock "$NPM_CACHE" npm install --no-audit --no-fund --silent --prefix "$NPM_CACHE" $NPM_PKGS) \
        >"$prefix/npm.log" 2>&1
    have_pkgs || { echo "FAIL - npm install $NPM_PKGS into $NPM_CACHE:"; tail -5 "$prefix/npm.log"; exit 1; }
fi
validate() {   # rendered YAML -> schema validation of each object
    /usr/bin/python3 -c 'import sys, yaml, json; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d], open(sys.argv[2], "w"))' \
        "$1" "$1.json" || return 1
    NODE_PATH=$NPM_CACHE/node_modules node "$ROOT/tests/deploy/validate_k8s.js" "$1.json"
}

rc=0
for o in "$ROOT"/deploy/k8s/overlays/*/; do
    name=$(basename "$o")
    if render "$o" > "$prefix/$name.yaml" 2> "$prefix/$name.err"; then
        echo "ok   - overlay $name renders"
    else
        echo "FAIL - overlay $name does not render:"; cat "$prefix/$name.err"; rc=1; continue
    fi
    echo "# overlay $name: the Kubernetes schemas"
    validate "$prefix/$name.yaml" || rc=1
    echo "# overlay $name: against the install tree"
    /usr/bin/python3 "$ROOT/tests/deploy/check_k8s.py" "$prefix" "$prefix/$name.yaml" || rc=1
done

# tests/k8s/smoke's podman overlay: its JSON patches test the indexes they
# replace, so a change of the base that moves them fails here, not only in
# the smoke test (which needs root and podman)
if render "$ROOT/tests/k8s/podman" > "$prefix/podman.yaml" 2> "$prefix/podman.err"; then
    echo "ok   - tests/k8s/podman (the smoke test's overlay) renders"
else
    echo "FAIL - tests/k8s/podman does not render:"; cat "$prefix/podman.err"; rc=1
fi

# ---- the validator catches what it is there for: broken copies fail it
for broken in type required; do
    /usr/bin/python3 - "$prefix/production.yaml" "$prefix/broken-$broken.yaml" "$broken" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
dep = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "hman"][0]
if sys.argv[3] == "type":
    dep["spec"]["minReadySeconds"] = "ten"          # an integer field given a string
else:
    del dep["spec"]["template"]["spec"]["containers"][0]["name"]   # required
yaml.safe_dump_all(docs, open(sys.argv[2], "w"))
PY
    out=$(validate "$prefix/broken-$broken.yaml")
    code=$?
    want='"path":"/spec/minReadySeconds","message":"must be integer"'
    [ "$broken" = required ] && want='"path":"/spec/template/spec/containers/0","message":"must have required property'
    if [ "$code" -ne 0 ] && grep -F "FAIL - Deployment/hman" <<<"$out" | grep -qF "$want"; then
        echo "ok   - a copy with a $broken error fails the schema validation: $(grep -F 'FAIL - ' <<<"$out" | head -1)"
    else
        echo "FAIL - a copy with a $broken error passed the schema validation (exit $code):"; echo "$out" | grep -v '^ok'; rc=1
    fi
done

: "${DPF_TEST_PG_URL:?DPF_TEST_PG_URL not set (run through scripts/test)}"
# the init container's command (the same in every overlay: take production's)
mapfile -t cmd < <(/usr/bin/python3 - "$prefix/production.yaml" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "Deployment" and d["metadata"]["name"] == "dbmon":
        for c in d["spec"]["template"]["spec"].get("initContainers", []):
            print("\n".join(c["command"]))
            break
PY
)
[ "${#cmd[@]}" -gt 0 ] || { echo "FAIL - no migration init container in dbmon"; exit 1; }
db=t_deploy_$$
psql "$DPF_TEST_PG_URL" -XAtq -c "CREATE DATABASE $db" || exit 1
url=${DPF_TEST_PG_URL%/*}/$db
want=$(ls "$prefix"/share/dpfleet/db/*.sql | wc -l)
for run in 1 2; do
    DATABASE_URL=$url DPFLEET_MIGRATIONS=$prefix/share/dpfleet/db "$prefix/bin/${cmd[0]}" "${cmd[@]:1}" \
        >"$prefix/migrate.log" 2>&1 \
        || { echo "FAIL - run $run of the init container's command (${cmd[*]}):"; cat "$prefix/migrate.log"; rc=1; }
    n=$(psql "$url" -XAtq -c "select count(*) from schema_migrations" 2>/dev/null)
    [ "$n" = "$want" ] && echo "ok   - run $run of '${cmd[*]}': every installed migration applied ($n)" \
        || { echo "FAIL - run $run: migrations applied: $n of $want"; rc=1; }
done
psql "$DPF_TEST_PG_URL" -XAtq -c "DROP DATABASE $db" >/dev/null
exit $rc
