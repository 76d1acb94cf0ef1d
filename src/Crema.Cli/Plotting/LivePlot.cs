using ScottPlot;

namespace Crema.Cli.Plotting;

/// <summary>
/// `crema train -plot out.png`: reads the log lines as they are written and redraws a loss (left axis) and accuracy
/// (right axis) chart after every display and test block; each PNG is written to a temp file, then renamed.
/// </summary>
internal sealed class LivePlot : IDisposable
{
    private readonly string _path;
    private readonly TrainingLog _log = new();
    private readonly Lock _gate = new();
    private int _drawnValues;
    private int _lastValues;
    private bool _failed;

    public LivePlot(string path)
    {
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
        {
            throw new CremaException($"-plot {path}: the chart is written as PNG; give a .png path");
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir != null && !Directory.Exists(dir))
        {
            throw new CremaException($"-plot {path}: folder '{dir}' does not exist");
        }
        _path = path;
        Log.LineWritten += OnLine;
    }

    /// <summary>How many times the chart was written.</summary>
    public int Renders { get; private set; }

    private void OnLine(string line)
    {
        lock (_gate)
        {
            _log.Add(line);
            int values = _log.ValueCount;
            // A block of outputs has ended when a line adds nothing after lines that did.
            if (values == _lastValues && values != _drawnValues)
            {
                Render();
            }
            _lastValues = values;
        }
    }

    private void Render()
    {
        _drawnValues = _log.ValueCount;
        if (_failed)
        {
            return;
        }
        var logs = new[] { ("", _log) };
        var loss = TrainingChart.Series(logs, ChartX.Iters, ChartY.Loss);
        var accuracy = TrainingChart.Series(logs, ChartX.Iters, ChartY.Accuracy);
        if (loss.Count + accuracy.Count == 0)
        {
            return;
        }
        using var plot = TrainingChart.Build(loss, ChartX.Iters, ChartY.Loss);
        plot.Title("Training: loss and accuracy vs. Iters");
        foreach (var s in accuracy)
        {
            var scatter = plot.Add.Scatter(s.X, s.Y);
            scatter.LegendText = s.Label;
            scatter.LineWidth = 1.5f;
            scatter.MarkerSize = 5;
            scatter.LinePattern = LinePattern.Dashed;
            scatter.Axes.YAxis = plot.Axes.Right;
        }
        if (accuracy.Count > 0)
        {
            plot.Axes.Right.Label.Text = "Accuracy";
            // Loss falls to the bottom and accuracy rises to the top: the middle stays clear.
            plot.ShowLegend(Alignment.MiddleRight);
        }
        try
        {
            TrainingChart.Write(plot, _path, TrainingChart.DefaultWidth, TrainingChart.DefaultHeight);
            Renders++;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Training goes on without its chart.
            _failed = true;
            Log.Warning($"-plot {_path}: cannot write the chart ({e.Message}); training continues without it");
        }
    }

    public void Dispose()
    {
        Log.LineWritten -= OnLine;
        lock (_gate)
        {
            if (_log.ValueCount != _drawnValues)
            {
                Render();
            }
        }
    }
}
