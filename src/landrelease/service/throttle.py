"""Slowing down password guessing: after a few failed sign-ins for one name, or from one address, further
attempts are refused for a while (429 with Retry-After), before any password is checked.

Kept in this process's memory: a restart forgets it, and several worker processes each keep their own
(they still each cap guessing; a shared store is the next step for a multi-process deployment).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: Failures allowed before the first lock-out, per name and per address (an office behind one address has
#: many people); each further failure doubles the lock-out, up to the maximum.
FREE_FAILURES = {"name": 5, "address": 30}
FIRST_LOCKOUT_S = 30.0
MAX_LOCKOUT_S = 15 * 60.0
#: Failures older than this are forgotten.
WINDOW_S = 15 * 60.0


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    locked_until: float = 0.0


@dataclass
class LoginThrottle:
    """Counts failed sign-ins per key: ``name:<case-folded name>`` or ``address:<client address>``."""

    clock: Callable[[], float] = time.monotonic
    _records: dict[str, _Record] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, *keys: str) -> int:
        """Seconds to wait before another attempt for any of ``keys`` (0: go ahead)."""
        now = self.clock()
        with self._lock:
            waits = [r.locked_until - now for k in keys if (r := self._records.get(k)) is not None]
        longest = max(waits, default=0.0)
        return math.ceil(longest) if longest > 0 else 0

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                record = self._records.get(key)
                if record is None or now - record.last > WINDOW_S:
                    record = self._records[key] = _Record()
                record.failures += 1
                record.last = now
                over = record.failures - FREE_FAILURES[key.split(":", 1)[0]]
                if over >= 0:
                    record.locked_until = now + min(MAX_LOCKOUT_S, FIRST_LOCKOUT_S * 2**over)
            if len(self._records) > 100_000:  # a flood of made-up names: drop what has expired
                self._records = {k: r for k, r in self._records.items() if now - r.last <= WINDOW_S}

    def succeeded(self, name_key: str) -> None:
        with self._lock:
            self._records.pop(name_key, None)
