#!/usr/bin/env bash
# The overnight cycle of a clearing house's risk team, end to end, on a
# generated book of the ten real assets (examples/README.md explains each step).
#
#   examples/overnight.sh [BINARY] [WORK_DIR]
#
# BINARY:   the clearstress binary (default: `clearstress` on PATH)
# WORK_DIR: where the book and every result go: a new or empty folder
#           (default: a new temporary folder)
# HISTORY:  (environment) the daily closes to calibrate and search
#           (default: data/daily_close_usd.csv of this repository)
#
# Kept small (20,000 paths, the CPU backend) so that it runs in seconds; a
# real night would run the configured paths on `--backend auto`.
set -euo pipefail

BIN=${1:-clearstress}
WORK=${2:-$(mktemp -d "${TMPDIR:-/tmp}/clearstress-overnight.XXXXXX")}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HISTORY=${HISTORY:-$HERE/../data/daily_close_usd.csv}
PATHS=20000

mkdir -p "$WORK"
cd "$WORK"
step() { printf '\n== %s\n' "$*"; }

step "1. the book: 64 members on the ten assets the history holds"
"$BIN" init --out book --assets 10

step "2. calibrate the market to the history (EWMA volatilities, sample correlation, NIG tails)"
"$BIN" calibrate --history "$HISTORY" --book book --out calibrated --quiet

step "3. validate the calibrated snapshot"
"$BIN" validate --book calibrated

step "4. initial margin and the Cover-2 default fund"
"$BIN" run --book calibrated --backend cpu --paths "$PATHS" --out run

step "5. the historical windows that would have hurt this book most"
"$BIN" worst-window --book calibrated --history "$HISTORY" --backend cpu --days 5 --top 5 \
    --out worst-window.toml
WORST=$(sed -n 's/^name = "\(.*\)"$/\1/p' worst-window.toml)

step "6. the default fund again, with the worst window beside the shipped scenarios"
"$BIN" run --book calibrated --backend cpu --paths "$PATHS" \
    --scenarios calibrated/scenarios worst-window.toml --out run-with-worst-window

step "7. every member's margin under each model, FHS and the APC tools"
"$BIN" compare --book calibrated --history "$HISTORY" --backend cpu --paths "$PATHS" --out compare

cat <<DONE

== where the results are ($WORK)
  book/                         the generated book (init)
  calibrated/                   the calibrated snapshot; calibration.json: every fit
  run/                          margins.parquet, default_fund.parquet, summary.json, manifest.json
  worst-window.toml             the worst 5-day window as a stress scenario: "$WORST"
  run-with-worst-window/        the same run with that scenario (stress_losses.parquet, default_fund_scenarios.parquet)
  compare/                      margins_by_model.parquet
DONE
