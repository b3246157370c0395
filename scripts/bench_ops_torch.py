#!/usr/bin/python3
"""The torchvision peer of `npm run bench -- ops`: RandAugment(num_ops=2, magnitude=9) on
PIL images with nearest and with bilinear sampling, and each of its operators alone at
magnitude bin 9 (nearest), one thread, one image at a time. Prints one JSON object:
images/s per size.

Usage: bench_ops_torch.py [seconds per figure] [--passes-only]; --passes-only skips the
operators (the bench calls it so once per round, alternating with its own rounds)."""
import json
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms
from torchvision.transforms import InterpolationMode
from torchvision.transforms.autoaugment import _apply_op

torch.set_num_threads(1)
torch.manual_seed(0)
rng = np.random.default_rng(0)
args = [a for a in sys.argv[1:] if not a.startswith('--')]
seconds = float(args[0] if args else 2.0)
passes_only = '--passes-only' in sys.argv
MAGNITUDE_BIN = 9
NUM_BINS = 31


def throughput(images, fn):
    for im in images[:8]:
        fn(im)
    rounds = 0
    start = time.perf_counter()
    while True:
        for im in images:
            fn(im)
        rounds += 1
        elapsed = time.perf_counter() - start
        if elapsed > seconds:
            return rounds * len(images) / elapsed


result = {'torchvision': torchvision.__version__, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'sizes': {}}
for size, count in [(32, 256), (224, 32)]:
    images = [Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), 'RGB') for _ in range(count)]
    entry = {}
    for name, mode in [('nearest', InterpolationMode.NEAREST), ('bilinear', InterpolationMode.BILINEAR)]:
        entry[name] = throughput(images, transforms.RandAugment(num_ops=2, magnitude=MAGNITUDE_BIN, interpolation=mode))
    if passes_only:
        result['sizes'][str(size)] = entry
        continue
    # Each operator alone, as RandAugment calls it (positive sign), at the same bin.
    space = transforms.RandAugment()._augmentation_space(NUM_BINS, (size, size))
    ops = {}
    for op, (magnitudes, _signed) in space.items():
        magnitude = float(magnitudes[MAGNITUDE_BIN].item()) if magnitudes.ndim > 0 else 0.0
        ops[op] = throughput(images, lambda im, op=op, magnitude=magnitude: _apply_op(im, op, magnitude, InterpolationMode.NEAREST, None))
    entry['ops'] = ops
    # Kept for readers of older result files: the nearest pass, RandAugment's default.
    entry['imagesPerSecond'] = entry['nearest']
    result['sizes'][str(size)] = entry
print(json.dumps(result))
