"""The CPU reader behind the seeding's and the gate benchmark's database CPU figures."""

from __future__ import annotations

import os
import sys

import pytest

from demo.procstat import process_cpu_seconds


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux /proc")
def test_a_local_process_has_its_cpu_seconds():
    seconds = process_cpu_seconds(os.getpid())
    assert isinstance(seconds, float) and seconds >= 0


def test_a_process_that_is_not_here_has_none():
    assert process_cpu_seconds(2**31 - 1) is None
