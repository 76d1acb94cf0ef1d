using System.Diagnostics;
using System.Globalization;
using Crema.Kernels;
using Crema.Layers;
using Crema.Proto;
using Net = Crema.Nets.Net;

namespace Crema.Benchmarks;

/// <summary>
/// `winograd-table`: 3×3 stride-1 convolutions through ConvolutionLayer's im2col + GEMM path and its Winograd path
/// (InferenceFrozen, TEST; ConvolutionLayer.WinogradDisabled toggles), interleaved in one process (order alternated each round), median ms of each.
///   winograd-table layers [--batch 1,10] [--rounds 9]   the 3×3 layer shapes of VGG16, ResNet-50 and SqueezeNet v1.0
///   winograd-table net --model vgg16_deploy [--batch 1] [--rounds 9]   whole Net.Forward(), every layer
///       (benchmarks/nets, TEST, every layer frozen; random He-scaled weights, uniform [0, 1) input)
/// Effective GFLOP/s counts the direct convolution's 2·K·C·9·H·W per image for both paths.
/// </summary>
internal static class WinogradTable
{
    // (name, channels, out channels, spatial size, pad): every distinct stride-1 3×3 layer shape of the three nets.
    private static readonly (string Name, int C, int K, int Size)[] Layers =
    [
        ("vgg conv1_1", 3, 64, 224), ("vgg conv1_2", 64, 64, 224), ("vgg conv2_1", 64, 128, 112), ("vgg conv2_2", 128, 128, 112),
        ("vgg conv3_1", 128, 256, 56), ("vgg conv3_2", 256, 256, 56), ("vgg conv4_1", 256, 512, 28), ("vgg conv4_2", 512, 512, 28),
        ("vgg conv5_x", 512, 512, 14),
        ("res2 3x3", 64, 64, 56), ("res3 3x3", 128, 128, 28), ("res4 3x3", 256, 256, 14), ("res5 3x3", 512, 512, 7),
        ("sqz fire2 e3", 16, 64, 55), ("sqz fire4 e3", 32, 128, 55), ("sqz fire5 e3", 32, 128, 27), ("sqz fire6 e3", 48, 192, 27),
        ("sqz fire8 e3", 64, 256, 27), ("sqz fire9 e3", 64, 256, 13),
    ];

    public static int Run(string[] args)
    {
        Log.Quiet = true;
        string mode = args.Length > 0 ? args[0] : "";
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            o[args[i].TrimStart('-')] = args[i + 1];
        }
        int rounds = o.TryGetValue("rounds", out var r) ? int.Parse(r, CultureInfo.InvariantCulture) : 9;
        var batches = (o.TryGetValue("batch", out var b) ? b : "1,10").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Console.WriteLine($"# {Environment.ProcessorCount} threads, GEMM {Gemm.Path}, Winograd {Winograd.Path}, load average {LoadAverage()}");
        switch (mode)
        {
            case "layers":
                Console.WriteLine("layer             batch  im2col ms  winograd ms  speedup (median per-round ratio)  im2col GF/s  winograd GF/s");
                foreach (int batch in batches)
                {
                    foreach (var (name, c, k, size) in Layers)
                    {
                        LayerRow(name, batch, c, k, size, rounds);
                    }
                }
                return 0;
            case "net" when o.TryGetValue("model", out var model):
                foreach (int batch in batches)
                {
                    NetRow(model, batch, rounds);
                }
                return 0;
            default:
                Console.Error.WriteLine("usage: winograd-table layers [--batch 1,10] [--rounds 9] | net --model M [--batch 1] [--rounds 9]");
                return 2;
        }
    }

    private static void LayerRow(string name, int batch, int c, int k, int size, int rounds)
    {
        var p = new ConvolutionParameter
        {
            NumOutput = (uint)k, WeightFiller = new FillerParameter { Type = "gaussian", Std = MathF.Sqrt(2f / (9 * c)) },
            BiasFiller = new FillerParameter { Type = "constant", Value = 0.1f },
        };
        p.KernelSize.Add(3);
        p.Pad.Add(1);
        var layer = new ConvolutionLayer(new LayerParameter { Name = name, Type = "Convolution", ConvolutionParam = p }) { Phase = Phase.Test };
        var bottom = new[] { Uniform(new Blob(batch, c, size, size)) };
        var top = new[] { new Blob() };
        layer.SetUp(bottom, top);
        layer.InferenceFrozen = true;
        var (im2col, wino, ratio) = Interleaved(() => layer.Forward(bottom, top), rounds);
        double gflop = 2.0 * k * c * 9 * size * size * batch / 1e9;
        // Where ConvolutionLayer's rule keeps im2col, both columns time im2col.
        string path = layer.HasWinogradCache ? "" : "  (rule: im2col)";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-17} {batch,5} {im2col,10:F2} {wino,12:F2} {ratio,8:F2} {gflop / im2col * 1e3,12:F0} {gflop / wino * 1e3,14:F0}{path}"));
    }

    private static void NetRow(string model, int batch, int rounds)
    {
        var param = ProtoFiles.ReadNetText(NetFiles.Path(model));
        var net = new Net(param, Phase.Test);
        var input = net.InputBlobs[0];
        input.Reshape([batch, .. input.Shape.Skip(1)]);
        net.Reshape();
        var rng = new Random(1701);
        foreach (var layer in net.Layers)
        {
            foreach (var blob in layer.Blobs)
            {
                // Weights He-scaled uniform; vectors (biases, BatchNorm mean/variance/factor, Scale) in [0.5, 1.5) so every
                // variance is positive.
                float std = MathF.Sqrt(2f / Math.Max(1, blob.CountFrom(1)));
                var d = blob.Data;
                for (int i = 0; i < d.Length; i++)
                {
                    d[i] = blob.NumAxes > 1 ? std * ((2 * rng.NextSingle()) - 1) * 1.7f : 0.5f + rng.NextSingle();
                }
            }
        }
        Uniform(net.InputBlobs[0]);
        foreach (var layer in net.Layers)
        {
            layer.InferenceFrozen = true;
        }
        var (im2col, wino, ratio) = Interleaved(() => net.Forward(), rounds);
        // How far the Winograd net's logits move: max |Δ| over max |y| of the last layer's input (before a saturating softmax).
        ConvolutionLayer.WinogradDisabled = true;
        net.Forward();
        var logits = net.BottomsOf(net.Layers.Count - 1)[0];
        var reference = logits.Data.ToArray();
        ConvolutionLayer.WinogradDisabled = false;
        net.Forward();
        var output = logits.Data;
        double scale = 0, diff = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(reference[i]));
            diff = Math.Max(diff, Math.Abs(reference[i] - output[i]));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model} batch {batch}: im2col {im2col:F1} ms, winograd {wino:F1} ms, speedup {ratio:F2} (median of {rounds} rounds); logits max |Δ| {diff / scale:G2} of max |y|"));
    }

    // Median ms of run() with the Winograd path off and on (layers frozen either way, so the transformed weights stay
    // cached): one warm-up each, then rounds alternating which goes first. Ratio: the median of the per-round ratios, steadier
    // than the ratio of medians on a shared machine (both runs of a round see about the same load).
    private static (double Off, double On, double Ratio) Interleaved(Action run, int rounds)
    {
        var off = new double[rounds];
        var on = new double[rounds];
        ConvolutionLayer.WinogradDisabled = true;
        run();
        ConvolutionLayer.WinogradDisabled = false;
        run();
        for (int i = 0; i < rounds; i++)
        {
            for (int j = 0; j < 2; j++)
            {
                bool frozen = (i + j) % 2 == 1;
                ConvolutionLayer.WinogradDisabled = !frozen;
                long t0 = Stopwatch.GetTimestamp();
                run();
                double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                (frozen ? on : off)[i] = ms;
            }
        }
        var ratios = off.Zip(on, (a, b) => a / b).Order().ToArray();
        Array.Sort(off);
        Array.Sort(on);
        return (off[rounds / 2], on[rounds / 2], ratios[rounds / 2]);
    }

    private static Blob Uniform(Blob blob)
    {
        var rng = new Random(1702);
        var d = blob.Data;
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = rng.NextSingle();
        }
        return blob;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
