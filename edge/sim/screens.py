"""Synthetic camera frames: a phone screen showing a QR code in a 1280x720 scene, with defects."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
import numpy.typing as npt
import segno

SCENE_SIZE = (1280, 720)
BgrFrame = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class ScreenStyle:
    """How the phone is held and what the camera does to the picture."""

    code_width: float = 260.0  # width of the code (with quiet zone) in scene pixels
    angle_deg: float = 0.0  # in-plane rotation
    tilt: float = 0.0  # perspective: 0 = facing the camera, 0.3 = strongly tilted
    centre: tuple[float, float] = (640.0, 360.0)
    blur_sigma: float = 0.0
    glare: float = 0.0  # 0..1 strength of a specular highlight on the screen
    moire: float = 0.0  # 0..1 strength of screen-door interference fringes
    noise_sigma: float = 0.0  # sensor noise (grey levels)
    brightness: float = 1.0  # screen brightness relative to the scene
    dark_mode: bool = False  # light modules on a dark screen


def _f32(image: object) -> npt.NDArray[np.float32]:
    return np.asarray(image, dtype=np.float32)


def random_style(rng: np.random.Generator, difficulty: float = 0.5) -> ScreenStyle:
    """A plausible hold-up of a phone; `difficulty` 0..1 scales every defect."""
    d = float(np.clip(difficulty, 0.0, 1.0))
    return ScreenStyle(
        code_width=float(rng.uniform(200.0, 420.0) * (1.0 - 0.35 * d)),
        angle_deg=float(rng.uniform(-40.0, 40.0) * d),
        tilt=float(rng.uniform(0.0, 0.35) * d),
        centre=(float(rng.uniform(480.0, 800.0)), float(rng.uniform(300.0, 420.0))),
        blur_sigma=float(rng.uniform(0.0, 2.2) * d),
        glare=float(rng.uniform(0.0, 0.8) * d),
        moire=float(rng.uniform(0.0, 0.5) * d),
        noise_sigma=float(rng.uniform(1.0, 3.0 + 6.0 * d)),
        brightness=float(rng.uniform(0.75, 1.1)),
    )


def code_modules(text: str) -> npt.NDArray[np.uint8]:
    """The code as a 0/1 module matrix (1 = dark) including a 4-module quiet zone."""
    code = segno.make(text, error="m", micro=False)
    return np.array(list(code.matrix_iter(scale=1, border=4)), dtype=np.uint8)


def _background(rng: np.random.Generator) -> npt.NDArray[np.float32]:
    width, height = SCENE_SIZE
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    base = 70.0 + 60.0 * x[None, :] * float(rng.uniform(0.3, 1.0)) + 40.0 * y
    blobs = rng.normal(0.0, 1.0, (9, 16)).astype(np.float32)
    texture = cv2.resize(blobs, SCENE_SIZE, interpolation=cv2.INTER_CUBIC) * 12.0
    return np.asarray(base + texture, dtype=np.float32)


def _phone(
    modules: npt.NDArray[np.uint8], style: ScreenStyle
) -> tuple[npt.NDArray[np.float32], int]:
    """The phone face (body, screen, code) drawn flat and supersampled; with the code's side."""
    pixels = max(1, round(style.code_width / modules.shape[0] * 3))  # supersample x3
    code = np.kron(modules, np.ones((pixels, pixels), dtype=np.uint8))
    side = code.shape[0]
    screen_w, screen_h = int(side * 1.25), int(side * 2.0)
    bezel = max(4, side // 14)
    light, dark = 235.0 * style.brightness, 25.0
    paper, ink = (dark, light) if style.dark_mode else (light, dark)
    face = np.full((screen_h + 2 * bezel, screen_w + 2 * bezel), 18.0, dtype=np.float32)
    face[bezel : bezel + screen_h, bezel : bezel + screen_w] = paper
    top = bezel + (screen_h - side) // 3
    left = bezel + (screen_w - side) // 2
    face[top : top + side, left : left + side] = np.where(code == 1, ink, paper)
    return face, side


def render_scene(text: str | None, style: ScreenStyle, seed: int) -> BgrFrame:
    """One 1280x720 BGR frame: the phone showing `text` (None: an empty scene) in `style`."""
    rng = np.random.default_rng(seed)
    scene = _background(rng)
    if text is not None:
        face, side = _phone(code_modules(text), style)
        _place(scene, face, style.code_width / side, style, rng)
    if style.blur_sigma > 0.05:
        scene = _f32(cv2.GaussianBlur(scene, (0, 0), style.blur_sigma))
    if style.noise_sigma > 0:
        scene = scene + rng.normal(0.0, style.noise_sigma, scene.shape).astype(np.float32)
    gray = np.clip(scene, 0, 255).astype(np.uint8)
    tint = np.array([1.0, 0.98, 0.94], dtype=np.float32)  # a slightly warm camera
    return np.asarray(np.clip(gray[:, :, None] * tint, 0, 255), dtype=np.uint8)


def _place(
    scene: npt.NDArray[np.float32],
    face: npt.NDArray[np.float32],
    scale: float,
    style: ScreenStyle,
    rng: np.random.Generator,
) -> None:
    height, width = face.shape
    half_w, half_h = width * scale / 2, height * scale / 2
    corners = np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])
    # tilt: the far edge shrinks (a cheap but convincing perspective)
    squeeze = 1.0 - style.tilt * np.array([1.0, 1.0, 0.0, 0.0])
    direction = rng.choice([-1.0, 1.0])
    if direction > 0:
        squeeze = squeeze[[3, 2, 1, 0]]
    corners[:, 0] *= squeeze
    theta = np.deg2rad(style.angle_deg)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    target = corners @ rotation.T + np.array(style.centre)
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(source, target.astype(np.float32))
    warped = _f32(cv2.warpPerspective(face, matrix, SCENE_SIZE, flags=cv2.INTER_AREA))
    mask = _f32(cv2.warpPerspective(np.ones_like(face), matrix, SCENE_SIZE, flags=cv2.INTER_LINEAR))
    if style.moire > 0:
        warped = _moire(warped, style.moire, rng)
    if style.glare > 0:
        warped = _glare(warped, mask, style.glare, target, rng)
    scene *= 1.0 - mask
    scene += warped * mask


def _moire(
    image: npt.NDArray[np.float32], strength: float, rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    width, height = SCENE_SIZE
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = float(rng.uniform(0.0, np.pi))
    period = float(rng.uniform(5.0, 11.0))
    phase = (xx * np.cos(angle) + yy * np.sin(angle)) * (2.0 * np.pi / period)
    fringes = 1.0 - 0.35 * strength * (0.5 + 0.5 * np.sin(phase))
    return np.asarray(image * fringes, dtype=np.float32)


def _glare(
    image: npt.NDArray[np.float32],
    mask: npt.NDArray[np.float32],
    strength: float,
    corners: npt.NDArray[np.float64],
    rng: np.random.Generator,
) -> npt.NDArray[np.float32]:
    width, height = SCENE_SIZE
    centre = corners.mean(axis=0) + rng.uniform(-0.25, 0.25, 2) * np.ptp(corners, axis=0)
    radius = float(np.ptp(corners[:, 0])) * float(rng.uniform(0.2, 0.45))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    spot = np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2.0 * radius**2))
    return np.asarray(image + 200.0 * strength * spot * mask, dtype=np.float32)


def render_sequence(
    texts: list[str],
    *,
    seed: int = 0,
    hold_frames: int = 12,
    blank_frames: int = 18,
    difficulty: float = 0.5,
) -> list[tuple[str | None, BgrFrame]]:
    """Alternating stretches: an empty scene, then each text held up (with hand jitter)."""
    rng = np.random.default_rng(seed)
    frames: list[tuple[str | None, BgrFrame]] = []
    blank_style = ScreenStyle(noise_sigma=2.0)
    empty = render_scene(None, blank_style, seed)
    for text in texts:
        # a static, empty scene repeats identically apart from sensor noise
        frames.extend((None, _renoise(empty, rng)) for _ in range(blank_frames))
        style = random_style(rng, difficulty)
        for _ in range(hold_frames):
            jitter = (
                style.centre[0] + float(rng.normal(0, 4.0)),
                style.centre[1] + float(rng.normal(0, 4.0)),
            )
            held = replace(style, centre=jitter, angle_deg=style.angle_deg + float(rng.normal()))
            frames.append((text, render_scene(text, held, int(rng.integers(1 << 31)))))
    return frames


def _renoise(frame: BgrFrame, rng: np.random.Generator) -> BgrFrame:
    noise = rng.normal(0.0, 1.5, frame.shape[:2]).astype(np.float32)[:, :, None]
    return np.asarray(np.clip(frame.astype(np.float32) + noise, 0, 255), dtype=np.uint8)
