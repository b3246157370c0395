"""Prints dralab_torch's draws for a policy as JSON, for the sampler comparison with dralab.

Usage: python3 sample_draws.py policy.json count seed  ->  {"layers": [{"op": [...], "magnitude": [...]}]}
"""
import json
import sys

import numpy as np

from dralab_torch import DraPolicy


def main(path: str, count: int, seed: int) -> None:
    policy = DraPolicy.from_json(path)
    rng = np.random.default_rng(seed)
    layers = [{'op': [], 'magnitude': []} for _ in policy.layers]
    for _ in range(count):
        for d, draw in enumerate(policy.sample(rng)):
            layers[d]['op'].append(draw.op)
            layers[d]['magnitude'].append(draw.magnitude)
    print(json.dumps({'layers': layers}))


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
