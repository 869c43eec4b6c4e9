"""A stand-in for `hylo worker` (the JSON-lines protocol of docs/contracts) in GUI tests.
load -> result; probe -> two progress lines and a result whose loss peaks over the needle;
a needle with CRASH exits 1 (the worker dies); one with SLOW waits for its cancel."""
import json
import sys


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


waiting = None
for line in sys.stdin:
    req = json.loads(line)
    rid, op = req["id"], req["op"]
    if op == "load":
        send({"id": rid, "event": "result", "model": req["model"]})
    elif op == "shutdown":
        break
    elif op == "cancel":
        if waiting == req["target"]:
            send({"id": waiting, "event": "error", "message": "cancelled"})
            waiting = None
    elif op == "probe":
        if "CRASH" in req["needle"]:
            sys.exit(1)
        send({"id": rid, "event": "progress", "done": 1, "total": 2, "what": "prefill"})
        if "SLOW" in req["needle"]:
            waiting = rid
            continue
        n = req["length"]
        start = n * req["depth"] // 100
        span = [start, start + 12]
        loss = [[p, 5.0 if span[0] <= p < span[1] else 2.0] for p in range(0, n, max(1, n // 256))]
        send({"id": rid, "event": "progress", "done": 2, "total": 2, "what": "prefill"})
        send({"id": rid, "event": "result", "answer": req["answer"], "found": True,
              "loss_by_position": loss, "needle_span": span, "tokens": n, "prefill_s": 0.25,
              "decode_s": 0.05, "memory": {"weights": 2 << 30, "kv": 64 << 20, "state": 3 << 20,
                                           "activations": 100 << 20}})
