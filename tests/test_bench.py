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
