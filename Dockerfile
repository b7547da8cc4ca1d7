# autodeploy-scheduler: the scheduler daemon and the `autodeploy` CLI its job
# containers run. Build with `make image` (or scripts/build-image.sh).
ARG NODE_VERSION=24

# --- build: compile TypeScript, then keep only the runtime dependencies -------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
ENV npm_config_update_notifier=false
# Manifests first, so that a change to the sources reuses the npm ci layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=warn
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && test -f dist/cli/main.js \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=warn

# --- docker-cli: Debian bookworm ships the docker client only inside docker.io,
# together with the engine. Unpack the package without installing it (or its
# engine dependencies) and keep the client binary, which needs only libc.
FROM node:${NODE_VERSION}-bookworm-slim AS docker-cli
WORKDIR /tmp/docker-io
RUN apt-get update \
 && apt-get download docker.io \
 && dpkg-deb -x docker.io_*.deb root \
 && install -D -m 0755 root/usr/bin/docker /out/docker \
 && if ldd /out/docker | grep -q 'not found'; then ldd /out/docker; exit 1; fi \
 && rm -rf /tmp/docker-io /var/lib/apt/lists/*

# --- compose-v2: birdhouse-deploy 2.x runs `docker compose` (v2), which bookworm
# does not have. Debian trixie's docker-compose package is the v2 CLI plugin, a
# static binary that runs on bookworm. It is fetched with a private apt
# configuration (the stage's own sources stay bookworm), from the mirror the
# base image is set up with, and unpacked without being installed.
FROM node:${NODE_VERSION}-bookworm-slim AS compose-v2
WORKDIR /tmp/compose
RUN mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1); \
    [ -n "$mirror" ] || mirror=$(grep -o '[a-z]*://[^ ]*' /etc/apt/sources.list 2>/dev/null | head -n 1); \
    mirror=${mirror:-http://deb.debian.org/debian}; \
    set -e; \
    mkdir -p lists/partial cache/archives/partial; \
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >sources.list; \
    apt_opts="-o Dir::Etc::sourcelist=/tmp/compose/sources.list -o Dir::Etc::sourceparts=- -o Dir::State::Lists=/tmp/compose/lists -o Dir::Cache=/tmp/compose/cache"; \
    apt-get $apt_opts update; \
    apt-get $apt_opts download docker-compose; \
    dpkg-deb -x docker-compose_*.deb root; \
    install -D -m 0755 root/usr/libexec/docker/cli-plugins/docker-compose /out/docker-compose; \
    /out/docker-compose version; \
    rm -rf /tmp/compose

# --- runtime -------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim
# git, ssh: fetching checkouts with deploy keys; docker: job containers;
# docker compose (v2) and docker-compose (v1, which PAVICS 1.x wrappers call):
# `compose up`; gettext-base: envsubst, with which birdhouse-compose.sh renders
# its templates when a deploy runs it in this image; tini: PID 1 that forwards
# signals and reaps the git and ssh children.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tini tzdata git openssh-client docker-compose gettext-base ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*
COPY --from=docker-cli /out/docker /usr/bin/docker
COPY --from=compose-v2 /out/docker-compose /usr/local/lib/docker/cli-plugins/docker-compose

WORKDIR /opt/autodeploy
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY config/default.env ./config/default.env
COPY bin/autodeploy bin/autodeploy-daemon ./bin/
# What birdhouse-compose.sh needs besides the shell's own utilities; a base
# image without one of them fails here, not in the first deploy.
RUN docker --version >/dev/null \
 && docker compose version >/dev/null \
 && docker-compose version >/dev/null \
 && envsubst --version >/dev/null \
 && realpath / >/dev/null \
 && ln -s /opt/autodeploy/bin/autodeploy /usr/local/bin/autodeploy

ENV NODE_ENV=production \
    AUTODEPLOY_DEFAULTS_FILE=/opt/autodeploy/config/default.env

# Declared last: a new version number must not invalidate the layers above.
ARG VERSION=dev
LABEL org.opencontainers.image.title="autodeploy-scheduler" \
      org.opencontainers.image.description="Unattended deployment scheduler for docker-compose platforms" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"

HEALTHCHECK --interval=10s --timeout=10s --start-period=20s --retries=3 CMD ["autodeploy", "health"]
ENTRYPOINT ["tini", "--"]
# The daemon with its memory-saving Node flags; see bin/autodeploy-daemon.
CMD ["/opt/autodeploy/bin/autodeploy-daemon"]
