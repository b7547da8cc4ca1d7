# Entry points. Every target installs what it needs itself: a Docker engine and
# the host tools (scripts/ensure-docker.sh), node_modules, the test images.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

IMAGE_NAME ?= autodeploy-scheduler
IMAGE_TAG ?= dev
# NODE_VERSION (the node base image's major) may be given here or in the
# environment; scripts/build-image.sh picks the default.

NPM_STAMP := node_modules/.package-lock.json
VITEST_REPORT := test-results/vitest.json

.PHONY: deps engine build image test-images test faults demo bench typecheck clean distclean

deps: engine $(NPM_STAMP)

engine:
	scripts/ensure-docker.sh

# npm writes node_modules/.package-lock.json on every install, so its age
# against package-lock.json says whether node_modules is current.
# The browser tests drive Debian's chromium: no npm package may download a browser of its own.
$(NPM_STAMP): package-lock.json package.json
	PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@touch $@

build: deps
	npm run build

typecheck: deps
	npm run typecheck

image: build
	scripts/build-image.sh $(IMAGE_NAME):$(IMAGE_TAG)
	docker tag $(IMAGE_NAME):$(IMAGE_TAG) $(IMAGE_NAME):latest

test-images: engine
	scripts/build-test-images.sh

test: deps test-images image
	@mkdir -p $(dir $(VITEST_REPORT))
	@rm -f $(VITEST_REPORT)
	npx vitest run --reporter=default --reporter=json --outputFile=$(VITEST_REPORT)

# The fault cases alone (test/faults/), with the 40-job soak at its full two minutes;
# `make test` runs them too, with a 20-second soak.
faults: deps test-images image
	FAULT_SOAK_SECONDS=120 npx vitest run test/faults

demo: deps test-images image
	scripts/demo.sh

bench: deps test-images
	npm run bench

clean:
	rm -rf dist test-results *.tsbuildinfo

# Also what a rebuild from scratch would fetch or make again.
distclean: clean
	rm -rf node_modules .cache
