"""CPU time of a process, every thread, user and system: the yardstick that holds on any
machine (rates move several-fold between machines of one kind; CPU per unit of work moves far
less, and a same-run reference divides what is left out)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) seconds the process has used so far, all its threads (Linux's /proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces: the fields after it are counted from its ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def cpu_seconds(pid: int) -> float:
    """User + system time the process has used so far, all its threads."""
    return sum(cpu_times(pid))


class CpuMeter:
    """CPU used by a set of processes between start() and stop()."""

    def __init__(self, pids: Iterable[int]) -> None:
        self.pids = list(pids)
        self._began: dict[int, tuple[float, float]] = {}
        self.seconds = 0.0
        self.system = 0.0  # of which in the kernel (sockets, fsync, waking threads)

    def start(self) -> None:
        self._began = {pid: cpu_times(pid) for pid in self.pids}

    def stop(self) -> float:
        ended = {pid: cpu_times(pid) for pid in self._began}
        self.seconds = sum(sum(ended[pid]) - sum(began) for pid, began in self._began.items())
        self.system = sum(ended[pid][1] - began[1] for pid, began in self._began.items())
        return self.seconds


def per_unit_us(seconds: float, units: int) -> float:
    return seconds / max(units, 1) * 1e6
