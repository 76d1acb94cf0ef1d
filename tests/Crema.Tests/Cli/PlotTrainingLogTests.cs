using System.Globalization;
using System.Text;
using Crema.Cli.Plotting;
using Crema.Tests.Data;
using ScottPlot;
using SkiaSharp;

namespace Crema.Tests.Cli;

/// <summary>plot_training_log and train -plot: the log reader, the series, and the PNGs (decoded, pixels where the curve must be).</summary>
[Collection(CliCollection.Name)]
public class PlotTrainingLogTests
{
    // A Crema-format log: display every 10 iterations with loss = 2 − i/100 (falling), lr = 0.01 − i·1e-5, tests every
    // 50 iterations with accuracy = i/100 (rising), one second per 10 iterations.
    private static string SyntheticLog(int maxIter = 100)
    {
        var sb = new StringBuilder();
        var t0 = new DateTime(2026, 11, 27, 6, 0, 0);
        void Line(int second, string text) =>
            sb.Append(CultureInfo.InvariantCulture, $"I{t0.AddSeconds(second):MMdd HH:mm:ss.ffffff}  4242 solver.cs:1] {text}\n");
        Line(0, "Solving LeNet");
        for (int i = 0; i <= maxIter; i += 10)
        {
            int s = i / 10;
            if (i % 50 == 0)
            {
                Line(s, $"Iteration {i}, Testing net (#0)");
                Line(s, $"    Test net output #0: accuracy = {i / 100.0:0.###}");
                Line(s, $"    Test net output #1: loss = {2 - i / 100.0:0.###} (* 1 = {2 - i / 100.0:0.###} loss)");
            }
            Line(s, $"Iteration {i} (10 iter/s, 1s/10 iters), loss = {2 - i / 100.0:0.###}");
            Line(s, $"    Train net output #0: loss = {2 - i / 100.0:0.###} (* 1 = {2 - i / 100.0:0.###} loss)");
            Line(s, $"Iteration {i}, lr = {0.01 - i * 1e-5:0.#####}");
        }
        return sb.ToString();
    }

    private static TrainingLog Parse(string text)
    {
        var log = new TrainingLog();
        foreach (string line in text.Split('\n'))
        {
            log.Add(line);
        }
        return log;
    }

    [Fact]
    public void TrainingLog_RowsAsParseLogPy_WithTheRateOfTheirOwnIteration()
    {
        var log = Parse(SyntheticLog());
        Assert.Equal(11, log.Train.Count);
        Assert.Equal(3, log.Test.Count);
        for (int k = 0; k < 11; k++)
        {
            var row = log.Train[k];
            Assert.Equal(k * 10, row["NumIters"]);
            Assert.Equal(k, row["Seconds"], 6);
            Assert.Equal(2 - k / 10.0, row["loss"], 6);
            Assert.Equal(0.01 - k * 10 * 1e-5, row["LearningRate"], 9);
        }
        Assert.Equal([0.0, 0.5, 1.0], log.Test.Select(r => r["accuracy"]));
        Assert.Equal([2.0, 1.5, 1.0], log.Test.Select(r => r["loss"]));
    }

    [Theory]
    [InlineData("loss", new[] { "train loss", "test loss" })]
    [InlineData("accuracy", new[] { "test accuracy" })]
    [InlineData("lr", new[] { "learning rate" })]
    public void Series_MapCaffesChartTypesOntoY(string yText, string[] labels)
    {
        var y = Crema.Cli.Commands.PlotTrainingLogCommand.ParseY(yText);
        var series = TrainingChart.Series([("a", Parse(SyntheticLog()))], ChartX.Seconds, y);
        Assert.Equal(labels, series.Select(s => s.Label));
        Assert.All(series, s => Assert.Equal(s.X.Select(x => x * 10), s.X.Select((_, i) => (double)i * (s.X.Length == 3 ? 50 : 10))));
        var two = TrainingChart.Series([("a", Parse(SyntheticLog())), ("b", Parse(SyntheticLog(50)))], ChartX.Iters, y);
        Assert.Equal(labels.Select(l => "a: " + l).Concat(labels.Select(l => "b: " + l)), two.Select(s => s.Label));
    }

    [Fact]
    public void Png_HasTheSize_AndTheFallingCurveWhereItMustBe()
    {
        var series = TrainingChart.Series([("log", Parse(SyntheticLog()))], ChartX.Iters, ChartY.Loss).Take(1).ToList();
        var plot = TrainingChart.Build(series, ChartX.Iters, ChartY.Loss);
        using var bitmap = SKBitmap.Decode(TrainingChart.Png(plot, 640, 480));
        Assert.Equal(640, bitmap.Width);
        Assert.Equal(480, bitmap.Height);
        var background = bitmap.GetPixel(plot.GetPixel(new Coordinates(5, 1.05)) is var p0 ? (int)p0.X : 0, (int)p0.Y);
        int onCurve = 0;
        for (int i = 0; i <= 100; i += 5)
        {
            // The curve passes through (i, 2 − i/100); the mirror point (i, 1 + i/100) lies away from it except mid-way.
            var on = plot.GetPixel(new Coordinates(i, 2 - i / 100.0));
            onCurve += Near(bitmap, (int)on.X, (int)on.Y, 2, c => IsInk(c)) ? 1 : 0;
            if (Math.Abs(i - 50) >= 20 && i <= 75) // (the legend sits in the top right corner)
            {
                var off = plot.GetPixel(new Coordinates(i, 1 + i / 100.0));
                Assert.False(Near(bitmap, (int)off.X, (int)off.Y, 1, c => IsBlue(c)), $"curve colour at the mirror point of iteration {i}");
            }
        }
        Assert.Equal(21, onCurve);
        Assert.False(IsBlue(background), "the bottom left of the data area, far from the curve, is background");
    }

    [Fact]
    public void Command_SeveralLogs_WritesThePng_AndCaffesNumberedFormWorks()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("a.log"), SyntheticLog());
        File.WriteAllText(dir.Combine("b.log"), SyntheticLog(60));
        var r = CliRunner.Run("plot_training_log", dir.Combine("a.log"), dir.Combine("b.log"), dir.Combine("acc.png"), "-y", "accuracy", "-x", "seconds");
        Assert.True(r.ExitCode == 0, r.AllText);
        Assert.Contains(r.Log, l => l.Contains("Plotted 2 line(s)", StringComparison.Ordinal));
        using (var png = SKBitmap.Decode(dir.Combine("acc.png")))
        {
            Assert.Equal((800, 600), (png.Width, png.Height));
        }
        // Caffe's chart type 6: Train loss vs. Iters.
        r = CliRunner.Run("plot_training_log", "6", dir.Combine("six.png"), dir.Combine("a.log"), "--width", "300", "--height", "200");
        Assert.True(r.ExitCode == 0, r.AllText);
        Assert.Contains(r.Log, l => l.Contains("Plotted 1 line(s)", StringComparison.Ordinal));
        using (var png = SKBitmap.Decode(dir.Combine("six.png")))
        {
            Assert.Equal((300, 200), (png.Width, png.Height));
        }
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("-y", "speed", "unknown axis 'speed'")]
    [InlineData("-x", "epochs", "unknown axis 'epochs'")]
    public void Command_BadAxis_OneLineError(string flag, string value, string message)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("a.log"), SyntheticLog());
        var r = CliRunner.Run("plot_training_log", dir.Combine("a.log"), dir.Combine("x.png"), flag, value);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, Assert.Single(r.ErrorLines), StringComparison.Ordinal);
        Assert.False(File.Exists(dir.Combine("x.png")));
    }

    [Fact]
    public void Command_LogWithoutValues_SaysWhatItLookedFor()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("empty.log"), "I1127 06:00:00.000000  1 x.cs:1] Solving nothing\n");
        var r = CliRunner.Run("plot_training_log", dir.Combine("empty.log"), dir.Combine("x.png"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no loss values", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void LivePlot_RedrawsAfterEachDisplayAndTestBlock()
    {
        using var dir = new TempDir();
        string path = dir.Combine("live.png");
        var plot = new LivePlot(path);
        var lines = SyntheticLog(20).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var log = new List<string>();
        using (Crema.Log.Capture(log))
        {
            foreach (string line in lines)
            {
                // Through the real logger (the event fires for captured lines too); the message is the part after "] ".
                Crema.Log.Info(line[(line.IndexOf("] ", StringComparison.Ordinal) + 2)..]);
            }
        }
        plot.Dispose();
        // Blocks: test@0, train@0, train@10, train@20, each drawn at the first line after it that adds no value.
        Assert.Equal(4, plot.Renders);
        using var png = SKBitmap.Decode(path);
        Assert.Equal((TrainingChart.DefaultWidth, TrainingChart.DefaultHeight), (png.Width, png.Height));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Train_Plot_WritesTheChart_EvenWhenInfoLinesAreSilenced()
    {
        using var dir = new TempDir();
        Crema.Data.MnistConverter.Convert(MnistFixture.TrainImages, MnistFixture.TrainLabels, dir.Combine("db"), maxItems: 50);
        File.WriteAllText(dir.Combine("net.prototxt"), $$"""
            layer { name: "d" type: "Data" top: "data" top: "label" data_param { source: "{{dir.Combine("db")}}" batch_size: 10 } transform_param { scale: 0.00390625 } }
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 10 weight_filler { type: "xavier" } } }
            layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" include { phase: TEST } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            """);
        File.WriteAllText(dir.Combine("solver.prototxt"), $$"""
            net: "{{dir.Combine("net.prototxt")}}"
            test_iter: 1 test_interval: 5 base_lr: 0.1 lr_policy: "fixed" display: 2 max_iter: 10
            snapshot_prefix: "{{dir.Combine("tiny")}}" random_seed: 1701
            """);
        var r = CliRunner.Run("train", "-solver", dir.Combine("solver.prototxt"), "-plot", dir.Combine("live.png"), "-minloglevel", "1");
        Assert.True(r.ExitCode == 0, r.AllText);
        Assert.DoesNotContain(r.Log, l => l.StartsWith('I'));
        using var png = SKBitmap.Decode(dir.Combine("live.png"));
        Assert.Equal((TrainingChart.DefaultWidth, TrainingChart.DefaultHeight), (png.Width, png.Height));
        Assert.False(File.Exists(dir.Combine("live.png.tmp")));
    }

    private static bool IsInk(SKColor c) => c.Red + c.Green + c.Blue < 600;

    // ScottPlot's first palette colour is a blue (#1f77b4).
    private static bool IsBlue(SKColor c) => c.Blue > 120 && c.Blue - c.Red > 60;

    private static bool Near(SKBitmap bitmap, int x, int y, int radius, Func<SKColor, bool> test)
    {
        for (int dy = -radius; dy <= radius; dy++)
        {
            for (int dx = -radius; dx <= radius; dx++)
            {
                int px = x + dx, py = y + dy;
                if (px >= 0 && py >= 0 && px < bitmap.Width && py < bitmap.Height && test(bitmap.GetPixel(px, py)))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
