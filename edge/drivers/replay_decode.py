"""Decodes a replay's images or video in a child process and streams its frames as 8-bit PGM.

OpenCV's libraries stay in the child: a gate replaying PNG, JPEG or video frames then holds in
memory what a gate on a live CSI camera holds, plus the frames themselves.
Usage: python -m edge.drivers.replay_decode (--images FILE... | --video FILE)
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from edge.errors import CameraError
from edge.ports import GrayFrame

DECODE_TIMEOUT_S = 300.0
_MAX_SIDE = 16384  # larger frames are refused: no camera delivers them, and memory is finite


def decoded_frames(paths: Sequence[Path], *, video: bool) -> list[GrayFrame]:
    """The grayscale frames of `paths` (images, in order) or of one video, decoded by a child."""
    command = [sys.executable, "-m", "edge.drivers.replay_decode"]
    command += ["--video", str(paths[0])] if video else ["--images", *map(str, paths)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        assert child.stdout is not None and child.stderr is not None
        try:
            frames = list(_read_stream(child.stdout))
        except CameraError:
            child.kill()
            raise
        finally:
            problem = child.stderr.read().decode("utf-8", "replace").strip()
        code = child.wait(DECODE_TIMEOUT_S)
    if code != 0:
        reason = problem.splitlines()[-1] if problem else f"decoder exited with {code}"
        raise CameraError(f"replay: {reason}")
    return frames


def _read_stream(stream: IO[bytes]) -> Iterator[GrayFrame]:
    while True:
        magic = stream.readline()
        if not magic:
            return
        size = stream.readline().split()
        depth = stream.readline().strip()
        if (
            magic.strip() != b"P5"
            or len(size) != 2
            or not all(side.isdigit() for side in size)
            or depth != b"255"
        ):
            raise CameraError("replay: the frame decoder sent a malformed frame header")
        width, height = int(size[0]), int(size[1])
        if not (0 < width <= _MAX_SIDE and 0 < height <= _MAX_SIDE):
            raise CameraError(f"replay: the frame decoder sent a {width}x{height} frame")
        pixels = stream.read(width * height)
        if len(pixels) != width * height:
            raise CameraError("replay: the frame decoder's stream ended inside a frame")
        yield np.frombuffer(pixels, dtype=np.uint8).reshape(height, width).copy()


def _write(out: IO[bytes], image: object) -> None:
    frame = np.ascontiguousarray(image, dtype=np.uint8)
    out.write(b"P5\n%d %d\n255\n" % (frame.shape[1], frame.shape[0]))
    out.write(frame.tobytes())


def _decode(arguments: Sequence[str], out: IO[bytes]) -> None:
    import cv2  # noqa: PLC0415 - OpenCV is this child's whole reason to exist

    if arguments[:1] == ["--video"] and len(arguments) == 2:
        capture = cv2.VideoCapture(arguments[1])
        try:
            while True:
                ok, image = capture.read()
                if not ok or image is None:
                    break
                _write(out, cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image)
        finally:
            capture.release()
        return
    if arguments[:1] != ["--images"]:
        raise CameraError("usage: replay_decode (--images FILE... | --video FILE)")
    for name in arguments[1:]:
        still = cv2.imread(name, cv2.IMREAD_GRAYSCALE)
        if still is None:
            raise CameraError(f"cannot read image {Path(name).name}")
        _write(out, still)


def main(arguments: Sequence[str]) -> int:
    """Decode and stream; a failure is one line on stderr and exit status 1."""
    try:
        _decode(arguments, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    except (CameraError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
