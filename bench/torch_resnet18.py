#!/usr/bin/env python3
"""PyTorch eager baseline for `native train-sweep` / `native bench-train` on a GPU.

Trains the same CIFAR ResNet-18 shape (3x3 stem, no max-pool, BasicBlocks of w, 2w, 4w, 8w
channels, BatchNorm, global average pool, fc) on random 32x32 images for one epoch with SGD
(momentum 0.9, weight decay 5e-4), fp32 with TF32 matmuls allowed (as the candle binary runs),
and prints images/s. Usage: torch_resnet18.py [--width 64] [--batch 128] [--images 50000]
"""
import argparse, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    def __init__(self, w, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, w, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        layers, cin = [], w
        for s, mult in enumerate([1, 2, 4, 8]):
            cout = w * mult
            layers.append(nn.Sequential(Block(cin, cout, 1 if s == 0 else 2), Block(cout, cout, 1)))
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(8 * w, classes)

    def forward(self, x):
        h = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(h.mean((2, 3)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--images", type=int, default=50000)
    args = ap.parse_args()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(42)
    model = ResNet18(args.width).to(dev)
    decay = [p for n, p in model.named_parameters() if "bn" not in n and "downsample.1" not in n]
    no_decay = [p for n, p in model.named_parameters() if "bn" in n or "downsample.1" in n]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}], lr=0.1, momentum=0.9)
    x = torch.randn(args.batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (args.batch,), device=dev)
    steps = args.images // args.batch
    for _ in range(5):  # warm-up (cudnn autotuning)
        opt.zero_grad(); F.cross_entropy(model(x), y).backward(); opt.step()
    if dev == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    if dev == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    print(f"pytorch {torch.__version__} on {dev}: width {args.width}, batch {args.batch}, {steps * args.batch} images in {dt:.2f} s = {steps * args.batch / dt:.1f} images/s (data on the GPU, no augmentation)")


if __name__ == "__main__":
    main()
