"""Tabular regression with early stopping, written as a PyTorch script.

sklearn's diabetes data (442 patients, 10 features, bundled with scikit-learn: no
download), standardised; an MLP trained with Adam on mini-batches; the validation loss is
checked after every epoch, the best weights are saved with torch.save, and training stops
once the validation loss has not improved for `--patience` epochs; the best weights are
loaded back with torch.load(map_location=device) for the final evaluation.

Runs under PyTorch as it is, and under numbagrad after rewriting its imports
(`import torch` -> `import autograd as torch`, ...: see the README's porting table).
`--steps N` stops after N optimiser steps (the test suite's quick run).
"""
# ruff: noqa: PLR0402 - PyTorch's idiom on purpose (import torch.nn as nn)
import argparse
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_diabetes
from torch.utils.data import DataLoader, TensorDataset


class Regressor(nn.Module):
    def __init__(self, n_features, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(-1)


def load_data(seed):
    X, y = load_diabetes(return_X_y=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    n_val = len(X) // 5
    X_train, y_train, X_val, y_val = X[n_val:], y[n_val:], X[:n_val], y[:n_val]
    mean, std = X_train.mean(0), X_train.std(0)
    y_mean, y_std = y_train.mean(), y_train.std()
    X_train, X_val = (X_train - mean) / std, (X_val - mean) / std
    y_train, y_val = (y_train - y_mean) / y_std, (y_val - y_mean) / y_std
    return (TensorDataset(torch.tensor(X_train, dtype=torch.float32),
                          torch.tensor(y_train, dtype=torch.float32)),
            TensorDataset(torch.tensor(X_val, dtype=torch.float32),
                          torch.tensor(y_val, dtype=torch.float32)))


def evaluate(model, loader, loss_fn, device):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            total += loss_fn(model(xb), yb).item() * xb.size(0)
            count += xb.size(0)
    return total / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=15)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = True
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device}")

    train_set, val_set = load_data(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=256)

    model = Regressor(train_set.tensors[0].shape[1]).to(device)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    initial = evaluate(model, val_loader, loss_fn, device)
    print(f"initial loss {initial:.6f}")
    best, bad_epochs, step = float("inf"), 0, 0
    checkpoint = os.path.join(tempfile.mkdtemp(), "best.pt")
    for epoch in range(1, args.epochs + 1):
        model.train()
        for xb, yb in train_loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            step += 1
            if args.steps is not None and step >= args.steps:
                break
        val_loss = evaluate(model, val_loader, loss_fn, device)
        print(f"epoch {epoch:3d}  train loss {loss:.4f}  val loss {val_loss:.4f}")
        if val_loss < best - 1e-4:
            best, bad_epochs = val_loss, 0
            torch.save(model.state_dict(), checkpoint)
        else:
            bad_epochs += 1
            if bad_epochs >= args.patience:
                print(f"early stop after epoch {epoch}: no improvement for {args.patience} "
                      f"epochs")
                break
        if args.steps is not None and step >= args.steps:
            break

    model.load_state_dict(torch.load(checkpoint, map_location=device))
    final = evaluate(model, val_loader, loss_fn, device)
    print(f"final loss {final:.6f}")


if __name__ == "__main__":
    main()
