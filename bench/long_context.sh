#!/usr/bin/env bash
# Long-context TTFT / TPOT / memory of random-weight Llama-3.2-1B/3B-shaped teachers and HyLo-like
# students (a quarter of the layers MLA, the rest Mamba2 or GDN) on one GPU, batch 1, bf16, at
# 8K..2M tokens: each model's sweep stops at its first OOM (the longest fit is reported) or when the
# next context's predicted prefill passes the model's share of --budget. Builds nothing: it runs
# ${HYLO_BUILD_DIR:-build}/app/hylo (LibTorch 2 with CUDA, e.g.
#   HYLO_BUILD_DIR=build HYLO_NO_GUI=1 scripts/build.sh -DHYLO_TESTS=OFF -DHYLO_DEPS_PREFIX=$PWD/.dev \
#     -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')).
# Results merge into bench/results/long_context_<gpu>.json (bench/merge_long_context.py: by model and
# context, so a sweep split over several commands ends in one file), with student/teacher ratios.
#
#   bench/long_context.sh                                   all four default models, --budget 540
#   bench/long_context.sh --models llama-3b-hylo-gdn        one model with the whole budget
#   bench/long_context.sh --quick                           tiny models on the CPU (a check, seconds)
# A 2M-token prefill is minutes of softmax attention even in the MLA layers: within the 10-minute
# limit of one command, give each student a command of its own, e.g. three commands:
#   --models llama-1b-hylo-gdn   --models llama-3b-hylo-gdn   --models llama-3b,llama-1b
# Options: --models a,b  --contexts 8k,...  --budget SECONDS (this command, shared by its models)
#          --tokens N (decode steps)  --chunk N (prefill chunk)  --device cuda:0  --out FILE
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
MODELS="llama-1b-hylo-gdn,llama-3b-hylo-gdn,llama-3b,llama-1b"
CONTEXTS="8k,32k,128k,512k,1M,2M"
BUDGET=540
TOKENS=8
CHUNK=16384
DEVICE=cuda:0
DTYPE=bf16
OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --models) MODELS="$2"; shift ;;
    --contexts) CONTEXTS="$2"; shift ;;
    --budget) BUDGET="$2"; shift ;;
    --tokens) TOKENS="$2"; shift ;;
    --chunk) CHUNK="$2"; shift ;;
    --device) DEVICE="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    *) echo "long_context.sh: unknown option '$1'" >&2; exit 1 ;;
  esac
  shift
done

HYLO="${HYLO_BUILD_DIR:-build}/app/hylo"
if [[ ! -x "$HYLO" ]]; then
  echo "long_context.sh: $HYLO is missing; build it first (see the comment at the top of $0)" >&2
  exit 1
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [[ $QUICK == 1 ]]; then
  # Tiny teacher and students written as checkpoints (init-random) and benchmarked from disk.
  DEVICE=cpu DTYPE=fp32 CHUNK=128 TOKENS=2
  [[ "$CONTEXTS" == "8k,32k,128k,512k,1M,2M" ]] && CONTEXTS="256,512,1k"
  MODELS=""
  for shape in tiny tiny-hylo tiny-hylo-gdn; do
    "$HYLO" init-random "$shape" --out "$WORK/$shape" --dtype fp32 --seed 1
    MODELS+="${MODELS:+,}$WORK/$shape"
  done
  GPU=cpu
else
  GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  [[ -n "$GPU" ]] || { echo "long_context.sh: no GPU (nvidia-smi); use --quick on a CPU" >&2; exit 1; }
fi
SLUG=$(echo "$GPU" | tr 'A-Z' 'a-z' | tr -cs 'a-z0-9' '_' | sed 's/^_//;s/_$//')
[[ -n "$OUT" ]] || OUT="bench/results/long_context_${SLUG}.json"
if [[ $QUICK == 1 && "$OUT" == bench/results/* ]]; then OUT="$WORK/long_context_cpu.json"; fi

START=$(date +%s)
IFS=',' read -r -a LIST <<< "$MODELS"
n=${#LIST[@]}
i=0
for model in "${LIST[@]}"; do
  left=$(( BUDGET - ($(date +%s) - START) ))
  share=$(( left / (n - i) ))
  i=$((i + 1))
  if (( share <= 0 )); then echo "long_context.sh: no time left for $model" >&2; continue; fi
  echo "== $model: contexts $CONTEXTS, time budget ${share}s" >&2
  # A model that fails (not an OOM: those end its sweep inside hylo) is reported and skipped.
  "$HYLO" bench decode "$model" --context "$CONTEXTS" --device "$DEVICE" --dtype "$DTYPE" --chunk "$CHUNK" \
    --tokens "$TOKENS" --warmup 1 --time-budget "$share" --json "$WORK/run_$i.json" > /dev/null ||
    echo "long_context.sh: $model failed (exit $?); its figures are left out" >&2
done
shopt -s nullglob
RUNS=("$WORK"/run_*.json)
[[ ${#RUNS[@]} -gt 0 ]] || { echo "long_context.sh: no model ran" >&2; exit 1; }

COMMIT=${HYLO_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
bench/merge_long_context.py "$OUT" "$GPU" "$COMMIT" "$0 --models $MODELS --contexts $CONTEXTS --budget $BUDGET --tokens $TOKENS --chunk $CHUNK" "${RUNS[@]}"
