r"""A deterministic measure of tensor memory: the peak bytes of live tensors made by ATen ops.

Wall-clock memory readings (resident set size, allocator statistics) move from run to run with
the allocator's caching and the machine. :class:`TensorMemoryTracker` instead records every
tensor that a PyTorch operation returns while it is active, adds the size of its storage when
the storage is new and subtracts it when the storage is freed. The peak of that running sum
is the same on every run and every machine for the same code path, which is what a book's
stored outputs need. It sees the tensors that operations return (forward, backward and
in-place buffers alike), not the scratch space a single kernel uses internally, nor tensors
that existed before the tracker started.

See also: Chapter 13, the cost of a large vocabulary.
"""
from __future__ import annotations

import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

__all__ = ["TensorMemoryTracker"]


def _storage_key(t):
    st = t.untyped_storage()
    return st, (t.device.type, t.device.index, st.data_ptr())


class TensorMemoryTracker(TorchDispatchMode):
    """Context manager that tracks the bytes of tensors created by PyTorch operations.

    Use it around a forward and backward pass. Storage that an operation writes into but
    that it did not create (an ``out=`` argument, an in-place update, a view of an input) is
    not counted again; storage created inside the block is counted once, from the operation
    that created it until it is freed.

    Attributes:
        current: bytes of tracked storage alive now.
        peak: the largest value ``current`` reached.

    Example:
        >>> import torch
        >>> from companion.memory import TensorMemoryTracker
        >>> x = torch.ones(1000)                  # made before: not counted
        >>> with TensorMemoryTracker() as mem:
        ...     y = x * 2                          # 4000 bytes
        ...     z = y + 1                          # 4000 more
        ...     del y                              # freed
        >>> mem.peak, mem.current
        (8000, 4000)

    See also:
        Chapter 13, the cost of a large vocabulary.
    """

    def __init__(self):
        super().__init__()
        self.current = 0
        self.peak = 0
        self._live = {}

    def _free(self, key):
        self.current -= self._live.pop(key, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = {_storage_key(t)[1] for t in tree_flatten((args, kwargs))[0]
                  if isinstance(t, torch.Tensor)}
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            st, key = _storage_key(t)
            n = st.nbytes()
            if n == 0 or key in inputs or key in self._live:
                continue
            self._live[key] = n
            self.current += n
            self.peak = max(self.peak, self.current)
            # the storage's Python object lives as long as the storage itself
            weakref.finalize(st, self._free, key)
        return out
