"""The environment variables of scripts/reference_numerics.env, for Python callers.

The kernels that execute chapters (nbclient, nbval) inherit the environment of the process that
starts them, so `apply()` must run before the first kernel starts.
"""
from __future__ import annotations

import os
import pathlib
import platform

ENV_FILE = pathlib.Path(__file__).with_suffix(".env")


def reference_env() -> dict[str, str]:
    """The variables, on an x86-64 machine; none elsewhere (see the file's header)."""
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        return {}
    pairs = {}
    for line in ENV_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def apply(environ=os.environ) -> None:
    """Set the reference variables, overriding any value already there."""
    environ.update(reference_env())
