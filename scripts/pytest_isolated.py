"""Run each test matching a marker expression in its own pytest process, two at a time.

The tests that start a browser, a Celery worker or a Redis server (markers ``browser`` and
``slow``) each get a freshly migrated test database this way. Run one after another in a
shared process, a live-server test sometimes starts before the migrated reference data
(roles, policy presets, strategies, disposition codes) has been restored by the previous
test's serialized rollback; in a process of its own it always starts from the migrations.

Usage: scripts/pytest_isolated.py "browser or slow"
Prints one closing line, "N passed, N failed", and exits non-zero if any test failed.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

PARALLEL = 2


def collect(expression: str) -> list[str]:
    out = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", expression],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [line.strip() for line in out.splitlines() if "::" in line]


def run(node_id: str) -> tuple[str, int, str]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node_id],
        capture_output=True,
        text=True,
        check=False,
    )
    return node_id, result.returncode, result.stdout[-6000:] + result.stderr[-2000:]


def main() -> int:
    expression = sys.argv[1] if len(sys.argv) > 1 else "browser or slow"
    node_ids = collect(expression)
    if not node_ids:
        print(f"no tests match {expression!r}")
        return 1
    failed = []
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        for node_id, code, output in pool.map(run, node_ids):
            print(f"{'PASSED' if code == 0 else 'FAILED'} {node_id}", flush=True)
            if code != 0:
                failed.append((node_id, output))
    for node_id, output in failed:
        print(f"\n===== {node_id} =====\n{output}")
    print(f"{len(node_ids) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
