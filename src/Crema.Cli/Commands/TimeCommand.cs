using Crema.Proto;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Crema.Nets;

namespace Crema.Cli.Commands;

/// <summary>
/// `crema time -model M [-iterations N] [-weights W] [-forward_only [-no_optimize]] [-input noise|zeros]`: Caffe's layer-by-layer
/// forward/backward timing, with medians beside the means. Forward-only at TEST times the net as deployed: after
/// Net.OptimizeForInference(InferenceBlobs.OutputsOnly) (folded and fused layers show 0 ms), unless -no_optimize.
/// </summary>
internal static class TimeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var iterations = CommonOptions.Iterations(50);
        var phase = CommonOptions.PhaseOption("TRAIN");
        var level = CommonOptions.Level();
        var stage = CommonOptions.Stage();
        var log = CommonOptions.LogFile();
        var gpu = CommonOptions.Gpu();
        var weights = CommonOptions.Weights();
        var forwardOnly = new Option<bool>("--forward_only") { Description = "Time forward passes only (Caffe's time always runs backward too)." };
        var noOptimize = new Option<bool>("--no_optimize")
        {
            Description = "With -forward_only at TEST: time the net as written, without OptimizeForInference (BatchNorm/Scale folding, ReLU and residual-sum fusion).",
        };
        var input = new Option<string>("--input")
        {
            Description = "What Input layers hold while timing: noise (Gaussian, seeded; default) or zeros (as caffe time).",
            DefaultValueFactory = _ => "noise",
        };
        var command = new Command("time", "Benchmark model execution time.") { model, iterations, phase, level, stage, weights, forwardOnly, noOptimize, input, log, gpu };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            CommonOptions.OpenLog(r.GetValue(log));
            string modelFile = r.GetValue(model) is { Length: > 0 } m ? m : throw new CremaException("Need a model definition to time (-model file.prototxt).");
            int iters = r.GetValue(iterations);
            if (iters <= 0)
            {
                throw new CremaException($"-iterations must be positive (got {iters})");
            }
            string inputMode = r.GetValue(input)!;
            bool noise = inputMode.ToUpperInvariant() switch
            {
                "NOISE" => true,
                "ZEROS" => false,
                _ => throw new CremaException($"-input must be noise or zeros (got '{inputMode}')"),
            };
            Log.Info("Use CPU.");
            using var net = new Net(ProtoFiles.ReadNetText(modelFile), CommonOptions.ParsePhase(r.GetValue(phase)!),
                Path.GetDirectoryName(Path.GetFullPath(modelFile)), r.GetValue(level), CommonOptions.Stages(r.GetValue(stage)));
            if (r.GetValue(weights) is { Length: > 0 } weightFile)
            {
                net.CopyTrainedLayersFrom(weightFile);
            }
            if (noise)
            {
                FillInputsWithNoise(net);
            }
            if (r.GetValue(forwardOnly) && net.Phase == Phase.Test && !r.GetValue(noOptimize))
            {
                net.OptimizeForInference(InferenceBlobs.OutputsOnly);
            }
            Run(net, iters, r.GetValue(forwardOnly));
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Input tops holding more than one value per item (images, features) get seeded Gaussian noise: all-zero input makes
    /// max pooling, ReLU and branchy kernels look cheaper than on real data. Tops of one value per item (labels) keep 0,
    /// a valid class for every loss and accuracy layer.
    /// </summary>
    internal static void FillInputsWithNoise(Net net)
    {
        var random = new Random(1701);
        foreach (var blob in net.InputBlobs)
        {
            if (blob.NumAxes == 0 || blob.Count <= blob.Shape[0])
            {
                continue;
            }
            var data = blob.Data;
            for (int i = 0; i < data.Length; i += 2)
            {
                // Box-Muller: two N(0, 1) samples per pair of uniforms.
                double u = 1.0 - random.NextDouble(), v = random.NextDouble();
                double radius = Math.Sqrt(-2.0 * Math.Log(u));
                data[i] = (float)(radius * Math.Cos(2 * Math.PI * v));
                if (i + 1 < data.Length)
                {
                    data[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * v));
                }
            }
        }
    }

    internal static void Run(Net net, int iters, bool forwardOnly = false)
    {
        Log.Info("Performing Forward");
        float initialLoss = net.Forward();
        Log.Info($"Initial loss: {Log.Num(initialLoss)}");
        if (!forwardOnly)
        {
            Log.Info("Performing Backward");
            for (int i = net.Layers.Count - 1; i >= 0; i--)
            {
                net.Layers[i].Backward(net.TopsOf(i), net.BottomNeedsBackward(i), net.BottomsOf(i));
            }
        }

        var layers = net.Layers;
        // Ticks per iteration and layer, for the medians; [iteration, layer].
        var forwardTicks = new long[iters, layers.Count];
        var backwardTicks = new long[iters, layers.Count];
        var forwardPass = new long[iters];
        var backwardPass = new long[iters];
        var bothPass = new long[iters];
        Log.Info("*** Benchmark begins ***");
        Log.Info($"Testing for {iters} iterations{(forwardOnly ? " (forward only)" : "")}.");
        var total = Stopwatch.StartNew();
        for (int j = 0; j < iters; j++)
        {
            long iterStart = Stopwatch.GetTimestamp();
            for (int i = 0; i < layers.Count; i++)
            {
                long t = Stopwatch.GetTimestamp();
                layers[i].Forward(net.BottomsOf(i), net.TopsOf(i));
                forwardTicks[j, i] = Stopwatch.GetTimestamp() - t;
            }
            long mid = Stopwatch.GetTimestamp();
            forwardPass[j] = mid - iterStart;
            if (!forwardOnly)
            {
                for (int i = layers.Count - 1; i >= 0; i--)
                {
                    long t = Stopwatch.GetTimestamp();
                    // As `caffe time`: every layer runs backward (parameter gradients even in deploy nets), bottoms only where needed.
                    layers[i].Backward(net.TopsOf(i), net.BottomNeedsBackward(i), net.BottomsOf(i));
                    backwardTicks[j, i] = Stopwatch.GetTimestamp() - t;
                }
            }
            long end = Stopwatch.GetTimestamp();
            backwardPass[j] = end - mid;
            bothPass[j] = end - iterStart;
            Log.Info(forwardOnly
                ? $"Iteration: {j + 1} forward time: {Log.Num(Ms(end - iterStart))} ms."
                : $"Iteration: {j + 1} forward-backward time: {Log.Num(Ms(end - iterStart))} ms.");
        }
        total.Stop();
        var forwardMean = new double[layers.Count];
        var backwardMean = new double[layers.Count];
        Log.Info("Average time per layer: ");
        for (int i = 0; i < layers.Count; i++)
        {
            string name = layers[i].Name.PadLeft(10);
            forwardMean[i] = Mean(forwardTicks, i);
            Log.Info($"{name}\tforward: {Log.Num(forwardMean[i])} ms (median {Log.Num(Median(forwardTicks, i))} ms).");
            if (!forwardOnly)
            {
                backwardMean[i] = Mean(backwardTicks, i);
                Log.Info($"{name}\tbackward: {Log.Num(backwardMean[i])} ms (median {Log.Num(Median(backwardTicks, i))} ms).");
            }
        }
        // A separate block, so tools that parse Caffe's per-layer lines above still read them unchanged.
        Log.Info("GFLOP/s per layer:");
        for (int i = 0; i < layers.Count; i++)
        {
            double flop = ForwardFlop(net, i);
            if (flop <= 0)
            {
                continue;
            }
            double fwd = flop / forwardMean[i] / 1e6;
            string line = $"{layers[i].Name.PadLeft(10)}\tforward: {fwd.ToString("F1", CultureInfo.InvariantCulture)} GFLOP/s";
            if (!forwardOnly)
            {
                // Backward: the weight gradient always, the bottom gradient only where it is propagated (another forward's worth each).
                double backwardFlop = flop * (1 + (net.BottomNeedsBackward(i).Count > 0 && net.BottomNeedsBackward(i)[0] ? 1 : 0));
                line += $"\tbackward: {(backwardFlop / backwardMean[i] / 1e6).ToString("F1", CultureInfo.InvariantCulture)} GFLOP/s";
            }
            Log.Info(line);
        }
        Log.Info($"Average Forward pass: {Log.Num(Ms(forwardPass.Sum()) / iters)} ms.");
        if (!forwardOnly)
        {
            Log.Info($"Average Backward pass: {Log.Num(Ms(backwardPass.Sum()) / iters)} ms.");
            Log.Info($"Average Forward-Backward: {Log.Num(total.Elapsed.TotalMilliseconds / iters)} ms.");
        }
        Log.Info($"Median Forward pass: {Log.Num(Ms(Median(forwardPass)))} ms.");
        if (!forwardOnly)
        {
            Log.Info($"Median Backward pass: {Log.Num(Ms(Median(backwardPass)))} ms.");
            Log.Info($"Median Forward-Backward: {Log.Num(Ms(Median(bothPass)))} ms.");
        }
        Log.Info($"Total Time: {Log.Num(total.Elapsed.TotalMilliseconds)} ms.");
        Log.Info("*** Benchmark ends ***");
    }

    private static double Mean(long[,] ticks, int layer)
    {
        long sum = 0;
        for (int j = 0; j < ticks.GetLength(0); j++)
        {
            sum += ticks[j, layer];
        }
        return Ms(sum) / ticks.GetLength(0);
    }

    private static double Median(long[,] ticks, int layer)
    {
        var column = new long[ticks.GetLength(0)];
        for (int j = 0; j < column.Length; j++)
        {
            column[j] = ticks[j, layer];
        }
        return Ms(Median(column));
    }

    /// <summary>The median (mean of the middle two for an even count); sorts a copy.</summary>
    internal static double Median(long[] values)
    {
        var sorted = (long[])values.Clone();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + (double)sorted[n / 2]) / 2;
    }

    // Multiply-adds × 2 of one forward: every weight meets every output position (Convolution), every input position
    // (Deconvolution) or every row (InnerProduct). 0 for other layers.
    internal static double ForwardFlop(Net net, int i)
    {
        var layer = net.Layers[i];
        if (layer.Blobs.Count == 0)
        {
            return 0;
        }
        double weights = layer.Blobs[0].Count;
        var bottom = net.BottomsOf(i)[0];
        var top = net.TopsOf(i)[0];
        switch (layer.Type)
        {
            case "Convolution":
            case "Deconvolution":
            {
                var sides = layer.Type == "Convolution" ? top : bottom;
                int axis = layer.Param.ConvolutionParam?.Axis ?? 1;
                axis = sides.CanonicalAxis(axis);
                double positions = (double)sides.CountRange(0, axis) * sides.CountFrom(axis + 1);
                return 2 * weights * positions * net.BottomsOf(i).Count;
            }
            case "InnerProduct":
            {
                int axis = bottom.CanonicalAxis(layer.Param.InnerProductParam?.Axis ?? 1);
                return 2 * weights * bottom.CountRange(0, axis);
            }
            default:
                return 0;
        }
    }

    private static double Ms(double ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
