using Crema.Proto;
using System.CommandLine;
using System.Diagnostics;
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
        Log.Info($"Average Forward pass: {Log.Num(Ms(forwardTotal) / iters)} ms.");
        Log.Info($"Average Backward pass: {Log.Num(Ms(backwardTotal) / iters)} ms.");
        Log.Info($"Average Forward-Backward: {Log.Num(total.Elapsed.TotalMilliseconds / iters)} ms.");
        Log.Info($"Total Time: {Log.Num(total.Elapsed.TotalMilliseconds)} ms.");
        Log.Info("*** Benchmark ends ***");
    }

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
