"""dralab_torch's transform: kinds of input, reproducibility under DataLoader workers and
DDP ranks, and policy parsing. Run: PYTHONPATH=python python3 -m unittest discover -s python/tests."""
import json
import os
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from dralab_torch import DraPolicy, PolicyError, SeededDataset


def image(seed: int, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.add.outer(np.arange(size), np.arange(size)) * (200 // (2 * size))
    return np.clip(base[..., None] + rng.integers(0, 60, (size, size, 3)), 0, 255).astype(np.uint8)


class Images(Dataset):
    def __init__(self, count: int):
        self.images = [image(i) for i in range(count)]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return Image.fromarray(self.images[index]), index


def collect(loader) -> dict:
    out = {}
    for batch, indices in loader:
        for img, index in zip(batch, indices):
            out[int(index)] = img.numpy().tobytes()
    return out


def to_tensor(img: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.array(img)).permute(2, 0, 1).contiguous()


class TestTransform(unittest.TestCase):
    def setUp(self):
        self.policy = DraPolicy.parse('rand-m9-n2-mstd0.5')

    def test_pil_tensor_batch_and_array_agree(self):
        arr = image(3)
        t = self.policy.transform(seed=4)
        t.seed_sample(0)
        from_pil = np.asarray(t(Image.fromarray(arr)))
        t.seed_sample(0)
        from_tensor = t(torch.from_numpy(arr).permute(2, 0, 1).contiguous()).permute(1, 2, 0).numpy()
        t.seed_sample(0)
        from_array = t(arr)
        self.assertTrue(np.array_equal(from_pil, from_tensor))
        self.assertTrue(np.array_equal(from_pil, from_array))
        batch = t(torch.stack([torch.from_numpy(arr).permute(2, 0, 1)] * 3))
        self.assertEqual(tuple(batch.shape), (3, 3, 32, 32))
        with self.assertRaises(TypeError):
            t(torch.zeros(3, 8, 8))

    def test_in_torchvision_compose_and_v2(self):
        from torchvision import transforms
        t = transforms.Compose([self.policy.transform(seed=1), transforms.ToTensor()])
        self.assertEqual(tuple(t(Image.fromarray(image(0))).shape), (3, 32, 32))
        try:
            from torchvision.transforms import v2
        except ImportError:
            self.skipTest('torchvision has no transforms.v2')
        t2 = v2.Compose([self.policy.transform(seed=1)])
        self.assertEqual(tuple(t2(torch.from_numpy(image(0)).permute(2, 0, 1).contiguous()).shape), (3, 32, 32))

    def test_the_same_sample_gets_the_same_bytes_with_0_and_2_workers(self):
        data = SeededDataset(Images(24), self.policy.transform(seed=7), after=to_tensor)
        serial = collect(DataLoader(data, batch_size=5, num_workers=0))
        parallel = collect(DataLoader(data, batch_size=5, num_workers=2))
        self.assertEqual(serial, parallel)
        data.set_epoch(1)
        self.assertNotEqual(collect(DataLoader(data, batch_size=5)), serial, 'a new epoch draws anew')

    def test_the_same_sample_gets_the_same_bytes_on_rank_0_of_1_and_rank_1_of_2(self):
        data = SeededDataset(Images(24), self.policy.transform(seed=7), after=to_tensor)
        alone = collect(DataLoader(data, batch_size=4, sampler=DistributedSampler(data, num_replicas=1, rank=0, shuffle=True, seed=3)))
        rank1 = collect(DataLoader(data, batch_size=4, sampler=DistributedSampler(data, num_replicas=2, rank=1, shuffle=True, seed=3), num_workers=2))
        self.assertEqual(len(rank1), 12)
        for index, data_bytes in rank1.items():
            self.assertEqual(data_bytes, alone[index], f'sample {index}')

    def test_policy_files_strings_and_official_arrays(self):
        k = 16
        arrays = dict(W=[[0.0] * k, [1.0] + [0.0] * (k - 1)], M_MEAN=[[0.5] * k] * 2, M_STD=[[0.1] * k] * 2)
        official = DraPolicy.from_official_arrays(**arrays)
        self.assertAlmostEqual(sum(official.layers[1].probabilities), 1.0)
        self.assertGreater(official.layers[1].probabilities[0], official.layers[1].probabilities[1])
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'policy.json')
            with open(path, 'w') as f:
                json.dump({'format': 'dralab.policy', 'version': 2, 'ops': ['Rotate', 'Invert'], 'layers': [{'probabilities': [0.5, 0.5], 'mu': [0.5, 0.2], 'sigma': [0.1, 0]}], 'applyProbability': [0.2, 0.8]}, f)
            policy = DraPolicy.from_json(path)
            self.assertEqual(policy.ops, ['Rotate', 'Invert'])
            with open(path, 'w') as f:
                json.dump({'format': 'dralab.policy', 'version': 2, 'ops': ['Rotate', 'Sepia'], 'layers': [{'probabilities': [0.5, 0.5], 'mu': [0.5, 0.2], 'sigma': [0.1, 0]}]}, f)
            with self.assertRaisesRegex(PolicyError, "unknown operator 'Sepia'"):
                DraPolicy.from_json(path)
        self.assertEqual(len(DraPolicy.parse('rand-m9-n3').layers), 3)
        self.assertTrue(DraPolicy.parse('trivial').uniform_magnitude)
        with self.assertRaisesRegex(PolicyError, "'m' is given twice"):
            DraPolicy.parse('rand-m9-n2-m5')


if __name__ == '__main__':
    unittest.main()
