"""The C allocator's side of a big submission (glibc on Linux; elsewhere every call is a no-op).

glibc serves a block above its mmap threshold with a mapping of its own, returned to the system
when freed; smaller blocks come from the heap, whose free pages stay resident. The threshold is
dynamic by default: after a large block is freed glibc raises it (up to 32 MiB), so the strings
of the next 50 MB notebook come from the heap and the process's high-water mark holds the
heap's leftovers beside the new copies. ``tune_allocator`` fixes the threshold at 1 MiB at
start: measured on a fresh service taking a 52 MB notebook, the high-water mark grew by 2.26x
the notebook instead of 2.71x (docs/service.md, Memory).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 1 << 20


def _glibc(name: str) -> Any:
    """A glibc function; None elsewhere (musl has neither, and frees differently)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


def tune_allocator() -> bool:
    """Fix glibc's mmap threshold at 1 MiB, unless the operator set one
    (``MALLOC_MMAP_THRESHOLD_``, glibc's own variable). True when it was set here."""
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") or os.environ.get("GLIBC_TUNABLES"):
        return False
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def _malloc_trim() -> Callable[[int], int] | None:
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Give the C heap's free pages back to the system. glibc keeps what it freed below its
    top-most block in use: after a 50 MB notebook of many cells about 65 MB the parsed cells
    used. A few milliseconds; call it in a worker thread."""
    if _TRIM is not None:
        _TRIM(0)


def release_soon() -> None:
    """``release_freed_memory`` in a worker thread (called where a big submission is freed,
    usually on the event loop)."""
    global _trimmer
    if _TRIM is None:
        return
    if _trimmer is None:
        _trimmer = ThreadPoolExecutor(1, thread_name_prefix="evn-malloc-trim")
    _trimmer.submit(_TRIM, 0)


_trimmer: ThreadPoolExecutor | None = None
