using Crema.Nets;
using Crema.Proto;
using static Crema.Nets.NetSpecLayers;

namespace Crema.Examples.NetSpecs;

/// <summary>
/// LeNet and CaffeNet written with <see cref="NetSpec"/>, as pycaffe's examples/pycaffe/caffenet.py and the LeNet
/// notebook do, and checked against the prototxt files Caffe ships.
/// </summary>
public static class NetSpecExample
{
    /// <summary>examples/mnist/lenet_train_test.prototxt: one Data layer per phase, then conv–pool ×2, ip–relu–ip, accuracy and loss.</summary>
    public static NetSpec LeNet(string trainSource = "examples/mnist/mnist_train_lmdb", string testSource = "examples/mnist/mnist_test_lmdb")
    {
        var n = new NetSpec { Name = "LeNet" };
        // Two layers produce "data" and "label", one per phase: assigning the names again adds the TEST one.
        n["data", "label"] = L.Data(name: "mnist", include: new { phase = Phase.Train }, transformParam: new { scale = 0.00390625 },
            source: trainSource, batchSize: 64, backend: "LMDB", ntop: 2);
        n["data", "label"] = L.Data(name: "mnist", include: new { phase = Phase.Test }, transformParam: new { scale = 0.00390625 },
            source: testSource, batchSize: 100, backend: "LMDB", ntop: 2);

        // lr_mult 1 for weights, 2 for biases; xavier weights, constant (0) biases.
        object[] learning = [new { lrMult = 1 }, new { lrMult = 2 }];
        n["conv1"] = L.Convolution(n["data"], param: learning, numOutput: 20, kernelSize: 5, stride: 1,
            weightFiller: new FillerParameter { Type = "xavier" }, biasFiller: new { type = "constant" });
        n["pool1"] = L.Pooling(n["conv1"], pool: "MAX", kernelSize: 2, stride: 2);
        n["conv2"] = L.Convolution(n["pool1"], param: learning, numOutput: 50, kernelSize: 5, stride: 1,
            weightFiller: new { type = "xavier" }, biasFiller: new { type = "constant" });
        n["pool2"] = L.Pooling(n["conv2"], pool: PoolingParameter.Types.PoolMethod.Max, kernelSize: 2, stride: 2);
        n["ip1"] = L.InnerProduct(n["pool2"], param: learning, numOutput: 500,
            weightFiller: new { type = "xavier" }, biasFiller: new { type = "constant" });
        n["relu1"] = L.ReLU(n["ip1"], inPlace: true); // layer "relu1", top and bottom "ip1"
        n["ip2"] = L.InnerProduct(n["relu1"], param: learning, numOutput: 10,
            weightFiller: new { type = "xavier" }, biasFiller: new { type = "constant" });
        n["accuracy"] = L.Accuracy(n["ip2"], n["label"], include: new { phase = Phase.Test });
        n["loss"] = L.SoftmaxWithLoss(n["ip2"], n["label"]);
        return n;
    }

    /// <summary>
    /// models/bvlc_reference_caffenet: <paramref name="deploy"/> false gives train_val.prototxt (Data layers, fillers,
    /// lr/decay multipliers, accuracy and loss), true gives deploy.prototxt (an Input of 10×3×227×227, ending in prob).
    /// </summary>
    public static NetSpec CaffeNet(bool deploy)
    {
        var n = new NetSpec { Name = "CaffeNet" };
        if (deploy)
        {
            n["data"] = L.Input(inputParam: new { shape = new { dim = new[] { 10, 3, 227, 227 } } });
        }
        else
        {
            foreach (var (phase, mirror, source, batch) in new[]
            {
                (Phase.Train, true, "examples/imagenet/ilsvrc12_train_lmdb", 256),
                (Phase.Test, false, "examples/imagenet/ilsvrc12_val_lmdb", 50),
            })
            {
                n["data", "label"] = L.Data(include: new { phase }, source: source, batchSize: batch, backend: "LMDB", ntop: 2,
                    transformParam: new { mirror, cropSize = 227, meanFile = "data/ilsvrc12/imagenet_mean.binaryproto" });
            }
        }

        ConvRelu(n, deploy, "1", n["data"], kernel: 11, outputs: 96, stride: 4);
        n["pool1"] = MaxPool(n["conv1"]);
        n["norm1"] = Lrn(n["pool1"]);
        ConvRelu(n, deploy, "2", n["norm1"], kernel: 5, outputs: 256, pad: 2, group: 2, bias: 1);
        n["pool2"] = MaxPool(n["conv2"]);
        n["norm2"] = Lrn(n["pool2"]);
        ConvRelu(n, deploy, "3", n["norm2"], kernel: 3, outputs: 384, pad: 1);
        ConvRelu(n, deploy, "4", n["conv3"], kernel: 3, outputs: 384, pad: 1, group: 2, bias: 1);
        ConvRelu(n, deploy, "5", n["conv4"], kernel: 3, outputs: 256, pad: 1, group: 2, bias: 1);
        n["pool5"] = MaxPool(n["conv5"]);
        FullyConnectedRelu(n, deploy, "6", n["pool5"], 4096, std: 0.005, bias: 1);
        n["drop6"] = L.Dropout(n["fc6"], inPlace: true, dropoutRatio: 0.5);
        FullyConnectedRelu(n, deploy, "7", n["fc6"], 4096, std: 0.005, bias: 1);
        n["drop7"] = L.Dropout(n["fc7"], inPlace: true, dropoutRatio: 0.5);
        n["fc8"] = NetSpecLayers.Layer("InnerProduct", [n["fc7"]], Learned(deploy, new() { ["numOutput"] = 1000 }, std: 0.01, bias: 0));
        if (deploy)
        {
            n["prob"] = L.Softmax(n["fc8"]);
        }
        else
        {
            n["accuracy"] = L.Accuracy(n["fc8"], n["label"], include: new { phase = Phase.Test });
            n["loss"] = L.SoftmaxWithLoss(n["fc8"], n["label"]);
        }
        return n;
    }

    // convN + reluN (in place). Only the fields the original file sets are given, so that the parsed nets compare equal.
    private static void ConvRelu(NetSpec n, bool deploy, string index, NetSpecTop bottom, int kernel, int outputs, int stride = 1, int pad = 0, int group = 1, float bias = 0)
    {
        var args = new Dictionary<string, object?> { ["numOutput"] = outputs };
        if (pad > 0)
        {
            args["pad"] = pad;
        }
        args["kernelSize"] = kernel;
        if (group > 1)
        {
            args["group"] = group;
        }
        if (stride > 1)
        {
            args["stride"] = stride;
        }
        n["conv" + index] = NetSpecLayers.Layer("Convolution", [bottom], Learned(deploy, args, std: 0.01, bias));
        n["relu" + index] = L.ReLU(n["conv" + index], inPlace: true);
    }

    private static void FullyConnectedRelu(NetSpec n, bool deploy, string index, NetSpecTop bottom, int outputs, double std, float bias)
    {
        n["fc" + index] = NetSpecLayers.Layer("InnerProduct", [bottom], Learned(deploy, new() { ["numOutput"] = outputs }, std, bias));
        n["relu" + index] = L.ReLU(n["fc" + index], inPlace: true);
    }

    // train_val adds lr/decay multipliers (weights 1/1, biases 2/0) and fillers; deploy has neither.
    private static Dictionary<string, object?> Learned(bool deploy, Dictionary<string, object?> args, double std, float bias)
    {
        if (!deploy)
        {
            args["param"] = new[] { new { lrMult = 1, decayMult = 1 }, new { lrMult = 2, decayMult = 0 } };
            args["weightFiller"] = new { type = "gaussian", std };
            args["biasFiller"] = new { type = "constant", value = bias };
        }
        return args;
    }

    private static NetSpecTop MaxPool(NetSpecTop bottom) => L.Pooling(bottom, pool: "MAX", kernelSize: 3, stride: 2);

    private static NetSpecTop Lrn(NetSpecTop bottom) => L.LRN(bottom, localSize: 5, alpha: 0.0001, beta: 0.75);

    /// <summary>Prints the three nets, writes them to examples/netspec/out/, and compares each with Caffe's file; true when all are equal.</summary>
    public static bool Run(string repoRoot, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(repoRoot);
        ArgumentNullException.ThrowIfNull(output);
        string outDir = Path.Combine(repoRoot, "examples", "netspec", "out");
        Directory.CreateDirectory(outDir);
        var nets = new (string Name, NetSpec Spec, string Reference)[]
        {
            ("lenet_train_test", LeNet(), Path.Combine(repoRoot, "examples", "mnist", "lenet_train_test.prototxt")),
            ("caffenet_train_val", CaffeNet(deploy: false), Path.Combine(repoRoot, "examples", "netspec", "caffenet_train_val.prototxt")),
            ("caffenet_deploy", CaffeNet(deploy: true), Path.Combine(repoRoot, "examples", "feature_extraction", "caffenet_deploy.prototxt")),
        };
        bool allEqual = true;
        foreach (var (name, spec, reference) in nets)
        {
            string text = spec.ToString();
            string file = Path.Combine(outDir, name + ".prototxt");
            ProtoFiles.WriteTextAtomic(spec.ToProto(), file);
            if (name == "lenet_train_test")
            {
                output.WriteLine(text);
            }
            bool equal = ProtoFiles.ReadNetText(file).Equals(ProtoFiles.ReadNetText(reference));
            allEqual &= equal;
            int layers = spec.ToProto().Layer.Count;
            output.WriteLine($"{name}: {layers} layers, written to examples/netspec/out/{name}.prototxt; equal to {Path.GetRelativePath(repoRoot, reference)} after parsing: {(equal ? "yes" : "NO")}");
        }
        return allEqual;
    }
}
