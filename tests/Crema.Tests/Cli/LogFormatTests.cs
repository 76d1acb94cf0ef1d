using System.Globalization;
using System.Text.RegularExpressions;
using Crema.Data;
using Crema.Tests.Data;

namespace Crema.Tests.Cli;

/// <summary>Crema's training log read by a C# twin of Caffe's tools/extra/parse_log.py (same regular expressions and row logic).</summary>
[Collection(CliCollection.Name)]
public partial class LogFormatTests
{
    // parse_log.py's expressions, verbatim.
    [GeneratedRegex(@"Iteration (\d+)")]
    private static partial Regex RegexIteration();

    [GeneratedRegex(@"Train net output #(\d+): (\S+) = ([\.\deE+-]+)")]
    private static partial Regex RegexTrainOutput();

    [GeneratedRegex(@"Test net output #(\d+): (\S+) = ([\.\deE+-]+)")]
    private static partial Regex RegexTestOutput();

    [GeneratedRegex(@"lr = ([-+]?[0-9]*\.?[0-9]+([eE]?[-+]?[0-9]+)?)")]
    private static partial Regex RegexLearningRate();

    private sealed class Row : Dictionary<string, double>;

    /// <summary>parse_log(): rows of NumIters, Seconds, LearningRate and one column per output.</summary>
    private static (List<Row> Train, List<Row> Test) ParseLog(IReadOnlyList<string> lines)
    {
        double iteration = -1;
        double learningRate = double.NaN;
        var train = new List<Row>();
        var test = new List<Row>();
        Row? trainRow = null;
        Row? testRow = null;
        DateTime? start = null;
        foreach (string line in lines)
        {
            // extract_seconds.get_start_time: the first line containing 'Solving'.
            if (start == null && line.Contains("Solving", StringComparison.Ordinal))
            {
                start = ExtractDateTime(line);
            }
            var iterationMatch = RegexIteration().Match(line);
            if (iterationMatch.Success)
            {
                iteration = double.Parse(iterationMatch.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            if (iteration == -1)
            {
                continue;
            }
            double seconds = (ExtractDateTime(line) - start!.Value).TotalSeconds;
            var lrMatch = RegexLearningRate().Match(line);
            if (lrMatch.Success)
            {
                learningRate = double.Parse(lrMatch.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            trainRow = ParseLineForNetOutput(RegexTrainOutput(), trainRow, train, line, iteration, seconds, learningRate);
            testRow = ParseLineForNetOutput(RegexTestOutput(), testRow, test, line, iteration, seconds, learningRate);
        }
        FixInitialNanLearningRate(train);
        FixInitialNanLearningRate(test);
        return (train, test);
    }

    private static Row? ParseLineForNetOutput(Regex regex, Row? row, List<Row> rows, string line, double iteration, double seconds, double learningRate)
    {
        var match = regex.Match(line);
        if (match.Success)
        {
            if (row == null || row["NumIters"] != iteration)
            {
                if (row != null)
                {
                    rows.Add(row);
                }
                row = new Row { ["NumIters"] = iteration, ["Seconds"] = seconds, ["LearningRate"] = learningRate };
            }
            row[match.Groups[2].Value] = double.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture);
        }
        if (row != null && rows.Count >= 1 && row.Count == rows[0].Count)
        {
            rows.Add(row);
            row = null;
        }
        return row;
    }

    private static void FixInitialNanLearningRate(List<Row> rows)
    {
        if (rows.Count > 1)
        {
            rows[0]["LearningRate"] = rows[1]["LearningRate"];
        }
    }

    /// <summary>extract_seconds.extract_datetime_from_line: "I1127 06:00:00.123456 …" → month, day, time.</summary>
    private static DateTime ExtractDateTime(string line)
    {
        string[] tokens = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int month = int.Parse(tokens[0].AsSpan(1, 2), CultureInfo.InvariantCulture);
        int day = int.Parse(tokens[0].AsSpan(3, 2), CultureInfo.InvariantCulture);
        var time = DateTime.ParseExact(tokens[1], "HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        return new DateTime(DateTime.Now.Year, month, day, time.Hour, time.Minute, time.Second, DateTimeKind.Local).AddTicks(time.Ticks % TimeSpan.TicksPerSecond);
    }

    private const string Net = """
        name: "tiny_mnist"
        layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TRAIN }
                data_param { source: "DB" batch_size: 10 } transform_param { scale: 0.00390625 } }
        layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TEST }
                data_param { source: "DB" batch_size: 20 } transform_param { scale: 0.00390625 } }
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
                inner_product_param { num_output: 10 weight_filler { type: "xavier" } } }
        layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" include { phase: TEST } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """;

    private const string Solver = """
        net: "net.prototxt"
        test_iter: 2
        test_interval: 10
        base_lr: 0.1
        lr_policy: "step"
        gamma: 0.5
        stepsize: 10
        display: 5
        max_iter: 20
        snapshot_prefix: "snap/tiny"
        random_seed: 1701
        """;

    [Fact]
    public void TrainLog_IsReadByCaffesParseLog_AndLogDirWritesTheSameLines()
    {
        using var dir = new TempDir();
        MnistConverter.Convert(MnistFixture.TrainImages, MnistFixture.TrainLabels, dir.Combine("db"), maxItems: 100);
        File.WriteAllText(dir.Combine("net.prototxt"), Net.Replace("DB", dir.Combine("db"), StringComparison.Ordinal));
        File.WriteAllText(dir.Combine("solver.prototxt"), Solver.Replace("net.prototxt", dir.Combine("net.prototxt"), StringComparison.Ordinal)
            .Replace("snap/tiny", dir.Combine("snap/tiny"), StringComparison.Ordinal));
        Directory.CreateDirectory(dir.Combine("snap"));
        Directory.CreateDirectory(dir.Combine("logs"));

        var r = CliRunner.Run("train", "-solver", dir.Combine("solver.prototxt"), "-log_dir", dir.Combine("logs"));

        Assert.Equal(0, r.ExitCode);
        Assert.Empty(r.Error);
        var (train, test) = ParseLog(r.Log);
        Assert.Equal([0.0, 5, 10, 15], train.Select(row => row["NumIters"]));
        Assert.Equal([0.1, 0.1, 0.1, 0.05], train.Select(row => row["LearningRate"]));
        Assert.All(train, row => Assert.InRange(row["loss"], 0.0, 10.0));
        Assert.True(train[3]["loss"] < train[0]["loss"], "training should lower the loss");
        Assert.True(train[1]["Seconds"] >= 0);

        Assert.Equal([0.0, 10, 20], test.Select(row => row["NumIters"]));
        Assert.All(test, row => Assert.InRange(row["accuracy"], 0.0, 1.0));
        Assert.All(test, row => Assert.InRange(row["loss"], 0.0, 10.0));
        Assert.Equal(0.1, test[0]["LearningRate"]);

        // parse_log.sh's greps: the display line with its loss, and one "lr =" line per display.
        Assert.Equal(5, r.Log.Count(l => Regex.IsMatch(l, @"Iteration \d+.*, loss = [\.\deE+-]+$")));
        Assert.Equal(4, r.Log.Count(l => RegexLearningRate().IsMatch(l)));
        Assert.All(r.Log, l => Assert.Matches(@"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ [\w.]+:\d+\] ", l));
        Assert.DoesNotContain(r.Log, l => l.Contains('\r', StringComparison.Ordinal) || l.Contains('\u001b', StringComparison.Ordinal));

        // -log_dir: glog's four header lines, then the same lines; crema.INFO links to the newest log.
        string logFile = dir.Combine("logs/crema.INFO");
        Assert.Equal(r.Log, File.ReadAllLines(logFile)[4..]);
        Assert.True(File.Exists(dir.Combine("snap/tiny_iter_20.caffemodel")));
    }

    [Fact]
    public void TestVerb_LogsBatchesAndMeans_ToALogFile()
    {
        using var dir = new TempDir();
        MnistConverter.Convert(MnistFixture.TrainImages, MnistFixture.TrainLabels, dir.Combine("db"), maxItems: 40);
        string model = dir.Combine("net.prototxt");
        File.WriteAllText(model, Net.Replace("DB", dir.Combine("db"), StringComparison.Ordinal));
        using (var net = new Crema.Nets.Net(Crema.Proto.ProtoFiles.ReadNetText(model), Crema.Proto.Phase.Test))
        {
            net.Save(dir.Combine("w.caffemodel"));
        }
        var r = CliRunner.Run("test", "-model", model, "-weights", dir.Combine("w.caffemodel"), "-iterations", "2", "--log", dir.Combine("test.log"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.Log, l => Regex.IsMatch(l, @"\] Batch 1, accuracy = [\.\deE+-]+$"));
        Assert.Contains(r.Log, l => Regex.IsMatch(l, @"\] loss = [\.\deE+-]+ \(\* 1 = [\.\deE+-]+ loss\)$"));
        Assert.Equal(r.Log, File.ReadAllLines(dir.Combine("test.log")));
    }
}
