"""What a camera sees of a phone held up for half a second: 15 frames made from one photo.

Each frame differs a little from the last, as a held phone does: a small shift and rotation that
wander, a scale drift (the hand moves closer or away), an exposure drift (auto-exposure hunting,
the screen dimming), fresh sensor noise, motion blur on some frames, and a glare spot that moves
across the picture. Everything is drawn from a seeded generator, so runs compare.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from edge.ports import GrayFrame
from edge.scan.preprocess import u8

CAMERA_SIDE = 1280  # the camera delivers 1280x720: a photo is brought to that scale
FRAMES = 15  # half a second at 30 frames/s
FPS = 30.0

FloatImage = npt.NDArray[np.float32]


def at_camera_size(gray: GrayFrame, side: int = CAMERA_SIDE) -> GrayFrame:
    """The photo as the camera would deliver it: the longest side at most `side` pixels."""
    longest = max(gray.shape[:2])
    if longest <= side:
        return gray
    scale = side / longest
    return u8(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))


@dataclass(frozen=True)
class Motion:
    """The drifts of one presentation, drawn once from its seed."""

    angle0: float
    angle_step: float
    scale_end: float
    gain_amplitude: float
    gain_phase: float
    gain_speed: float
    offset: float
    noise_sigma: float
    glare_start: tuple[float, float]
    glare_end: tuple[float, float]
    glare_radius: float
    glare_peak: float
    blur_chance: float


def seed_for(name: str, seed: int) -> int:
    """A stable per-photo seed (the same photo gets the same presentation in every run)."""
    return zlib.crc32(name.encode("utf-8")) ^ (seed * 0x9E3779B1 & 0xFFFFFFFF)


def _draw_motion(rng: np.random.Generator) -> Motion:
    return Motion(
        angle0=float(rng.uniform(-3.0, 3.0)),
        angle_step=float(rng.normal(0.0, 0.3)),
        scale_end=float(rng.uniform(0.94, 1.06)),
        gain_amplitude=float(rng.uniform(0.05, 0.2)),
        gain_phase=float(rng.uniform(0.0, 2.0 * math.pi)),
        gain_speed=float(rng.uniform(0.2, 0.6)),
        offset=float(rng.uniform(-15.0, 15.0)),
        noise_sigma=float(rng.uniform(2.0, 5.0)),
        glare_start=(float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.1, 0.9))),
        glare_end=(float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.1, 0.9))),
        glare_radius=float(rng.uniform(0.05, 0.12)),
        glare_peak=float(rng.uniform(40.0, 160.0)),
        blur_chance=float(rng.uniform(0.0, 0.4)),
    )


def _motion_blur(image: FloatImage, length: int, angle: float) -> FloatImage:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    centre = ((length - 1) / 2.0, (length - 1) / 2.0)
    rotation = cv2.getRotationMatrix2D(centre, angle, 1.0)
    kernel = np.asarray(cv2.warpAffine(kernel, rotation, (length, length)), dtype=np.float32)
    kernel /= max(float(kernel.sum()), 1e-6)
    return np.asarray(cv2.filter2D(image, -1, kernel), dtype=np.float32)


def _glare(shape: tuple[int, int], centre: tuple[float, float], radius: float) -> FloatImage:
    height, width = shape
    ys = (np.arange(height, dtype=np.float32) - centre[1] * height)[:, None]
    xs = np.arange(width, dtype=np.float32) - centre[0] * width
    sigma = radius * min(height, width)
    return np.exp(-(xs * xs + ys * ys) / (2.0 * sigma * sigma)).astype(np.float32)


def presentation(gray: GrayFrame, name: str, seed: int = 1) -> Iterator[GrayFrame]:
    """The `FRAMES` frames of `gray` (already at camera size) held up as a phone is."""
    rng = np.random.default_rng(seed_for(name, seed))
    motion = _draw_motion(rng)
    height, width = gray.shape[:2]
    base = gray.astype(np.float32)
    shift = np.zeros(2)
    for index in range(FRAMES):
        progress = index / (FRAMES - 1)
        shift = np.clip(shift + rng.normal(0.0, 0.004, 2), -0.02, 0.02)
        angle = motion.angle0 + motion.angle_step * index
        scale = 1.0 + (motion.scale_end - 1.0) * progress
        matrix = np.asarray(
            cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, scale), dtype=np.float64
        )
        matrix[:, 2] += shift * np.array([width, height], dtype=np.float64)
        frame = np.asarray(
            cv2.warpAffine(
                base,
                matrix,
                (width, height),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            ),
            dtype=np.float32,
        )
        if rng.random() < motion.blur_chance:
            length = int(rng.integers(3, 10))
            frame = _motion_blur(frame, length, float(rng.uniform(0.0, 180.0)))
        gain = 1.0 + motion.gain_amplitude * math.sin(motion.gain_phase + motion.gain_speed * index)
        frame = frame * gain + motion.offset
        centre = (
            motion.glare_start[0] + (motion.glare_end[0] - motion.glare_start[0]) * progress,
            motion.glare_start[1] + (motion.glare_end[1] - motion.glare_start[1]) * progress,
        )
        frame += motion.glare_peak * _glare((height, width), centre, motion.glare_radius)
        frame += rng.normal(0.0, motion.noise_sigma, frame.shape).astype(np.float32)
        yield u8(np.clip(frame, 0.0, 255.0))
