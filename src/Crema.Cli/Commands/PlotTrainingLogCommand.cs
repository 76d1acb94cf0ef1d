using System.CommandLine;
using System.Globalization;
using Crema.Cli.Plotting;

namespace Crema.Cli.Commands;

/// <summary>
/// `crema plot_training_log log.txt [more.log …] out.png [-x iters|seconds] [-y loss|accuracy|lr]`: Caffe's
/// tools/extra/plot_training_log.py charts (its numbered form `plot_training_log 0-7 out.png logs…` works too).
/// </summary>
internal static class PlotTrainingLogCommand
{
    // plot_training_log.py's chart types, by number: (y, x, which net's outputs).
    private static readonly (ChartY Y, ChartX X, string? Phase)[] CaffeChartTypes =
    [
        (ChartY.Accuracy, ChartX.Iters, "test"), (ChartY.Accuracy, ChartX.Seconds, "test"),
        (ChartY.Loss, ChartX.Iters, "test"), (ChartY.Loss, ChartX.Seconds, "test"),
        (ChartY.Lr, ChartX.Iters, null), (ChartY.Lr, ChartX.Seconds, null),
        (ChartY.Loss, ChartX.Iters, "train"), (ChartY.Loss, ChartX.Seconds, "train"),
    ];

    public static Command Create()
    {
        var files = new Argument<string[]>("files")
        {
            Description = "One or more training logs, then the .png to write.",
            Arity = new ArgumentArity(2, 100),
        };
        var x = new Option<string>("-x", "--x") { Description = "The x axis: iters or seconds.", DefaultValueFactory = _ => "iters" };
        var y = new Option<string>("-y", "--y") { Description = "The y axis: loss (train and test), accuracy or lr.", DefaultValueFactory = _ => "loss" };
        var width = new Option<int>("--width") { Description = "Image width in pixels.", DefaultValueFactory = _ => TrainingChart.DefaultWidth };
        var height = new Option<int>("--height") { Description = "Image height in pixels.", DefaultValueFactory = _ => TrainingChart.DefaultHeight };
        var command = new Command("plot_training_log", "Plot loss, accuracy or learning rate from training logs (several logs on one chart).")
        {
            files, x, y, width, height,
        };
        command.SetAction(r => CremaCommand.Guard(() =>
        {
            var args = r.GetValue(files)!;
            ChartX xAxis;
            ChartY yAxis;
            string? phase = null;
            string output;
            string[] logs;
            if (int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int chartType) && args.Length >= 3)
            {
                // Caffe's order: chart_type out.png logs…
                if (chartType >= CaffeChartTypes.Length)
                {
                    throw new CremaException($"{chartType} is not a valid chart type (0-{CaffeChartTypes.Length - 1})");
                }
                (yAxis, xAxis, phase) = CaffeChartTypes[chartType];
                output = args[1];
                logs = args[2..];
            }
            else
            {
                xAxis = ParseX(r.GetValue(x)!);
                yAxis = ParseY(r.GetValue(y)!);
                output = args[^1];
                logs = args[..^1];
            }
            if (!output.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            {
                throw new CremaException($"{output}: the chart is written as PNG; give a .png path (last argument)");
            }
            int w = r.GetValue(width), h = r.GetValue(height);
            if (w is < 50 or > 10000 || h is < 50 or > 10000)
            {
                throw new CremaException($"-width/-height must be between 50 and 10000 pixels (got {w}×{h})");
            }
            var read = logs.Select(l => (Path.GetFileNameWithoutExtension(l), TrainingLog.Read(l))).ToList();
            var series = TrainingChart.Series(read, xAxis, yAxis, phase);
            if (series.Count == 0)
            {
                throw new CremaException($"{string.Join(", ", logs)}: no {yAxis.ToString().ToLowerInvariant()} values "
                    + "(looked for 'Train/Test net output #k: name = value' and 'lr = ' lines)");
            }
            TrainingChart.Write(TrainingChart.Build(series, xAxis, yAxis), output, w, h);
            Log.Info($"Plotted {series.Count} line(s) to {output}");
            return 0;
        }));
        return command;
    }

    internal static ChartX ParseX(string text) => text.ToLowerInvariant() switch
    {
        "iters" or "iterations" => ChartX.Iters,
        "seconds" => ChartX.Seconds,
        _ => throw new CremaException($"-x: unknown axis '{text}' (use iters or seconds)"),
    };

    internal static ChartY ParseY(string text) => text.ToLowerInvariant() switch
    {
        "loss" => ChartY.Loss,
        "accuracy" or "acc" => ChartY.Accuracy,
        "lr" or "learning_rate" => ChartY.Lr,
        _ => throw new CremaException($"-y: unknown axis '{text}' (use loss, accuracy or lr)"),
    };
}
