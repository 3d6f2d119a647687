"""Every benchmark runs in its quick mode, as `python bench/NAME.py --quick`, so none can break
unnoticed (figures are not judged here: performance is measured by the full runs, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QR_PHOTOS = REPO.parent / "shared" / "testdata" / "qr-photos"
# A bench is a script; its helper modules (held_phone.py, __init__.py) are not run.
BENCHES = sorted(
    path.stem
    for path in (REPO / "bench").glob("*.py")
    if 'if __name__ == "__main__":' in path.read_text(encoding="utf-8")
)
EXTRA = {
    name: ["--dataset", str(QR_PHOTOS)] for name in ("ceiling", "decode", "passes", "presentations")
}
EXTRA["presentations"].append("--ceiling")


def test_no_bench_shadows_a_standard_library_module() -> None:
    assert set(BENCHES) & set(sys.stdlib_module_names) == set()


@pytest.mark.slow
@pytest.mark.parametrize("name", BENCHES)
def test_the_bench_runs_quickly_as_a_script(name: str) -> None:
    if name in EXTRA and not QR_PHOTOS.is_dir():
        pytest.skip(f"QR photo data set not found at {QR_PHOTOS} (kept outside the repository)")
    done = subprocess.run(
        [sys.executable, f"bench/{name}.py", "--quick", *EXTRA.get(name, [])],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.strip()
