"""Rewrites a .safetensors file with one defect, for the import tests.

  edit_safetensors.py IN OUT drop NAME           leave tensor NAME out
  edit_safetensors.py IN OUT transpose NAME      swap a 2-D tensor's dimensions (data kept)
  edit_safetensors.py IN OUT add NAME D0xD1...   an extra F32 tensor of zeros
  edit_safetensors.py IN OUT nan NAME INDEX      element INDEX of NAME becomes NaN
  edit_safetensors.py IN OUT i64 NAME            an extra I64 scalar (num_batches_tracked-like)
  edit_safetensors.py IN OUT f16 NAME            store NAME as F16
  edit_safetensors.py IN OUT offsets NAME B E    the header says NAME lies at [B, E)
  edit_safetensors.py IN OUT rename OLD NEW      call tensor OLD NEW
"""
import json
import struct
import sys

SIZES = {"F32": 4, "F16": 2, "I64": 8}


def read(path):
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", None)
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[name] = [entry["dtype"], entry["shape"], body[begin:end]]
    return tensors, metadata


def write(path, tensors, metadata, lie=None):
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        dtype, shape, blob = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    if lie:
        header[lie[0]]["data_offsets"] = [lie[1], lie[2]]
    text = json.dumps(header).encode()
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main(source, target, action, *args):
    tensors, metadata = read(source)
    lie = None
    if action == "drop":
        del tensors[args[0]]
    elif action == "transpose":
        shape = tensors[args[0]][1]
        tensors[args[0]][1] = [shape[1], shape[0]]
    elif action == "add":
        shape = [int(d) for d in args[1].split("x")]
        count = 1
        for d in shape:
            count *= d
        tensors[args[0]] = ["F32", shape, b"\0" * (4 * count)]
    elif action == "nan":
        dtype, shape, blob = tensors[args[0]]
        at = 4 * int(args[1])
        tensors[args[0]][2] = blob[:at] + struct.pack("<f", float("nan")) + blob[at + 4:]
    elif action == "i64":
        tensors[args[0]] = ["I64", [], struct.pack("<q", 7)]
    elif action == "f16":
        dtype, shape, blob = tensors[args[0]]
        values = struct.unpack(f"<{len(blob) // 4}f", blob)
        tensors[args[0]] = ["F16", shape, struct.pack(f"<{len(values)}e", *values)]
    elif action == "offsets":
        lie = (args[0], int(args[1]), int(args[2]))
    elif action == "rename":
        tensors[args[1]] = tensors.pop(args[0])
    else:
        sys.exit(f"unknown action {action}")
    write(target, tensors, metadata, lie)


if __name__ == "__main__":
    main(*sys.argv[1:])
