using Crema.Proto;
using System.CommandLine;
using Crema.Nets;

namespace Crema.Cli.Commands;

/// <summary>`crema test -model M -weights W [-iterations N]`: scores a trained model, printing per-batch and mean outputs as Caffe.</summary>
internal static class TestCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var weights = CommonOptions.Weights();
        var iterations = CommonOptions.Iterations(50);
        var phase = CommonOptions.PhaseOption("TEST");
        var level = CommonOptions.Level();
        var stage = CommonOptions.Stage();
        var log = CommonOptions.LogFile();
        var gpu = CommonOptions.Gpu();
        var command = new Command("test", "Score a model.") { model, weights, iterations, phase, level, stage, log, gpu };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            CommonOptions.OpenLog(r.GetValue(log));
            string modelFile = r.GetValue(model) is { Length: > 0 } m ? m : throw new CremaException("Need a model definition to score (-model file.prototxt).");
            string weightFile = r.GetValue(weights) is { Length: > 0 } w ? w : throw new CremaException("Need model weights to score (-weights file.caffemodel).");
            int iters = r.GetValue(iterations) is > 0 and var n ? n : throw new CremaException($"-iterations must be positive (got {r.GetValue(iterations)})");
            Log.Info("Use CPU.");
            using var net = new Net(ProtoFiles.ReadNetText(modelFile), CommonOptions.ParsePhase(r.GetValue(phase)!),
                Path.GetDirectoryName(Path.GetFullPath(modelFile)), r.GetValue(level), CommonOptions.Stages(r.GetValue(stage)));
            net.CopyTrainedLayersFrom(weightFile);
            Log.Info($"Running for {iters} iterations.");
            var scores = new List<double>();
            var owners = new List<Blob>();
            double loss = 0;
            using var bar = Progress.Start("test", iters);
            for (int i = 0; i < iters; i++)
            {
                loss += net.Forward();
                bar?.Report(i + 1);
                int idx = 0;
                foreach (var blob in net.OutputBlobs)
                {
                    var data = blob.Data;
                    for (int k = 0; k < data.Length; k++, idx++)
                    {
                        if (i == 0)
                        {
                            scores.Add(data[k]);
                            owners.Add(blob);
                        }
                        else
                        {
                            scores[idx] += data[k];
                        }
                        Log.Info($"Batch {i}, {blob.Name} = {Log.Num(data[k])}");
                    }
                }
            }
            loss /= iters;
            Log.Info($"Loss: {Log.Num(loss)}");
            for (int i = 0; i < scores.Count; i++)
            {
                double mean = scores[i] / iters;
                float weight = net.BlobLossWeight(owners[i]);
                string lossText = weight != 0 ? $" (* {Log.Num(weight)} = {Log.Num(weight * mean)} loss)" : "";
                Log.Info($"{owners[i].Name} = {Log.Num(mean)}{lossText}");
            }
            return 0;
        }));
        return command;
    }
}
