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
from dralab_torch import levels
from dralab_torch.policy import ALL_OP_NAMES, apply_op


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

        class Tagged(torch.Tensor):  # what v2's tv_tensors.Image is: a plain tensor subclass
            pass

        tagged = torch.from_numpy(image(0)).permute(2, 0, 1).contiguous().as_subclass(Tagged)
        self.assertIs(type(self.policy.transform(seed=1)(tagged)), Tagged)
        self.assertIs(type(self.policy.transform(seed=1)(torch.stack([tagged] * 2))), Tagged)
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


class TestKernels(unittest.TestCase):
    """The fast paths of dralab_torch.levels against their plain definitions (bytes against
    dralab itself are checked by test/python/torch-transform.test.ts)."""

    def test_the_smooth_level_multiply_and_shift_is_the_rounded_division_for_every_total(self):
        totals = np.arange(13 * 255 + 1)
        fast = ((2 * totals + 13) * levels.SMOOTH_MULTIPLIER) >> levels.SMOOTH_SHIFT
        self.assertTrue(np.array_equal(fast, levels._smooth_levels().astype(np.int64)))
        self.assertTrue(np.array_equal(fast, np.floor(totals / 13 + 0.5).astype(np.int64)))

    def test_every_op_gives_the_same_bytes_into_a_buffer_across_sizes_and_from_a_strided_input(self):
        for size in (32, 7, 224, 32):  # sizes change between calls: scratch arrays must follow
            img = image(size, size)
            strided = np.stack([img, img], axis=-1).reshape(size, size, 6)[..., ::2]  # same levels, not contiguous
            for name in ALL_OP_NAMES:
                for bilinear in (True, False):
                    fresh = apply_op(name, img, 0.6, -1.0, (0.3, 0.7), bilinear)
                    buffer = np.full_like(img, 17)
                    into = apply_op(name, img, 0.6, -1.0, (0.3, 0.7), bilinear, out=buffer)
                    self.assertIs(into, buffer)
                    self.assertTrue(np.array_equal(fresh, into), f'{name} {size} px bilinear={bilinear}')
                    self.assertTrue(np.array_equal(fresh, apply_op(name, strided, 0.6, -1.0, (0.3, 0.7), bilinear)), f'{name} strided')

    def test_equalize_is_pillows_on_flat_two_level_and_noisy_images(self):
        from PIL import ImageOps
        flat = np.full((9, 11, 3), 77, np.uint8)
        two = np.where(np.arange(99).reshape(9, 11, 1) % 3 == 0, 200, 10).astype(np.uint8).repeat(3, axis=2)
        for img in (flat, two, image(5), image(6, 64)):
            ours = levels.equalize(img)
            self.assertTrue(np.array_equal(ours, np.asarray(ImageOps.equalize(Image.fromarray(img)))))
        self.assertTrue(np.array_equal(levels.autocontrast(flat), flat))  # one level: unchanged

    def test_threads_using_the_transform_at_once_get_what_one_thread_gets(self):
        import threading
        policy = DraPolicy.parse('rand-m12-n3-mstd0.5')
        images = [image(i, 64) for i in range(24)]
        expected = [policy.apply_draws(img, policy.sample(np.random.default_rng(i))) for i, img in enumerate(images)]
        results: dict = {}

        def work(offset: int) -> None:
            for i in range(offset, len(images), 4):
                results[i] = policy.apply_draws(images[i], policy.sample(np.random.default_rng(i)))

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, want in enumerate(expected):
            self.assertTrue(np.array_equal(results[i], want), f'image {i}')


if __name__ == '__main__':
    unittest.main()
