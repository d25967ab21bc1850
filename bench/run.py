"""Benchmark the companion's kernels against their peers: forward+backward time and peak memory.

    python bench/run.py            # full run, writes bench/results/{results.json,results.md,scaling.png}
    python bench/run.py --smoke    # tiny sizes, a few seconds; writes to _build/bench-smoke/

Time: every implementation of a case runs in the same process, warmed up once, then the
implementations take turns (interleaved) for ``--repeats`` rounds; the table reports the
median of each. Interleaving spreads any background load over all implementations alike.

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

from bench.cases import CASES, PEER, SIZES, TARGETS  # noqa: E402

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
    env = dict(os.environ, PYTHONPATH=str(ROOT), MALLOC_MMAP_THRESHOLD_="65536")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]


def measure_time(impls: dict, repeats: int, progress: Progress, label: str, warm: bool = True) -> dict:
    """Wall times (ms) of each implementation over interleaved rounds, after a warm-up."""
    for name, run in impls.items() if warm else ():
        run()
        progress.step(f"{label}: warm-up {name}")
    times = {name: [] for name in impls}
    for r in range(repeats):
        for name, run in impls.items():
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) * 1e3)
            progress.step(f"{label}: round {r + 1}/{repeats} {name}")
    return times


def check_agreement(case, impls: dict, progress: Progress) -> dict:
    """The implementations' losses, checked to agree before anything is timed (the warm-up)."""
    values = {}
    for name, run in impls.items():
        values[name] = run()
        progress.step(f"{case.name}: warm-up {name}")
    values = {k: float(v) for k, v in values.items() if v is not None}
    ref = values[PEER.get(case.name, "torch_chunked")]
    for name, value in values.items():
        if abs(value - ref) > 1e-4 * max(1.0, abs(ref)):
            raise AssertionError(f"{case.name}: {name} gives {value}, the peer gives {ref}")
    return values


# ------------------------------------------------------------------------------ the run

def run(mode: str, repeats: int, out_dir: pathlib.Path, memory: set, scaling_memory: bool) -> dict:
    sizes, smoke = SIZES[mode], SIZES["smoke"]
    case_names = list(CASES)
    scaling = sizes["scaling"]
    # progress units: warm-up + rounds per implementation, and one per memory child
    n_impls = {name: len(CASES[name](**smoke[name]).impls()) for name in case_names}
    total = sum((repeats + 1) * n for n in n_impls.values())
    total += len(memory)
    scaling_repeats = max(1, repeats // 2)
    total += len(scaling["vocab"]) * len(SCALING_IMPLS) * (scaling_repeats + 1 + scaling_memory)
    progress = Progress(total)

    results = {"mode": mode, "repeats": repeats, "machine": machine(), "cases": {}, "scaling": []}
    for name in case_names:
        case = CASES[name](**sizes[name])
        impls = case.impls()
        values = check_agreement(case, impls, progress)
        times = measure_time(impls, repeats, progress, name, warm=False)
        entry = {"size": sizes[name], "loss": values, "impls": {}}
        for impl, ts in times.items():
            entry["impls"][impl] = {"time_ms": statistics.median(ts), "time_ms_runs": ts}
        del case, impls
        gc.collect()
        for impl in entry["impls"]:
            if (name, impl) in memory:
                entry["impls"][impl]["peak_mib"] = measure_memory(name, impl, sizes[name], smoke[name])
                progress.step(f"{name}: memory {impl}")
        results["cases"][name] = entry

    for v in scaling["vocab"]:
        size = dict(n=scaling["n"], h=scaling["h"], v=v, chunk=scaling["chunk"])
        case = CASES["linear_ce"](**size)
        impls = {k: f for k, f in case.impls().items() if k in SCALING_IMPLS}
        times = measure_time(impls, scaling_repeats, progress, f"scaling V={v}")
        del case, impls
        gc.collect()
        point = {"v": v}
        for impl in SCALING_IMPLS:
            point[impl] = {"time_ms": statistics.median(times[impl]), "peak_mib": None}
            if scaling_memory:
                point[impl]["peak_mib"] = measure_memory("linear_ce", impl, size, smoke["linear_ce"])
                progress.step(f"scaling V={v}: memory {impl}")
        results["scaling"].append(point)
    progress.close()

    results["targets"] = evaluate_targets(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (out_dir / "results.md").write_text(markdown(results))
    figure(results, out_dir / "scaling.png")
    return results


def machine() -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }


def evaluate_targets(results: dict) -> list:
    out = []
    for description, case, quantity, num, den, threshold in TARGETS:
        impls = results["cases"].get(case, {}).get("impls", {})
        key = "time_ms" if quantity == "time" else "peak_mib"
        a, b = impls.get(num, {}).get(key), impls.get(den, {}).get(key)
        ratio = None if a is None or not b else a / b
        out.append({"target": description, "ratio": ratio, "threshold": threshold,
                    "met": None if ratio is None else ratio <= threshold})
    return out


# ------------------------------------------------------------------------------ reporting

_NAMES = {
    "companion": "companion",
    "torch_chunked": "`F.linear_cross_entropy`, chunked",
    "naive": "naive `F.cross_entropy(h @ W.T, y)`",
    "floor": "its three matrix products alone, same chunks (floor)",
    "floor_unchunked": "the three matrix products at full size",
    "torchvision_formula": "torchvision's formula",
    "torch": "`torch.nn.functional`",
}

_TITLES = {
    "linear_ce": "Linear cross-entropy, N={n}, H={h}, V={v}, chunk {chunk}",
    "binary_focal": "Binary focal loss, {n:,} elements, γ={gamma}, α={alpha}",
    "bce": "Binary cross-entropy from logits, {n:,} elements",
    "ce_smoothing": "Cross-entropy with label smoothing {smoothing}, {n} × {k}",
    "ce_weighted": "Cross-entropy with class weights, {n} × {k}",
}


def _fmt(x, spec):
    return "–" if x is None else format(x, spec)


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Measured on {m['cores']} CPU cores ({m['cpu']}, {m['torch_threads']} torch threads), "
        f"torch {m['torch']}, {m['date']}; mode `{results['mode']}`, median of "
        f"{results['repeats']} interleaved rounds after a warm-up. Time is one forward and "
        "backward pass; peak memory is the extra resident memory of that pass, measured in a "
        "fresh process. Ratios are to the peer named in the first row of each table (the "
        "floor row: to the three matrix products).",
        "",
        "**Targets**",
        "",
        "| target | ratio | threshold | holds |",
        "|---|---:|---:|:---:|",
    ]
    for t in results["targets"]:
        held = "–" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['target']} | {_fmt(t['ratio'], '.2f')} | ≤ {t['threshold']:.2f} | {held} |")
    for name, entry in results["cases"].items():
        peer = PEER[name]
        impls = entry["impls"]
        lines += ["", f"**{_TITLES[name].format(**entry['size'])}**", "",
                  "| implementation | time (ms) | time ratio | peak memory (MiB) | memory ratio |",
                  "|---|---:|---:|---:|---:|"]
        base_t, base_m = impls[peer]["time_ms"], impls[peer].get("peak_mib")
        order = [peer] + [k for k in impls if k != peer]
        for impl in order:
            r = impls[impl]
            t_ratio = r["time_ms"] / base_t
            mem = r.get("peak_mib")
            m_ratio = None if mem is None or not base_m else mem / base_m
            lines.append(f"| {_NAMES.get(impl, impl)} | {r['time_ms']:.1f} | {t_ratio:.2f} | "
                         f"{_fmt(mem, '.1f')} | {_fmt(m_ratio, '.2f')} |")
        if name == "linear_ce" and "floor" in impls:
            c = impls["companion"]["time_ms"]
            lines.append("")
            lines.append(f"The companion's time is {c / impls['floor']['time_ms']:.2f}× the time of its "
                         f"three matrix products alone in the same {entry['size']['chunk']}-row chunks, and "
                         f"{c / impls['floor_unchunked']['time_ms']:.2f}× the time of the same products "
                         "done at full size (which needs the (N, V) buffer that chunking avoids).")
    if results["scaling"]:
        lines += ["", "**Scaling with the vocabulary** (N={n}, H={h}, chunk {chunk}; time / peak memory)".format(
            **_scaling_size(results)), "",
            "| V | " + " | ".join(f"{_NAMES[i]} ms / MiB" for i in SCALING_IMPLS) + " |",
            "|---:|" + "---:|" * len(SCALING_IMPLS)]
        for p in results["scaling"]:
            cells = [f"{p[i]['time_ms']:.0f} / {_fmt(p[i]['peak_mib'], '.0f')}" for i in SCALING_IMPLS]
            lines.append(f"| {p['v']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _scaling_size(results):
    s = SIZES[results["mode"]]["scaling"]
    return {"n": s["n"], "h": s["h"], "chunk": s["chunk"]}


def figure(results: dict, path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = results["scaling"]
    if not pts:
        return
    v = [p["v"] for p in pts]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    styles = {"naive": ("naive", "o-"), "torch_chunked": ("torch chunked", "s-"), "companion": ("companion", "^-")}
    for impl in SCALING_IMPLS:
        label, style = styles[impl]
        axes[0].plot(v, [p[impl]["time_ms"] / 1e3 for p in pts], style, label=label)
        if all(p[impl]["peak_mib"] for p in pts):
            axes[1].plot(v, [p[impl]["peak_mib"] for p in pts], style, label=label)
    s = _scaling_size(results)
    for ax, ylabel in zip(axes, ["forward + backward (s)", "peak extra memory (MiB)"]):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("vocabulary size V")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"Linear cross-entropy, N={s['n']}, H={s['h']}, chunk {s['chunk']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds per case")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="output directory")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        spec = json.loads(args.memory_child)
        print(json.dumps(memory_child(spec["case"], spec["impl"], spec["size"], spec["smoke_size"])))
        return 0
    mode = "smoke" if args.smoke else "full"
    repeats = args.repeats or (2 if args.smoke else 5)
    out = args.out or (ROOT / "_build" / "bench-smoke" if args.smoke else ROOT / "bench" / "results")
    # every (case, implementation) but the floor gets a memory child; the smoke run starts
    # just one (each child imports torch afresh) and only times the scaling sweep
    memory = {(name, impl) for name in CASES for impl in CASES[name](**SIZES["smoke"][name]).impls()
              if impl not in CASES[name](**SIZES["smoke"][name]).time_only()}
    if args.smoke:
        memory = {("linear_ce", "companion")}
    results = run(mode, repeats, out, memory, scaling_memory=not args.smoke)
    if args.smoke:
        print("smoke run: the sizes are far too small for the targets; ratios below are not results")
    for t in results["targets"]:
        state = "n/a" if t["met"] is None or args.smoke else ("holds" if t["met"] else "MISSED")
        print(f"{t['target']:<60} {_fmt(t['ratio'], '.2f'):>6} (≤ {t['threshold']:.2f}) {state}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
