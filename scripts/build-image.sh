#!/usr/bin/env bash
# Builds the product image from the repository's Dockerfile.
# Usage: build-image.sh [TAG]            (default tag: autodeploy-scheduler:dev)
# NODE_VERSION selects the node:<version>-bookworm-slim base. Default: the
# host's node major (at least 20), the one scripts/build-test-images.sh can
# stand in for when no registry is reachable; the Dockerfile's own default is
# for machines that can pull any version.
# VERSION is recorded in the image label (default: package.json's version).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly TAG=${1:-autodeploy-scheduler:dev}
NODE_VERSION=${NODE_VERSION:-$("$ROOT/scripts/host-node-major.sh")}
export NODE_VERSION

cd "$ROOT"
"$ROOT/scripts/build-test-images.sh" node-base

version=${VERSION:-$(node -p 'require("./package.json").version')}
printf 'build-image: building %s (node %s, version %s)\n' "$TAG" "$NODE_VERSION" "$version"
docker build \
  --build-arg "NODE_VERSION=$NODE_VERSION" \
  --build-arg "VERSION=$version" \
  -t "$TAG" \
  "$ROOT"

# Earlier builds of the product image, now untagged, would pile up on a
# machine that keeps /var/lib/docker; the build cache lives in the current
# image's parents and is kept.
docker image prune -f --filter "label=org.opencontainers.image.title=autodeploy-scheduler" >/dev/null
