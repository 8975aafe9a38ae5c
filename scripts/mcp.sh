#!/usr/bin/env bash
# Third-party MCP software for kern-mcp's tests, from npm, pinned by scripts/mcp/package-lock.json:
# the reference server `@modelcontextprotocol/server-everything` and the official TypeScript SDK,
# whose client (driven by scripts/mcp/client.mjs) connects to kern's own MCP server.
#
#   eval "$(scripts/mcp.sh)"      installs them where missing and prints `export VAR=value` lines:
#     KERN_TEST_MCP_EVERYTHING    the command that runs the everything server over stdio
#                                 (words split on spaces)
#     KERN_TEST_MCP_CLIENT        the command that runs the SDK client script
#                                 (`... stdio CMD...` or `... http URL`, see client.mjs)
#   cargo test -p kern-mcp
#
# `npm ci` from the checked-in lock file into ${XDG_CACHE_HOME:-~/.cache}/kern-mcp/LOCKHASH
# (KERN_MCP_CACHE), bounded by KERN_MCP_TIMEOUT seconds (default 300); once installed, a run needs
# no network. Logs go to stderr; stdout has the export lines only.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/mcp" && pwd)"

log() { echo "mcp.sh: $*" >&2; }
die() {
  log "$*"
  exit 1
}

command -v node >/dev/null || die "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null || die "npm is not installed (apt-get install npm)"

HASH=$(sha256sum "$HERE/package-lock.json" | cut -c1-16)
CACHE=${KERN_MCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kern-mcp}
DIR=$CACHE/$HASH
STAMP=$DIR/.installed

if [[ ! -f "$STAMP" ]]; then
  log "installing the pinned MCP packages into $DIR"
  rm -rf "$DIR"
  mkdir -p "$DIR"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$DIR/"
  (cd "$DIR" && timeout "${KERN_MCP_TIMEOUT:-300}" npm ci --no-audit --no-fund --loglevel=error >&2) ||
    die "npm ci failed or timed out (see above)"
  touch "$STAMP"
fi
# The client script resolves its imports from the cache's node_modules, so it runs from there.
cp "$HERE/client.mjs" "$DIR/client.mjs"

EVERYTHING=$DIR/node_modules/@modelcontextprotocol/server-everything/dist/index.js
[[ -f "$EVERYTHING" ]] || die "$EVERYTHING is missing: remove $DIR and run again"
printf 'export KERN_TEST_MCP_EVERYTHING=%q\n' "node $EVERYTHING stdio"
printf 'export KERN_TEST_MCP_CLIENT=%q\n' "node $DIR/client.mjs"
