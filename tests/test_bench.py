"""The benchmark's own machinery (its numbers are checked by ``make bench-smoke``)."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Where does a fresh process put its first 16 MiB tensor: in the heap, or in a mapping of its own?
_WHERE = textwrap.dedent("""
    import sys
    import torch
    sys.path.insert(0, sys.argv[1])
    if sys.argv[2] == "fixed":
        from bench.run import fix_allocator
        assert fix_allocator() == {"mmap_threshold": 32 << 20, "trim_threshold": 64 << 20}
    t = torch.empty(4 << 20)
    with open("/proc/self/maps") as f:
        heap = [line.split()[0] for line in f if line.rstrip().endswith("[heap]")]
    lo, hi = (int(x, 16) for x in heap[0].split("-"))
    print("heap" if lo <= t.data_ptr() < hi else "mapped")
""")


def _where(mode):
    out = subprocess.run([sys.executable, "-c", _WHERE, str(ROOT), mode], capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc: Linux only")
def test_fix_allocator_sets_the_thresholds_a_long_run_reaches():
    """glibc starts a process mapping every block over 128 KiB afresh and raises that threshold
    only as large blocks are freed; fixed, a 16 MiB block comes from the heap from the start,
    as it would late in a long run."""
    assert _where("default") == "mapped"
    assert _where("fixed") == "heap"


def test_a_round_of_short_passes_is_the_mean_of_consecutive_calls():
    """measure_time repeats a pass shorter than a round back to back and reports the mean per
    call; a long pass, or a smoke run (min_round_ms=0), is one call per round."""
    import time

    sys.path.insert(0, str(ROOT))
    from bench.run import MAX_CALLS_PER_ROUND, measure_time

    class Quiet:
        def step(self, label):
            pass

    calls = {"short": 0, "long": 0}

    def short():
        calls["short"] += 1
        time.sleep(0.002)

    def long():
        calls["long"] += 1
        time.sleep(0.06)

    times, per_round = measure_time({"short": short, "long": long}, 3, Quiet(), "t",
                                    warm=False, min_round_ms=50.0)
    assert per_round["long"] == 1 and 2 <= per_round["short"] <= MAX_CALLS_PER_ROUND
    # one timed call to count the calls per round, then the rounds
    assert calls == {"short": 1 + 3 * per_round["short"], "long": 1 + 3}
    assert all(2.0 <= t < 50.0 for t in times["short"]) and all(t >= 60.0 for t in times["long"])
    _, once = measure_time({"short": short}, 2, Quiet(), "t", warm=False, min_round_ms=0.0)
    assert once == {"short": 1}
