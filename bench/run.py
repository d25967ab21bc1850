"""Benchmark the companion's kernels against their peers: forward+backward time and peak memory.

    python bench/run.py            # full run, writes bench/results/{results.json,results.md,scaling.png}
    python bench/run.py --smoke    # tiny sizes, a few seconds; writes to _build/bench-smoke/

Time: every implementation of a case runs in the same process, warmed up once, then the
implementations take turns (interleaved) for ``--repeats`` rounds; the table reports the
median of each. Interleaving spreads any background load over all implementations alike. In a
full run, an implementation whose pass takes less than ``MIN_ROUND_MS`` runs that many passes
back to back in each of its rounds (``calls_per_round``), and the round is their mean.
Torch runs on one thread (``--threads``): on a shared, loaded machine, OpenMP threads that wait
for each other at every parallel region make two-thread timings erratic (a Dawid-Skene run
measured 1.3 s on one thread and 12-18 s on two, at the same moment). The timing process fixes
glibc's malloc thresholds at the values glibc's own rule reaches in a long-running process
(``fix_allocator``), so that a case rerun on its own meets the allocator in the state it had in
the full pass, whatever ran before it. Whether a block of a few MiB comes back from the heap
or is faulted in afresh still varies from call to call (the heap fragments), which is what
spread the single-call rounds of the cases of a few milliseconds.

Peak memory: one fresh child process per (case, implementation), with glibc's mmap threshold
fixed so that every large block is mapped when allocated and unmapped when freed. The child
runs a tiny warm-up, builds the inputs, resets the kernel's resident-set high-water mark to the
current resident set (``/proc/self/clear_refs``), runs one forward+backward and reads the
high-water mark (``VmHWM``); the difference is the extra memory the step needed at its peak, as
the operating system saw it (inputs excluded, gradients included). tracemalloc cannot see
torch's CPU allocations; ``ru_maxrss`` cannot be reset and a forked child inherits its parent's
value; a fresh process keeps one measurement from reusing another's freed memory. Linux only.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bench.cases import CASES, PEER, SIZES, TARGETS, peer_versions  # noqa: E402

SCALING_IMPLS = ("naive", "torch_chunked", "companion")


# ------------------------------------------------------------------------------ progress

class Progress:
    """A one-line progress bar on stderr (no dependency)."""

    def __init__(self, total: int, width: int = 30):
        self.total, self.done, self.width, self.start = max(total, 1), 0, width, time.perf_counter()

    def step(self, label: str, n: int = 1) -> None:
        self.done = min(self.done + n, self.total)
        frac = self.done / self.total
        bar = "#" * int(frac * self.width)
        elapsed = time.perf_counter() - self.start
        sys.stderr.write(f"\r[{bar:<{self.width}}] {frac:4.0%} {elapsed:5.0f}s  {label[:48]:<48}")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


# ------------------------------------------------------------------------------ measuring

def _status_mib(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    # Linux >= 4.0: writing 5 to clear_refs resets the high-water mark to the current RSS
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def memory_child(case_name: str, impl: str, size: dict, smoke_size: dict) -> dict:
    """Run in a fresh process: the peak extra resident memory of one forward+backward."""
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", torch.get_num_threads())))
    warm = CASES[case_name](**smoke_size).impls()[impl]
    warm()  # load kernels and thread pools on a tiny problem first
    del warm
    case = CASES[case_name](**size)
    step = case.impls()[impl]
    gc.collect()
    _reset_peak()
    before = _status_mib("VmRSS")
    step()
    peak = _status_mib("VmHWM")
    return {"peak_mib": peak - before, "baseline_mib": before}


def measure_memory(case_name: str, impl: str, size: dict, smoke_size: dict) -> float:
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--memory-child",
           json.dumps({"case": case_name, "impl": impl, "size": size, "smoke_size": smoke_size})]
    # a fixed mmap threshold: glibc then maps every large block afresh and unmaps it when it
    # is freed, so the resident set follows the live tensors instead of a reused free list
    env = dict(os.environ, PYTHONPATH=str(ROOT), MALLOC_MMAP_THRESHOLD_="65536",
               BENCH_THREADS=str(torch.get_num_threads()))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]


# glibc's malloc maps blocks of M_MMAP_THRESHOLD bytes and more afresh (a page fault on the
# first touch of every page) and unmaps them when they are freed, and hands free memory above
# M_TRIM_THRESHOLD at the top of its heap back to the system. Both thresholds start low and
# rise as the process frees large blocks, so by default a case timed first in a process and
# the same case timed after others pay different prices for fresh memory.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # mallopt's parameter numbers (malloc.h)
_MMAP_THRESHOLD = 32 << 20   # the highest value glibc's own rule raises it to (64-bit)
_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD            # what that rule sets beside it


def fix_allocator():
    """Fix glibc's two thresholds, from the start, at the values its own rule reaches in a
    long-running process: blocks under 32 MiB come from the heap, larger ones are mapped afresh
    every time, whatever ran before. Returns the values set, or None where the C library is
    not glibc (then nothing is changed)."""
    import ctypes
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return None
    if not (mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)):
        return None
    _ALLOCATOR.update(mmap_threshold=_MMAP_THRESHOLD, trim_threshold=_TRIM_THRESHOLD)
    return dict(_ALLOCATOR)


_ALLOCATOR: dict = {}   # what fix_allocator set in this process (recorded with the machine)


#: A round of an implementation lasts at least this long in a full run: a call shorter than
#: that is repeated back to back and the round reports the mean (see calls_per_round)
MIN_ROUND_MS = 100.0
MAX_CALLS_PER_ROUND = 100


def calls_per_round(run, min_round_ms: float) -> int:
    """How many consecutive calls of ``run`` make a round of at least ``min_round_ms``, from
    one timed call (after the warm-up). A single call of a few milliseconds is at the mercy of
    one page fault or one preemption; the mean of the calls that fill 100 ms is not, and a
    training loop, too, calls its loss over and over."""
    if min_round_ms <= 0:
        return 1
    start = time.perf_counter()
    run()
    once = (time.perf_counter() - start) * 1e3
    return max(1, min(MAX_CALLS_PER_ROUND, math.ceil(min_round_ms / max(once, 1e-3))))


def _round_text(results: dict) -> str:
    """The sentence on calls per round, for results measured with them."""
    if not any("calls_per_round" in i for c in results.get("cases", {}).values()
               for i in c.get("impls", {}).values()):
        return ""
    return (f"a round of a pass shorter than {MIN_ROUND_MS:.0f} ms is the mean of as many "
            f"consecutive passes as fill {MIN_ROUND_MS:.0f} ms (at most {MAX_CALLS_PER_ROUND}; "
            "`calls_per_round` in results.json); ")


def measure_time(impls: dict, repeats: int, progress: Progress, label: str, warm: bool = True,
                 min_round_ms: float = 0.0):
    """Wall times (ms per call) of each implementation over interleaved rounds, after a
    warm-up, and the calls per round of each: a round of an implementation is the mean of
    that many consecutive calls."""
    for name, run in impls.items() if warm else ():
        run()
        progress.step(f"{label}: warm-up {name}")
    calls = {name: calls_per_round(run, min_round_ms) for name, run in impls.items()}
    times = {name: [] for name in impls}
    for r in range(repeats):
        for name, run in impls.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                run()
            times[name].append((time.perf_counter() - start) * 1e3 / calls[name])
            progress.step(f"{label}: round {r + 1}/{repeats} {name}")
    return times, calls


def check_agreement(case, impls: dict, progress: Progress) -> dict:
    """The implementations' losses, checked to agree before anything is timed (the warm-up)."""
    values = {}
    for name, run in impls.items():
        values[name] = run()
        progress.step(f"{case.name}: warm-up {name}")
    values = {k: float(v) for k, v in values.items() if v is not None}
    ref_name = case.reference or case.peer
    if ref_name not in values:
        return values
    ref = values[ref_name]
    agree = case.agree if case.agree is not None else set(values)
    for name, value in values.items():
        if name in agree and abs(value - ref) > 1e-4 * max(1.0, abs(ref)):
            raise AssertionError(f"{case.name}: {name} gives {value}, {ref_name} gives {ref}")
    return values


# ------------------------------------------------------------------------------ the run

def _memory_impls(case) -> set:
    impls = set(case.impls()) - case.time_only()
    return impls if case.memory_impls is None else impls & set(case.memory_impls)


def run(mode: str, repeats: int, out_dir: pathlib.Path, memory: set, scaling_memory: bool,
        case_names: list, merge: bool) -> dict:
    sizes, smoke = SIZES[mode], SIZES["smoke"]
    sweeps = [s for s in ("scaling", "scaling_n") if s in case_names]
    case_names = [c for c in case_names if c in CASES]
    scaling, scaling_n = sizes["scaling"], sizes["scaling_n"]
    # progress units: warm-up + rounds per implementation, and one per memory child
    def case_repeats(name):
        r = CASES[name].repeats
        return repeats if r is None or mode == "smoke" else r
    n_impls = {name: len(CASES[name](**smoke[name]).impls()) for name in case_names}
    total = sum((case_repeats(name) + 1) * n for name, n in n_impls.items())
    total += sum(1 for (c, _) in memory if c in case_names)
    scaling_repeats = max(1, repeats // 2)
    min_round_ms = 0.0 if mode == "smoke" else MIN_ROUND_MS
    points = len(scaling["vocab"]) * ("scaling" in sweeps) + len(scaling_n["rows"]) * ("scaling_n" in sweeps)
    total += points * len(SCALING_IMPLS) * (scaling_repeats + 1 + scaling_memory)
    progress = Progress(total)

    results = {"mode": mode, "repeats": repeats, "machine": machine(), "cases": {},
               "scaling": [], "scaling_n": []}
    previous = out_dir / "results.json"
    if merge and previous.exists():
        old = json.loads(previous.read_text())
        if old.get("mode") == mode:
            results["cases"] = old.get("cases", {})
            results["scaling"] = old.get("scaling", [])
            results["scaling_n"] = old.get("scaling_n", [])
            results["runs"] = old.get("runs", [])
    results.setdefault("runs", []).append({"date": results["machine"]["date"],
                                           "cases": case_names + sweeps})
    for name in case_names:
        case = CASES[name](**sizes[name])
        impls = case.impls()
        values = check_agreement(case, impls, progress)
        times, calls = measure_time(impls, case_repeats(name), progress, name, warm=False,
                                    min_round_ms=min_round_ms)
        entry = {"size": sizes[name], "loss": values, "impls": {}, "repeats": case_repeats(name),
                 "date": results["machine"]["date"]}
        for impl, ts in times.items():
            entry["impls"][impl] = {"time_ms": statistics.median(ts), "time_ms_runs": ts,
                                    "calls_per_round": calls[impl]}
        entry["checks"] = case.verify()
        entry["notes"] = case.notes
        del case, impls
        gc.collect()
        for impl in entry["impls"]:
            if (name, impl) in memory:
                entry["impls"][impl]["peak_mib"] = measure_memory(name, impl, sizes[name], smoke[name])
                progress.step(f"{name}: memory {impl}")
        results["cases"][name] = entry

    def sweep(size, label):
        case = CASES["linear_ce"](**size)
        impls = {k: f for k, f in case.impls().items() if k in SCALING_IMPLS}
        times, _ = measure_time(impls, scaling_repeats, progress, label, min_round_ms=min_round_ms)
        del case, impls
        gc.collect()
        point = {}
        for impl in SCALING_IMPLS:
            point[impl] = {"time_ms": statistics.median(times[impl]), "peak_mib": None}
            if scaling_memory:
                point[impl]["peak_mib"] = measure_memory("linear_ce", impl, size, smoke["linear_ce"])
                progress.step(f"{label}: memory {impl}")
        return point

    if "scaling" in sweeps:
        results["scaling"] = []
        for v in scaling["vocab"]:
            size = dict(n=scaling["n"], h=scaling["h"], v=v, chunk=scaling["chunk"])
            results["scaling"].append({"v": v, **sweep(size, f"scaling V={v}")})
    if "scaling_n" in sweeps:
        results["scaling_n"] = []
        for n in scaling_n["rows"]:
            size = dict(n=n, h=scaling_n["h"], v=scaling_n["v"], chunk=scaling_n["chunk"])
            results["scaling_n"].append({"n": n, **sweep(size, f"scaling N={n}")})
    progress.close()

    # the cases in the order of the suite, whichever run measured them
    results["cases"] = {k: results["cases"][k] for k in CASES if k in results["cases"]}
    write_report(results, out_dir)
    return results


def write_report(results: dict, out_dir: pathlib.Path) -> None:
    """Evaluate the targets and write results.json, results.md and the scaling figure."""
    results["targets"] = evaluate_targets(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (out_dir / "results.md").write_text(markdown(results))
    figure(results, out_dir / "scaling.png")


def _allocator_text(m: dict) -> str:
    a = m.get("allocator")
    if not a:
        return (" The timing process ran with glibc's default malloc thresholds, which move "
                "during the run.")
    return (f" The timing process fixed glibc's malloc thresholds (mmap "
            f"{a['mmap_threshold'] >> 20} MiB, trim {a['trim_threshold'] >> 20} MiB) at the values "
            "glibc reaches in a long-running process, so a case rerun alone meets the allocator "
            "as it was in the full pass.")


def machine() -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "peers": peer_versions(),
        "allocator": dict(_ALLOCATOR) or None,
    }


def evaluate_targets(results: dict) -> list:
    out = []
    for description, case, kind, num, den, threshold in TARGETS:
        entry = results["cases"].get(case, {})
        impls = entry.get("impls", {})
        value, rounds = None, None
        if kind in ("time", "peak"):
            key = "time_ms" if kind == "time" else "peak_mib"
            a, b = impls.get(num, {}).get(key), impls.get(den, {}).get(key)
            value = None if a is None or not b else a / b
            # the same ratio within each interleaved round: how much it moves between rounds
            ra, rb = (impls.get(num, {}).get("time_ms_runs"),
                      impls.get(den, {}).get("time_ms_runs"))
            if kind == "time" and ra and rb and len(ra) == len(rb):
                rounds = [x / y for x, y in zip(ra, rb)]
        elif kind == "seconds":
            t = impls.get(num, {}).get("time_ms")
            value = None if t is None else t / 1e3
        elif kind == "gib":
            m = impls.get(num, {}).get("peak_mib")
            value = None if m is None else m / 1024
        else:
            value = entry.get("checks", {}).get(num)
        if value is None:
            met = None
        elif kind == "check_min":
            met = value >= threshold
        else:
            met = value <= threshold
        out.append({"target": description, "kind": kind, "value": value, "threshold": threshold,
                    "met": met, "rounds": rounds})
    return out


# ------------------------------------------------------------------------------ reporting

_NAMES = {
    "companion": "companion",
    "torch_chunked": "`F.linear_cross_entropy`, chunked",
    "naive": "naive `F.cross_entropy(h @ W.T, y)`",
    "floor": "its three matrix products alone, same chunks and layout (floor)",
    "floor_rowmajor": "the same products in PyTorch's (rows, V) layout",
    "floor_unchunked": "the three matrix products at full size",
    "floor_fresh": "the floor's products into buffers allocated in each call",
    "floor_exp": "the floor's products and one exponential of every logit",
    "floor_onednn": "the floor's products through oneDNN instead of MKL",
    "torchvision_formula": "torchvision's `sigmoid_focal_loss`, written out",
    "torchvision": "torchvision `sigmoid_focal_loss`",
    "torch": "`torch.nn.functional`",
    "torch_ce": "`F.cross_entropy` (the same logits, no focusing)",
    "composed": "plain composition of torch ops",
    "kornia": "kornia `losses.focal_loss`",
    "pml": "pytorch-metric-learning `NTXentLoss`",
    "crowdkit": "crowd-kit `DawidSkene`",
}

_SHORT = {"torch_chunked": "F.linear_cross_entropy", "torch": "torch.nn.functional",
          "torch_ce": "F.cross_entropy", "composed": "torch composition",
          "torchvision_formula": "torchvision formula", "crowdkit": "crowd-kit",
          "kornia": "kornia", "pml": "pytorch-metric-learning", "naive": "naive"}

_CHECKS = {
    "agree_crowdkit": ("argmax agreement with crowd-kit", ".2%"),
    "max_abs_posterior_diff_crowdkit": ("largest posterior difference from crowd-kit", ".1e"),
    "agree_float64_reference": ("argmax agreement with the float64 reference", ".2%"),
    "loglik_rel_err": ("log-likelihood, relative error vs the float64 reference", ".1e"),
    "accuracy_vs_truth": ("accuracy against the simulated true labels", ".2%"),
    "ours_exp_over_products": ("one call of the companion under the profiler: its "
                               "exponentials take this fraction of the time of its matrix "
                               "products", ".1%"),
    "rest_over_products": ("the same call: all its other operations take this fraction of "
                           "the time of its matrix products", ".1%"),
    "exp_over_products": ("one call of the floor's products and one exponential of every "
                          "logit, under the profiler: the exponentials take this fraction "
                          "of the time of the products", ".1%"),
}


def _fmt(x, spec):
    return "–" if x is None else format(x, spec)


def _target_cells(t):
    kind, v, th = t["kind"], t["value"], t["threshold"]
    if kind in ("time", "peak"):
        return _fmt(v, ".2f") + ("×" if v is not None else ""), f"≤ {th:.2f}×"
    if kind == "seconds":
        return _fmt(v, ".1f") + (" s" if v is not None else ""), f"< {th:g} s"
    if kind == "gib":
        return _fmt(v, ".2f") + (" GiB" if v is not None else ""), f"< {th:g} GiB"
    if kind == "check_min":
        return _fmt(v, ".2%"), f"≥ {th:.1%}"
    return _fmt(v, ".1e"), f"≤ {th:.0e}"


def markdown(results: dict) -> str:
    m = results["machine"]
    peers = ", ".join(f"{k} {v}" for k, v in m["peers"].items() if v) or "none"
    absent = [k for k, v in m["peers"].items() if not v]
    lines = [
        f"Measured on {m['cores']} CPU cores ({m['cpu']}, {m['torch_threads']} torch threads), "
        f"torch {m['torch']}, {m['date']}; mode `{results['mode']}`, median of "
        f"{results['repeats']} interleaved rounds after a warm-up unless a table says otherwise. "
        "Time is one forward and backward pass; " + _round_text(results)
        + "peak memory is the extra resident memory of that pass, measured in a fresh "
        "process. Ratios are to the peer named in the first row of each table (the floor row: to the three matrix products). A time target's "
        "'per round' column gives the lowest and highest of the same ratio taken within each "
        "round, and in how many rounds it was within the threshold." + _allocator_text(m),
        "",
        f"Peers: {peers}." + (f" Not installed: {', '.join(absent)} (their rows are left out)."
                              if absent else ""),
        "",
        "**Targets**",
        "",
        "| target | measured | per round | threshold | holds |",
        "|---|---:|---:|---:|:---:|",
    ]
    for t in results["targets"]:
        held = "–" if t["met"] is None else ("yes" if t["met"] else "**no**")
        value, threshold = _target_cells(t)
        rounds = t.get("rounds")
        per_round = "–" if not rounds else (
            f"{min(rounds):.2f}–{max(rounds):.2f}, "
            f"{sum(r <= t['threshold'] for r in rounds)} of {len(rounds)} within")
        lines.append(f"| {t['target']} | {value} | {per_round} | {threshold} | {held} |")

    lines += ["", "**Every kernel against its peer** (time and peak memory of the companion "
              "divided by the peer's; below 1 is better)", "",
              "| case | size | peer | companion (ms) | time ratio | memory ratio |",
              "|---|---|---|---:|---:|---:|"]
    for name, entry in results["cases"].items():
        peer, impls = PEER[name], entry["impls"]
        if "companion" not in impls:
            continue
        c = impls["companion"]
        size = ", ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}"
                         for k, v in entry["size"].items())
        if peer == "companion" or peer not in impls:
            lines.append(f"| {name} | {size} | – | {c['time_ms']:.1f} | – | – |")
            continue
        p = impls[peer]
        mem = (c.get("peak_mib") / p["peak_mib"]) if c.get("peak_mib") and p.get("peak_mib") else None
        lines.append(f"| {name} | {size} | {_SHORT.get(peer, peer)} | {c['time_ms']:.1f} | "
                     f"{c['time_ms'] / p['time_ms']:.2f} | {_fmt(mem, '.2f')} |")
    slower = sorted(((e["impls"]["companion"]["time_ms"] / e["impls"][PEER[n]]["time_ms"], n)
                     for n, e in results["cases"].items()
                     if "companion" in e["impls"] and PEER[n] in e["impls"]
                     and PEER[n] != "companion"), reverse=True)
    slower = [f"{n} ({r:.2f}×)" for r, n in slower if r > 1.0]
    lines += ["", "Slower than their peer in these results: " + (", ".join(slower) or "none") + "."]

    for name, entry in results["cases"].items():
        peer = PEER[name]
        impls = entry["impls"]
        title = CASES[name].title.format(**entry["size"])
        rounds = entry.get("repeats", results["repeats"])
        suffix = f" (median of {rounds} rounds)" if rounds != results["repeats"] else ""
        lines += ["", f"**{title}**{suffix}", "",
                  "| implementation | time (ms) | time ratio | peak memory (MiB) | memory ratio |",
                  "|---|---:|---:|---:|---:|"]
        if peer not in impls:
            peer = "companion"
        base_t, base_m = impls[peer]["time_ms"], impls[peer].get("peak_mib")
        order = [peer] + [k for k in impls if k != peer]
        for impl in order:
            r = impls[impl]
            t_ratio = r["time_ms"] / base_t
            mem = r.get("peak_mib")
            m_ratio = None if mem is None or not base_m else mem / base_m
            lines.append(f"| {_NAMES.get(impl, impl)} | {r['time_ms']:.1f} | {t_ratio:.2f} | "
                         f"{_fmt(mem, '.1f')} | {_fmt(m_ratio, '.2f')} |")
        if name.startswith("linear_ce") and "floor" in impls:
            c = impls["companion"]["time_ms"]
            text = (f"The companion's time is {c / impls['floor']['time_ms']:.2f}× the time of its "
                    f"three matrix products alone in the same {entry['size']['chunk']}-row chunks "
                    "and vocabulary tiles")
            if "floor_rowmajor" in impls:
                text += (f", and {c / impls['floor_rowmajor']['time_ms']:.2f}× the time of the same "
                         "products in the (rows, V) layout of PyTorch's chunked kernel")
            if "floor_unchunked" in impls:
                text += (f", and {c / impls['floor_unchunked']['time_ms']:.2f}× the time of the same "
                         "products done at full size (which needs the (N, V) buffer that chunking avoids)")
            if "floor_fresh" in impls:
                text += (f", and {c / impls['floor_fresh']['time_ms']:.2f}× the time of the floor's "
                         "products into a chunk buffer and gradients allocated afresh in each call")
            if "floor_exp" in impls:
                e = impls["floor_exp"]["time_ms"]
                text += (f". An exponential of every logit, which no exact softmax can skip, brings "
                         f"the products alone to {e / impls['floor']['time_ms']:.2f}× the floor; "
                         f"the companion takes {c / e:.2f}× that")
            if "torch_chunked" in impls:
                t = impls["torch_chunked"]["time_ms"] / impls["floor"]["time_ms"]
                text += (f". PyTorch's chunked form takes {t:.2f}× the floor, so 0.90× its time "
                         f"would be {0.9 * t:.2f}× the floor")
            if "floor_onednn" in impls:
                d = impls["floor_onednn"]["time_ms"] / impls["floor"]["time_ms"]
                text += (f". The same products through oneDNN, the other matrix library in "
                         f"PyTorch's CPU build, take {d:.2f}× the floor")
            lines += ["", text + "."]
        checks = entry.get("checks") or {}
        if checks:
            lines += [""] + ["- " + _CHECKS.get(k, (k, ".4g"))[0] + ": " +
                             format(v, _CHECKS.get(k, (k, ".4g"))[1]) for k, v in checks.items()]
        for note in entry.get("notes") or []:
            lines += ["", f"*{note}.*"]
    for key, axis, label in (("scaling", "v", "vocabulary"), ("scaling_n", "n", "number of rows")):
        pts = results.get(key) or []
        if not pts:
            continue
        s = SIZES[results["mode"]][key]
        fixed = ", ".join(f"{k.upper() if len(k) == 1 else k}={v:,}" for k, v in s.items()
                          if not isinstance(v, list))
        lines += ["", f"**Linear cross-entropy: scaling with the {label}** ({fixed}; time / peak memory)", "",
                  f"| {axis.upper()} | " + " | ".join(f"{_NAMES[i]} ms / MiB" for i in SCALING_IMPLS) + " |",
                  "|---:|" + "---:|" * len(SCALING_IMPLS)]
        for p in pts:
            cells = [f"{p[i]['time_ms']:.0f} / {_fmt(p[i]['peak_mib'], '.0f')}" for i in SCALING_IMPLS]
            lines.append(f"| {p[axis]:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figure(results: dict, path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweeps = [(k, a, lab) for k, a, lab in (("scaling", "v", "vocabulary size V"),
                                            ("scaling_n", "n", "rows N"))
              if results.get(k)]
    if not sweeps:
        return
    fig, axes = plt.subplots(len(sweeps), 2, figsize=(7.5, 3.0 * len(sweeps)), squeeze=False)
    styles = {"naive": ("naive", "o-"), "torch_chunked": ("torch chunked", "s--"),
              "companion": ("companion", "^:")}
    for row, (key, axis, xlabel) in zip(axes, sweeps):
        pts = results[key]
        x = [p[axis] for p in pts]
        for impl in SCALING_IMPLS:
            label, style = styles[impl]
            row[0].plot(x, [p[impl]["time_ms"] / 1e3 for p in pts], style, label=label)
            if all(p[impl]["peak_mib"] for p in pts):
                row[1].plot(x, [p[impl]["peak_mib"] for p in pts], style, label=label)
        s = SIZES[results["mode"]][key]
        fixed = ", ".join(f"{k.upper() if len(k) == 1 else k}={v:,}" for k, v in s.items()
                          if not isinstance(v, list))
        for ax, ylabel in zip(row, ["forward + backward (s)", "peak extra memory (MiB)"]):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.set_title(fixed, fontsize=9)
            ax.grid(True, which="both", alpha=0.3)
        row[0].legend(fontsize=8)
    fig.suptitle("Linear cross-entropy", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds per case")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="output directory")
    parser.add_argument("--cases", default=None,
                        help="comma-separated subset of the cases (and 'scaling', 'scaling_n'); "
                             "the results are merged into the output directory's results.json")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: on a shared machine, OpenMP threads "
                             "that wait for each other at every barrier make multi-threaded "
                             "timings erratic, up to 10x slower for small kernels)")
    parser.add_argument("--report", action="store_true",
                        help="measure nothing: rewrite results.md and the figure from the "
                             "output directory's results.json (after a change to the report)")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        spec = json.loads(args.memory_child)
        print(json.dumps(memory_child(spec["case"], spec["impl"], spec["size"], spec["smoke_size"])))
        return 0
    everything = list(CASES) + ["scaling", "scaling_n"]
    if args.list:
        print("\n".join(everything))
        return 0
    names = everything
    if args.cases:
        names = [c.strip() for c in args.cases.split(",") if c.strip()]
        unknown = [c for c in names if c not in everything]
        if unknown:
            parser.error(f"unknown case(s) {unknown}; choose from {everything}")
    mode = "smoke" if args.smoke else "full"
    out = args.out or (ROOT / "_build" / "bench-smoke" if args.smoke else ROOT / "bench" / "results")
    if args.report:
        write_report(json.loads((out / "results.json").read_text()), out)
        print(f"rewrote {out / 'results.md'} and {out / 'scaling.png'} from results.json")
        return 0
    torch.set_num_threads(args.threads)
    fix_allocator()
    repeats = args.repeats or (2 if args.smoke else 5)
    # every (case, implementation) but the floors gets a memory child; the smoke run starts
    # just one (each child imports torch afresh) and only times the scaling sweeps
    memory = {(name, impl) for name in names if name in CASES
              for impl in _memory_impls(CASES[name](**SIZES["smoke"][name]))}
    if args.smoke:
        memory = {("linear_ce", "companion")} & {(n, "companion") for n in names}
    results = run(mode, repeats, out, memory, scaling_memory=not args.smoke, case_names=names,
                  merge=bool(args.cases))
    if args.smoke:
        print("smoke run: the sizes are far too small for the targets; values below are not results")
    for t in results["targets"]:
        state = "n/a" if t["met"] is None or args.smoke else ("holds" if t["met"] else "MISSED")
        value, threshold = _target_cells(t)
        print(f"{t['target']:<62} {value:>10} ({threshold}) {state}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
