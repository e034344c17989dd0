#!/usr/bin/env python3
"""Writes Fashion-MNIST (or any IDX set of grey images) as an image-folder or a CSV data set.

    deploy/data/fashion-mnist-export.py images OUT [--source DIR] [--limit N]
    deploy/data/fashion-mnist-export.py csv OUT [--source DIR] [--limit N]

images: OUT/train/<label>-<class>/<index>.png and OUT/test/..., 8-bit grey PNG files (the folders sort in
        label order: 0-t-shirt, 1-trouser, ...).
csv:    OUT/train.csv and OUT/test.csv, a header "label,p0,...,p783", one image per line, pixels 0-255.
Either way OUT is a data set a worker reads by name when OUT lies under its --data-root.
--source defaults to Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist);
--limit N keeps the first N images of each split. Only the Python standard library is used.
"""
import argparse
import gzip
import os
import struct
import sys
import zlib

CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
SPLITS = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def read_idx(path, magic, limit):
    with gzip.open(path, "rb") as f:
        header = f.read(4)
        if len(header) < 4 or struct.unpack(">I", header)[0] != magic:
            sys.exit("%s: not an IDX file with magic 0x%08x (fix: apt-get install --reinstall dataset-fashion-mnist)"
                     % (path, magic))
        dims = struct.unpack(">%dI" % (magic & 0xff), f.read(4 * (magic & 0xff)))
        count = dims[0] if limit is None else min(dims[0], limit)
        size = 1
        for d in dims[1:]:
            size *= d
        data = f.read(count * size)
        if len(data) < count * size:
            sys.exit("%s: truncated: %d bytes of %d" % (path, len(data), count * size))
        return count, dims[1:], data


def folder(label):
    """The class folder: its label first, so that the folders sort in Fashion-MNIST's label order."""
    return "%d-%s" % (label, CLASSES[label])


def png(width, height, pixels):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("format", choices=["images", "csv"])
    parser.add_argument("out")
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    if args.limit is not None and args.limit < 1:
        sys.exit("--limit %d is out of range: it must be >= 1" % args.limit)
    for split, (images_file, labels_file) in SPLITS.items():
        count, (height, width), pixels = read_idx(os.path.join(args.source, images_file), 0x803, args.limit)
        _, _, labels = read_idx(os.path.join(args.source, labels_file), 0x801, count)
        size = height * width
        if args.format == "images":
            for label in range(len(CLASSES)):
                os.makedirs(os.path.join(args.out, split, folder(label)), exist_ok=True)
            for i in range(count):
                path = os.path.join(args.out, split, folder(labels[i]), "%05d.png" % i)
                with open(path, "wb") as f:
                    f.write(png(width, height, pixels[i * size:(i + 1) * size]))
        else:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, split + ".csv"), "w") as f:
                f.write("label," + ",".join("p%d" % j for j in range(size)) + "\n")
                for i in range(count):
                    f.write("%d,%s\n" % (labels[i], ",".join(map(str, pixels[i * size:(i + 1) * size]))))
        print("%s: %d %s images written to %s" % (split, count, "PNG" if args.format == "images" else "CSV",
                                                   args.out))


if __name__ == "__main__":
    main()
