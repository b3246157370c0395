"""Replays dralab's recorded draws with dralab_torch and compares the bytes.

Usage: python3 replay_draws.py fixture.json  ->  prints {"total": N, "mismatches": [...]} as JSON.
The fixture (written by test/python/torch-transform.test.ts through dralab's API) holds the
input images, per case the policy's ops, the draws of each layer and dralab's output bytes.
"""
import base64
import json
import sys

import numpy as np

from dralab_torch.policy import DraPolicy, Layer, LayerDraw


def main(path: str) -> None:
    with open(path, encoding='utf-8') as f:
        fixture = json.load(f)
    images = {}
    for key, spec in fixture['images'].items():
        images[key] = np.frombuffer(base64.b64decode(spec['b64']), dtype=np.uint8).reshape(spec['h'], spec['w'], spec['c'])
    ops = fixture['ops']
    k = len(ops)
    policy = DraPolicy(ops=ops, layers=[Layer([1 / k] * k, [0.5] * k, [0.0] * k)])
    mismatches = []
    for case in fixture['cases']:
        image = images[case['image']]
        draws = [LayerDraw(d['op'], d['magnitude'], d['sign'], tuple(d['centre'])) for d in case['layers']]
        out = policy.apply_draws(image, draws, case['interpolation'], fixture.get('fill', 0))
        expected = np.frombuffer(base64.b64decode(case['output']), dtype=np.uint8).reshape(image.shape)
        if not np.array_equal(out, expected):
            diff = np.abs(out.astype(int) - expected.astype(int))
            mismatches.append({'case': case['name'], 'pixels': int((diff > 0).sum()), 'max': int(diff.max())})
    print(json.dumps({'total': len(fixture['cases']), 'mismatches': mismatches}))


if __name__ == '__main__':
    main(sys.argv[1])
