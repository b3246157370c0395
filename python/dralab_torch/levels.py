"""The 16 operators on 8-bit images, bit for bit as dralab's 8-bit layer pass computes them.

dralab (TypeScript) runs every operator of a frozen policy on 8-bit levels
(src/ops/kernels/layer-pass-ops.ts): the float32 arithmetic of its tensor ops, in the same
order, then floor(clip(v, 0, 255)) after each layer. This module does the same arithmetic in
numpy float32, so a policy applied here with dralab's draws gives dralab's bytes. Where
JavaScript computes in float64 and rounds (Math.fround), numpy's float32 operation rounds the
same exact result; where JavaScript keeps a float64 (a truncation of ``x + 1``), so does this.

Images are ``uint8`` arrays ``[H, W, C]`` with C = 1 or 3. Every operator takes an optional
``out`` of the image's shape and writes its result there (``apply_draws`` alternates two).

Speed. Each operator writes its temporaries into per-thread scratch arrays kept by shape
(``_scratch``), with numpy's ``out=`` arguments. Allocating fresh 224 px temporaries made the
kernel fault in new pages on every call: about 1,300 page faults and 2.5 ms of system time
per warp on a virtual machine, more than the arithmetic. Pillow keeps an arena of image
blocks for the same reason.
"""
from __future__ import annotations

import math
import threading
from functools import lru_cache
from typing import Optional

import numpy as np
from PIL import Image

F32 = np.float32
LUMA = (F32(19595 / 65536), F32(38470 / 65536), F32(7471 / 65536))


class _ScratchArrays(threading.local):
    def __init__(self) -> None:
        self.arrays: dict[tuple, np.ndarray] = {}


_SCRATCH = _ScratchArrays()
_SCRATCH_LIMIT = 256  # arrays kept per thread; a stream of many image sizes starts the pool over


def _scratch(tag: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A reusable array for one temporary of one thread; its contents are whatever was left there.

    Kept by tag, size and type, not shape, so that operators share the same few image-sized
    arrays ('f32-a', 'i16-a', ...) and what one operator leaves in the cache the next reuses.
    Within one operator, each live temporary needs its own tag.
    """
    size = math.prod(shape)
    key = (tag, size, dtype)
    array = _SCRATCH.arrays.get(key)
    if array is None:
        if len(_SCRATCH.arrays) >= _SCRATCH_LIMIT:
            _SCRATCH.arrays.clear()
        array = _SCRATCH.arrays[key] = np.empty(size, dtype)
    return array.reshape(shape)


def _kept(key: tuple, make):
    """A read-only array (or tuple of arrays) kept per thread under `key`, made once by `make()`."""
    value = _SCRATCH.arrays.get(key)
    if value is None:
        if len(_SCRATCH.arrays) >= _SCRATCH_LIMIT:
            _SCRATCH.arrays.clear()
        value = _SCRATCH.arrays[key] = make()
        for array in value if isinstance(value, tuple) else (value,):
            array.flags.writeable = False
    return value


def _constant(value, shape: tuple[int, ...], dtype) -> np.ndarray:
    """An array of one value: numpy 1.24's maximum and minimum run four times faster
    against an array than against a scalar."""
    return _kept(('constant', value, shape, dtype), lambda: np.full(shape, value, dtype))


def _output(image: np.ndarray, out: Optional[np.ndarray]) -> np.ndarray:
    return np.empty_like(image) if out is None else out


def _to_levels(values: np.ndarray) -> np.ndarray:
    """floor(clip(v, 0, 255)) as uint8: what storing a float into a Uint8Array does for values in range.

    ``values`` is clipped in place when it is an array. maximum/minimum rather than np.clip:
    numpy's clip with scalar bounds costs about forty times as much on a 224 px image.
    """
    values = np.asarray(values)
    zero, top = values.dtype.type(0), values.dtype.type(255)
    if values.ndim == 0:
        return np.uint8(min(max(values, zero), top))
    np.maximum(values, zero, out=values)
    np.minimum(values, top, out=values)
    return values.astype(np.uint8)


def _store_levels(values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``_to_levels`` into ``out`` (clipping ``values`` in place)."""
    np.maximum(values, _constant(0, values.shape, F32), out=values)
    np.minimum(values, _constant(255, values.shape, F32), out=values)
    np.copyto(out, values, casting='unsafe')  # float32 -> uint8 truncates, as astype does
    return out


def _apply_table(image: np.ndarray, table: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
    """table[image]. On large images Pillow's point() over a zero-copy greyscale view of the levels
    is faster: numpy's take first widens every 8-bit index to 64 bits."""
    result = _output(image, out)
    if image.size < _PILLOW_POINT_FROM or not image.flags.c_contiguous:
        return np.take(table, image, out=result, mode='clip')
    rows = image.shape[0]
    view = Image.frombuffer('L', (image.size // rows, rows), image, 'raw', 'L', 0, 1)
    np.copyto(result.reshape(rows, -1), np.asarray(view.point(table.tolist())))
    return result


_PILLOW_POINT_FROM = 64 * 64 * 3  # levels; below it numpy's take wins on call overhead


def _point(image: np.ndarray, level_of, out: Optional[np.ndarray] = None) -> np.ndarray:
    levels = np.arange(256, dtype=np.float64)
    return _apply_table(image, _to_levels(level_of(levels)), out)


def _channel_levels(image: np.ndarray) -> np.ndarray:
    """level + 256 k for channel k: one index into per-channel tables stacked as [256 C].

    Added on the flat image with a tiled offset row (kept per size and channel count):
    numpy's broadcast over a last axis of 3 is some fifty times slower than one contiguous add.
    """
    c = image.shape[2]
    offsets = _kept(('channel-offsets', image.size, c), lambda: np.tile(np.arange(0, 256 * c, 256, dtype=np.uint16), image.size // c))
    index = _scratch('channel-levels', image.shape, np.uint16)
    np.add(image.reshape(-1), offsets, out=index.reshape(-1), dtype=np.uint16)
    return index


def _blend_level(d, v: np.ndarray, factor: F32) -> np.ndarray:
    """clip(d + factor (v - d)) in float32, ImageEnhance's blend in dralab's order."""
    diff = (v - d).astype(F32)
    return (F32(d) + (factor * diff).astype(F32)).astype(F32)


def grayscale_levels(image: np.ndarray) -> np.ndarray:
    """PIL's L conversion, (19595 R + 38470 G + 7471 B + 0x8000) >> 16, as int32 [H, W] (scratch).

    dralab computes it as the LUMA-weighted float32 sum + 0.5, floored. Every product, partial
    sum and the final sum is k / 65536 with k < 2^24, so those float32 steps are exact and the
    integer form gives the same levels, faster.
    """
    h, w, _ = image.shape
    total = _scratch('grey', (h, w), np.int32)
    term = _scratch('grey-term', (h, w), np.int32)
    np.multiply(image[..., 0], 19595, out=total, dtype=np.int32)
    for k, weight in ((1, 38470), (2, 7471)):
        np.multiply(image[..., k], weight, out=term, dtype=np.int32)
        total += term
    total += 0x8000
    total >>= 16
    return total


def _levels16(image: np.ndarray) -> np.ndarray:
    """The image as int16 (scratch): ufuncs on same-typed operands skip numpy's buffered casts."""
    wide = _scratch('i16-a', image.shape, np.int16)
    np.copyto(wide, image)
    return wide


def _blend_with_degenerate(image: np.ndarray, degenerate: np.ndarray, factor: F32, out: Optional[np.ndarray] = None,
                           image16: Optional[np.ndarray] = None) -> np.ndarray:
    """dst = clip(d + f32(factor (v - d))) per element; ``degenerate`` is int16, [H, W] or the image's shape."""
    d = degenerate
    if degenerate.ndim != image.ndim:  # [H, W] levels, spread over the channels once: broadcasting
        d = _scratch('i16-b', image.shape, np.int16)  # over a last axis of 3 is slow
        for k in range(image.shape[2]):
            d[..., k] = degenerate
    diff = _scratch('i16-c', image.shape, np.int16)
    np.subtract(_levels16(image) if image16 is None else image16, d, out=diff)
    # Same-typed float32 operands throughout: numpy's mixed-type loops are several times slower.
    scaled = _scratch('f32-a', image.shape, F32)
    np.copyto(scaled, diff)  # differences of levels are exact in float32
    scaled *= factor
    base = _scratch('f32-b', image.shape, F32)
    np.copyto(base, d)
    scaled += base
    return _store_levels(scaled, _output(image, out))


def brightness(image: np.ndarray, factor: float, out: Optional[np.ndarray] = None) -> np.ndarray:
    f = F32(factor)
    return _point(image, lambda v: _blend_level(0, v, f), out)  # _point clips


def color(image: np.ndarray, factor: float, out: Optional[np.ndarray] = None) -> np.ndarray:
    if image.shape[2] != 3:
        return _copy(image, out)  # one channel is its own grayscale
    return _blend_with_degenerate(image, grayscale_levels(image).astype(np.int16), F32(factor), out)


def contrast(image: np.ndarray, factor: float, out: Optional[np.ndarray] = None) -> np.ndarray:
    if image.shape[2] == 3:
        total = int(grayscale_levels(image).sum(dtype=np.int64))
        pixels = image.shape[0] * image.shape[1]
    else:
        total = int(image.sum(dtype=np.int64))
        pixels = image.size
    mean = math.floor(F32(F32(total / pixels) + F32(0.5)))
    f = F32(factor)
    return _point(image, lambda v: _blend_level(mean, v, f), out)  # _point clips


@lru_cache(maxsize=1)
def _smooth_levels() -> np.ndarray:
    """Pillow's SMOOTH of a weighted 3x3 total (box + 4 centre): / 13, clipped, rounded as dralab does."""
    totals = np.arange(13 * 255 + 1, dtype=np.float64)
    clipped = np.clip((totals / 13).astype(F32), 0, 255).astype(F32)
    rounded = np.floor((clipped + F32(0.5)).astype(F32)).astype(F32)
    return (clipped + (rounded - clipped).astype(F32)).astype(F32).astype(np.uint8)


def sharpness(image: np.ndarray, factor: float, out: Optional[np.ndarray] = None) -> np.ndarray:
    h, w, c = image.shape
    if h < 3 or w < 3:
        return _copy(image, out)
    x = _levels16(image)  # a weighted total is at most 13 * 255
    rows = _scratch('sharp-rows', (h - 2, w, c), np.int16)
    np.add(x[:-2], x[1:-1], out=rows)
    rows += x[2:]
    total = _scratch('sharp-total', (h - 2, w - 2, c), np.int16)
    np.add(rows[:, :-2], rows[:, 1:-1], out=total)
    total += rows[:, 2:]
    centre = _scratch('sharp-centre', (h - 2, w - 2, c), np.int16)
    np.add(x[1:-1, 1:-1], x[1:-1, 1:-1], out=centre)  # 4 v as (v + v) + (v + v): a strided shift is slower
    total += centre
    total += centre
    # _smooth_levels()[total] without a gather: see SMOOTH_MULTIPLIER.
    level = _scratch('sharp-level', total.shape, np.int32)
    np.multiply(total, np.int32(2 * SMOOTH_MULTIPLIER), out=level, dtype=np.int32)
    level += 13 * SMOOTH_MULTIPLIER
    level >>= SMOOTH_SHIFT
    smooth = _scratch('i16-b', image.shape, np.int16)
    np.copyto(smooth, x)  # the border keeps its levels, as Pillow's filter copies it
    np.copyto(smooth[1:-1, 1:-1], level, casting='unsafe')
    return _blend_with_degenerate(image, smooth, F32(factor), out, image16=x)


# dralab's smoothed level of a weighted total t is round(t / 13) (t / 13 is never a half), which
# is (2 t + 13) // 26, which is ((2 t + 13) M) >> S for every t in [0, 13 * 255]: a multiply and
# a shift instead of a division or a gather (checked exhaustively in tests/test_transform.py).
SMOOTH_MULTIPLIER, SMOOTH_SHIFT = 10083, 18


def _copy(image: np.ndarray, out: Optional[np.ndarray]) -> np.ndarray:
    if out is None:
        return image.copy()
    np.copyto(out, image)
    return out


def _level_range(histograms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest level present in each channel's histogram [C, 256]."""
    present = histograms > 0
    return np.argmax(present, axis=1), 255 - np.argmax(present[:, ::-1], axis=1)


def _equalize_tables(histograms: np.ndarray, pixels: int) -> np.ndarray:
    """Pillow's equalize tables, all channels at once: [C, 256] levels (identity where a step is 0)."""
    _, top = _level_range(histograms)
    step = (pixels - np.take_along_axis(histograms, top[:, None], axis=1)) // 255  # [C, 1]
    below = np.cumsum(histograms, axis=1) - histograms
    tables = np.minimum((step // 2 + below) // np.maximum(step, 1), 255)
    return np.where(step > 0, tables, np.arange(256)).astype(np.uint8)


def _histograms(image: np.ndarray) -> np.ndarray:
    """Per-channel level counts [C, 256], counted by Pillow: numpy's bincount first widens every
    level to a 64-bit index, about three times slower."""
    h, w, c = image.shape
    mode = 'RGB' if c == 3 else 'L'
    view = Image.frombuffer(mode, (w, h), np.ascontiguousarray(image), 'raw', mode, 0, 1)
    return np.asarray(view.histogram(), dtype=np.int64).reshape(c, 256)


def _per_channel_tables(image: np.ndarray, tables: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = tables[256 k + level] for channel k."""
    return np.take(tables, _channel_levels(image), out=out, mode='clip')


def equalize(image: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
    h, w, _ = image.shape
    tables = _equalize_tables(_histograms(image), h * w)
    return _per_channel_tables(image, tables.reshape(-1), _output(image, out))


def autocontrast(image: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
    lo, hi = _level_range(_histograms(image))
    spread = hi - lo
    # 255 / (hi - lo) in float64, then float32, as dralab's scale; a channel of one level keeps it.
    scale = (255 / np.maximum(spread, 1)).astype(F32)[:, None]
    stretched = (np.arange(256, dtype=np.int32) - lo[:, None]).astype(F32) * scale
    tables = np.where(spread[:, None] > 0, _to_levels(stretched), np.arange(256, dtype=np.uint8))
    return _per_channel_tables(image, tables.astype(np.uint8).reshape(-1), _output(image, out))


def solarize(image: np.ndarray, threshold: float, out: Optional[np.ndarray] = None) -> np.ndarray:
    """v < t ? v : 255 - v, as v XOR 255 on the levels at or above ceil(t): no table, no float."""
    result = _output(image, out)
    first_inverted = min(256, max(0, math.ceil(F32(threshold))))
    flip = _scratch('solarize-flip', image.shape, np.bool_)
    np.greater_equal(image, np.uint8(first_inverted) if first_inverted < 256 else np.uint16(256), out=flip)
    np.multiply(flip.view(np.uint8), np.uint8(255), out=result)
    np.bitwise_xor(result, image, out=result)
    return result


def posterize(image: np.ndarray, bits: float, out: Optional[np.ndarray] = None) -> np.ndarray:
    """floor(v / 2^b) 2^b is v with its b low bits cleared (every level is an integer)."""
    dropped = math.floor(F32(bits))
    keep = 0 if dropped >= 8 else (0xFF >> dropped) << dropped if dropped > 0 else 0xFF
    return np.bitwise_and(image, np.uint8(keep), out=_output(image, out))


def invert(image: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
    return np.subtract(np.uint8(255), image, out=_output(image, out))


def solarize_add(image: np.ndarray, addend: float, out: Optional[np.ndarray] = None) -> np.ndarray:
    a = F32(addend)
    return _point(image, lambda v: np.where(v < 128, np.minimum((v.astype(F32) + a).astype(F32), 255), v), out)


def square_span(centre_fraction: float, side: int, size: int) -> tuple[int, int]:
    start = math.floor(F32(F32(F32(centre_fraction) * F32(size)) - F32(side / 2)))
    return max(0, start), min(size, start + side)


def cutout(image: np.ndarray, side: float, centre: tuple[float, float], fill: float, out: Optional[np.ndarray] = None) -> np.ndarray:
    h, w, _ = image.shape
    result = _copy(image, out)
    s = math.floor(side)
    top, bottom = square_span(centre[0], s, h)
    left, right = square_span(centre[1], s, w)
    if right > left and bottom > top:
        result[top:bottom, left:right] = _to_levels(F32(fill))
    return result


def _packed_pixels(image: np.ndarray, fill_level: np.uint8) -> np.ndarray:
    """The image's pixels as one gatherable word each, and one more pixel of the fill level.

    RGB pixels are padded to four bytes and viewed as uint32, so a gather moves a whole pixel
    at once (about four times faster than gathering [H*W, 3] rows). The extra pixel at index
    H*W is where points outside the image read from.
    """
    h, w, c = image.shape
    if c == 1:
        flat = _scratch('warp-pixels', (h * w + 1,), np.uint8)
        flat[:-1] = image.reshape(-1)
        flat[-1] = fill_level
        return flat
    words = _scratch('warp-pixels', (h * w + 1, 4), np.uint8)
    flat = image.reshape(-1, c)
    for k in range(c):  # channel by channel: a [N, 3] -> [N, 4] slice copy is five times slower
        words[:-1, k] = flat[:, k]
    words[-1] = fill_level
    return words.view(np.uint32).reshape(-1)


def _gather_planes(pixels: np.ndarray, index: np.ndarray, channels: int, tag: str) -> np.ndarray:
    """Pixels at ``index`` as float32 planes [C, N] (planes, so per-point weights broadcast along rows)."""
    n = index.shape[0]
    words = np.take(pixels, index, out=_scratch('warp-words', (n,), pixels.dtype), mode='clip')
    levels = words.view(np.uint8).reshape(n, -1)
    planes = _scratch(tag, (channels, n), F32)
    for k in range(channels):  # one channel at a time: a transposing copy is several times slower
        planes[k] = levels[:, k]
    return planes


def _pixel_centres(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """x + 0.5 and y + 0.5 over the whole [H, W] grid, kept read-only per thread: a scalar times
    a full array is several times faster than the same product broadcast from a row or column."""
    return _kept(('pixel-centres', h, w), lambda: (
        np.broadcast_to(np.arange(w, dtype=F32) + F32(0.5), (h, w)).copy(),
        np.broadcast_to((np.arange(h, dtype=F32) + F32(0.5))[:, None], (h, w)).copy(),
    ))


def _axis_warp(image: np.ndarray, source: np.ndarray, axis: int, bilinear: bool, fill: float, result: np.ndarray) -> np.ndarray:
    """A warp whose source point moves along one axis only, by a function of that axis alone.

    ``source`` holds, per output row (axis 0) or column (axis 1), the source coordinate in
    float32 as dralab computes it; the other coordinate is the pixel centre itself, so its
    weight is exactly 0 and dralab's interpolation reduces to one line of two samples. Whole
    rows or columns are gathered at once instead of every pixel.
    """
    size = image.shape[axis]
    outside = (source < 0) | (source >= size)
    if not bilinear:
        index = source.astype(np.intp)  # truncation: floor for every point inside
        np.clip(index, 0, size - 1, out=index)
        np.take(image, index, axis=axis, out=result, mode='clip')
    else:
        start = source - F32(0.5)
        first = np.floor(start)
        weight = start - first  # float32, as dralab's loop
        first = first.astype(np.intp)
        near = np.clip(first, 0, size - 1)
        far = np.clip(first + 1, 0, size - 1)
        lines = (image.shape[0], image.shape[1] * image.shape[2])  # rows of W*C levels
        low = _scratch('u8-a', image.shape, np.uint8)
        high = _scratch('u8-b', image.shape, np.uint8)
        np.take(image, near, axis=axis, out=low, mode='clip')
        np.take(image, far, axis=axis, out=high, mode='clip')
        value = _scratch('f32-a', lines, F32)
        step = _scratch('f32-b', lines, F32)
        np.copyto(value, low.reshape(lines))
        np.copyto(step, high.reshape(lines))
        step -= value  # differences of levels are exact in float32
        step *= weight[:, None] if axis == 0 else np.repeat(weight, image.shape[2])[None, :]
        value += step
        np.copyto(result.reshape(lines), value, casting='unsafe')  # stays in [0, 255], as in affine()
    fill_level = _to_levels(F32(fill))
    if outside.any():
        if axis == 0:
            result[outside] = fill_level
        else:
            result[:, outside] = fill_level
    return result


def affine(image: np.ndarray, matrix: tuple[float, float, float, float, float, float], bilinear: bool, fill: float,
           out: Optional[np.ndarray] = None) -> np.ndarray:
    """Pillow's transform(AFFINE, matrix) as dralab's warp computes it: output pixel centre -> source point.

    The float32 roundings are dralab's loop's, in its order. Points outside the image read the
    fill level from an extra pixel, so there is no masking pass; a warp that moves only along
    x (shears and translations in x, a zero rotation) gathers one row, not two, because its
    vertical weight is exactly 0 and dralab's ``top + (bottom - top) * 0`` is ``top``; and
    likewise one column for a warp only along y. Translations go through ``_axis_warp``.
    """
    a, b, cc, d, e, f = (F32(v) for v in matrix)
    if b == 0 and d == 0:
        h, w, _ = image.shape
        # sx = f32(f32(a xc) + f32(0 yc)) + c = f32(a xc) + c, and likewise sy: each a function of one axis.
        sx = (a * (np.arange(w, dtype=F32) + F32(0.5))) + cc
        sy = (e * (np.arange(h, dtype=F32) + F32(0.5))) + f
        x_is_centre = a == 1 and cc == 0
        y_is_centre = e == 1 and f == 0
        if y_is_centre:
            return _axis_warp(image, sx, 1, bilinear, fill, _output(image, out))
        if x_is_centre:
            return _axis_warp(image, sy, 0, bilinear, fill, _output(image, out))
    h, w, c = image.shape
    n = h * w
    result = _output(image, out)
    xc, yc = _pixel_centres(h, w)
    term = _scratch('warp-term', (h, w), F32)
    sx = _scratch('warp-sx', (h, w), F32)
    sy = _scratch('warp-sy', (h, w), F32)
    np.multiply(xc, a, out=sx)
    sx += np.multiply(yc, b, out=term)
    sx += cc
    np.multiply(xc, d, out=sy)
    sy += np.multiply(yc, e, out=term)
    sy += f
    outside = _scratch('warp-outside', (h, w), np.bool_)
    beyond_edge = _scratch('warp-beyond', (h, w), np.bool_)
    np.less(sx, 0, out=outside)
    outside |= np.greater_equal(sx, w, out=beyond_edge)
    outside |= np.less(sy, 0, out=beyond_edge)
    outside |= np.greater_equal(sy, h, out=beyond_edge)
    pixels = _packed_pixels(image, _to_levels(F32(fill)))
    index = _scratch('warp-index', (h, w), np.intp)
    # Indices are composed in float32 and converted once: every term is an integer below 2^24,
    # so the float arithmetic is exact, and float32 passes move half the bytes of int64 ones.
    position = _scratch('warp-position', (h, w), F32)
    if not bilinear:
        np.trunc(sy, out=position)  # truncation: floor for every point inside
        position *= F32(w)
        position += np.trunc(sx, out=term)
        np.copyto(position, F32(n), where=outside)
        np.copyto(index, position, casting='unsafe')
        words = np.take(pixels, index.reshape(-1), out=_scratch('warp-words', (n,), pixels.dtype), mode='clip')
        levels = words.view(np.uint8).reshape(n, -1)
        for k in range(c):
            result.reshape(n, c)[:, k] = levels[:, k]
        return result
    sx -= F32(0.5)
    sy -= F32(0.5)
    # dralab truncates (v + 1) | 0 in float64, then subtracts 1: floor(v) for every point inside
    # (v >= -0.5 there); the points outside read the fill pixel whatever their corners.
    x0 = np.floor(sx, out=_scratch('warp-x0', (h, w), F32))
    y0 = np.floor(sy, out=_scratch('warp-y0', (h, w), F32))
    fx = np.subtract(sx, x0, out=term).reshape(-1)
    fy = np.subtract(sy, y0, out=sx).reshape(-1)  # sx is not needed past here
    moves_in_y = not (d == 0 and e == 1 and f == 0)
    moves_in_x = not (a == 1 and b == 0 and cc == 0)
    # dralab clips each corner's row and column to the image. For a point inside, x0 is in
    # [-1, W-1], so the left column is max(x0, 0) and the right one is the left + 1 except at
    # the edges (x0 = -1 or W-1), where both are the same column; likewise for rows. So the
    # four corners are a base index plus 0/1 and 0/W steps, and outside points get the fill
    # pixel with no steps.
    inside = np.logical_not(outside, out=beyond_edge)
    zero = _constant(0, (h, w), F32)
    np.maximum(y0, zero, out=position)
    position *= F32(w)
    position += np.maximum(x0, zero, out=sy)  # sy is not needed past here
    np.copyto(position, F32(n), where=outside)
    np.copyto(index, position, casting='unsafe')
    base = index.reshape(-1)

    def step(origin: np.ndarray, last: int, tag: str) -> np.ndarray:
        """True where the corner past ``origin`` is another pixel: 0 <= origin < last, inside."""
        ok = np.greater_equal(origin, 0, out=_scratch(tag, (h, w), np.bool_))
        ok &= np.less(origin, last, out=_scratch('warp-step-tmp', (h, w), np.bool_))
        ok &= inside
        return ok.reshape(-1)

    right_step = step(x0, w - 1, 'warp-right-step') if moves_in_x else None
    corner_index = _scratch('warp-corner', (n,), np.intp)

    def along_row(row_start: np.ndarray, tag: str) -> np.ndarray:
        left = _gather_planes(pixels, row_start, c, tag)
        if right_step is None:
            return left  # fx is exactly 0: dralab's left + (right - left) * 0 is left
        np.add(row_start, right_step, out=corner_index)
        right = _gather_planes(pixels, corner_index, c, 'f32-b')
        right -= left  # differences of levels are exact in float32
        right *= fx
        left += right
        return left

    top = along_row(base, 'f32-a')
    if moves_in_y:
        lower = _scratch('warp-lower', (n,), np.intp)
        np.multiply(step(y0, h - 1, 'warp-down-step'), w, out=lower)
        lower += base
        bottom = along_row(lower, 'f32-c')
        bottom -= top
        bottom *= fy
        top += bottom
    # An interpolation of levels in [0, 255] with weights in [0, 1) stays in [0, 255] under
    # float32's monotone rounding, so the clip of dralab's store is a no-op here.
    levels = _scratch('warp-levels', (c, n), np.uint8)
    np.copyto(levels, top, casting='unsafe')
    for k in range(c):
        result.reshape(n, c)[:, k] = levels[k]
    return result
