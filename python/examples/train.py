"""Final training with a dralab policy in PyTorch, on one machine or many (torchrun + DDP).

    torchrun --nproc_per_node 4 python/examples/train.py --policy runs/search-0/policy.json \
        --data cifar10:/data/cifar-10-batches-bin --epochs 200

--policy takes a dralab policy.json, a policy string (rand-m9-n2, trivial, none) or
official:<name> is not read here (export it with dralab first). --data takes a CIFAR-10
binary folder (cifar10:<dir>, the data_batch_*.bin files dralab reads too), Fashion-MNIST
IDX files (fashion-mnist:<dir>, default /usr/share/datasets/fashion-mnist) or `generated`
(a small random set for smoke tests). Each rank trains a torchvision ResNet-18 under
DistributedDataParallel (NCCL on GPUs, gloo on CPU); augmentation is seeded per sample
(dralab_torch.SeededDataset), so every sample gets the same bytes whatever the number of
ranks and workers.
"""
from __future__ import annotations

import argparse
import gzip
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from dralab_torch import DraPolicy, SeededDataset  # noqa: E402


class ArrayImages(Dataset):
    """uint8 images [N, H, W, C] and labels, as (image, label)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images = images
        self.labels = labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.images[index], int(self.labels[index])


def read_cifar10(folder: str) -> ArrayImages:
    files = sorted(f for f in os.listdir(folder) if f.startswith('data_batch_') and f.endswith('.bin'))
    if not files:
        raise SystemExit(f'{folder}: no data_batch_*.bin files (the CIFAR-10 binary version)')
    records = np.concatenate([np.fromfile(os.path.join(folder, f), dtype=np.uint8).reshape(-1, 3073) for f in files])
    return ArrayImages(records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), records[:, 0].astype(np.int64))


def read_idx(path: str) -> np.ndarray:
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(f'>{dims}I', data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def read_fashion_mnist(folder: str) -> ArrayImages:
    def find(stem: str) -> str:
        for name in (f'{stem}.gz', stem):
            if os.path.exists(os.path.join(folder, name)):
                return os.path.join(folder, name)
        raise SystemExit(f'{folder}: no {stem}[.gz]')
    images = read_idx(find('train-images-idx3-ubyte'))[..., None]
    return ArrayImages(np.repeat(images, 3, axis=3), read_idx(find('train-labels-idx1-ubyte')).astype(np.int64))


def generated(count: int = 256, size: int = 32, classes: int = 10, seed: int = 0) -> ArrayImages:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, count)
    images = (rng.integers(0, 80, (count, size, size, 3)) + (labels * 17)[:, None, None, None]).clip(0, 255).astype(np.uint8)
    return ArrayImages(images, labels)


def load_data(spec: str) -> ArrayImages:
    if spec == 'generated':
        return generated()
    kind, _, folder = spec.partition(':')
    if kind == 'cifar10':
        return read_cifar10(folder)
    if kind == 'fashion-mnist':
        return read_fashion_mnist(folder or '/usr/share/datasets/fashion-mnist')
    raise SystemExit(f"--data must be cifar10:<dir>, fashion-mnist[:<dir>] or generated, got '{spec}'")


def load_policy(spec: str) -> DraPolicy:
    return DraPolicy.from_json(spec) if spec.endswith('.json') else DraPolicy.parse(spec)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div(255)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--policy', default='rand-m9-n2')
    parser.add_argument('--data', default='generated')
    parser.add_argument('--epochs', type=int, default=1)
    parser.add_argument('--steps', type=int, default=0, help='stop after this many steps (0: run the epochs)')
    parser.add_argument('--batch-size', type=int, default=64, help='per rank')
    parser.add_argument('--lr', type=float, default=0.05)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--workers', type=int, default=2)
    args = parser.parse_args()

    distributed = 'RANK' in os.environ
    if distributed:
        dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    device = torch.device(f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}' if torch.cuda.is_available() else 'cpu')
    torch.manual_seed(args.seed)  # the same initial weights on every rank

    dataset = SeededDataset(load_data(args.data), load_policy(args.policy).transform(seed=args.seed), after=to_tensor)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler, num_workers=args.workers, drop_last=True)
    import torchvision
    model = torchvision.models.resnet18(num_classes=int(dataset.dataset.labels.max()) + 1).to(device)
    if distributed:
        model = DistributedDataParallel(model, device_ids=[device.index] if device.type == 'cuda' else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    total = args.steps or args.epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, total))
    step = 0
    for epoch in range(max(1, math.ceil(total / max(1, len(loader))))):
        sampler.set_epoch(epoch)
        dataset.set_epoch(epoch)
        for images, labels in loader:
            loss = F.cross_entropy(model(images.to(device)), labels.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            print(f'rank {rank}/{world} epoch {epoch} step {step} loss {loss.item():.4f}', flush=True)
            if step >= total:
                break
        if step >= total:
            break
    if rank == 0:
        print(f'done: {step} steps on {world} rank(s), policy {args.policy}', flush=True)
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
