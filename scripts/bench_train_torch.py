#!/usr/bin/python3
"""One full training step (forward, backward, SGD momentum update) of a CIFAR network in
PyTorch on the CPU, the peer of test/bench/train.ts. The same networks as dralab's
'resnet-20' (option-A shortcuts, 0.27M parameters) and 'wrn-16-2' (pre-activation blocks,
1x1 convolution shortcuts where widths change, 0.69M parameters), same batch and optimiser.
Prints one JSON object: per-step milliseconds (wall and process CPU time; the CPU time is
the steadier figure on a loaded machine at one thread) and the settings used.

usage: bench_train_torch.py [--model resnet-20|wrn-16-2] [--batch 64] [--steps 5] [--warmup 2] [--threads 1]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.extra = cout - cin
        self.stride = stride

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = x[:, :, ::2, ::2] if self.stride == 2 else x
        if self.extra > 0:
            s = F.pad(s, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
        return F.relu(y + s)


class ResNet20(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for s, cout in enumerate([16, 32, 64]):
            for b in range(3):
                blocks.append(BasicBlock(cin, cout, 2 if (b == 0 and s > 0) else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn(self.stem(x))))
        return self.fc(h.mean(dim=(2, 3)))


class PreActBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if cin != cout else None

    def forward(self, x):
        o1 = F.relu(self.bn1(x))
        y = self.conv2(F.relu(self.bn2(self.conv1(o1))))
        return y + (self.shortcut(o1) if self.shortcut is not None else x)


class WideResNet(nn.Module):
    """WRN-depth-widen as dralab's src/models/wrn.ts builds it (no dropout)."""

    def __init__(self, depth=16, widen=2, num_classes=10):
        super().__init__()
        per_group = (depth - 4) // 6
        widths = [16, 16 * widen, 32 * widen, 64 * widen]
        self.stem = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        blocks, cin = [], widths[0]
        for g in range(3):
            for b in range(per_group):
                blocks.append(PreActBlock(cin, widths[g + 1], 2 if (b == 0 and g > 0) else 1))
                cin = widths[g + 1]
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        h = F.relu(self.bn(self.blocks(self.stem(x))))
        return self.fc(h.mean(dim=(2, 3)))


MODELS = {"resnet-20": ResNet20, "wrn-16-2": lambda: WideResNet(16, 2)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=sorted(MODELS), default="resnet-20")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MODELS[args.model]()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.rand(args.batch, 3, 32, 32) * 255
    x = (x / 255 - 0.45) / 0.225
    y = torch.randint(0, 10, (args.batch,))
    times = []
    cpu_times = []
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        cpu_start = time.process_time()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        elapsed = (time.perf_counter() - start) * 1000
        cpu_elapsed = (time.process_time() - cpu_start) * 1000
        if i >= args.warmup:
            times.append(elapsed)
            cpu_times.append(cpu_elapsed)
    print(json.dumps({
        "msPerStep": statistics.median(times),
        "times": times,
        "cpuTimes": cpu_times,
        "parameters": params,
        "batch": args.batch,
        "model": args.model,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
