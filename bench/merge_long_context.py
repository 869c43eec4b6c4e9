#!/usr/bin/env python3
"""Merges `hylo bench decode --json` runs into a long-context results file (bench/long_context.sh).

  bench/merge_long_context.py OUT GPU COMMIT COMMAND RUN.json...

Runs are keyed by model, and within a model by context, so a sweep split over several commands
(8K..512K in one, 1M in the next) ends in one file: a measured context replaces the same context,
an OOM is kept, a context skipped for time never hides an earlier measurement; every context keeps
the commit and date it was measured at. A run that already names its command and commit (one taken
from another results file) keeps them. Student/teacher
ratios are recomputed from the merged file: a student's teacher is its name without "-hylo...".
"""
import datetime
import json
import os
import sys


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def measured(run):
    return {x["context"]: x for x in run["results"] if "ttft_s" in x}


def merge_run(old, new):
    if old is None:
        return new
    by_ctx = {x["context"]: x for x in old["results"]}
    for x in new["results"]:
        prev = by_ctx.get(x["context"])
        if prev is None or "ttft_s" in x or x.get("oom") or "ttft_s" not in prev:
            by_ctx[x["context"]] = x
    merged = dict(new)
    merged["results"] = [by_ctx[c] for c in sorted(by_ctx)]
    fits = [c for c, x in by_ctx.items() if "ttft_s" in x]
    merged["longest_fit"] = max(fits) if fits else 0
    ooms = [c for c, x in by_ctx.items() if x.get("oom")]
    merged["stopped"] = "oom" if ooms and min(ooms) > merged["longest_fit"] else new.get("stopped")
    merged["commands"] = old.get("commands", [old["command"]]) + [new["command"]]
    return merged


def ratios(doc):
    results = []
    for name, run in sorted(doc["runs"].items()):
        results.append({"what": f"{name} longest context that fits", "value": run["longest_fit"], "unit": "tokens",
                        "stopped": run["stopped"]})
        teacher = name.split("-hylo")[0]
        if teacher == name or teacher not in doc["runs"]:
            continue
        mine, base = measured(run), measured(doc["runs"][teacher])
        for ctx in sorted(set(mine) & set(base)):
            for key in ("tpot_s", "ttft_s"):
                results.append({"what": f"{name} {key[:4].upper()} at {ctx}", "value": mine[ctx][key], "unit": "s",
                                "baseline_what": f"{teacher} {key[:4].upper()} at {ctx}",
                                "baseline_value": base[ctx][key], "ratio": mine[ctx][key] / base[ctx][key]})
            kv, kv_base = mine[ctx]["memory"]["kv"], base[ctx]["memory"]["kv"]
            results.append({"what": f"{name} KV bytes at {ctx}", "value": kv, "unit": "B",
                            "baseline_what": f"{teacher} KV bytes at {ctx}", "baseline_value": kv_base,
                            "ratio": kv / kv_base})
        results.append({"what": f"{name} longest fit vs teacher", "value": run["longest_fit"], "unit": "tokens",
                        "baseline_what": f"{teacher} longest fit", "baseline_value": doc["runs"][teacher]["longest_fit"],
                        "ratio": run["longest_fit"] / max(1, doc["runs"][teacher]["longest_fit"])})
    return results


def main():
    out, gpu, commit, command, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
    doc = {"runs": {}}
    if os.path.exists(out):
        with open(out) as f:
            doc = json.load(f)
    for path in runs:
        with open(path) as f:
            r = json.load(f)
        r.setdefault("command", command)
        r.setdefault("commit", commit)
        r.setdefault("date", now())
        for x in r["results"]:  # each context keeps the commit and date it was measured at
            x.setdefault("commit", r["commit"])
            x.setdefault("date", r["date"])
        name = os.path.basename(r["model"].rstrip("/"))
        doc["runs"][name] = merge_run(doc["runs"].get(name), r)
    doc.update(name="long_context", gpu=gpu, commit=commit, command=command, date=now())  # the newest command
    doc["results"] = ratios(doc)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(out + ".tmp", out)
    for name, run in sorted(doc["runs"].items()):
        for x in run["results"]:
            if "ttft_s" in x:
                print(f"{name:24s} {x['context']:>8d}  TTFT {x['ttft_s']:9.3f} s  TPOT {x['tpot_s']*1e3:8.2f} ms  "
                      f"KV {x['memory']['kv']/2**30:7.2f} GiB  state {x['memory']['state']/2**20:8.1f} MiB")
            else:
                print(f"{name:24s} {x['context']:>8d}  {'OOM' if x.get('oom') else 'skipped: ' + x.get('skipped', '')}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
