"""A small CNN trained with gradient clipping, written as a PyTorch script.

Synthetic 12x12 images of a horizontal bar, a vertical bar or a diagonal (3 classes) at
random positions, with Gaussian noise made directly on the device (`torch.randn(...,
device=device)`); Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d twice, then a linear
classifier; Kaiming initialisation through `model.apply`, AdamW with a cosine schedule,
and `nn.utils.clip_grad_norm_` before every step (its returned norm is logged).

Runs under PyTorch as it is, and under numbagrad after rewriting its imports (see the
README's porting table). `--steps N` stops after N optimiser steps (the test suite's
quick run).
"""
# ruff: noqa: PLR0402 - PyTorch's idiom on purpose (import torch.nn as nn)
import argparse

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

SIZE = 12


def make_images(n, rng):
    """n images (n, 1, SIZE, SIZE) and labels: 0 horizontal bar, 1 vertical, 2 diagonal."""
    images = np.zeros((n, 1, SIZE, SIZE), dtype=np.float32)
    labels = rng.integers(0, 3, size=n)
    for i, label in enumerate(labels):
        r, c = rng.integers(2, SIZE - 2, size=2)
        length = rng.integers(5, 9)
        for k in range(length):
            if label == 0:
                images[i, 0, r, min(c - 2 + k, SIZE - 1)] = 1.0
            elif label == 1:
                images[i, 0, min(r - 2 + k, SIZE - 1), c] = 1.0
            else:
                images[i, 0, (r - 2 + k) % SIZE, (c - 2 + k) % SIZE] = 1.0
    return images, labels


class ConvNet(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 3 * 3, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def init_weights(module):
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        nn.init.zeros_(module.bias)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--max-norm", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.backends.cudnn.benchmark = False
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    print(f"device: {device} (cuda devices: {torch.cuda.device_count()})")

    rng = np.random.default_rng(args.seed)
    images, labels = make_images(1200, rng)
    x = torch.from_numpy(images).to(device)
    x = x + 0.3 * torch.randn(x.shape, device=device)
    y = torch.from_numpy(labels).long().to(device)
    train_set = TensorDataset(x[:1000], y[:1000])
    x_test, y_test = x[1000:], y[1000:]
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)

    model = ConvNet().to(device)
    model.apply(init_weights)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    total_steps = args.epochs * len(train_loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)

    def test():
        model.eval()
        with torch.no_grad():
            logits = model(x_test)
            loss = criterion(logits, y_test)
            accuracy = (logits.argmax(dim=1) == y_test).float().mean()
        return loss, accuracy

    initial, _ = test()
    print(f"initial loss {initial:.6f}")
    step = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=args.max_norm)
            optimizer.step()
            scheduler.step()
            step += 1
            if step % 10 == 0:
                print(f"step {step:4d}  loss {loss:.4f}  grad norm {norm:.3f}")
            if args.steps is not None and step >= args.steps:
                break
        test_loss, accuracy = test()
        print(f"epoch {epoch}  test loss {test_loss:.4f}  test accuracy {accuracy:.1%}")
        if args.steps is not None and step >= args.steps:
            break

    final, accuracy = test()
    print(f"final loss {final:.6f} (accuracy {accuracy:.1%})")


if __name__ == "__main__":
    main()
