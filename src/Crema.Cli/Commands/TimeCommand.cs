using Crema.Proto;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Crema.Nets;

namespace Crema.Cli.Commands;

/// <summary>`crema time -model M [-iterations N]`: Caffe's layer-by-layer forward/backward timing.</summary>
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
        var command = new Command("time", "Benchmark model execution time.") { model, iterations, phase, level, stage, log, gpu };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            CommonOptions.OpenLog(r.GetValue(log), "time");
            string modelFile = r.GetValue(model) is { Length: > 0 } m ? m : throw new CremaException("Need a model definition to time (-model file.prototxt).");
            int iters = r.GetValue(iterations);
            if (iters <= 0)
            {
                throw new CremaException($"-iterations must be positive (got {iters})");
            }
            Log.Info("Use CPU.");
            using var net = new Net(ProtoFiles.ReadNetText(modelFile), CommonOptions.ParsePhase(r.GetValue(phase)!),
                Path.GetDirectoryName(Path.GetFullPath(modelFile)), r.GetValue(level), CommonOptions.Stages(r.GetValue(stage)));
            Run(net, iters);
            return 0;
        }));
        return command;
    }

    internal static void Run(Net net, int iters)
    {
        Log.Info("Performing Forward");
        float initialLoss = net.Forward();
        Log.Info($"Initial loss: {Log.Num(initialLoss)}");
        Log.Info("Performing Backward");
        for (int i = net.Layers.Count - 1; i >= 0; i--)
        {
            net.Layers[i].Backward(net.TopsOf(i), net.BottomNeedsBackward(i), net.BottomsOf(i));
        }

        var layers = net.Layers;
        var forwardTicks = new long[layers.Count];
        var backwardTicks = new long[layers.Count];
        long forwardTotal = 0;
        long backwardTotal = 0;
        Log.Info("*** Benchmark begins ***");
        Log.Info($"Testing for {iters} iterations.");
        var total = Stopwatch.StartNew();
        for (int j = 0; j < iters; j++)
        {
            long iterStart = Stopwatch.GetTimestamp();
            for (int i = 0; i < layers.Count; i++)
            {
                long t = Stopwatch.GetTimestamp();
                layers[i].Forward(net.BottomsOf(i), net.TopsOf(i));
                forwardTicks[i] += Stopwatch.GetTimestamp() - t;
            }
            long mid = Stopwatch.GetTimestamp();
            forwardTotal += mid - iterStart;
            for (int i = layers.Count - 1; i >= 0; i--)
            {
                long t = Stopwatch.GetTimestamp();
                // As `caffe time`: every layer runs backward (parameter gradients even in deploy nets), bottoms only where needed.
                layers[i].Backward(net.TopsOf(i), net.BottomNeedsBackward(i), net.BottomsOf(i));
                backwardTicks[i] += Stopwatch.GetTimestamp() - t;
            }
            long end = Stopwatch.GetTimestamp();
            backwardTotal += end - mid;
            Log.Info($"Iteration: {j + 1} forward-backward time: {Log.Num(Ms(end - iterStart))} ms.");
        }
        total.Stop();
        Log.Info("Average time per layer: ");
        for (int i = 0; i < layers.Count; i++)
        {
            string name = layers[i].Name.PadLeft(10);
            Log.Info($"{name}\tforward: {Log.Num(Ms(forwardTicks[i]) / iters)} ms.");
            Log.Info($"{name}\tbackward: {Log.Num(Ms(backwardTicks[i]) / iters)} ms.");
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
            // Backward: the weight gradient always, the bottom gradient only where it is propagated (another forward's worth each).
            double backwardFlop = flop * (1 + (net.BottomNeedsBackward(i).Count > 0 && net.BottomNeedsBackward(i)[0] ? 1 : 0));
            double fwd = flop / (Ms(forwardTicks[i]) / iters) / 1e6, bwd = backwardFlop / (Ms(backwardTicks[i]) / iters) / 1e6;
            Log.Info($"{layers[i].Name.PadLeft(10)}\tforward: {fwd.ToString("F1", CultureInfo.InvariantCulture)} GFLOP/s\tbackward: {bwd.ToString("F1", CultureInfo.InvariantCulture)} GFLOP/s");
        }
        Log.Info($"Average Forward pass: {Log.Num(Ms(forwardTotal) / iters)} ms.");
        Log.Info($"Average Backward pass: {Log.Num(Ms(backwardTotal) / iters)} ms.");
        Log.Info($"Average Forward-Backward: {Log.Num(total.Elapsed.TotalMilliseconds / iters)} ms.");
        Log.Info($"Total Time: {Log.Num(total.Elapsed.TotalMilliseconds)} ms.");
        Log.Info("*** Benchmark ends ***");
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

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
