using ScottPlot;

namespace Crema.Cli.Plotting;

/// <summary>The x axis of a training chart: Caffe's plot_training_log.py "Iters" or "Seconds".</summary>
internal enum ChartX
{
    Iters,
    Seconds,
}

/// <summary>
/// The y axis: plot_training_log.py's "Train loss" and "Test loss" (both, for loss), "Test accuracy" (and any train
/// accuracy output), "Train learning rate".
/// </summary>
internal enum ChartY
{
    Loss,
    Accuracy,
    Lr,
}

/// <summary>One line of a chart: its legend text and points.</summary>
internal sealed record ChartSeries(string Label, double[] X, double[] Y);

/// <summary>Training charts drawn with ScottPlot: several logs on one chart, one line per log and output.</summary>
internal static class TrainingChart
{
    public const int DefaultWidth = 800;
    public const int DefaultHeight = 600;

    /// <summary>The lines to draw: for each log, the chosen outputs against the chosen x.</summary>
    public static List<ChartSeries> Series(IReadOnlyList<(string Name, TrainingLog Log)> logs, ChartX x, ChartY y, string? onlyPhase = null)
    {
        var series = new List<ChartSeries>();
        string xKey = x == ChartX.Iters ? "NumIters" : "Seconds";
        foreach (var (name, log) in logs)
        {
            string prefix = logs.Count > 1 ? name + ": " : "";
            if (y == ChartY.Lr)
            {
                AddColumn(log.Train, "LearningRate", prefix + "learning rate");
                continue;
            }
            string word = y == ChartY.Loss ? "loss" : "acc";
            foreach (var (phase, rows) in new[] { ("train", log.Train), ("test", log.Test) })
            {
                if (onlyPhase != null && onlyPhase != phase)
                {
                    continue;
                }
                var columns = rows.SelectMany(r => r.Keys).Distinct(StringComparer.Ordinal)
                    .Where(k => k is not ("NumIters" or "Seconds" or "LearningRate") && k.Contains(word, StringComparison.OrdinalIgnoreCase));
                foreach (string column in columns)
                {
                    AddColumn(rows, column, $"{prefix}{phase} {column}");
                }
            }
        }
        return series;

        void AddColumn(IReadOnlyList<Dictionary<string, double>> rows, string column, string label)
        {
            var points = rows.Where(r => r.TryGetValue(column, out double v) && double.IsFinite(v) && double.IsFinite(r[xKey]))
                .Select(r => (X: r[xKey], Y: r[column])).ToList();
            if (points.Count > 0)
            {
                series.Add(new ChartSeries(label, points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray()));
            }
        }
    }

    /// <summary>Caffe's chart title, e.g. "Test accuracy vs. Iters".</summary>
    public static string Title(ChartX x, ChartY y) => y switch
    {
        ChartY.Loss => "Train and test loss",
        ChartY.Accuracy => "Test accuracy",
        _ => "Train learning rate",
    } + " vs. " + x;

    public static Plot Build(IReadOnlyList<ChartSeries> series, ChartX x, ChartY y)
    {
        var plot = new Plot();
        // The sans-serif face draw_net uses, when the system has it (ScottPlot's default falls back to a serif here).
        if (SkiaSharp.SKFontManager.Default.MatchFamily("DejaVu Sans") is { } face)
        {
            face.Dispose();
            plot.Font.Set("DejaVu Sans");
        }
        foreach (var s in series)
        {
            var scatter = plot.Add.Scatter(s.X, s.Y);
            scatter.LegendText = s.Label;
            scatter.LineWidth = 1.5f;
            scatter.MarkerSize = s.X.Length > 60 ? 0 : 5;
        }
        plot.Title(Title(x, y));
        plot.XLabel(x == ChartX.Iters ? "Iterations" : "Seconds");
        plot.YLabel(y switch { ChartY.Loss => "Loss", ChartY.Accuracy => "Accuracy", _ => "Learning rate" });
        plot.ShowLegend(y == ChartY.Accuracy ? Alignment.LowerRight : Alignment.UpperRight);
        return plot;
    }

    /// <summary>Renders to PNG bytes.</summary>
    public static byte[] Png(Plot plot, int width, int height) => plot.GetImage(width, height).GetImageBytes(ImageFormat.Png, 100);

    /// <summary>Writes the PNG through a temp file and a rename, so a viewer never sees half a file.</summary>
    public static void Write(Plot plot, string path, int width, int height)
    {
        byte[] png = Png(plot, width, height);
        string full = Path.GetFullPath(path);
        string temp = full + ".tmp";
        File.WriteAllBytes(temp, png);
        File.Move(temp, full, overwrite: true);
    }
}
