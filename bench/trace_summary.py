#!/usr/bin/env python3
"""Totals the GPU time of a Chrome trace written by `hylo bench train --trace FILE` (LibTorch's
profiler): by kernel, by the ATen operator that launched it, and by where it was launched from
(a layer scope such as mixer:mla / mixer:mamba2 / mlp in the forward, else the backward, the
optimiser or the loss), and by call: place, outermost and innermost operator and the innermost
one's input shapes (which copy or cast of which tensor a kernel belongs to). Prints tables;
--json FILE also writes them.

  bench/trace_summary.py trace.json [--top 25] [--json summary.json]
"""
import argparse
import collections
import json
import sys

GPU_CATS = {"kernel", "gpu_memcpy", "gpu_memset"}


def load(path):
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"trace_summary.py: {path}: {e}")
    events = data.get("traceEvents") if isinstance(data, dict) else data
    if not isinstance(events, list):
        sys.exit(f"trace_summary.py: {path}: no traceEvents list")
    return [e for e in events if e.get("ph") == "X"]


def launch_places(events):
    """Maps a launch's correlation id to (innermost user scope, outermost span, outermost CPU op,
    innermost CPU op with its input shapes) on its thread."""
    timeline = collections.defaultdict(list)  # tid -> (ts, order, end, cat, name, dims); spans before launches
    for e in events:
        cat = e.get("cat")
        if cat in ("cpu_op", "user_annotation"):
            dims = str(e.get("args", {}).get("Input Dims", ""))
            timeline[e["tid"]].append((e["ts"], 0, -(e["ts"] + e.get("dur", 0)), cat, e["name"], dims))
        elif cat == "cuda_runtime" and "correlation" in e.get("args", {}):
            timeline[e["tid"]].append((e["ts"], 1, 0, "launch", e["args"]["correlation"], ""))
    places = {}
    for items in timeline.values():
        items.sort()  # by start; an enclosing span (later end) before the spans it holds
        stack = []  # open spans on this thread: they nest
        for ts, order, neg_end, cat, name, dims in items:
            while stack and stack[-1][0] < ts:
                stack.pop()
            if order == 0:
                stack.append((-neg_end, cat, name, dims))
                continue
            scope = next((s[2] for s in reversed(stack) if s[1] == "user_annotation"), None)
            ops = [s for s in stack if s[1] == "cpu_op"]
            inner = f"{ops[-1][2]} {ops[-1][3]}" if ops else None
            places[name] = (scope, stack[0][2] if stack else None, ops[0][2] if ops else None, inner)
    return places


def where(scope, outer):
    if scope:
        return scope
    if outer is None:
        return "(unknown)"
    if "evaluate_function" in outer or "backward" in outer.lower():
        return "backward"
    return outer


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--json")
    a = ap.parse_args()
    events = load(a.trace)
    gpu = [e for e in events if e.get("cat") in GPU_CATS]
    if not gpu:
        sys.exit(f"trace_summary.py: {a.trace}: no GPU events (was it recorded on a GPU?)")
    ops = {e["args"]["External id"]: e["name"] for e in events
           if e.get("cat") == "cpu_op" and "External id" in e.get("args", {})}
    places = launch_places(events)
    by_kernel, by_op, by_place, by_call = (collections.Counter() for _ in range(4))
    count, calls = collections.Counter(), collections.Counter()
    for e in gpu:
        d = e.get("dur", 0)
        args = e.get("args", {})
        by_kernel[e["name"][:110]] += d
        count[e["name"][:110]] += 1
        by_op[ops.get(args.get("External id"), "(no op)")] += d
        scope, outer, outer_op, inner = places.get(args.get("correlation"), (None, None, None, None))
        place = where(scope, outer)
        by_place[place] += d
        call = f"{place} | {outer_op} > {inner}"[:200]
        by_call[call] += d
        calls[call] += 1
    busy = sum(e.get("dur", 0) for e in gpu)
    span = max(e["ts"] + e.get("dur", 0) for e in gpu) - min(e["ts"] for e in gpu)
    out = {"gpu_busy_ms": busy / 1e3, "gpu_span_ms": span / 1e3, "kernels": len(gpu),
           "by_place": by_place.most_common(), "by_op": by_op.most_common(a.top),
           "by_kernel": [(k, v, count[k]) for k, v in by_kernel.most_common(a.top)],
           "by_call": [(k, v, calls[k]) for k, v in by_call.most_common(a.top)]}
    print(f"GPU busy {busy / 1e3:.1f} ms of a {span / 1e3:.1f} ms span ({busy / max(span, 1):.0%}), {len(gpu)} kernels")
    for title, rows in (("by place", out["by_place"]), ("by ATen operator", out["by_op"])):
        print(f"\n{title}:")
        for name, d in rows:
            print(f"  {d / 1e3:9.2f} ms {d / busy:6.1%}  {name}")
    for title, rows in (("by kernel", out["by_kernel"]), ("by call (place | outer > inner op, shapes)", out["by_call"])):
        print(f"\n{title}:")
        for name, d, n in rows:
            print(f"  {d / 1e3:9.2f} ms {d / busy:6.1%} {n:6d}x  {name}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
