#!/usr/bin/env bash
# Builds the product image from the repository's Dockerfile.
# Usage: build-image.sh [TAG]            (default tag: autodeploy-scheduler:dev)
# NODE_VERSION selects the node:<version>-bookworm-slim base (default 20, the
# version whose base image scripts/build-test-images.sh can provide offline);
# VERSION is recorded in the image label (default: package.json's version).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly TAG=${1:-autodeploy-scheduler:dev}
export NODE_VERSION=${NODE_VERSION:-20}

cd "$ROOT"
"$ROOT/scripts/build-test-images.sh" node-base

version=${VERSION:-$(node -p 'require("./package.json").version')}
printf 'build-image: building %s (node %s, version %s)\n' "$TAG" "$NODE_VERSION" "$version"
docker build \
  --build-arg "NODE_VERSION=$NODE_VERSION" \
  --build-arg "VERSION=$version" \
  -t "$TAG" \
  "$ROOT"
