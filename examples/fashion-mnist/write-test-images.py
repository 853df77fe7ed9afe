#!/usr/bin/env python3
"""Writes the first N images of Fashion-MNIST's test set as 8-bit PGM files
(NNNN.pgm) and their labels (labels.txt, one a line, in the same order), the
way a camera or a folder of photos would hand them to an application.

    write-test-images.py DATA_DIR OUT_DIR [N]
"""
import gzip
import os
import struct
import sys


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return shape, data[4 + 4 * dims :]


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) == 4 else 200
    (n, rows, cols), pixels = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"))
    (_,), labels = read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz"))
    count = min(count, n)
    os.makedirs(out_dir, exist_ok=True)
    size = rows * cols
    with open(os.path.join(out_dir, "labels.txt"), "w") as out:
        for i in range(count):
            with open(os.path.join(out_dir, "%04d.pgm" % i), "wb") as image:
                image.write(b"P5\n%d %d\n255\n" % (cols, rows))
                image.write(pixels[i * size : (i + 1) * size])
            out.write("%d\n" % labels[i])


if __name__ == "__main__":
    main()
