"""torchvision's ResNets through safetensors, for safetensors-torchvision.sh.

Debian has no python3-safetensors, so the files are read and written here
with json and struct (the format is a length, a JSON header and raw data).

  write DIR [MODEL]    MODEL (resnet18 by default) with random weights and BN
                       statistics (eval mode): DIR/torch.safetensors,
                       DIR/input.raw, DIR/torch-logits.raw
  compare DIR          DIR/resnetc-logits.raw against DIR/torch-logits.raw
  reload DIR           DIR/exported.safetensors into a fresh resnet18 with
                       load_state_dict(strict=True): the same logits
  names DIR MODEL...   DIR/MODEL.safetensors has torchvision MODEL's names and shapes
"""
import json
import struct
import sys

import torch
import torchvision

DTYPES = {torch.float32: ("F32", 4), torch.int64: ("I64", 8)}
TORCH_DTYPES = {"F32": torch.float32, "I64": torch.int64}


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        tensor = tensors[name].contiguous()
        dtype, size = DTYPES[tensor.dtype]
        blob = tensor.numpy().tobytes()
        assert len(blob) == tensor.numel() * size
        header[name] = {"dtype": dtype, "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        raw = bytearray(body[begin:end])
        tensors[name] = torch.frombuffer(raw, dtype=TORCH_DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return tensors, metadata


def read_raw(path):
    return torch.frombuffer(bytearray(open(path, "rb").read()), dtype=torch.float32)


def random_model(name="resnet18"):
    torch.manual_seed(20240518)
    model = getattr(torchvision.models, name)()  # random weights: nothing downloaded
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.2)
                module.running_mean.normal_(0, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(1000)
    return model.eval()


def logits_of(model, image):
    with torch.no_grad():
        return model(image.reshape(1, 3, 224, 224)).reshape(-1)


def write(folder, name="resnet18"):
    model = random_model(name)
    image = torch.randn(3 * 224 * 224)
    write_safetensors(f"{folder}/torch.safetensors", model.state_dict(), {"format": "pt"})
    open(f"{folder}/input.raw", "wb").write(image.numpy().tobytes())
    open(f"{folder}/torch-logits.raw", "wb").write(logits_of(model, image).numpy().tobytes())


def check_close(what, ours, theirs, relative):
    span = float(theirs.max() - theirs.min())
    diff = float((ours - theirs).abs().max())
    print(f"{what}: max |diff| {diff:.3g}, logit range {span:.4g}, "
          f"relative {diff / span:.3g} (limit {relative:g}); "
          f"top-1 {int(ours.argmax())} vs {int(theirs.argmax())}")
    if not diff <= relative * span:
        sys.exit(f"{what}: the logits differ by more than {relative:g} of their range")


def compare(folder):
    theirs = read_raw(f"{folder}/torch-logits.raw")
    ours = read_raw(f"{folder}/resnetc-logits.raw")
    assert ours.numel() == theirs.numel() == 1000, (ours.numel(), theirs.numel())
    check_close("resnetc vs PyTorch", ours, theirs, 1e-4)


def reload(folder):
    tensors, metadata = read_safetensors(f"{folder}/exported.safetensors")
    if metadata != {"format": "pt", "resnetc.model": "resnet18"}:
        sys.exit(f"unexpected __metadata__ {metadata}")
    model = torchvision.models.resnet18()
    model.load_state_dict(tensors, strict=True)  # every name, nothing extra
    model.eval()
    logits = logits_of(model, read_raw(f"{folder}/input.raw"))
    check_close("exported, reloaded into PyTorch vs the original", logits,
                read_raw(f"{folder}/torch-logits.raw"), 1e-6)


def names(folder, models):
    for name in models:
        expected = getattr(torchvision.models, name)().state_dict()
        tensors, _ = read_safetensors(f"{folder}/{name}.safetensors")
        missing = sorted(set(expected) - set(tensors))
        extra = sorted(set(tensors) - set(expected))
        wrong = [k for k in expected if k in tensors and list(expected[k].shape) != list(tensors[k].shape)]
        if missing or extra or wrong:
            sys.exit(f"{name}: missing {missing[:5]}, extra {extra[:5]}, misshapen {wrong[:5]}")
        print(f"{name}: the {len(expected)} names and shapes of torchvision's state_dict")


if __name__ == "__main__":
    command, folder = sys.argv[1], sys.argv[2]
    if command == "write":
        write(folder, *sys.argv[3:4])
    elif command == "compare":
        compare(folder)
    elif command == "reload":
        reload(folder)
    elif command == "names":
        names(folder, sys.argv[3:])
    else:
        sys.exit(f"unknown command {command}")
