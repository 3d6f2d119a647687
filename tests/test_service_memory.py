"""The service's memory habits: one thread for native maths, capped arenas, a heap trim."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge.service import memory


def test_native_thread_limits_are_defaults_an_operator_can_override(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    memory.limit_native_threads()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["OMP_NUM_THREADS"] == "3"


def test_run_limits_native_threads_before_numpy_loads(tmp_path: Path) -> None:
    probe = (
        "import os, sys\n"
        "from edge.cli import main\n"
        "before = 'numpy' in sys.modules\n"
        "main(['run', '--config', sys.argv[1]])\n"
        "print(before, 'numpy' in sys.modules, os.environ.get('OPENBLAS_NUM_THREADS'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "absent.toml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "True", "1"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_the_heap_is_trimmed_and_arenas_capped_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.trim_heap()
    assert memory.limit_malloc_arenas()
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert not memory.limit_malloc_arenas()  # the operator's setting already applies
