#!/usr/bin/env python3
"""Write a small, stratified, deterministic Fashion-MNIST subset in the original IDX .gz format.

The subset takes, for each of the 10 classes, the first N examples of that class in the
original file order, and keeps them in that order. The output is byte-for-byte reproducible:
the gzip header carries no file name and a zero timestamp.

Usage:
    python3 trainer/scripts/make-fmnist-subset.py \
        [--source /usr/share/datasets/fashion-mnist] \
        [--dest trainer/src/test/resources/fashion-mnist-subset] \
        [--train-per-class 200] [--test-per-class 50]

The source is the Debian package dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist).
Only the Python 3 standard library is used.
"""

import argparse
import gzip
import os
import struct
import sys

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
ROWS = COLS = 28
CLASSES = 10


def fail(message):
    sys.exit("make-fmnist-subset: " + message)


def read_gz(path):
    if not os.path.isfile(path):
        fail(f"{path} not found: install the dataset with "
             "`apt-get install -y dataset-fashion-mnist` or pass --source")
    with gzip.open(path, "rb") as f:
        return f.read()


def read_images(path):
    data = read_gz(path)
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != IMAGES_MAGIC or (rows, cols) != (ROWS, COLS):
        fail(f"{path}: expected an IDX image file (magic 0x{IMAGES_MAGIC:08x}, 28x28), "
             f"found magic 0x{magic:08x}, {rows}x{cols}")
    size = rows * cols
    if len(data) != 16 + count * size:
        fail(f"{path}: header says {count} images, i.e. {16 + count * size} bytes, "
             f"but the file has {len(data)}")
    return [data[16 + i * size:16 + (i + 1) * size] for i in range(count)]


def read_labels(path):
    data = read_gz(path)
    magic, count = struct.unpack(">II", data[:8])
    if magic != LABELS_MAGIC:
        fail(f"{path}: expected an IDX label file (magic 0x{LABELS_MAGIC:08x}), "
             f"found magic 0x{magic:08x}")
    if len(data) != 8 + count:
        fail(f"{path}: header says {count} labels but the file has {len(data) - 8}")
    return data[8:]


def write_gz(path, payload):
    # mtime=0 and no file name in the header: the same input always gives the same bytes.
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(payload)


def subset(source, dest, prefix, per_class):
    images = read_images(os.path.join(source, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_labels(os.path.join(source, f"{prefix}-labels-idx1-ubyte.gz"))
    if len(images) != len(labels):
        fail(f"{prefix}: {len(images)} images but {len(labels)} labels")
    taken = [0] * CLASSES
    keep = []
    for index, label in enumerate(labels):
        if taken[label] < per_class:
            taken[label] += 1
            keep.append(index)
    if any(t < per_class for t in taken):
        fail(f"{prefix}: fewer than {per_class} examples in some class: {taken}")
    write_gz(os.path.join(dest, f"{prefix}-images-idx3-ubyte.gz"),
             struct.pack(">IIII", IMAGES_MAGIC, len(keep), ROWS, COLS)
             + b"".join(images[i] for i in keep))
    write_gz(os.path.join(dest, f"{prefix}-labels-idx1-ubyte.gz"),
             struct.pack(">II", LABELS_MAGIC, len(keep)) + bytes(labels[i] for i in keep))
    print(f"{prefix}: {len(keep)} examples ({per_class} per class) -> {dest}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--dest", default=os.path.normpath(os.path.join(
        here, "..", "src", "test", "resources", "fashion-mnist-subset")))
    parser.add_argument("--train-per-class", type=int, default=200)
    parser.add_argument("--test-per-class", type=int, default=50)
    args = parser.parse_args()
    os.makedirs(args.dest, exist_ok=True)
    subset(args.source, args.dest, "train", args.train_per_class)
    subset(args.source, args.dest, "t10k", args.test_per_class)


if __name__ == "__main__":
    main()
