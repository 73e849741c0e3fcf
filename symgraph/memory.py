"""keep_memory: tell glibc's malloc to keep the memory generated code frees, for this process.

Generated code makes a few temporaries per term and frees each at its last use. In a process where nothing
large was freed before, glibc gives such memory back to the system (it trims the heap's top past 128 KB and
unmaps what it mapped), so the next temporary faults its pages in again: Rosenbrock n=100's value alone at
10^5 points takes 27,700 page faults a call, 3.7x the hand-written loop's time
(`benchmarks/bench_alone.py`). The environment variables MALLOC_TRIM_THRESHOLD_ and MALLOC_MMAP_THRESHOLD_
do the same before the process starts; this is for a program that cannot set them.
"""

from __future__ import annotations

import ctypes
import ctypes.util

from .errors import ArgumentError

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_MMAP_MOST = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems: its own dynamic threshold's ceiling
_INT_MAX = 2**31 - 1  # mallopt takes a C int


def keep_memory(trim: int = 1 << 30, mmap: int = _MMAP_MOST) -> bool:
    """Keep up to `trim` bytes of freed memory at the heap's top, and take blocks below `mmap` bytes from the
    heap (not a mapping of their own, which is returned on every free). Process-wide and for the rest of the
    process: its memory stays at its peak, as a training loop's does anyway. True when glibc took both
    settings; False where there is no glibc malloc (macOS, Windows, musl), which changes nothing."""
    for what, value in (("trim", trim), ("mmap", mmap)):
        if type(value) is not int or not 0 <= value <= _INT_MAX:
            raise ArgumentError(f"keep_memory's {what} is a number of bytes from 0 to {_INT_MAX:,}, not {value!r}")
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap)) and bool(mallopt(_M_TRIM_THRESHOLD, trim))  # glibc takes any trim
