#!/usr/bin/env bash
# Prints the host's node major version, the default NODE_VERSION of the images:
# the node:<major> stand-in copies the host's node, so that it is what its tag
# says. 20 when node is missing or older than the project supports.
set -uo pipefail
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || major=20
[ "$major" -ge 20 ] 2>/dev/null || major=20
printf '%s\n' "$major"
