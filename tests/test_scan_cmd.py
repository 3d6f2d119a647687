"""`gate-edge decode` output records and `gate-edge scan --source` parsing and ending."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno

from edge.cli import main
from edge.drivers.source_spec import DEFAULT_REPLAY_FPS, parse_replay_spec
from edge.errors import CameraError

TEXT = "HELLO-GATE-42"


def _code_png(path: Path) -> Path:
    segno.make(TEXT, error="m").save(str(path), scale=8, border=4)
    return path


def test_decode_prints_exactly_file_codes_ms_per_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _code_png(tmp_path / "code.png")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((40, 60), 255, np.uint8))
    assert main(["decode", str(good), str(blank)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [set(line) for line in lines] == [{"file", "codes", "ms"}] * 2
    assert lines[0]["file"] == str(good) and lines[0]["codes"] == [TEXT]
    assert lines[1]["codes"] == [] and isinstance(lines[1]["ms"], float)


def test_decode_reports_unreadable_images_on_stderr_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _code_png(tmp_path / "code.png")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not a picture")
    missing = tmp_path / "missing.png"
    assert main(["decode", str(junk), str(good), str(missing)]) == 1
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["file"] for line in lines] == [str(junk), str(good), str(missing)]
    assert [set(line) for line in lines] == [{"file", "codes", "ms"}] * 3
    assert [line["codes"] for line in lines] == [[], [TEXT], []]
    assert all(isinstance(line["ms"], float) for line in lines)
    assert f"cannot read image {junk}" in captured.err
    assert f"cannot read image {missing}: no such file" in captured.err


def test_replay_spec_takes_the_rate_after_the_last_at_only_when_it_is_a_rate(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "run@2"
    folder.mkdir()
    assert parse_replay_spec(f"{folder}@30") == (str(folder), 30.0)
    assert parse_replay_spec(str(folder)) == (str(folder), DEFAULT_REPLAY_FPS)  # '@' in the path
    assert parse_replay_spec(f"{tmp_path}/clip.avi") == (f"{tmp_path}/clip.avi", 15.0)
    assert parse_replay_spec("/no/such@where/x") == ("/no/such@where/x", DEFAULT_REPLAY_FPS)
    for bad in (f"{folder}@abc", f"{folder}@0", f"{folder}@-3", f"{folder}@nan"):
        with pytest.raises(CameraError, match="bad frame rate"):
            parse_replay_spec(bad)
    for empty in ("", "@20"):
        with pytest.raises(CameraError, match="needs a PATH"):
            parse_replay_spec(empty)


@pytest.mark.parametrize(
    "spec",
    [
        "replay:{d}@abc",
        "replay:{d}@0",
        "replay:",
        "replay:{d}/missing",
        "replay:{d}/missing@abc",
        "bogus:x",
        "csi:extra",
        "serial:",
    ],
)
def test_a_bad_source_is_a_one_line_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: str
) -> None:
    capsys.readouterr()
    assert main(["scan", "--source", spec.format(d=tmp_path), "--seconds", "0.1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("gate-edge: ")


def test_scan_of_a_replay_without_seconds_ends_after_the_last_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "frames@x"  # a path with '@' and no rate
    folder.mkdir()
    cv2.imwrite(str(folder / "00.png"), np.full((240, 320), 255, np.uint8))
    _code_png(folder / "01.png")
    cv2.imwrite(str(folder / "02.png"), np.full((240, 320), 255, np.uint8))
    capsys.readouterr()
    status: list[int] = []
    runner = threading.Thread(
        target=lambda: status.append(main(["scan", "--source", f"replay:{folder}@20"])),
        daemon=True,
    )
    runner.start()
    runner.join(60.0)  # a generous bound: the replay itself lasts 0.15 s
    assert not runner.is_alive(), "scan did not end after the replay"
    assert status == [0]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == [TEXT]
