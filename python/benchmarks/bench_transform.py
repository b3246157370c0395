"""Images per second of dralab_torch's transform against torchvision's RandAugment(2, 9) on
the same PIL images, 32 and 224 px, measured side by side in alternating rounds (this
machine's timings are noisy: the ratio of each round is kept, and their median reported).

Both interpolations, each against torchvision with the same one: nearest is torchvision's
default, bilinear is dralab's. torch runs on one thread, as in a DataLoader worker. Rates are
per second of the process's CPU time.

Usage: python3 bench_transform.py [rounds]  ->  JSON on stdout.
"""
import json
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

from dralab_torch import DraPolicy


def images(size: int, count: int):
    rng = np.random.default_rng(size)
    base = np.add.outer(np.arange(size), np.arange(size)) * (255 / (2 * size))
    return [Image.fromarray(np.clip(base[..., None] + rng.integers(0, 60, (size, size, 3)), 0, 255).astype(np.uint8)) for _ in range(count)]


def rate(transform, batch) -> float:
    """Images per second of this process's CPU time: on a shared machine, time stolen by other
    processes inflates wall-clock rounds unevenly, CPU time far less."""
    start = time.process_time()
    for img in batch:
        transform(img)
    return len(batch) / (time.process_time() - start)


def main(rounds: int) -> None:
    torch.set_num_threads(1)
    result = {}
    for interpolation in ('nearest', 'bilinear'):
        ours = DraPolicy.parse('rand-m9-n2').transform(seed=0, interpolation=interpolation)
        theirs = transforms.RandAugment(num_ops=2, magnitude=9, interpolation=transforms.InterpolationMode(interpolation))
        for size, count in ((32, 600), (224, 120)):
            result[f'{size} {interpolation}'] = measure(ours, theirs, images(size, count), rounds)
    print(json.dumps(result))


def measure(ours, theirs, batch, rounds: int) -> dict:
    rate(ours, batch[:10]), rate(theirs, batch[:10])  # warm-up
    ratios, ours_rates, theirs_rates = [], [], []
    for _ in range(rounds):
        a = rate(ours, batch)
        b = rate(theirs, batch)
        ours_rates.append(a)
        theirs_rates.append(b)
        ratios.append(a / b)
    return {
        'dralab_torch': statistics.median(ours_rates),
        'torchvision': statistics.median(theirs_rates),
        'ratio': statistics.median(ratios),
        'ratio_range': [min(ratios), max(ratios)],
    }


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
