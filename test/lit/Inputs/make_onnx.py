"""Writes a small ONNX ResNet with python3-onnx's helper API, or a variant of
it that resnetc import must refuse: the inputs of test/lit/Tools/*onnx*.

usage: make_onnx.py VARIANT OUT.onnx

The network: a 2x8x8 input, a stem conv whose batch norm the exporter folded
(a conv bias), a basic unit with an identity shortcut, a down-sampling basic
unit (projection, or option A's Slice + Pad), pooling, Flatten and Gemm.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

variant, out = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
nodes, inits = [], []


def const(name, value):
    inits.append(numpy_helper.from_array(np.asarray(value), name))
    return name


def node(op, inputs, name, **attrs):
    nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
    return name


def conv(x, name, cout, cin, k, stride=1, bias=False, **attrs):
    w = const(name + ".weight", rng.normal(0, 0.4, (cout, cin, k, k)).astype(np.float32))
    inputs = [x, w]
    if bias:
        inputs.append(const(name + ".bias", rng.normal(0, 0.1, cout).astype(np.float32)))
    attrs.setdefault("pads", [k // 2] * 4)
    return node("Conv", inputs, name, kernel_shape=[k, k], strides=[stride, stride], **attrs)


def bn(x, name, c):
    params = [rng.uniform(0.5, 1.5, c), rng.normal(0, 0.1, c), rng.normal(0, 0.1, c),
              rng.uniform(0.5, 2.0, c)]
    names = [const(name + "." + p, v.astype(np.float32))
             for p, v in zip(["weight", "bias", "mean", "var"], params)]
    return node("BatchNormalization", [x] + names, name, epsilon=1e-5)


def relu(x, name):
    return node("Sigmoid" if variant == "sigmoid" and name == "stem/relu" else "Relu", [x], name)


# The stem: conv with a bias (batch norm folded), relu.
h = relu(conv("x", "stem/conv", 4, 2, 3, bias=True), "stem/relu")

# A basic unit, identity shortcut.
conv1 = dict(name="layer1/conv1", cout=4, cin=4, k=3)
if variant == "groups":
    conv1.update(cin=2, group=2)
if variant == "dilation":
    conv1.update(dilations=[2, 2], pads=[2, 2, 2, 2])
if variant == "channels":
    conv1.update(cin=3)
b = relu(bn(conv(h, **conv1), "layer1/bn1", 4), "layer1/relu1")
b = bn(conv(b, "layer1/conv2", 4, 4, 3), "layer1/bn2", 4)
if variant == "add-shapes":
    b = conv(b, "layer1/conv3", 4, 4, 3, stride=2, pads=[1, 1, 1, 1])
if variant == "add-constant":
    h = node("Add", [h, const("offset", np.ones((1, 4, 1, 1), np.float32))], "layer1/add")
else:
    s = node("Add", [b, h], "layer1/add")
    if variant == "fork3":
        s = node("Add", [s, h], "layer1/add2")
    h = relu(s, "layer1/relu2")

# A down-sampling basic unit: 4 -> 8 channels, 8x8 -> 4x4.
b = relu(bn(conv(h, "layer2/conv1", 8, 4, 3, stride=2), "layer2/bn1", 8), "layer2/relu1")
b = bn(conv(b, "layer2/conv2", 8, 8, 3), "layer2/bn2", 8)
if variant in ("option-a", "bad-pad"):
    starts, ends = const("sc.starts", [0, 0]), const("sc.ends", [2**62, 2**62])
    axes, steps = const("sc.axes", [2, 3]), const("sc.steps", [2, 2])
    sub = node("Slice", [h, starts, ends, axes, steps], "layer2/shortcut/slice")
    pads = [0, 2, 0, 0, 0, 2, 0, 0] if variant == "option-a" else [0, 0, 0, 0, 0, 4, 0, 0]
    sc = node("Pad", [sub, const("sc.pads", pads)], "layer2/shortcut/pad", mode="constant")
else:
    sc = bn(conv(h, "layer2/downsample/conv", 8, 4, 1, stride=2, pads=[0, 0, 0, 0]),
            "layer2/downsample/bn", 8)
h = relu(node("Add", [b, sc], "layer2/add"), "layer2/relu2")

# The head.
h = node("Flatten", [node("GlobalAveragePool", [h], "pool")], "flatten", axis=1)
fc_in = 7 if variant == "gemm" else 8
fc = [const("fc.weight", rng.normal(0, 0.3, (3, fc_in)).astype(np.float32)),
      const("fc.bias", rng.normal(0, 0.1, 3).astype(np.float32))]
node("Gemm", [h] + fc, "y", transB=1)

graph = helper.make_graph(
    nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 8, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], inits)
opset = 8 if variant == "opset8" else 13
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
model.ir_version = 7
onnx.save(model, out)
