#!/usr/bin/env bash
# The install tree and the Kubernetes manifests agree: `cmake --install`
# into a scratch prefix, the manifests checked against it offline
# (check_k8s.py), and the migration Job's command run against the test
# PostgreSQL with the installed migrations.
set -uo pipefail
BUILD=${DPFLEET_BUILD:?DPFLEET_BUILD not set}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(mktemp -d /tmp/dpfleet-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$BUILD" --prefix "$prefix" >/dev/null || { echo "FAIL - cmake --install"; exit 1; }
/usr/bin/python3 "$ROOT/tests/deploy/check_k8s.py" "$prefix" "$ROOT"/deploy/k8s/*.yaml || exit 1

: "${DPF_TEST_PG_URL:?DPF_TEST_PG_URL not set (run through scripts/test)}"
db=t_deploy_$$
psql "$DPF_TEST_PG_URL" -XAtq -c "CREATE DATABASE $db" || exit 1
url=${DPF_TEST_PG_URL%/*}/$db
rc=0
DATABASE_URL=$url DPFLEET_MIGRATIONS=$prefix/share/dpfleet/db "$prefix/bin/dbmon" --migrate-only \
    >/dev/null 2>&1 || { echo "FAIL - the migration Job's command (dbmon --migrate-only)"; rc=1; }
n=$(psql "$url" -XAtq -c "select count(*) from schema_migrations" 2>/dev/null)
want=$(ls "$prefix"/share/dpfleet/db/*.sql | wc -l)
[ "$n" = "$want" ] && echo "ok   - the Job applies every installed migration ($n)" \
    || { echo "FAIL - migrations applied: $n of $want"; rc=1; }
psql "$DPF_TEST_PG_URL" -XAtq -c "DROP DATABASE $db" >/dev/null
exit $rc
