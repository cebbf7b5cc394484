"""CPU time of a process, every thread, user and system: the yardstick that holds on any
machine (rates move several-fold between machines of one kind; CPU per unit of work moves far
less, and a same-run reference divides what is left out)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system time the process has used so far, all its threads (Linux's /proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces: the fields after it are counted from its ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / TICKS


class CpuMeter:
    """CPU used by a set of processes between start() and stop()."""

    def __init__(self, pids: Iterable[int]) -> None:
        self.pids = list(pids)
        self._began: dict[int, float] = {}
        self.seconds = 0.0

    def start(self) -> None:
        self._began = {pid: cpu_seconds(pid) for pid in self.pids}

    def stop(self) -> float:
        self.seconds = sum(cpu_seconds(pid) - began for pid, began in self._began.items())
        return self.seconds


def per_unit_us(seconds: float, units: int) -> float:
    return seconds / max(units, 1) * 1e6
