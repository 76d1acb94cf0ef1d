"""Rebuilds a Caffe net in PyTorch from Crema.Inference's graph.json + weights.bin (same architecture, same weights),
checks PyTorch's output against Crema's on the same input, and exports DIR/model.onnx for ONNX Runtime.

    /usr/bin/python3 benchmarks/peers/caffe_to_onnx.py DIR      (Debian python3-torch 1.13)
Layers: Input, Convolution, ReLU, Pooling (MAX/AVE, ceil or floor, global), LRN (across channels, exported as ONNX LRN),
InnerProduct, Concat, Softmax, BatchNorm + Scale (TEST statistics), Eltwise (SUM/PROD/MAX), Dropout and Split (identities).
"""
import json, os, sys
import numpy as np
import torch
import torch.nn.functional as F


class LRN(torch.autograd.Function):
    """Caffe's LRN across channels: x / (k + alpha/n * sum of squares over n channels)^beta; one ONNX LRN node."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class CaffeNet(torch.nn.Module):
    def __init__(self, graph, weights):
        super().__init__()
        self.graph = graph
        self.params = torch.nn.ParameterList()
        self.index = {}
        for layer in graph["layers"]:
            tensors = []
            for b in layer["blobs"]:
                n = int(np.prod(b["shape"])) if b["shape"] else 1
                t = torch.from_numpy(weights[b["offset"]:b["offset"] + n].reshape(b["shape"]).copy())
                tensors.append(t)
            if layer["type"] == "BatchNorm":
                factor = float(tensors[2].reshape(-1)[0]) if len(tensors) > 2 else 1.0
                factor = 0.0 if factor == 0 else 1.0 / factor
                tensors = [tensors[0] * factor, tensors[1] * factor]
            self.index[layer["name"]] = len(self.params)
            for t in tensors:
                self.params.append(torch.nn.Parameter(t, requires_grad=False))

    def blobs(self, layer):
        i = self.index[layer["name"]]
        return [self.params[i + j] for j in range(len(layer["blobs"]) if layer["type"] != "BatchNorm" else 2)]

    def forward(self, x):
        env = {self.graph["input"]: x}
        for layer in self.graph["layers"]:
            t = layer["type"]
            if t == "Input":
                continue
            xs = [env[b] for b in layer["bottoms"]]
            w = self.blobs(layer)
            if t == "Convolution":
                y = F.conv2d(xs[0], w[0], w[1] if layer["bias_term"] else None, tuple(layer["stride"]), tuple(layer["pad"]),
                             layer["dilation"], layer["group"])
            elif t == "ReLU":
                s = layer["negative_slope"]
                y = F.relu(xs[0]) if s == 0 else F.leaky_relu(xs[0], s)
            elif t == "Pooling":
                kernel = tuple(xs[0].shape[2:]) if layer["global"] else tuple(layer["kernel"])
                stride, pad = (1, 1) if layer["global"] else tuple(layer["stride"]), tuple(layer["pad"])
                if layer["pool"] == "MAX":
                    y = F.max_pool2d(xs[0], kernel, stride, pad, ceil_mode=layer["ceil"])
                else:
                    y = F.avg_pool2d(xs[0], kernel, stride, pad, ceil_mode=layer["ceil"], count_include_pad=True)
            elif t == "LRN":
                if not layer["across_channels"]:
                    sys.exit("LRN WITHIN_CHANNEL is not supported here")
                y = LRN.apply(xs[0], layer["local_size"], layer["alpha"], layer["beta"], layer["k"])
            elif t == "InnerProduct":
                flat = torch.flatten(xs[0], layer["axis"] or 1)
                y = flat @ w[0] if layer["transpose"] else F.linear(flat, w[0])
                if len(w) > 1:
                    y = y + w[1]
            elif t == "Concat":
                y = torch.cat(xs, layer["axis"])
            elif t == "Softmax":
                y = F.softmax(xs[0], layer["axis"])
            elif t == "BatchNorm":
                y = F.batch_norm(xs[0], w[0], w[1], training=False, eps=layer["eps"])
            elif t == "Scale":
                shape = (1, -1) + (1,) * (xs[0].dim() - 2)
                y = xs[0] * w[0].reshape(shape)
                if layer["bias_term"]:
                    y = y + w[1].reshape(shape)
            elif t == "Eltwise":
                op, coeffs = layer["operation"], layer["coeffs"]
                if op == "SUM":
                    y = xs[0] * (coeffs[0] if coeffs else 1)
                    for i, b in enumerate(xs[1:], 1):
                        y = y + b * (coeffs[i] if coeffs else 1)
                elif op == "PROD":
                    y = xs[0]
                    for b in xs[1:]:
                        y = y * b
                else:
                    y = xs[0]
                    for b in xs[1:]:
                        y = torch.maximum(y, b)
            elif t in ("Dropout", "Split"):
                for top in layer["tops"]:
                    env[top] = xs[0]
                continue
            else:
                sys.exit(f"layer type {t} ({layer['name']}) is not supported by caffe_to_onnx.py")
            env[layer["tops"][0]] = y
        return env[self.graph["output"]]


def main():
    d = sys.argv[1]
    torch.set_num_threads(2)
    graph = json.load(open(os.path.join(d, "graph.json")))
    weights = np.fromfile(os.path.join(d, "weights.bin"), dtype=np.float32)
    x = torch.from_numpy(np.fromfile(os.path.join(d, "input.bin"), dtype=np.float32).reshape(graph["input_shape"]))
    crema = np.fromfile(os.path.join(d, "crema_output.bin"), dtype=np.float32)
    net = CaffeNet(graph, weights).eval()
    with torch.no_grad():
        y = net(x).numpy().reshape(-1)
    diff = float(np.max(np.abs(y - crema)))
    print(f"check pytorch: max |pytorch - crema| = {diff:.2e} over {y.size} outputs ({'ok' if diff <= 1e-4 else 'MISMATCH'})")
    torch.onnx.export(net, x, os.path.join(d, "model.onnx"), input_names=["data"], output_names=["output"], opset_version=13)
    print(f"exported {os.path.join(d, 'model.onnx')}")


if __name__ == "__main__":
    main()
