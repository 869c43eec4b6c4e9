#!/usr/bin/env bash
# Re-runs the measurements behind docs/REPRODUCTION.md into a project (default projects/demo) and
# renders its figures into docs/figures/. Each arm is an ordinary `hylo demo` invocation (upcycle ->
# distil -> NIAH, all recorded in the project store); the figures are drawn from that store by
# `hylo-figures`. About 10 minutes per arm on 2 CPU cores.
#   scripts/repro/run.sh [--project DIR] [--only ARM] [--figures-only]
#   arms: plans (2MLA6M2 + 2MLA6GDN), budgets (1MLA7M2 + 4MLA4M2), short, noyarn, random-mla
set -euo pipefail
cd "$(dirname "$0")/../.."
PROJECT=projects/demo ONLY="" FIGURES_ONLY=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --project) PROJECT="$2"; shift ;;
    --only) ONLY="$2"; shift ;;
    --figures-only) FIGURES_ONLY=1 ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
  shift
done
BIN="${HYLO_BUILD_DIR:-build}/app"
[[ -x "$BIN/hylo" ]] || { echo "no $BIN/hylo: build first (scripts/build.sh)" >&2; exit 1; }
[[ -f demo/teacher/config.json ]] || { echo "no demo/teacher: train it first (docs/DEMO.md)" >&2; exit 1; }

arm() { [[ $FIGURES_ONLY == 0 && ( -z "$ONLY" || "$ONLY" == "$1" ) ]]; }
demo() { "$BIN/hylo" demo --project "$PROJECT" "$@"; }

arm plans && demo
arm budgets && demo --plan demo/plans/mla1-mamba2.yaml --plan demo/plans/mla4-mamba2.yaml
arm short && demo --plan demo/plans/mla-mamba2.yaml --recipe demo/recipes/distill-short.yaml --variant "short only"
arm noyarn && demo --plan demo/plans/mla-mamba2.yaml --recipe demo/recipes/distill-noyarn.yaml --variant "no YaRN"
arm random-mla && demo --plan demo/plans/mla-mamba2.yaml --random-mla --variant "random MLA"
exit 0
