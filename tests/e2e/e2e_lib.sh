# Assertion helpers and stack handling for the end-to-end tests (sourced).
# Each test ends with the line "N passed, N failed" and exits non-zero on
# any failure.
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_PASS=0
E2E_FAIL=0

e2e_ok() { E2E_PASS=$((E2E_PASS + 1)); echo "ok   - $*"; }
e2e_bad() { E2E_FAIL=$((E2E_FAIL + 1)); echo "FAIL - $*"; }

# e2e_check "what" command...: passes when the command succeeds.
e2e_check() {
    local what=$1; shift
    if "$@"; then e2e_ok "$what"; else e2e_bad "$what"; fi
}

# e2e_eq "what" expected actual
e2e_eq() {
    if [ "$2" = "$3" ]; then e2e_ok "$1"; else e2e_bad "$1 (expected '$2', got '$3')"; fi
}

sql() { psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# e2e_wait_sql "what" SQL expected [seconds]: polls until SQL returns expected.
e2e_wait_sql() {
    local what=$1 q=$2 want=$3 secs=${4:-60} got="" i
    for i in $(seq 1 $((secs * 5))); do
        got=$(sql "$q" 2>/dev/null || true)
        [ "$got" = "$want" ] && { e2e_ok "$what"; return 0; }
        sleep 0.2
    done
    e2e_bad "$what (waited ${secs}s: expected '$want', got '$got')"
    return 1
}

e2e_stack_up() {
    export DPFLEET_STACK
    DPFLEET_STACK=$(mktemp -d /tmp/dpfleet-e2e.XXXXXX)
    local out try
    # a free port scripts/lib.sh picked may be taken by another program (a
    # test running beside this one) before our server binds it: try again
    for try in 1 2 3; do
        out=$("$E2E_ROOT/scripts/stack" up --no-build "$@") && break
        "$E2E_ROOT/scripts/stack" down >/dev/null 2>&1 || true
        [ "$try" -lt 3 ] || { echo "stack up failed 3 times"; exit 1; }
        echo "stack up failed; trying again"
    done
    eval "$out"
    # The logs outlive a test that fails or is killed. ctest kills a test
    # at its timeout with SIGKILL (cmake 3.25: no trap runs, the stack is
    # not removed), so from now until the test ends well
    # <stack>.failed-logs already points at the stack's logs; a failure
    # that gets to e2e_stack_down replaces the link by a copy.
    ln -sfn "$DPFLEET_STACK/logs" "$DPFLEET_STACK.failed-logs"
    echo "# stack in $DPFLEET_STACK: if this test fails or is killed, its whole logs are in" \
        "$DPFLEET_STACK.failed-logs"
    trap e2e_stack_down EXIT
    # a TERM (kill, or a ctest with TIMEOUT_SIGNAL_NAME) or INT is a
    # failure that keeps the logs and takes the stack down
    trap 'e2e_bad "killed by SIGTERM"; exit 143' TERM
    trap 'e2e_bad "interrupted (SIGINT)"; exit 130' INT
}

# Stops the services one by one, so a sanitizer build reports leaks and
# memory errors at exit, and counts a failure for any such report in their
# logs. Idempotent.
e2e_stop_and_check() {
    local f bad
    kill $(jobs -p) 2>/dev/null || true
    for f in "$DPFLEET_STACK"/pids/*.pid; do
        [ -e "$f" ] && "$E2E_ROOT/scripts/stack" stop "$(basename "$f" .pid)" >/dev/null 2>&1
    done
    bad=$(grep -lE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer" "$DPFLEET_STACK"/logs/*.log 2>/dev/null)
    if [ -n "$bad" ]; then
        e2e_bad "sanitizer reports in: $bad"
        grep -hE -A 12 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer" $bad | head -80
    fi
}

e2e_stack_down() {
    local rc=$?
    e2e_stop_and_check
    if [ "$E2E_FAIL" -gt 0 ] || [ $rc -ne 0 ]; then
        echo "---- service logs (last lines) ----"
        tail -n 40 "$DPFLEET_STACK"/logs/*.log 2>/dev/null || true
        # the whole logs outlive the stack, for a failure that does not repeat
        rm -f "$DPFLEET_STACK.failed-logs" # the link made at stack up
        if cp -r "$DPFLEET_STACK/logs" "$DPFLEET_STACK.failed-logs" 2>/dev/null; then
            # and the stack's own (nats-server's, the e2e tests' admin.log...)
            cp "$DPFLEET_STACK"/*.log "$DPFLEET_STACK.failed-logs/" 2>/dev/null
            echo "---- every service's whole log kept in $DPFLEET_STACK.failed-logs ----"
        else
            echo "---- could not keep the logs in $DPFLEET_STACK.failed-logs ----"
        fi
        [ $rc -eq 0 ] && rc=1
    else
        rm -f "$DPFLEET_STACK.failed-logs"
    fi
    "$E2E_ROOT/scripts/stack" down >/dev/null 2>&1 || true
    exit $rc
}

e2e_finish() {
    e2e_stop_and_check
    echo "$E2E_PASS passed, $E2E_FAIL failed"
    [ "$E2E_FAIL" -eq 0 ]
}

api() { # method path [json]
    if [ $# -ge 3 ]; then
        curl -sS -o /tmp/e2e_body.$$ -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
            -H "Authorization: Bearer $DPFLEET_TOKEN" --data-binary "$3" "$DPFLEET_API$2"
    else
        curl -sS -o /tmp/e2e_body.$$ -w '%{http_code}' -X "$1" -H "Authorization: Bearer $DPFLEET_TOKEN" \
            "$DPFLEET_API$2"
    fi
}
api_body() { cat /tmp/e2e_body.$$; }
