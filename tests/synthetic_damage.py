"""Synthetic scratches and dust drawn on clean photos, to measure the proposed damage mask."""

from __future__ import annotations

import cv2
import numpy as np


def draw_damage(rgb: np.ndarray, seed: int, lines: int = 8, specks: int = 25):
    """(damaged copy, drawn mask 0/1): bright/dark scratches and cracks 1-3 px wide, and dust."""
    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    out = rgb.copy()
    drawn = np.zeros((height, width), np.uint8)
    for _ in range(lines):
        colour = _damage_colour(rng)
        points = _polyline(rng, height, width)
        thickness = int(rng.integers(1, 4))
        layer = np.zeros_like(drawn)
        cv2.polylines(layer, [points], False, 1, thickness, lineType=cv2.LINE_8)
        _paint(out, drawn, layer, colour)
    for _ in range(specks):
        layer = np.zeros_like(drawn)
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(layer, centre, int(rng.integers(1, 3)), 1, -1)
        _paint(out, drawn, layer, _damage_colour(rng))
    return out, drawn


def _damage_colour(rng: np.random.Generator) -> int:
    return int(rng.integers(225, 256)) if rng.random() < 0.6 else int(rng.integers(0, 35))


def _polyline(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A long straight scratch or a wandering crack."""
    start = np.array([rng.uniform(0, width), rng.uniform(0, height)])
    angle = rng.uniform(0, np.pi)
    length = rng.uniform(0.2, 0.7) * min(height, width)
    segments = 1 if rng.random() < 0.5 else int(rng.integers(3, 8))
    points = [start]
    for _ in range(segments):
        angle += rng.normal(0, 0.5) if segments > 1 else 0.0
        step = length / segments
        points.append(points[-1] + step * np.array([np.cos(angle), np.sin(angle)]))
    return np.round(np.array(points)).astype(np.int32)


def _paint(out: np.ndarray, drawn: np.ndarray, layer: np.ndarray, colour: int) -> None:
    out[layer > 0] = colour
    drawn |= layer


VISIBLE = 30  # grey levels: a white scratch on white paper is no damage to find


def visible_damage(clean: np.ndarray, damaged: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """The drawn pixels that really differ from the photo (by VISIBLE grey levels or more)."""
    grey = [cv2.cvtColor(np.ascontiguousarray(x), cv2.COLOR_RGB2GRAY) for x in (clean, damaged)]
    return (drawn > 0) & (np.abs(grey[0].astype(int) - grey[1].astype(int)) >= VISIBLE)


def recall(proposed: np.ndarray, visible: np.ndarray) -> float:
    """The share of visible drawn damage pixels inside the proposed mask."""
    return float((proposed[visible] > 0).mean())
