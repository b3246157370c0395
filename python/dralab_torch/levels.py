"""The 16 operators on 8-bit images, bit for bit as dralab's 8-bit layer pass computes them.

dralab (TypeScript) runs every operator of a frozen policy on 8-bit levels
(src/ops/kernels/layer-pass-ops.ts): the float32 arithmetic of its tensor ops, in the same
order, then floor(clip(v, 0, 255)) after each layer. This module does the same arithmetic in
numpy float32, so a policy applied here with dralab's draws gives dralab's bytes. Where
JavaScript computes in float64 and rounds (Math.fround), numpy's float32 operation rounds the
same exact result; where JavaScript keeps a float64 (a truncation of ``x + 1``), so does this.

Images are ``uint8`` arrays ``[H, W, C]`` with C = 1 or 3.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

F32 = np.float32
LUMA = (F32(19595 / 65536), F32(38470 / 65536), F32(7471 / 65536))


def _to_levels(values: np.ndarray) -> np.ndarray:
    """floor(clip(v, 0, 255)) as uint8: what storing a float into a Uint8Array does for values in range."""
    return np.clip(values, 0, 255).astype(np.uint8)


def _apply_table(image: np.ndarray, table: np.ndarray) -> np.ndarray:
    return table[image]


def _point(image: np.ndarray, level_of) -> np.ndarray:
    levels = np.arange(256, dtype=np.float64)
    return _apply_table(image, _to_levels(level_of(levels)))


def _blend_level(d, v: np.ndarray, factor: F32) -> np.ndarray:
    """clip(d + factor (v - d)) in float32, ImageEnhance's blend in dralab's order."""
    diff = (v - d).astype(F32)
    return (F32(d) + (factor * diff).astype(F32)).astype(F32)


def grayscale_levels(image: np.ndarray) -> np.ndarray:
    """PIL's L conversion as dralab rounds it: the LUMA-weighted float32 sum, + 0.5, floored."""
    r = (image[..., 0].astype(F32) * LUMA[0]).astype(F32)
    g = (image[..., 1].astype(F32) * LUMA[1]).astype(F32)
    b = (image[..., 2].astype(F32) * LUMA[2]).astype(F32)
    v = ((r + g).astype(F32) + b).astype(F32)
    return np.floor((v + F32(0.5)).astype(F32)).astype(np.int32)


def _blend_with_degenerate(image: np.ndarray, degenerate: np.ndarray, factor: F32) -> np.ndarray:
    """dst = clip(d + f32(factor (v - d))) per element, degenerate broadcast over channels."""
    d = degenerate.astype(np.int32)
    if d.ndim == image.ndim - 1:
        d = d[..., None]
    scaled = (factor * (image.astype(np.int32) - d).astype(F32)).astype(F32)
    return _to_levels((d.astype(F32) + scaled).astype(F32))


def brightness(image: np.ndarray, factor: float) -> np.ndarray:
    f = F32(factor)
    return _point(image, lambda v: np.clip(_blend_level(0, v, f), 0, 255))


def color(image: np.ndarray, factor: float) -> np.ndarray:
    if image.shape[2] != 3:
        return image.copy()  # one channel is its own grayscale
    return _blend_with_degenerate(image, grayscale_levels(image), F32(factor))


def contrast(image: np.ndarray, factor: float) -> np.ndarray:
    levels = grayscale_levels(image) if image.shape[2] == 3 else image[..., 0].astype(np.int32)
    pixels = levels.size
    total = int(levels.sum())
    mean = math.floor(F32(F32(total / pixels) + F32(0.5)))
    f = F32(factor)
    return _point(image, lambda v: np.clip(_blend_level(mean, v, f), 0, 255))


@lru_cache(maxsize=1)
def _smooth_levels() -> np.ndarray:
    """Pillow's SMOOTH of a weighted 3x3 total (box + 4 centre): / 13, clipped, rounded as dralab does."""
    totals = np.arange(13 * 255 + 1, dtype=np.float64)
    clipped = np.clip((totals / 13).astype(F32), 0, 255).astype(F32)
    rounded = np.floor((clipped + F32(0.5)).astype(F32)).astype(F32)
    return (clipped + (rounded - clipped).astype(F32)).astype(F32)


def sharpness(image: np.ndarray, factor: float) -> np.ndarray:
    h, w, _ = image.shape
    if h < 3 or w < 3:
        return image.copy()
    x = image.astype(np.int32)
    total = (
        x[:-2, :-2] + x[:-2, 1:-1] + x[:-2, 2:]
        + x[1:-1, :-2] + 5 * x[1:-1, 1:-1] + x[1:-1, 2:]
        + x[2:, :-2] + x[2:, 1:-1] + x[2:, 2:]
    )
    smooth = image.copy()
    smooth[1:-1, 1:-1] = _smooth_levels()[total].astype(np.uint8)
    return _blend_with_degenerate(image, smooth, F32(factor))


def _equalize_table(histogram: np.ndarray, pixels: int) -> np.ndarray:
    nonzero = np.nonzero(histogram)[0]
    top = int(nonzero[-1]) if len(nonzero) else 0
    step = (pixels - int(histogram[top])) // 255
    if step <= 0:
        return np.arange(256, dtype=np.uint8)
    below = np.concatenate(([0], np.cumsum(histogram)[:-1]))
    return np.minimum((step // 2 + below) // step, 255).astype(np.uint8)


def equalize(image: np.ndarray) -> np.ndarray:
    h, w, c = image.shape
    out = np.empty_like(image)
    for k in range(c):
        histogram = np.bincount(image[..., k].ravel(), minlength=256)
        out[..., k] = _equalize_table(histogram, h * w)[image[..., k]]
    return out


def autocontrast(image: np.ndarray) -> np.ndarray:
    out = np.empty_like(image)
    for k in range(image.shape[2]):
        channel = image[..., k]
        lo, hi = int(channel.min()), int(channel.max())
        if hi - lo <= 0:
            out[..., k] = channel
            continue
        scale = F32(255 / (hi - lo))
        levels = np.arange(256, dtype=np.int32)
        table = _to_levels(((levels - lo).astype(F32) * scale).astype(F32))
        out[..., k] = table[channel]
    return out


def solarize(image: np.ndarray, threshold: float) -> np.ndarray:
    t = F32(threshold)
    return _point(image, lambda v: np.where(v < t, v, 255 - v))


def posterize(image: np.ndarray, bits: float) -> np.ndarray:
    step = 2 ** math.floor(F32(bits))
    return _point(image, lambda v: np.floor(v / step) * step)


def invert(image: np.ndarray) -> np.ndarray:
    return (255 - image).astype(np.uint8)


def solarize_add(image: np.ndarray, addend: float) -> np.ndarray:
    a = F32(addend)
    return _point(image, lambda v: np.where(v < 128, np.minimum((v.astype(F32) + a).astype(F32), 255), v))


def square_span(centre_fraction: float, side: int, size: int) -> tuple[int, int]:
    start = math.floor(F32(F32(F32(centre_fraction) * F32(size)) - F32(side / 2)))
    return max(0, start), min(size, start + side)


def cutout(image: np.ndarray, side: float, centre: tuple[float, float], fill: float) -> np.ndarray:
    h, w, _ = image.shape
    out = image.copy()
    s = math.floor(side)
    top, bottom = square_span(centre[0], s, h)
    left, right = square_span(centre[1], s, w)
    if right > left and bottom > top:
        out[top:bottom, left:right] = _to_levels(np.array(F32(fill)))
    return out


def affine(image: np.ndarray, matrix: tuple[float, float, float, float, float, float], bilinear: bool, fill: float) -> np.ndarray:
    """Pillow's transform(AFFINE, matrix) as dralab's warp computes it: output pixel centre -> source point.

    Flat gathers (np.take on [H*W, C]) and float32 throughout: the same roundings as
    dralab's loop, about four times faster than indexing [H, W, C] with index arrays.
    """
    h, w, c = image.shape
    a, b, cc, d, e, f = (F32(v) for v in matrix)
    yc = np.arange(h, dtype=F32)[:, None] + F32(0.5)
    xc = np.arange(w, dtype=F32)[None, :] + F32(0.5)
    by = b * yc
    ey = e * yc
    sx = a * xc + by
    sx += cc
    sy = d * xc + ey
    sy += f
    inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
    flat = image.reshape(h * w, c)
    fill_level = _to_levels(np.array(F32(fill)))
    if not bilinear:
        index = np.where(inside, sy.astype(np.intp) * w + sx.astype(np.intp), 0).ravel()
        out = np.take(flat, index, axis=0).reshape(h, w, c)
        out[~inside] = fill_level
        return out
    bx = sx - F32(0.5)
    byy = sy - F32(0.5)
    # (v + 1) | 0 in JavaScript: the sum in float64, truncated toward zero.
    x0 = np.trunc(bx.astype(np.float64) + 1).astype(np.intp) - 1
    y0 = np.trunc(byy.astype(np.float64) + 1).astype(np.intp) - 1
    fx = (bx - x0.astype(F32)).ravel()[:, None]
    fy = (byy - y0.astype(F32)).ravel()[:, None]
    cx0 = np.clip(x0, 0, w - 1)
    cx1 = np.clip(x0 + 1, 0, w - 1)
    row0 = np.clip(y0, 0, h - 1) * w
    row1 = np.clip(y0 + 1, 0, h - 1) * w
    src = flat.astype(F32)
    v00 = np.take(src, (row0 + cx0).ravel(), axis=0)
    v01 = np.take(src, (row0 + cx1).ravel(), axis=0)
    v10 = np.take(src, (row1 + cx0).ravel(), axis=0)
    v11 = np.take(src, (row1 + cx1).ravel(), axis=0)
    # Differences of levels are exact in float32, so only the products and sums round, as in dralab.
    v01 -= v00
    v01 *= fx
    top = v00 + v01
    v11 -= v10
    v11 *= fx
    bottom = v10 + v11
    bottom -= top
    bottom *= fy
    top += bottom
    out = _to_levels(top).reshape(h, w, c)
    out[~inside] = fill_level
    return out
