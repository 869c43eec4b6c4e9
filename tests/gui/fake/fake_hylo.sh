#!/bin/sh
# A stand-in for `hylo` in GUI tests that need a child process but not a real trainer.
#   devices --json          two devices
#   train ... (FAKE_TRAIN=die)   three steps of run $FAKE_RUN, an error on stderr, exit 3
#   train ... (FAKE_TRAIN=crash) two steps of run $FAKE_RUN, a line on stderr, then SIGKILL to itself
#                                (as the kernel's OOM killer ends a trainer: no error event, no exit code)
#   train ... (FAKE_TRAIN=slow)  steps until SIGTERM, then a checkpoint event and exit 0
#   worker                  fake_worker.py beside this script
#   plan suggest T --kv-budget B --linear K -o F   prints its arguments, writes a plan (layer 3 MLA,
#                           the others K) to F; FAKE_SUGGEST=fail: an error on stderr, exit 1
case "$1" in
  devices)
    echo '[{"id":"cpu","name":"Fake CPU","total_bytes":17179869184,"free_bytes":8589934592,"threads":2},{"id":"cuda:0","name":"Fake H100","total_bytes":85899345920,"free_bytes":80000000000,"threads":0}]'
    ;;
  train)
    echo '{"event":"stage","idx":0,"kind":"kd","seq_len":2048,"steps":10}'
    if [ "$FAKE_TRAIN" = die ]; then
      for s in 1 2 3; do
        echo "{\"event\":\"step\",\"run\":$FAKE_RUN,\"stage\":0,\"step\":$s,\"tokens\":$((s * 2048)),\"wall_s\":$s,\"metrics\":{\"loss\":3.0}}"
      done
      echo "train: stages[0].data: shard 3 is truncated" >&2
      exit 3
    fi
    if [ "$FAKE_TRAIN" = crash ]; then
      for s in 1 2; do
        echo "{\"event\":\"step\",\"run\":$FAKE_RUN,\"stage\":0,\"step\":$s,\"tokens\":$((s * 2048)),\"wall_s\":$s,\"metrics\":{\"loss\":3.0}}"
      done
      echo "train: stage 0: allocating the step's activations" >&2
      kill -KILL $$
    fi
    trap 'echo "{\"event\":\"checkpoint\",\"step\":2,\"path\":\"ckpt-2\"}"; exit 0' TERM
    s=0
    while true; do
      s=$((s + 1))
      echo "{\"event\":\"step\",\"run\":$FAKE_RUN,\"stage\":0,\"step\":$s,\"tokens\":$((s * 2048)),\"wall_s\":$s,\"metrics\":{\"loss\":3.0}}"
      sleep 0.1
    done
    ;;
  plan)
    [ "$2" = suggest ] || { echo "fake hylo: unknown plan command $2" >&2; exit 1; }
    echo "args: $*"
    if [ "$FAKE_SUGGEST" = fail ]; then
      echo "plan suggest: $3/tokenizer.json: no such file" >&2
      exit 1
    fi
    linear=mamba2
    out=
    while [ $# -gt 0 ]; do
      case "$1" in
        --linear) linear=$2; shift ;;
        -o) out=$2; shift ;;
      esac
      shift
    done
    printf 'name: fake-suggestion\ndefault: %s\nlayers: {3: mla}\n' "$linear" > "$out"
    echo "plan written to $out" >&2
    ;;
  worker)
    exec python3 "$(dirname "$0")/fake_worker.py"
    ;;
  *)
    echo "fake hylo: unknown command $1" >&2
    exit 1
    ;;
esac
