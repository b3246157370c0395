"""DRA policies outside dralab: read, sample and apply them as dralab's FrozenPolicy does.

A policy (dralab's policy.json, format ``dralab.policy``) has, per layer, a probability for
each operator and a magnitude mean ``mu`` and spread ``sigma`` for each; a per-sample apply
probability p ~ U(min, max); and a magnitude scale. Each layer of each image draws an
operator, whether to apply it, a magnitude ``clip(mu + sigma N(0, 1), 0, scale)`` (or
``U(0, 1)`` for TrivialAugment), a sign for the signed operators, and a Cutout centre. The
draws are plain data (``LayerDraw``), so dralab's recorded draws can be replayed here and
give dralab's bytes (see ``levels``).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from . import levels as L

F32 = np.float32

DRA_OP_NAMES = (
    'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate', 'Brightness', 'Color', 'Sharpness',
    'Contrast', 'Cutout', 'Solarize', 'Posterize', 'Equalize', 'AutoContrast', 'Invert', 'SolarizeAdd',
)
ALL_OP_NAMES = DRA_OP_NAMES + ('Identity',)
SIGNED_OPS = frozenset({'ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate', 'Brightness', 'Color', 'Sharpness', 'Contrast'})
MAX_LAYERS = 16
MAGNITUDE_LEVELS = 30


class PolicyError(ValueError):
    """A policy file, string or array set that is not a valid policy; the message names what is wrong."""


@dataclass
class LayerDraw:
    """One layer's choices for one image: ``op`` is -1 where the apply gate said no."""

    op: int
    magnitude: float
    sign: float
    centre: tuple[float, float]


@dataclass
class Layer:
    probabilities: list[float]
    mu: list[float]
    sigma: list[float]

    def __post_init__(self) -> None:
        # Drawn from once per image and layer: the cumulative sum is kept, not recomputed.
        self.cumulative = np.cumsum(self.probabilities)


@dataclass
class DraPolicy:
    ops: list[str]
    layers: list[Layer]
    apply_probability: tuple[float, float] = (0.2, 0.8)
    magnitude_scale: float = 1.0
    uniform_magnitude: bool = False
    meta: dict = field(default_factory=dict)

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def from_json(cls, path_or_text: str) -> 'DraPolicy':
        """A dralab policy.json (a path, or the JSON text itself)."""
        text = path_or_text
        where = '(text)'
        if not path_or_text.lstrip().startswith('{'):
            where = path_or_text
            with open(path_or_text, encoding='utf-8') as f:
                text = f.read()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise PolicyError(f'{where}: not JSON ({err})') from err
        return cls.from_dict(data, where)

    @classmethod
    def from_dict(cls, data: dict, where: str = '(policy)') -> 'DraPolicy':
        problems: list[str] = []
        if not isinstance(data, dict) or data.get('format') != 'dralab.policy':
            raise PolicyError(f"{where}: not a dralab policy file (format must be 'dralab.policy')")
        ops = data.get('ops')
        if not isinstance(ops, list) or not ops:
            raise PolicyError(f'{where}: ops must be a non-empty list of operator names')
        for i, name in enumerate(ops):
            if name not in ALL_OP_NAMES:
                problems.append(f"ops[{i}]: unknown operator '{name}'")
        scale = float(data.get('magnitudeScale', 1))
        layers = []
        for d, layer in enumerate(data.get('layers') or []):
            entry = {}
            for key in ('probabilities', 'mu', 'sigma'):
                values = layer.get(key)
                if not isinstance(values, list) or len(values) != len(ops) or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
                    problems.append(f'layers[{d}].{key}: must be {len(ops)} finite numbers')
                    values = [0.0] * len(ops)
                entry[key] = [float(v) for v in values]
            if any(p < 0 for p in entry['probabilities']) or abs(sum(entry['probabilities']) - 1) > 1e-4:
                problems.append(f'layers[{d}].probabilities: must be >= 0 and sum to 1')
            if any(m < 0 or m > scale for m in entry['mu']):
                problems.append(f'layers[{d}].mu: must be in [0, {scale}]')
            layers.append(Layer(**entry))
        if not layers or len(layers) > MAX_LAYERS:
            problems.append(f'layers: must hold 1 to {MAX_LAYERS} layers')
        p = data.get('applyProbability', [0.2, 0.8])
        if not (isinstance(p, list) and len(p) == 2 and 0 <= p[0] <= p[1] <= 1):
            problems.append('applyProbability: must be [min, max] with 0 <= min <= max <= 1')
            p = [0, 0]
        if problems:
            raise PolicyError(f'{where}: ' + '; '.join(problems))
        return cls(ops=list(ops), layers=layers, apply_probability=(float(p[0]), float(p[1])), magnitude_scale=scale,
                   uniform_magnitude=data.get('magnitudeDistribution') == 'uniform', meta=dict(data.get('meta') or {}))

    @classmethod
    def parse(cls, text: str) -> 'DraPolicy':
        """The policy strings dralab parses: ``rand-m<M>-n<N>[-mstd<S>][-p<P>]``, ``trivial``, ``none``."""
        t = text.strip()
        if t == 'none':
            return cls(ops=['Identity'], layers=[Layer([1.0], [0.0], [0.0])], apply_probability=(0.0, 0.0), meta={'name': 'none'})
        if t in ('trivial', 'ta', 'trivialaugment'):
            ops = list(ALL_OP_NAMES)
            k = len(ops)
            return cls(ops=ops, layers=[Layer([1 / k] * k, [0.5] * k, [0.0] * k)], apply_probability=(1.0, 1.0), uniform_magnitude=True, meta={'name': 'trivial'})
        parts = t.split('-')
        if parts[0] != 'rand':
            raise PolicyError(f"unknown policy string '{text}'; expected rand-m<M>-n<N>[-mstd<S>][-p<P>], trivial or none")
        values = {'n': 2.0, 'mstd': 0.0, 'p': 1.0}
        given: set[str] = set()
        for part in parts[1:]:
            match = re.fullmatch(r'(mstd|m|n|p)([0-9]*\.?[0-9]+)', part)
            if not match:
                raise PolicyError(f"policy string '{text}': cannot read '{part}'")
            if match.group(1) in given:
                raise PolicyError(f"policy string '{text}': '{match.group(1)}' is given twice")
            given.add(match.group(1))
            values[match.group(1)] = float(match.group(2))
        if 'm' not in given:
            raise PolicyError(f"policy string '{text}': the magnitude m<M> is required")
        n, m, mstd, p = int(values['n']), values['m'], values['mstd'], values['p']
        if values['n'] != n or not 1 <= n <= MAX_LAYERS:
            raise PolicyError(f'RandAugment n must be an integer in [1, {MAX_LAYERS}], got {values["n"]}')
        if not 0 <= m <= MAGNITUDE_LEVELS or not 0 <= p <= 1:
            raise PolicyError(f"policy string '{text}': m must be in [0, 30] and p in [0, 1]")
        k = len(DRA_OP_NAMES)
        layer = lambda: Layer([1 / k] * k, [m / MAGNITUDE_LEVELS] * k, [min(1.0, mstd / MAGNITUDE_LEVELS)] * k)
        return cls(ops=list(DRA_OP_NAMES), layers=[layer() for _ in range(n)], apply_probability=(p, p), meta={'name': t})

    @classmethod
    def from_official_arrays(cls, W: Sequence[Sequence[float]], M_MEAN: Sequence[Sequence[float]], M_STD: Sequence[Sequence[float]],
                             apply_probability: tuple[float, float] = (0.2, 0.8), scale: float = 1.0) -> 'DraPolicy':
        """A policy from the official DRA code's arrays (policy.py): weights W, magnitude means and spreads."""
        if not (len(W) == len(M_MEAN) == len(M_STD)):
            raise PolicyError('W, M_MEAN and M_STD must have the same number of layers')
        layers = []
        for w, mu, sd in zip(W, M_MEAN, M_STD):
            e = np.exp(np.asarray(w, dtype=np.float64) - np.max(w))
            layers.append(Layer(list(e / e.sum()), [float(v) for v in mu], [float(v) for v in sd]))
        return cls(ops=list(DRA_OP_NAMES), layers=layers, apply_probability=apply_probability, magnitude_scale=scale, meta={'source': 'official arrays'})

    # ---- sampling and applying -----------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> list[LayerDraw]:
        """One image's draws, with the semantics of dralab's FrozenPolicy.sample.

        All of an image's uniforms come from one call (and its normals from another): per-layer
        scalar draws cost more than the operators on a 32 px image.
        """
        lo, hi = self.apply_probability
        depth = len(self.layers)
        uniform = rng.random((depth, 7))
        normal = None if self.uniform_magnitude else rng.standard_normal(depth)
        last_op = len(self.ops) - 1
        draws = []
        for d, layer in enumerate(self.layers):
            u_sign, u_op, u_probability, u_gate, u_magnitude, u_row, u_col = uniform[d].tolist()
            sign = -1.0 if u_sign < 0.5 else 1.0
            op = min(int(np.searchsorted(layer.cumulative, u_op, side='right')), last_op)
            applied = u_gate < lo + (hi - lo) * u_probability  # p ~ U(lo, hi) per image and layer
            m = u_magnitude if normal is None else layer.mu[op] + layer.sigma[op] * float(normal[d])
            magnitude = float(F32(min(self.magnitude_scale, max(0.0, m))))
            draws.append(LayerDraw(op if applied else -1, magnitude, sign, (float(F32(u_row)), float(F32(u_col)))))
        return draws

    def apply_draws(self, image: np.ndarray, draws: Sequence[LayerDraw], interpolation: str = 'bilinear', fill: float = 0.0,
                    buffers: Optional[tuple[np.ndarray, np.ndarray]] = None) -> np.ndarray:
        """Applies recorded draws to one uint8 image [H, W, C]; the levels after each layer, as dralab's pass.

        ``buffers``: two arrays of the image's shape for the layers to alternate between (the
        result is then one of them, or ``image`` itself when no layer applied); by default the
        result is a new array.
        """
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (1, 3):
            raise ValueError(f'images must be uint8 [H, W, C] with 1 or 3 channels, got {image.dtype} {image.shape}')
        # Layers alternate between two buffers (a layer never writes over its own input); the
        # caller gets a fresh array, or the input itself when no layer applied.
        current = image
        own_buffers = buffers is None
        if buffers is None:
            buffers = (np.empty_like(image), np.empty_like(image))
        applied = 0
        for draw in draws:
            if draw.op < 0:
                continue
            name = self.ops[draw.op]
            if name == 'Identity':
                continue
            current = apply_op(name, current, draw.magnitude, draw.sign, draw.centre, interpolation == 'bilinear', fill, out=buffers[applied % 2])
            applied += 1
        return current if applied or not own_buffers else image.copy()


def translate_range(side: int) -> float:
    """The largest translation for an image side (dralab's translateRange): 10 px at 32, 100 at 224."""
    anchors = ((32, 10), (160, 72), (224, 100))
    if side <= 32:
        return 10 * side / 32
    if side >= 224:
        return 100 * side / 224
    for (s0, t0), (s1, t1) in zip(anchors, anchors[1:]):
        if side <= s1:
            return t0 + (t1 - t0) * (side - s0) / (s1 - s0)
    return 100 * side / 224


def argument(name: str, signed_magnitude: float, height: int, width: int) -> float:
    """The op's argument from its (signed) magnitude, in dralab's float32 arithmetic."""
    m = F32(signed_magnitude)
    if name in ('ShearX', 'ShearY'):
        return F32(m * F32(0.3))
    if name == 'TranslateX':
        return F32(m * F32(translate_range(width)))
    if name == 'TranslateY':
        return F32(m * F32(translate_range(height)))
    if name == 'Rotate':
        return F32(m * F32(30))
    if name in ('Brightness', 'Color', 'Sharpness', 'Contrast'):
        return F32(F32(m * F32(0.9)) + F32(1))
    if name == 'Cutout':
        return F32(math.floor(F32(m * F32(0.2 * height))))
    if name == 'Solarize':
        return F32(F32(256) - F32(m * F32(256)))
    if name == 'Posterize':
        return F32(math.floor(F32(m * F32(4))))
    if name == 'SolarizeAdd':
        return F32(m * F32(110))
    return m


def affine_matrix(name: str, arg: float, height: int, width: int) -> tuple[float, ...]:
    """The matrix an affine op warps with (dralab's affineRowsFor), float32 coefficients."""
    v = F32(arg)
    if name == 'ShearX':
        return (1, v, 0, 0, 1, 0)
    if name == 'ShearY':
        return (1, 0, 0, v, 1, 0)
    if name == 'TranslateX':
        return (1, 0, v, 0, 1, 0)
    if name == 'TranslateY':
        return (1, 0, 0, 0, 1, v)
    # Rotate: counter-clockwise about (W/2, H/2); trig in float64 rounded to float32, as tfjs's cpu backend.
    theta = F32(v * F32(math.pi / 180))
    cos = F32(math.cos(float(theta)))
    sin = F32(math.sin(float(theta)))
    cx, cy = F32(width / 2), F32(height / 2)
    c = F32(F32(F32(cos * -cx) + F32(-sin * -cy)) + cx)
    f = F32(F32(F32(sin * -cx) + F32(cos * -cy)) + cy)
    return (cos, F32(-sin), c, sin, cos, f)


def apply_op(name: str, image: np.ndarray, magnitude: float, sign: float, centre: tuple[float, float], bilinear: bool = True, fill: float = 0.0,
             out: Optional[np.ndarray] = None) -> np.ndarray:
    """One operator on one uint8 image, as dralab's 8-bit pass runs it; into ``out`` when given (not ``image``)."""
    h, w, _ = image.shape
    signed = F32(F32(magnitude) * F32(sign)) if name in SIGNED_OPS else F32(magnitude)
    arg = argument(name, signed, h, w)
    if name in ('ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate'):
        return L.affine(image, affine_matrix(name, arg, h, w), bilinear, fill, out)
    if name == 'Cutout':
        return L.cutout(image, arg, centre, fill, out)
    if name in _WITH_ARGUMENT:
        return _WITH_ARGUMENT[name](image, arg, out)
    if name in _WITHOUT_ARGUMENT:
        return _WITHOUT_ARGUMENT[name](image, out)
    if name == 'Identity':
        return L._copy(image, out)
    raise PolicyError(f"unknown operator '{name}'")


_WITH_ARGUMENT = {'Brightness': L.brightness, 'Color': L.color, 'Sharpness': L.sharpness, 'Contrast': L.contrast,
                  'Solarize': L.solarize, 'Posterize': L.posterize, 'SolarizeAdd': L.solarize_add}
_WITHOUT_ARGUMENT = {'Equalize': L.equalize, 'AutoContrast': L.autocontrast, 'Invert': L.invert}
