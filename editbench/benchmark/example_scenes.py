"""Tiny procedural scenes for the synthetic example benchmark, drawn with Pillow.

Crude on purpose: they only need to be recognisable enough that an instruction such as "the
red square on the left" refers to something real, small enough to keep tests fast, and fully
determined by the random generator passed in so the example benchmark hashes the same every time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw

Color = tuple[int, int, int]
Scene = Callable[[ImageDraw.ImageDraw, int, int, random.Random], None]

COLORS: dict[str, Color] = {
    "red": (214, 40, 40),
    "blue": (40, 90, 214),
    "green": (40, 160, 70),
    "yellow": (240, 200, 40),
    "purple": (130, 60, 170),
    "orange": (240, 130, 30),
    "brown": (130, 80, 40),
    "grey": (128, 128, 128),
    "white": (250, 250, 250),
    "black": (20, 20, 20),
    "skin": (230, 190, 150),
}


def render(size: tuple[int, int], rng: random.Random, scene: Scene) -> Image.Image:
    image = Image.new("RGB", size, COLORS["white"])
    scene(ImageDraw.Draw(image), size[0], size[1], rng)
    return image


def _jitter(rng: random.Random, value: float, spread: float) -> int:
    return round(value + rng.uniform(-spread, spread))


# --- rooms and tables ---------------------------------------------------------------------------


def _room(d: ImageDraw.ImageDraw, w: int, h: int) -> tuple[int, int, int]:
    """Wall, floor and a table; returns (table left, table right, table top y)."""
    floor_y = int(h * 0.75)
    d.rectangle([0, 0, w, floor_y], fill=(225, 215, 190))
    d.rectangle([0, floor_y, w, h], fill=(170, 130, 90))
    left, right, top = int(w * 0.15), int(w * 0.7), int(h * 0.5)
    d.rectangle([left, top, right, top + 5], fill=COLORS["brown"])
    for x in (left + 3, right - 7):
        d.rectangle([x, top + 5, x + 4, floor_y + 4], fill=COLORS["brown"])
    return left, right, top


def table_with(item: str) -> Scene:
    """A table with one object on it, drawn near the right edge where it can fall off."""

    def scene(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random) -> None:
        _left, right, top = _room(d, w, h)
        x = _jitter(rng, right - 14, 3)
        _TABLE_ITEMS[item](d, x, top, rng)

    return scene


def _glass(d: ImageDraw.ImageDraw, x: int, top: int, rng: random.Random) -> None:
    d.rectangle([x - 6, top - 22, x + 6, top], outline=COLORS["grey"], width=1)
    d.rectangle([x - 5, top - 14, x + 5, top - 1], fill=(120, 180, 235))


def _ball(d: ImageDraw.ImageDraw, x: int, top: int, rng: random.Random) -> None:
    r = rng.randint(6, 9)
    d.ellipse([x - r, top - 2 * r, x + r, top], fill=COLORS[rng.choice(["red", "blue", "orange"])])


def _blocks(d: ImageDraw.ImageDraw, x: int, top: int, rng: random.Random) -> None:
    for level in range(4):
        color = COLORS[["red", "blue", "green", "yellow"][level]]
        y = top - (level + 1) * 10
        d.rectangle([x - 16 + rng.randint(-1, 1), y, x - 2, y + 9], fill=color, outline=COLORS["black"])


def _ice(d: ImageDraw.ImageDraw, x: int, top: int, rng: random.Random) -> None:
    d.ellipse([x - 16, top - 4, x + 8, top + 1], fill=COLORS["white"], outline=COLORS["grey"])
    d.rectangle([x - 10, top - 13, x + 1, top - 3], fill=(200, 235, 250), outline=(150, 200, 230))


def _candle(d: ImageDraw.ImageDraw, x: int, top: int, rng: random.Random) -> None:
    height = rng.randint(26, 32)
    d.rectangle([x - 4, top - height, x + 4, top], fill=(245, 240, 220), outline=COLORS["grey"])
    d.ellipse([x - 3, top - height - 9, x + 3, top - height - 1], fill=COLORS["orange"])


def _plant(d: ImageDraw.ImageDraw, x: int, top: int, rng: random.Random) -> None:
    d.polygon([(x - 8, top - 12), (x + 8, top - 12), (x + 5, top), (x - 5, top)], fill=(180, 90, 50))
    for dx in (-7, 0, 7):
        d.ellipse([x + dx - 4, top - 30, x + dx + 4, top - 14], fill=COLORS["green"])


def _apple(d: ImageDraw.ImageDraw, x: int, top: int, rng: random.Random) -> None:
    d.ellipse([x - 8, top - 16, x + 8, top], fill=COLORS["red"])
    d.line([x, top - 16, x + 2, top - 21], fill=COLORS["brown"], width=2)


def _bread(d: ImageDraw.ImageDraw, x: int, top: int, rng: random.Random) -> None:
    d.rounded_rectangle([x - 12, top - 18, x + 6, top], radius=5, fill=(245, 225, 180), outline=(200, 160, 100))


def _ice_cream(d: ImageDraw.ImageDraw, x: int, top: int, rng: random.Random) -> None:
    d.polygon([(x - 6, top - 14), (x + 6, top - 14), (x, top)], fill=(220, 170, 100))
    d.ellipse([x - 8, top - 26, x + 8, top - 11], fill=(250, 200, 210))


_TABLE_ITEMS: dict[str, Callable[[ImageDraw.ImageDraw, int, int, random.Random], None]] = {
    "glass": _glass,
    "ball": _ball,
    "blocks": _blocks,
    "ice": _ice,
    "candle": _candle,
    "plant": _plant,
    "apple": _apple,
    "bread": _bread,
    "ice_cream": _ice_cream,
}


# --- physics set-ups without a table ------------------------------------------------------------


def balloon(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random) -> None:
    _sky_and_grass(d, w, h)
    x, y = _jitter(rng, w * 0.5, w * 0.1), int(h * 0.35)
    d.line([x, y + 12, x, int(h * 0.78)], fill=COLORS["black"])
    d.rectangle([x - 5, int(h * 0.78), x + 5, int(h * 0.78) + 8], fill=COLORS["grey"])
    d.ellipse([x - 10, y - 12, x + 10, y + 12], fill=COLORS[rng.choice(["red", "yellow", "purple"])])


def seesaw(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random) -> None:
    _sky_and_grass(d, w, h)
    base = int(h * 0.78)
    d.polygon([(w // 2 - 8, base), (w // 2 + 8, base), (w // 2, base - 14)], fill=COLORS["grey"])
    d.rectangle([int(w * 0.15), base - 17, int(w * 0.85), base - 14], fill=COLORS["brown"])
    d.rectangle([int(w * 0.17), base - 31, int(w * 0.17) + 14, base - 17], fill=COLORS["blue"])


def pendulum(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random) -> None:
    d.rectangle([0, 0, w, h], fill=(235, 235, 240))
    d.rectangle([int(w * 0.2), 8, int(w * 0.8), 12], fill=COLORS["grey"])
    pivot = (w // 2, 12)
    bob = (_jitter(rng, w * 0.3, 4), int(h * 0.65))
    d.line([pivot, bob], fill=COLORS["black"], width=1)
    d.ellipse([bob[0] - 7, bob[1] - 7, bob[0] + 7, bob[1] + 7], fill=COLORS["red"])


# --- outdoors -----------------------------------------------------------------------------------


def _sky_and_grass(d: ImageDraw.ImageDraw, w: int, h: int) -> None:
    d.rectangle([0, 0, w, int(h * 0.7)], fill=(135, 195, 240))
    d.rectangle([0, int(h * 0.7), w, h], fill=(95, 170, 80))


def landscape(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random) -> None:
    """Sky with sun, grass, a house with a window and a door, and a tree."""
    _sky_and_grass(d, w, h)
    sun_x = _jitter(rng, w * 0.82, 5)
    d.ellipse([sun_x - 9, 8, sun_x + 9, 26], fill=COLORS["yellow"])
    ground = int(h * 0.7)
    hx = _jitter(rng, w * 0.25, 4)
    d.rectangle([hx, ground - 30, hx + 34, ground], fill=(220, 200, 170), outline=COLORS["brown"])
    d.polygon([(hx - 4, ground - 30), (hx + 38, ground - 30), (hx + 17, ground - 48)], fill=(170, 60, 50))
    d.rectangle([hx + 5, ground - 22, hx + 14, ground - 13], fill=(170, 210, 240), outline=COLORS["black"])
    d.rectangle([hx + 21, ground - 18, hx + 29, ground], fill=COLORS["brown"])
    tx = _jitter(rng, w * 0.72, 5)
    d.rectangle([tx - 3, ground - 22, tx + 3, ground + 2], fill=COLORS["brown"])
    d.ellipse([tx - 15, ground - 48, tx + 15, ground - 18], fill=COLORS["green"])


def beach(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random) -> None:
    d.rectangle([0, 0, w, int(h * 0.45)], fill=(135, 195, 240))
    d.rectangle([0, int(h * 0.45), w, int(h * 0.6)], fill=(40, 110, 190))
    d.rectangle([0, int(h * 0.6), w, h], fill=(235, 215, 160))
    x, base = _jitter(rng, w * 0.5, 6), int(h * 0.85)
    d.rectangle([x - 18, base - 16, x + 18, base], fill=(210, 180, 120), outline=(170, 140, 90))
    for dx in (-18, -4, 10):
        d.rectangle([x + dx, base - 24, x + dx + 8, base - 16], fill=(210, 180, 120), outline=(170, 140, 90))


# --- people -------------------------------------------------------------------------------------


def people(heights: Sequence[float], *, gift: bool = False, table: bool = False) -> Scene:
    """Stick figures standing left to right; ``heights`` are relative (0.5 = a child)."""

    def scene(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random) -> None:
        d.rectangle([0, 0, w, h], fill=(230, 230, 225))
        ground = int(h * 0.88)
        d.rectangle([0, ground, w, h], fill=(180, 170, 150))
        if table:
            d.rectangle([int(w * 0.4), ground - 22, int(w * 0.6), ground - 19], fill=COLORS["brown"])
            d.rectangle([int(w * 0.49), ground - 19, int(w * 0.51), ground], fill=COLORS["brown"])
        spacing = w / (len(heights) + 1)
        shirts = rng.sample(["red", "blue", "green", "purple", "orange"], k=len(heights))
        for index, relative in enumerate(heights):
            x = _jitter(rng, spacing * (index + 1), 2)
            _stick_figure(d, x, ground, int(h * 0.6 * relative), COLORS[shirts[index]])
        if gift:
            x = int(spacing) + 10
            d.rectangle([x - 5, ground - 38, x + 5, ground - 28], fill=COLORS["yellow"], outline=COLORS["red"])

    return scene


def _stick_figure(d: ImageDraw.ImageDraw, x: int, ground: int, height: int, shirt: Color) -> None:
    head = max(4, height // 7)
    neck = ground - height + 2 * head
    hip = ground - height // 2 + head // 2
    d.ellipse([x - head, ground - height, x + head, neck], fill=COLORS["skin"], outline=COLORS["black"])
    d.line([x, neck, x, hip], fill=shirt, width=3)
    d.line([x - height // 4, neck + height // 8, x + height // 4, neck + height // 8], fill=shirt, width=2)
    d.line([x, hip, x - height // 6, ground], fill=COLORS["black"], width=2)
    d.line([x, hip, x + height // 6, ground], fill=COLORS["black"], width=2)


# --- shapes for referential edits ----------------------------------------------------------------


def shapes(layout: Sequence[tuple[str, str, float]]) -> Scene:
    """``layout`` is (kind, colour, relative size) from left to right; kind is square/circle/triangle."""

    def scene(d: ImageDraw.ImageDraw, w: int, h: int, rng: random.Random) -> None:
        d.rectangle([0, 0, w, h], fill=(245, 243, 235))
        slot = w / len(layout)
        for index, (kind, color, relative) in enumerate(layout):
            cx = int(slot * (index + 0.5))
            cy = _jitter(rng, h * 0.5, h * 0.08)
            r = max(4, int(min(slot * 0.42, h * 0.3) * relative))
            box = [cx - r, cy - r, cx + r, cy + r]
            if kind == "circle":
                d.ellipse(box, fill=COLORS[color])
            elif kind == "triangle":
                d.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=COLORS[color])
            else:
                d.rectangle(box, fill=COLORS[color])

    return scene
