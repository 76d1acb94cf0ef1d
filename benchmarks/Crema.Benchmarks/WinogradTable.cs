using System.Diagnostics;
using System.Globalization;
using Crema.Kernels;
using Crema.Layers;
using Crema.Proto;
using Net = Crema.Nets.Net;

namespace Crema.Benchmarks;

/// <summary>
/// `winograd-table`: 3×3 stride-1 convolutions through ConvolutionLayer's im2col + GEMM path and its Winograd paths
/// (InferenceFrozen, TEST; ConvolutionLayer.WinogradDisabled / ForcedWinogradTile select), interleaved in one process
/// (the order rotated each round), median ms of each.
///   winograd-table layers [--batch 1,10] [--rounds 9] [--only res4,conv5]   the 3×3 layer shapes of VGG16, ResNet-50 and
///       SqueezeNet v1.0 (--only: those whose name contains one of the words):
///       im2col, F(4×4, 3×3) and F(2×2, 3×3) on every shape (one layer per path with the same weights, so no path
///       rebuilds another's transformed weights), and the path ConvolutionLayer's rule picks
///   winograd-table net --model vgg16_deploy [--batch 1] [--rounds 9]   whole Net.Forward(), every layer, im2col vs the rule
///       (benchmarks/nets, TEST, every layer frozen; random He-scaled weights, uniform [0, 1) input)
/// Effective GFLOP/s counts the direct convolution's 2·K·C·9·H·W per image for every path.
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
                Console.WriteLine("layer             batch  im2col ms  F(4,3) ms  F(2,3) ms   F4 x   F2 x  im2col GF/s  F4 GF/s  F2 GF/s  rule");
                Console.WriteLine("                                                          (speedups: median per-round ratio to im2col)");
                foreach (int batch in batches)
                {
                    var only = o.TryGetValue("only", out var words) ? words.Split(',') : null;
                    foreach (var (name, c, k, size) in Layers.Where(l => only is null || only.Any(w => l.Name.Contains(w, StringComparison.Ordinal))))
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
                Console.Error.WriteLine("usage: winograd-table layers [--batch 1,10] [--rounds 9] [--only res4,conv5] | net --model M [--batch 1] [--rounds 9]");
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
        var bottom = new[] { Uniform(new Blob(batch, c, size, size)) };
        // One layer per path (same weights, from the same seed), each keeping its own transformed weights.
        var layers = new ConvolutionLayer[3];
        var tops = new Blob[3][];
        for (int i = 0; i < 3; i++)
        {
            Rng.Seed(1701);
            layers[i] = new ConvolutionLayer(new LayerParameter { Name = name, Type = "Convolution", ConvolutionParam = p }) { Phase = Phase.Test };
            tops[i] = [new Blob()];
            layers[i].SetUp(bottom, tops[i]);
            layers[i].InferenceFrozen = true;
        }
        int[] forced = [0, 4, 2];
        var (ms, ratios) = Interleaved(
            [.. Enumerable.Range(0, 3).Select(i => (Action)(() =>
            {
                ConvolutionLayer.WinogradDisabled = i == 0;
                ConvolutionLayer.ForcedWinogradTile = forced[i];
                layers[i].Forward(bottom, tops[i]);
            }))], rounds);
        ConvolutionLayer.WinogradDisabled = false;
        ConvolutionLayer.ForcedWinogradTile = 0;
        layers[0].Forward(bottom, tops[0]);
        string rule = layers[0].WinogradTile switch { 4 => "F(4,3)", 2 => "F(2,3)", _ => "im2col" };
        double gflop = 2.0 * k * c * 9 * size * size * batch / 1e9;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-17} {batch,5} {ms[0],10:F2} {ms[1],10:F2} {ms[2],10:F2} {ratios[1],6:F2} {ratios[2],6:F2} {gflop / ms[0] * 1e3,12:F0} {gflop / ms[1] * 1e3,8:F0} {gflop / ms[2] * 1e3,8:F0}  {rule}"));
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
        var (ms, ratios) = Interleaved(
            [
                () => { ConvolutionLayer.WinogradDisabled = true; net.Forward(); },
                () => { ConvolutionLayer.WinogradDisabled = false; net.Forward(); },
            ], rounds);
        double im2col = ms[0], wino = ms[1], ratio = ratios[1];
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

    // Median ms of each run (layers frozen throughout, so transformed weights stay cached): one warm-up each, then rounds
    // rotating which goes first. Ratios: run 0's time over run i's, the median of the per-round ratios, steadier than the
    // ratio of medians on a shared machine (the runs of a round see about the same load).
    private static (double[] Ms, double[] Ratios) Interleaved(Action[] runs, int rounds)
    {
        int n = runs.Length;
        var times = new double[n][];
        foreach (var run in runs)
        {
            run();
        }
        for (int j = 0; j < n; j++)
        {
            times[j] = new double[rounds];
        }
        for (int i = 0; i < rounds; i++)
        {
            for (int o = 0; o < n; o++)
            {
                int j = (i + o) % n;
                long t0 = Stopwatch.GetTimestamp();
                runs[j]();
                times[j][i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
        }
        var ms = new double[n];
        var ratios = new double[n];
        for (int j = 0; j < n; j++)
        {
            ratios[j] = times[0].Zip(times[j], (a, b) => a / b).Order().ElementAt(rounds / 2);
            ms[j] = times[j].Order().ElementAt(rounds / 2);
        }
        return (ms, ratios);
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
