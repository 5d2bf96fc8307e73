"""What the operating system says about a process (Linux ``/proc``), for the measurements."""

from __future__ import annotations

import os


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a local process (Linux), or None when it is elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command name: state is field 3, utime 14 and stime 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
