#!/usr/bin/python3
"""The PyTorch counterpart of benchmarks/train, to compare accuracy curves (docs/training.md).

    /usr/bin/python3 tools/pytorch-reference/train_fashion_mnist.py [--model mlp|cnn] [--optimizer sgd|adam]
        [--lr X] [--epochs N] [--seed S] [--threads T] [--data DIR]

Same models as benchmarks/train (mlp: Linear(784, 256), ReLU, Linear(256, 10); cnn: two blocks of
Conv2d 3x3 padding 1, BatchNorm2d, ReLU, MaxPool2d 2 with 32 and 64 channels, then Linear(3136, 10);
PyTorch's default initialisation), same data handling (pixels / 255; flattened for the MLP, 1x28x28
for the CNN), batch 64 reshuffled every epoch, cross-entropy, SGD with momentum 0.9 or Adam, test
accuracy in eval mode. Random streams differ from Adjoint's, so the curves agree statistically, not bit for bit.
Needs the Debian packages python3-torch and dataset-fashion-mnist.
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch


def read_idx(path):
    if not os.path.exists(path):
        path += ".gz"
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    rank = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=rank, offset=4)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def split(data, prefix):
    x = read_idx(os.path.join(data, prefix + "-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    y = read_idx(os.path.join(data, prefix + "-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    p.add_argument("--lr", type=float)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--model", default="mlp", choices=["mlp", "cnn"])
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    lr = a.lr if a.lr is not None else (0.01 if a.optimizer == "sgd" else 1e-3)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    xtr, ytr = split(a.data, "train")
    xte, yte = split(a.data, "t10k")
    if a.model == "cnn":
        xtr, xte = xtr.reshape(-1, 1, 28, 28), xte.reshape(-1, 1, 28, 28)
        nn = torch.nn
        model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
    else:
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = (torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9) if a.optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=lr))
    loss_fn = torch.nn.CrossEntropyLoss()
    print(f"PyTorch {torch.__version__}: {a.model}, {a.optimizer} lr {lr}, batch 64, seed {a.seed}, "
          f"{a.threads} thread(s)")
    for epoch in range(1, a.epochs + 1):
        start = time.time()
        model.train()
        perm = torch.randperm(len(ytr))
        total, correct, seen = 0.0, 0, 0
        for i in range(0, len(perm), 64):
            idx = perm[i:i + 64]
            logits = model(xtr[idx])
            loss = loss_fn(logits, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += (logits.argmax(1) == ytr[idx]).sum().item()
            seen += len(idx)
        model.eval()
        with torch.no_grad():
            logits = model(xte)
            test_loss = loss_fn(logits, yte).item()
            test_acc = (logits.argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch:2d}/{a.epochs}  train loss {total / seen:.4f}  train acc {100 * correct / seen:.2f}%  "
              f"test loss {test_loss:.4f}  test acc {100 * test_acc:.2f}%  ({time.time() - start:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
