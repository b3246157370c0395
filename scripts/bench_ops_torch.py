#!/usr/bin/python3
"""torchvision RandAugment(num_ops=2, magnitude=9) on PIL images, one thread: the peer that
`npm run bench -- ops` compares against. Prints one JSON object: images/s per size."""
import json
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms

torch.set_num_threads(1)
torch.manual_seed(0)
rng = np.random.default_rng(0)
augment = transforms.RandAugment(num_ops=2, magnitude=9)
result = {'torchvision': torchvision.__version__, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'sizes': {}}
for size, count in [(32, 256), (224, 32)]:
    images = [Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), 'RGB') for _ in range(count)]
    for im in images[:8]:
        augment(im)
    rounds = 0
    start = time.perf_counter()
    while True:
        for im in images:
            augment(im)
        rounds += 1
        elapsed = time.perf_counter() - start
        if elapsed > float(sys.argv[1] if len(sys.argv) > 1 else 2.0):
            break
    result['sizes'][str(size)] = {'images': rounds * count, 'seconds': elapsed, 'imagesPerSecond': rounds * count / elapsed}
print(json.dumps(result))
