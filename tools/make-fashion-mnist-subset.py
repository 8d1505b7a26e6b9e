#!/usr/bin/env python3
"""Writes the small Fashion-MNIST subset the nn tests use (no test needs the full data set).

    python3 tools/make-fashion-mnist-subset.py [SOURCE_DIR]

SOURCE_DIR defaults to /usr/share/datasets/fashion-mnist (tools/install-fashion-mnist.sh puts it
there). Takes the first 200 training and the first 100 test examples, unchanged, and writes them as
gzip-compressed IDX files (gzip mtime 0, so re-running gives identical bytes) to
nn/src/test/resources/fashion-mnist-subset/ under the original file names.
"""
import gzip
import os
import struct
import sys

TRAIN, TEST = 200, 100
here = os.path.dirname(os.path.abspath(__file__))
source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
target = os.path.normpath(os.path.join(here, "..", "nn", "src", "test", "resources", "fashion-mnist-subset"))


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    zero, dtype, rank = struct.unpack(">HBB", raw[:4])
    assert zero == 0 and dtype == 0x08, f"{path}: expected an unsigned-byte IDX file"
    dims = list(struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank]))
    return dims, raw[4 + 4 * rank:]


def write_first(name, count):
    path = os.path.join(source, name)
    if not os.path.exists(path):
        path += ".gz"
    dims, data = read_idx(path)
    row = len(data) // dims[0]
    dims[0] = count
    header = struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(">" + "I" * len(dims), *dims)
    out = os.path.join(target, name + ".gz")
    with open(out, "wb") as f:
        f.write(gzip.compress(header + data[:count * row], compresslevel=9, mtime=0))
    print(f"{out}: {dims}")


os.makedirs(target, exist_ok=True)
write_first("train-images-idx3-ubyte", TRAIN)
write_first("train-labels-idx1-ubyte", TRAIN)
write_first("t10k-images-idx3-ubyte", TEST)
write_first("t10k-labels-idx1-ubyte", TEST)
