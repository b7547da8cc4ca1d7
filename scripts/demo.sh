#!/bin/sh
# make demo: a throwaway platform, the scheduler deploying it, then clean-up. See scripts/demo.ts.
set -e
cd "$(dirname "$0")/.."
exec node --import tsx scripts/demo.ts "$@"
