"""Images per second of dralab_torch's transform against torchvision's RandAugment(2, 9) on
the same PIL images, 32 and 224 px, measured side by side in alternating rounds (this
machine's timings are noisy: the ratio of each round is kept, and their median reported).

Usage: python3 bench_transform.py [rounds]  ->  JSON on stdout.
"""
import json
import statistics
import sys
import time

import numpy as np
from PIL import Image
from torchvision import transforms

from dralab_torch import DraPolicy


def images(size: int, count: int):
    rng = np.random.default_rng(size)
    base = np.add.outer(np.arange(size), np.arange(size)) * (255 / (2 * size))
    return [Image.fromarray(np.clip(base[..., None] + rng.integers(0, 60, (size, size, 3)), 0, 255).astype(np.uint8)) for _ in range(count)]


def rate(transform, batch) -> float:
    start = time.perf_counter()
    for img in batch:
        transform(img)
    return len(batch) / (time.perf_counter() - start)


def main(rounds: int) -> None:
    ours = DraPolicy.parse('rand-m9-n2').transform(seed=0)
    theirs = transforms.RandAugment(num_ops=2, magnitude=9)
    result = {}
    for size, count in ((32, 400), (224, 60)):
        batch = images(size, count)
        rate(ours, batch[:10]), rate(theirs, batch[:10])  # warm-up
        ratios, ours_rates, theirs_rates = [], [], []
        for _ in range(rounds):
            a = rate(ours, batch)
            b = rate(theirs, batch)
            ours_rates.append(a)
            theirs_rates.append(b)
            ratios.append(a / b)
        result[str(size)] = {
            'dralab_torch': statistics.median(ours_rates),
            'torchvision': statistics.median(theirs_rates),
            'ratio': statistics.median(ratios),
            'ratio_range': [min(ratios), max(ratios)],
        }
    print(json.dumps(result))


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
