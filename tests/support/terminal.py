"""Run ``python -m ci_tools`` with stderr on a pseudo-terminal, as a person at a terminal would see it.

The one harness for every progress test (pin, metrics, secrets): stdout on a pipe, stderr on a pty.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time


def run_on_terminal(args: list[str], cwd, env: dict[str, str], timeout: float = 120) -> tuple[int, str, str]:
    """(exit code, stdout, what the terminal showed on stderr); CI variables and tokens removed first."""
    full = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS", "GITHUB_TOKEN", "GH_TOKEN")}
    full.update(env)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "ci_tools", *args], cwd=cwd, env=full, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)  # the child holds the only other end: reading ends with EIO when it exits
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not data:
                break
            chunks.append(data)
        stdout = proc.stdout.read().decode()
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    return code, stdout, b"".join(chunks).decode(errors="replace")
