"""Replays a `dralab augment --policy P --draws draws.json` record and compares the bytes.

    python3 -m dralab_torch.verify draws.json

For each image of the record, the input is read (PNG or JPEG, with Pillow), the recorded
draws are applied with dralab_torch, and the result is compared with dralab's output file.
Prints one line per differing image and a summary; exits 1 if any differ. dralab's cpu
backend gives the bytes dralab_torch gives; its wasm backend computes the rotation's cosine
and sine with musl's cosf/sinf, which moves a few Rotate pixels.
"""
from __future__ import annotations

import json
import sys

import numpy as np
from PIL import Image

from .policy import DraPolicy, LayerDraw


def _read(path: str) -> np.ndarray:
    image = Image.open(path)
    array = np.asarray(image.convert('L' if image.mode in ('L', 'LA', 'I', 'I;16') else 'RGB'))
    return np.ascontiguousarray(array[..., None] if array.ndim == 2 else array)


def verify_draws(path: str) -> dict:
    with open(path, encoding='utf-8') as f:
        record = json.load(f)
    if record.get('format') != 'dralab.draws':
        raise ValueError(f"{path}: not a dralab draws file (format must be 'dralab.draws')")
    policy = DraPolicy.from_dict(record['policy'], f'{path}: policy')
    mismatches = []
    for entry in record['images']:
        draws = [LayerDraw(layer['opIndex'] if layer['applied'] else -1, layer['magnitude'], layer['sign'], tuple(layer['centre'])) for layer in entry['layers']]
        ours = policy.apply_draws(_read(entry['input']), draws, record['interpolation'], record['fill'])
        theirs = _read(entry['output'])
        if ours.shape != theirs.shape or not np.array_equal(ours, theirs):
            differ = int((ours != theirs).any(axis=-1).sum()) if ours.shape == theirs.shape else -1
            mismatches.append({'image': entry['input'], 'pixels': differ})
    return {'total': len(record['images']), 'backend': record.get('backend'), 'mismatches': mismatches}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print('usage: python3 -m dralab_torch.verify draws.json', file=sys.stderr)
        return 2
    result = verify_draws(argv[0])
    for m in result['mismatches']:
        print(f"differs: {m['image']} ({m['pixels']} pixels)")
    print(f"{result['total'] - len(result['mismatches'])} of {result['total']} images equal dralab's bytes (dralab backend: {result['backend']})")
    return 1 if result['mismatches'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
