"""The policy as a torchvision transform, seeded per sample.

``policy.transform(seed=...)`` returns a callable for ``torchvision.transforms.Compose`` (and
``v2``) that takes a PIL image, a uint8 tensor ``[C, H, W]`` or a batch ``[N, C, H, W]``, and
returns the same kind with the policy applied as dralab's 8-bit layer pass applies it.

Reproducibility. A transform alone never learns which sample it is given, so on its own it
draws from a stream seeded by (seed, epoch, rank, worker): fine for training, but the draws
then depend on how the data is split over ranks and workers. Wrapped with
``SeededDataset(dataset, transform)``, each sample's draws come from its own stream, seeded
by (seed, epoch, sample index) alone (numpy's SeedSequence), so sample i gets the same bytes
with any number of DataLoader workers and on any rank of any world size. Call
``set_epoch(epoch)`` each epoch, as with DistributedSampler.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Optional

import numpy as np

from . import levels
from .policy import DraPolicy

STREAM_TAG = 0x44524131  # 'DRA1': keeps these streams apart from other uses of the same seed


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The stream of one sample: (seed, epoch, index), nothing about ranks or workers."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([STREAM_TAG, seed, epoch, index])))


def _worker_and_rank() -> tuple[int, int]:
    worker = 0
    rank = 0
    try:
        import torch.utils.data
        info = torch.utils.data.get_worker_info()
        worker = info.id + 1 if info is not None else 0
        import torch.distributed as dist
        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    except ImportError:
        pass
    return worker, rank


class DraTransform:
    def __init__(self, policy: DraPolicy, seed: int = 0, interpolation: str = 'bilinear', fill: float = 0.0):
        if interpolation not in ('bilinear', 'nearest'):
            raise ValueError(f"interpolation must be 'bilinear' or 'nearest', got '{interpolation}'")
        self.policy = policy
        self.seed = int(seed)
        self.interpolation = interpolation
        self.fill = float(fill)
        self.epoch = 0
        self._next: Optional[np.random.Generator] = None
        self._stream: Optional[np.random.Generator] = None
        self._stream_key: Optional[tuple[int, int, int]] = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def seed_sample(self, index: int) -> None:
        """The next call draws from sample `index`'s own stream (SeededDataset does this)."""
        self._next = sample_rng(self.seed, self.epoch, int(index))

    def _rng(self) -> np.random.Generator:
        if self._next is not None:
            rng, self._next = self._next, None
            return rng
        worker, rank = _worker_and_rank()
        key = (self.epoch, rank, worker)
        if self._stream is None or self._stream_key != key:
            self._stream = np.random.Generator(np.random.PCG64(np.random.SeedSequence([STREAM_TAG, self.seed, self.epoch, 1 << 20, rank, worker])))
            self._stream_key = key
        return self._stream

    def apply_array(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.policy.apply_draws(image, self.policy.sample(rng), self.interpolation, self.fill)

    def __call__(self, image: Any) -> Any:
        torch_module = sys.modules.get('torch')
        if getattr(image, 'ndim', 0) == 4 and torch_module is not None and isinstance(image, torch_module.Tensor):
            # A batch: each image draws for itself (a seeded sample's stream goes to the first).
            import torch
            batch = torch.stack([self(img).as_subclass(torch.Tensor) for img in image])
            return batch if type(image) is torch.Tensor else batch.as_subclass(type(image))
        rng = self._rng()
        try:
            from PIL import Image
            if isinstance(image, Image.Image):
                array = np.asarray(image if image.mode in ('L', 'RGB') else image.convert('RGB'))
                array = np.ascontiguousarray(array[..., None] if array.ndim == 2 else array)
                # Layers alternate in per-thread scratch images: fromarray copies the result out.
                buffers = (levels._scratch('layer-a', array.shape, np.uint8), levels._scratch('layer-b', array.shape, np.uint8))
                out = self.policy.apply_draws(array, self.policy.sample(rng), self.interpolation, self.fill, buffers)
                return Image.fromarray(out[..., 0] if out.shape[2] == 1 else out, mode='L' if out.shape[2] == 1 else 'RGB')
        except ImportError:
            pass
        import torch
        if isinstance(image, torch.Tensor):
            if image.dtype != torch.uint8:
                raise TypeError(f'tensors must be uint8 (0..255), got {image.dtype}')
            if image.ndim == 3:
                out = self.apply_array(np.ascontiguousarray(image.detach().cpu().permute(1, 2, 0).numpy()), rng)
                result = torch.from_numpy(out).permute(2, 0, 1).contiguous().to(image.device)
                # A tensor subclass (transforms.v2's tv_tensors.Image) comes back as its own kind.
                return result if type(image) is torch.Tensor else result.as_subclass(type(image))
            raise ValueError(f'tensors must be [C, H, W] or [N, C, H, W], got shape {tuple(image.shape)}')
        if isinstance(image, np.ndarray):
            return self.apply_array(image, rng)
        raise TypeError(f'expected a PIL image, a uint8 tensor or a uint8 array, got {type(image).__name__}')

    def __repr__(self) -> str:
        return f'DraTransform({self.policy.meta.get("name", "policy")}, seed={self.seed}, {self.interpolation})'


class SeededDataset:
    """``dataset[i]`` with its image augmented from sample i's own stream (see the module note).

    ``dataset`` returns (image, label) pairs or images; ``after`` (e.g. ToTensor + Normalize)
    runs after the policy.
    """

    def __init__(self, dataset: Any, transform: DraTransform, after: Optional[Callable[[Any], Any]] = None):
        self.dataset = dataset
        self.transform = transform
        self.after = after

    def set_epoch(self, epoch: int) -> None:
        self.transform.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        item = self.dataset[index]
        image, rest = (item[0], item[1:]) if isinstance(item, tuple) else (item, ())
        self.transform.seed_sample(index)
        out = self.transform(image)
        if self.after is not None:
            out = self.after(out)
        return (out, *rest) if rest else out
