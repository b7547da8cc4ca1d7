#!/usr/bin/env bash
# Makes sure the host tools the build and the tests rely on are installed
# (Docker Compose v2 among them) and that a Docker engine answers. Safe to run
# any number of times; when all is in place it only asks dpkg, docker compose
# and the engine, and prints nothing.
set -euo pipefail

# prometheus (promtool, and a server the tests start on 127.0.0.1 to scrape a scheduler) and
# chromium (the status page's browser tests): the tests run the binaries themselves and never
# use the package's own service.
readonly PACKAGES=(docker.io docker-compose git openssh-client openssh-server mmdebstrap busybox-static tini logrotate acl prometheus chromium)
readonly PIDFILE=/var/run/dockerd-ci.pid
readonly LOGFILE=/var/log/dockerd-ci.log
readonly DEADLINE_SECONDS=${DOCKERD_START_TIMEOUT:-60}

say() { printf 'ensure-docker: %s\n' "$*"; }
die() { printf 'ensure-docker: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "this step needs root (or password-less sudo): $*"
  fi
}

missing_packages() {
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$pkg"
    fi
  done
}

install_missing() {
  local missing log
  mapfile -t missing < <(missing_packages)
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "installing ${missing[*]}"
  log=$(mktemp)
  # Lock timeout: another apt run on the same machine may hold the lock for a
  # while. needrestart has nothing to restart in a build machine's session.
  if ! as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
      sh -c 'apt-get -o DPkg::Lock::Timeout=600 -q update &&
             apt-get -o DPkg::Lock::Timeout=600 -q -y install "$@"' apt "${missing[@]}" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    die "apt-get could not install ${missing[*]}"
  fi
  rm -f "$log"
}

# The Debian mirror the host already uses, so that a machine behind a local
# mirror or proxy fetches from where it is allowed to.
debian_mirror() {
  local mirror=''
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  fi
  printf '%s\n' "${mirror:-http://deb.debian.org/debian}"
}

# birdhouse-deploy 2.x runs `docker compose` (v2): its root docker-compose.yml
# (`services: {}`) is refused by bookworm's docker-compose 1.29. Bookworm has
# no v2, trixie's docker-compose package is the v2 CLI plugin (a static binary
# that bookworm's glibc runs). It is fetched with a private apt configuration,
# so that the system's sources and package lists stay as they are.
ensure_compose_v2() {
  docker compose version >/dev/null 2>&1 && return 0
  say "installing Docker Compose v2 (the CLI plugin of Debian trixie's docker-compose)"
  local work mirror log
  work=$(mktemp -d)
  mirror=$(debian_mirror)
  log="$work/apt.log"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "$mirror" >"$work/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=- \
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
  if ! { apt-get "${opts[@]}" -q update && (cd "$work" && apt-get "${opts[@]}" -q download docker-compose); } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -rf "$work"
    die "could not download docker-compose from $mirror trixie"
  fi
  dpkg-deb -x "$work"/docker-compose_*.deb "$work/root"
  as_root install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" \
    /usr/local/lib/docker/cli-plugins/docker-compose
  rm -rf "$work"
  docker compose version >/dev/null 2>&1 || die "docker compose does not answer after installing the plugin"
  say "$(docker compose version)"
}

engine_answers() {
  # /usr/local/bin/docker may be another client than Debian's; either one
  # answering is enough, both speak to the same socket.
  docker info >/dev/null 2>&1 || /usr/bin/docker info >/dev/null 2>&1
}

dockerd_alive() {
  local pid
  [ -s "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

start_engine() {
  engine_answers && return 0
  if dockerd_alive; then
    say "dockerd (pid $(cat "$PIDFILE")) is starting; waiting for it"
  elif pgrep -x dockerd >/dev/null 2>&1; then
    say "a dockerd not started by this script is running; waiting for it"
  else
    # A pidfile left by an engine that died would make dockerd refuse to start.
    as_root rm -f "$PIDFILE"
    say "starting dockerd (log: $LOGFILE)"
    # setsid + nohup: the engine must outlive the shell (and make job) that
    # started it, and must not hold that shell's terminal or pipes open.
    # shellcheck disable=SC2016 # expanded by the inner sh
    as_root setsid nohup sh -c 'exec dockerd --pidfile "$1" >>"$2" 2>&1' dockerd-ci "$PIDFILE" "$LOGFILE" \
      </dev/null >/dev/null 2>&1 &
  fi
  local deadline=$((SECONDS + DEADLINE_SECONDS))
  until engine_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
      die "the Docker engine did not answer within ${DEADLINE_SECONDS}s; see $LOGFILE"
    fi
    sleep 0.5
  done
  say "docker engine is up"
}

install_missing
ensure_compose_v2
start_engine
