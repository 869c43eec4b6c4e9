#!/usr/bin/env bash
# Re-runs the measurements behind docs/REPRODUCTION.md into a project (default projects/demo) and
# renders its figures into docs/figures/. Each arm is an ordinary `hylo demo` invocation (upcycle ->
# distil -> NIAH, all recorded in the project store); the figures are drawn from that store by
# `hylo-figures`. About 10 minutes per arm on 2 CPU cores.
#   scripts/repro/run.sh [--project DIR] [--only ARM] [--figures-only]
#   arms: plans (2MLA6M2 + 2MLA6GDN), budgets (1MLA7M2 + 4MLA4M2), short, noyarn, random-mla, teacher-large
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
# YaRN off for the student alone: its 2K stage's teacher runs with YaRN x4 as in the plans arm.
arm noyarn && demo --plan demo/plans/mla-mamba2.yaml --recipe demo/recipes/distill-noyarn.yaml --variant "student no YaRN"
arm random-mla && demo --plan demo/plans/mla-mamba2.yaml --random-mla --variant "random MLA"
# Fig. 4: the same student (2MLA6M2 upcycled from demo/teacher with the same seed) distilled by the
# same-size teacher and by the larger demo/teacher-large; TEACHER_LARGE_SEEDS="0 1" adds a second seed.
if arm teacher-large; then
  [[ -f demo/teacher-large/config.json ]] || { echo "no demo/teacher-large (scripts/demo/train_teacher.sh --large)" >&2; exit 1; }
  for seed in ${TEACHER_LARGE_SEEDS:-0}; do
    demo --plan demo/plans/mla-mamba2.yaml --seed "$seed" --variant "same-size teacher seed $seed"
    demo --plan demo/plans/mla-mamba2.yaml --seed "$seed" --distil-teacher demo/teacher-large \
      --variant "larger teacher seed $seed"
  done
fi

# Loss by position over 4K-token Brown documents (the teacher is trained at 512): at this scale the
# clearest measure of usable context. JSON per model in $PROJECT/ppl/, a Markdown table on stdout.
PPL="$PROJECT/ppl"
mkdir -p "$PPL"
# A model whose JSON is newer than its weights is not measured again.
ppl() { [[ "$PPL/$1.json" -nt "$2/model.safetensors" ]] && return 0
        "$BIN/hylo" eval ppl "$2" --length 4096 --documents 4 --first-bucket 128 --project "$PROJECT" \
          --json "$PPL/$1.json" >/dev/null 2>&1; }
ppl teacher "$PROJECT/teacher"  # the project's link: a path inside the project stays relative in the store
[[ -e "$PROJECT/teacher-large" ]] && ppl teacher-large "$PROJECT/teacher-large"
FIG4_RUNS=$(for s in 0 1; do echo mla-mamba2-same-size-teacher-seed-$s mla-mamba2-larger-teacher-seed-$s; done)
for run in mla1-mamba2 mla-mamba2 mla4-mamba2 mla-gdn mla-mamba2-short-only mla-mamba2-student-no-yarn \
           mla-mamba2-random-mla $FIG4_RUNS; do
  final=$(ls -d "$PROJECT"/demo-*/runs/"$run"/final 2>/dev/null | sort | tail -1 || true)  # none: not run here
  if [[ -n "$final" ]]; then ppl "$run" "$final"; fi
done
python3 - "$PPL" $FIG4_RUNS <<'PY'
import json, os, sys
order = ["teacher", "teacher-large", "mla1-mamba2", "mla-mamba2", "mla4-mamba2", "mla-gdn", "mla-mamba2-short-only",
         "mla-mamba2-student-no-yarn", "mla-mamba2-random-mla"] + sys.argv[2:]
rows = [(n, json.load(open(os.path.join(sys.argv[1], n + ".json")))) for n in order
        if os.path.exists(os.path.join(sys.argv[1], n + ".json"))]
heads = [f"{a}-{b}" for a, b in rows[0][1]["buckets"]]
print("| model | " + " | ".join(heads) + " |")
print("|---" * (len(heads) + 1) + "|")
for n, r in rows:
    print(f"| {n} | " + " | ".join(f"{x:.3f}" for x in r["loss"]) + " |")
PY

# Figures, from the store (each --model is that model's newest NIAH evaluation). NIAH cells show
# the needle probability (exp of the mean log-likelihood per needle token): at this scale no model
# answers exactly, and exact match would colour every cell 0. NIAH_MEASURE=score shows exact match.
export QT_QPA_PLATFORM=offscreen
F="$BIN/hylo-figures"
niah() { "$F" niah --measure "${NIAH_MEASURE:-needle-prob}" "$@"; }
OUT=docs/figures
mkdir -p "$OUT"
d() { echo "$1 (distilled)"; }
niah --project "$PROJECT" --model "demo teacher" --model "$(d 1MLA7M2)" --model "$(d 2MLA6M2)" \
  --model "$(d 4MLA4M2)" --title "NIAH: teacher and hybrids at three KV budgets" -o "$OUT/niah-kv-budgets.png"
niah --project "$PROJECT" --model "$(d "2MLA6M2 [short only]")" --model "$(d "2MLA6M2 [student no YaRN]")" \
  --model "$(d 2MLA6M2)" --label "short only (ild + kd at 512)" --label "+ 2K stage, student without YaRN" \
  --label "+ 2K stage, student with YaRN x4" --title "NIAH: the long-context stage and YaRN (2MLA6M2)" \
  -o "$OUT/niah-long-stage.png"
niah --project "$PROJECT" --model "$(d 2MLA6M2)" --model "$(d "2MLA6M2 [random MLA]")" \
  --model "$(d 2MLA6GDN)" --label "MLA from SVD, Mamba2" --label "MLA random, Mamba2" --label "MLA from SVD, GDN" \
  --title "NIAH: MLA initialisation and the linear block" -o "$OUT/niah-init-linear.png"
niah --project "$PROJECT" --model "demo teacher" --model "demo teacher-large" \
  --model "$(d "2MLA6M2 [same-size teacher seed 0]")" --model "$(d "2MLA6M2 [larger teacher seed 0]")" \
  --label "teacher 8x256 (6.2M)" --label "larger teacher 10x384 (14.5M)" --label "2MLA6M2 distilled by the 6.2M teacher" \
  --label "2MLA6M2 distilled by the 14.5M teacher" --title "NIAH: same-size vs larger teacher (2MLA6M2, seed 0)" \
  -o "$OUT/niah-teacher-size.png"
# Distillation loss of the init arms: the newest run of each student.
run_of() { "$BIN/hylo" runs --project "$PROJECT" --json | python3 -c '
import json, sys
name = sys.argv[1]
runs = [r for r in json.load(sys.stdin) if r.get("name") == name]
print(max(runs, key=lambda r: r["id"])["id"] if runs else "")' "$1"; }
"$F" curves --project "$PROJECT" --run "$(run_of mla-mamba2)" --run "$(run_of mla-mamba2-random-mla)" \
  --label "MLA from SVD" --label "MLA random" --metric loss -o "$OUT/loss-init.png"
"$F" screenshots --project "$PROJECT" -o docs/screenshots
