#!/usr/bin/env bash
# The install tree and the Kubernetes manifests agree: `cmake --install`
# into a scratch prefix, each overlay of deploy/k8s rendered with
# `kubectl kustomize` (or `kustomize build`) and checked against it offline
# (check_k8s.py), and the migration init container's command, taken from the
# rendered manifests, run twice against the test PostgreSQL with the
# installed migrations (every pod runs it: the second run must change nothing).
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
rc=0
for o in "$ROOT"/deploy/k8s/overlays/*/; do
    name=$(basename "$o")
    if render "$o" > "$prefix/$name.yaml" 2> "$prefix/$name.err"; then
        echo "ok   - overlay $name renders"
    else
        echo "FAIL - overlay $name does not render:"; cat "$prefix/$name.err"; rc=1; continue
    fi
    echo "# overlay $name"
    /usr/bin/python3 "$ROOT/tests/deploy/check_k8s.py" "$prefix" "$prefix/$name.yaml" || rc=1
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
