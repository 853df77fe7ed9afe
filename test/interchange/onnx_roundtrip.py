"""ONNX round trip: torchvision's resnet18 and resnet50 and an option-A CIFAR
ResNet-20 (random weights, random batch-norm statistics, eval mode) go
through torch.onnx.export, `resnetc import`, `resnetc compile` and the
generated library; the logits must match PyTorch's within 1e-4 of their
range. `resnetc export` then writes the network back to ONNX, which must give
the same logits in ONNX Runtime (when onnxruntime-node is installed) and in
an evaluation of its nodes with torch's functional ops, pass onnx.checker,
and import back to the same .rn.

usage: onnx_roundtrip.py RESNETC WORKDIR [CACHE_DIR] [ORT_DIR]
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cifar_resnet import ResNet20  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOLERANCE = 1e-4  # of the logit range

resnetc, work = sys.argv[1], sys.argv[2]
cache = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
ort_dir = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
cxx = os.environ.get("CXX", "c++")

# name, model, input CxHxW, opset, BN folded by the exporter, symbolic batch
CASES = [
    ("resnet18", torchvision.models.resnet18, (3, 224, 224), 13, True, True),
    ("resnet50", torchvision.models.resnet50, (3, 224, 224), 9, False, False),
    ("cifar20", ResNet20, (3, 32, 32), 17, True, False),
    ("cifar20_bn", ResNet20, (3, 32, 32), 11, False, True),
]
IMAGES = 2


def run(*args):
    result = subprocess.run(list(args), capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("FAILED: %s\n%s%s" % (" ".join(args), result.stdout, result.stderr))
    return result.stdout


def randomized(build, seed):
    torch.manual_seed(seed)
    model = build()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def compiled_logits(name, rn, rnw, images):
    """Compiles the .rn with its weights and runs the library on `images`."""
    out = os.path.join(work, name + "-lib")
    args = [resnetc, "compile", rn, "--weights", rnw, "-o", out, "--quiet"]
    if cache:
        args += ["--cache-dir", cache]
    run(*args)
    upper = name.upper()
    exe = os.path.join(work, name + "-run")
    # CXXFLAGS/LDFLAGS: those resnetc was built with (a sanitizer build's
    # runtime needs them when linking).
    flags = os.environ.get("CXXFLAGS", "").split() + os.environ.get("LDFLAGS", "").split()
    run(cxx, *flags, "-O1", "-std=c++17", "-DMODEL=" + name, "-DINPUT_SIZE=%s_INPUT_SIZE" % upper,
        "-DOUTPUT_SIZE=%s_OUTPUT_SIZE" % upper, "-include", os.path.join(out, name + ".h"),
        os.path.join(HERE, "run_logits.cpp"), os.path.join(out, "lib%s.a" % name), "-lpthread",
        "-ldl", "-o", exe)
    images_path = os.path.join(work, name + "-images.f32")
    logits_path = os.path.join(work, name + "-logits.f32")
    images.numpy().astype(np.float32).tofile(images_path)
    run(exe, os.path.join(out, name + ".rnw"), images_path, str(len(images)), logits_path)
    return np.fromfile(logits_path, dtype=np.float32).reshape(len(images), -1)


def torch_eval_onnx(path, x):
    """The exported graph, node by node, with torch's functional ops: an
    evaluation independent of resnetc for the ops its export writes."""
    graph = onnx.load(path).graph
    env = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
           for t in graph.initializer}
    env[graph.input[0].name] = x
    for node in graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        i = [env[n] for n in node.input]
        op = node.op_type
        if op == "Conv":
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=a["strides"],
                         padding=a["pads"][:2])
        elif op == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a["epsilon"])
        elif op == "Relu":
            y = F.relu(i[0])
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "MaxPool":
            y = F.max_pool2d(i[0], a["kernel_shape"], a["strides"], a["pads"][:2])
        elif op == "GlobalAveragePool":
            y = i[0].mean((2, 3), keepdim=True)
        elif op == "Flatten":
            y = i[0].flatten(a["axis"])
        elif op == "Gemm":
            assert a.get("transB") == 1
            y = F.linear(i[0], i[1], i[2] if len(i) > 2 else None)
        elif op == "Slice":
            y = i[0]
            for start, end, axis, step in zip(*(t.tolist() for t in i[1:5])):
                index = [slice(None)] * y.dim()
                index[axis] = slice(start, min(end, y.shape[axis]), step)
                y = y[tuple(index)]
        elif op == "Pad":
            p = i[1].tolist()
            y = F.pad(i[0], (p[3], p[7], p[2], p[6], p[1], p[5], p[0], p[4]))
        else:
            sys.exit("FAILED: the exported graph has an op the test does not know: " + op)
        env[node.output[0]] = y
    return env[graph.output[0].name].numpy()


def ort_logits(path, images, shape):
    logits_path = path + ".ort.f32"
    images_path = path + ".images.f32"
    images.numpy().astype(np.float32).tofile(images_path)
    run("node", os.path.join(HERE, "ort_logits.js"), ort_dir, path, images_path,
        str(len(images)), *map(str, shape), logits_path)
    return np.fromfile(logits_path, dtype=np.float32).reshape(len(images), -1)


def check(what, got, want):
    diff = float(np.abs(got - want).max())
    spread = float(want.max() - want.min())
    ok = diff <= TOLERANCE * spread
    print("  %-34s max |diff| = %.3g, logit range = %.4g (%.2g of it)%s"
          % (what, diff, spread, diff / spread, "" if ok else "  <-- FAILED"))
    return ok


def rn_body(path):
    """The .rn without its header comment and network name."""
    lines = [l for l in open(path).read().splitlines() if not l.startswith("#")]
    return "\n".join(lines[1:])


failures = 0
if not ort_dir:
    print("ONNX Runtime (onnxruntime-node) not found: the exported graphs are checked with "
          "onnx.checker and torch only (scripts/setup-onnxruntime.sh installs it)")
for seed, (name, build, shape, opset, folded, dynamic) in enumerate(CASES):
    model = randomized(build, seed)
    onnx_path = os.path.join(work, name + ".onnx")
    kwargs = dict(input_names=["x"], output_names=["y"], opset_version=opset,
                  training=torch.onnx.TrainingMode.EVAL if folded
                  else torch.onnx.TrainingMode.PRESERVE)
    if dynamic:
        kwargs["dynamic_axes"] = {"x": {0: "batch"}, "y": {0: "batch"}}
    torch.onnx.export(model, torch.randn(1, *shape), onnx_path, **kwargs)
    bns = sum(n.op_type == "BatchNormalization" for n in onnx.load(onnx_path).graph.node)
    assert (bns == 0) == folded, "%s: expected %s batch norms" % (name, "folded" if folded else "kept")
    print("%s: opset %d, batch norms %s, %s batch" % (
        name, opset, "folded into convs" if folded else "as %d nodes" % bns,
        "symbolic" if dynamic else "fixed"))

    rn, rnw = os.path.join(work, name + ".rn"), os.path.join(work, name + ".rnw")
    run(resnetc, "import", onnx_path, "-o", rn, "--weights-out", rnw)
    torch.manual_seed(100 + seed)
    images = torch.randn(IMAGES, *shape)
    with torch.no_grad():
        want = model(images).numpy()
    got = compiled_logits(name, rn, rnw, images)
    failures += not check("resnetc vs torch:", got, want)

    back = os.path.join(work, name + ".back.onnx")
    run(resnetc, "export", rnw, "--model", rn, "-o", back)
    onnx.checker.check_model(onnx.load(back))
    with torch.no_grad():
        failures += not check("exported ONNX (torch ops) vs torch:",
                              torch_eval_onnx(back, images), want)
    if ort_dir:
        failures += not check("exported ONNX (ONNX Runtime) vs torch:",
                              ort_logits(back, images, shape), want)
    again = os.path.join(work, name + "_again.rn")
    run(resnetc, "import", back, "-o", again)
    if rn_body(again) != rn_body(rn):
        print("  re-importing the exported file gives another .rn  <-- FAILED")
        failures += 1

sys.exit(1 if failures else 0)
