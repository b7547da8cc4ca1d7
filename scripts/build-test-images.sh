#!/usr/bin/env bash
# Builds the images the tests and the product build need, each only when its
# tag is missing (or was made by an older recipe of this script):
#   busybox    autodeploy-test/busybox:latest, a tiny image for job containers
#   node-base  node:${NODE_VERSION}-bookworm-slim: pulled when a registry can be
#              reached; otherwise a stand-in made from Debian packages and the
#              host's own node and npm (NODE_VERSION defaults to the host's
#              node major, so that the stand-in is what its tag says)
# Usage: build-test-images.sh [busybox|node-base|all]...   (default: all)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly CACHE_DIR="$ROOT/.cache/test-images"
NODE_VERSION=${NODE_VERSION:-$("$ROOT/scripts/host-node-major.sh")}
readonly NODE_VERSION
readonly DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

readonly BUSYBOX_TAG=autodeploy-test/busybox:latest
# Bump a recipe number when what the image holds changes, so that images kept
# in /var/lib/docker from an older recipe are rebuilt.
readonly BUSYBOX_RECIPE=1
readonly BUSYBOX_REQUIRED=(sh echo cat ls sleep date env seq printf kill true false id chmod chown stat
  mkdir rm mv cp wc head tail grep sed touch)

readonly NODE_TAG="node:${NODE_VERSION}-bookworm-slim"
readonly STAND_IN_RECIPE=3
readonly STAND_IN_PACKAGES=ca-certificates,libstdc++6,libgcc-s1
readonly RECIPE_LABEL=org.autodeploy.test-recipe

say() { printf 'build-test-images: %s\n' "$*"; }
die() { printf 'build-test-images: %s\n' "$*" >&2; exit 1; }

# Prints the recipe label of an image (empty when it has none, as an image
# from a registry); fails when the image does not exist.
image_recipe() {
  docker image inspect \
    --format "{{ with .Config.Labels }}{{ with index . \"$RECIPE_LABEL\" }}{{ . }}{{ end }}{{ end }}" \
    "$1" 2>/dev/null
}

build_busybox() {
  local have
  if have=$(image_recipe "$BUSYBOX_TAG") && [ "$have" = "busybox-$BUSYBOX_RECIPE" ]; then
    return 0
  fi
  local busybox
  busybox=$(command -v busybox || true)
  [ -n "$busybox" ] || die "busybox is not installed (run scripts/ensure-docker.sh)"
  # Only a static busybox runs in an empty rootfs.
  if ! file_is_static "$busybox"; then
    if ! { [ -x /bin/busybox ] && file_is_static /bin/busybox; }; then
      die "no static busybox found (install busybox-static)"
    fi
    busybox=/bin/busybox
  fi

  local applets applet
  applets=$("$busybox" --list)
  for applet in "${BUSYBOX_REQUIRED[@]}"; do
    grep -qx -- "$applet" <<<"$applets" || die "$busybox lacks the '$applet' applet"
  done

  say "building $BUSYBOX_TAG"
  local rootfs
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs"/{bin,usr/bin,etc,tmp,root,home,var/tmp}
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 700 "$rootfs/root"
  cp "$busybox" "$rootfs/bin/busybox"
  while IFS= read -r applet; do
    case "$applet" in busybox | */* | '') continue ;; esac
    ln -sf busybox "$rootfs/bin/$applet"
  done <<<"$applets"
  # Scripts written for a full system start with #!/usr/bin/env.
  ln -sf ../../bin/busybox "$rootfs/usr/bin/env"
  # Named users let `id`, `--user nobody` and file ownership checks behave as
  # on a normal distribution.
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
    >"$rootfs/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$rootfs/etc/group"

  tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
    docker import \
      --change 'ENV PATH=/usr/bin:/bin' \
      --change 'CMD ["/bin/sh"]' \
      --change "LABEL $RECIPE_LABEL=busybox-$BUSYBOX_RECIPE" \
      - "$BUSYBOX_TAG" >/dev/null
  rm -rf "$rootfs"
  docker run --rm "$BUSYBOX_TAG" sh -c 'test -d /tmp && echo ok' | grep -qx ok ||
    die "$BUSYBOX_TAG was built but does not run a shell"
}

file_is_static() {
  # ldd exits non-zero on a static binary ("not a dynamic executable").
  ! ldd "$1" >/dev/null 2>&1
}

# A stand-in is remade when the recipe or the host's node changes.
stand_in_id() {
  printf 'node-stand-in-%s-%s\n' "$STAND_IN_RECIPE" "$(node --version 2>/dev/null || echo none)"
}

build_node_base() {
  local have
  if have=$(image_recipe "$NODE_TAG"); then
    # No label: a real image from a registry. Keep it.
    if [ -z "$have" ] || [ "$have" = "$(stand_in_id)" ]; then
      return 0
    fi
  # Bounded: where name resolution hangs instead of failing, the stand-in is
  # still built in time.
  elif timeout 300 docker pull -q "$NODE_TAG" >/dev/null 2>&1; then
    say "pulled $NODE_TAG"
    return 0
  else
    say "no registry has $NODE_TAG; a stand-in is built from the host's node"
  fi
  build_node_stand_in
}

build_node_stand_in() {
  local node npm_root host_version host_major
  node=$(readlink -f "$(command -v node)") || die "node is not installed on this host"
  npm_root=$(npm root -g 2>/dev/null)/npm
  [ -f "$npm_root/bin/npm-cli.js" ] || npm_root=/usr/lib/node_modules/npm
  [ -f "$npm_root/bin/npm-cli.js" ] || die "cannot find the host's npm (looked in $(npm root -g 2>/dev/null) and /usr/lib/node_modules)"
  host_version=$("$node" --version)
  host_major=${host_version#v}
  host_major=${host_major%%.*}
  [ "$host_major" = "$NODE_VERSION" ] ||
    die "the stand-in for $NODE_TAG copies the host's node, which is $host_version; set NODE_VERSION=$host_major"
  [ -f /etc/ssl/certs/ca-certificates.crt ] || die "the host has no /etc/ssl/certs/ca-certificates.crt"

  local rootfs_tar base_tag
  rootfs_tar="$CACHE_DIR/bookworm-minbase-r$STAND_IN_RECIPE.tar"
  base_tag="autodeploy-test/bookworm-minbase:r$STAND_IN_RECIPE"
  if ! docker image inspect "$base_tag" >/dev/null 2>&1; then
    if [ ! -s "$rootfs_tar" ]; then
      command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (run scripts/ensure-docker.sh)"
      say "mmdebstrap bookworm ($STAND_IN_PACKAGES) -> $rootfs_tar"
      mkdir -p "$CACHE_DIR"
      local log
      log=$(mktemp)
      # Like debian:bookworm-slim: merged /usr without the usrmerge package
      # (which pulls in perl), no recommends, no docs, man pages or
      # translations; the dpkg options stay in the image for later installs.
      if ! mmdebstrap --quiet --format=tar --variant=minbase --include="$STAND_IN_PACKAGES" \
        --aptopt='APT::Install-Recommends "false"' \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        bookworm "$rootfs_tar.partial" "$DEBIAN_MIRROR" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log" "$rootfs_tar.partial"
        die "mmdebstrap failed"
      fi
      rm -f "$log"
      mv "$rootfs_tar.partial" "$rootfs_tar"
    fi
    say "importing $base_tag"
    docker import --change 'CMD ["bash"]' "$rootfs_tar" "$base_tag" >/dev/null
  fi

  local context
  context=$(mktemp -d)
  cp "$node" "$context/node"
  cp -a "$npm_root" "$context/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$context/host-ca-certificates.crt"
  # Same layout as the official image: node and npm under /usr/local, a `node`
  # user with uid 1000.
  cat >"$context/Dockerfile" <<EOF
FROM $base_tag
COPY host-ca-certificates.crt /usr/local/share/host-ca/ca-certificates.crt
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && cp /usr/local/share/host-ca/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=${host_version#v} \\
    NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca/ca-certificates.crt
LABEL $RECIPE_LABEL=$(stand_in_id)
CMD ["node"]
EOF
  say "building $NODE_TAG (stand-in, node $host_version)"
  if ! docker build -q -t "$NODE_TAG" "$context" >/dev/null; then
    rm -rf "$context"
    die "docker build of the $NODE_TAG stand-in failed"
  fi
  rm -rf "$context"
  docker run --rm "$NODE_TAG" node -e 'process.stdout.write("ok")' | grep -qx ok ||
    die "$NODE_TAG was built but node does not run in it"
}

main() {
  local targets=("$@")
  [ "${#targets[@]}" -gt 0 ] || targets=(all)
  docker info >/dev/null 2>&1 || die "no Docker engine answers (run scripts/ensure-docker.sh)"
  local target
  for target in "${targets[@]}"; do
    case "$target" in
      busybox) build_busybox ;;
      node-base) build_node_base ;;
      all) build_busybox && build_node_base ;;
      *) die "unknown image '$target' (expected busybox, node-base or all)" ;;
    esac
  done
}

main "$@"
