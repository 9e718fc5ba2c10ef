"""An MLP with BatchNorm and Dropout on sklearn's handwritten digits, as a PyTorch script.

1797 8x8 digit images (bundled with scikit-learn: no download), flattened to 64 features;
Linear -> BatchNorm1d -> ReLU -> Dropout blocks, cross-entropy, SGD with momentum and
weight decay, a StepLR schedule; accuracy from `torch.max(outputs, 1)`, train / eval
modes switching batch statistics and dropout.

Runs under PyTorch as it is, and under numbagrad after rewriting its imports (see the
README's porting table). `--steps N` stops after N optimiser steps (the test suite's
quick run).
"""
# ruff: noqa: PLR0402 - PyTorch's idiom on purpose (import torch.nn as nn)
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, n_in=64, hidden=128, n_classes=10, p_drop=0.2):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_in, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(p_drop),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(p_drop),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.layers(x)


def load_data(seed):
    digits = load_digits()
    X = digits.data.astype(np.float32) / 16.0
    y = digits.target
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order], y[order]
    n_test = 360
    train = TensorDataset(torch.FloatTensor(X[n_test:]), torch.LongTensor(y[n_test:]))
    test = TensorDataset(torch.FloatTensor(X[:n_test]), torch.LongTensor(y[:n_test]))
    return train, test


def evaluate(model, loader, criterion, device):
    model.eval()
    loss_sum, correct, total = 0.0, 0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            loss_sum += criterion(outputs, labels).item() * labels.size(0)
            _, predicted = torch.max(outputs, 1)
            correct += (predicted == labels).sum().item()
            total += labels.size(0)
    return loss_sum / total, correct / total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device}")

    train_set, test_set = load_data(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              drop_last=True)
    test_loader = DataLoader(test_set, batch_size=512)

    model = MLP().to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)

    initial, accuracy = evaluate(model, test_loader, criterion, device)
    print(f"initial loss {initial:.6f} (accuracy {accuracy:.1%})")
    step = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        running = 0.0
        for inputs, labels in train_loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running += loss.item()
            step += 1
            if args.steps is not None and step >= args.steps:
                break
        scheduler.step()
        test_loss, accuracy = evaluate(model, test_loader, criterion, device)
        print(f"epoch {epoch:2d}  lr {scheduler.get_last_lr()[0]:.4f}  last batch loss "
              f"{loss:.4f}  test loss {test_loss:.4f}  test accuracy {accuracy:.1%}")
        if args.steps is not None and step >= args.steps:
            break

    final, accuracy = evaluate(model, test_loader, criterion, device)
    print(f"final loss {final:.6f} (accuracy {accuracy:.1%})")


if __name__ == "__main__":
    main()
