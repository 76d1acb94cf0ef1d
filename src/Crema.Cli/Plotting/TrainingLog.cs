using System.Globalization;
using System.Text.RegularExpressions;

namespace Crema.Cli.Plotting;

/// <summary>
/// A Caffe or Crema training log read line by line with the rules of Caffe's tools/extra/parse_log.py: rows of
/// NumIters, Seconds (since the "Solving" line), LearningRate and one column per "Train/Test net output" name.
/// Unlike parse_log.py, a last row still being filled in is included, so a live chart shows the newest point, and a
/// train row takes the learning rate logged for its own iteration.
/// </summary>
internal sealed partial class TrainingLog
{
    [GeneratedRegex(@"Iteration (\d+)")]
    private static partial Regex IterationRegex();

    [GeneratedRegex(@"Train net output #(\d+): (\S+) = ([\.\deE+-]+)")]
    private static partial Regex TrainOutputRegex();

    [GeneratedRegex(@"Test net output #(\d+): (\S+) = ([\.\deE+-]+)")]
    private static partial Regex TestOutputRegex();

    [GeneratedRegex(@"lr = ([-+]?[0-9]*\.?[0-9]+([eE]?[-+]?[0-9]+)?)")]
    private static partial Regex LearningRateRegex();

    // glog's prefix: severity, MMDD, HH:MM:SS.micros.
    [GeneratedRegex(@"^\s*[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d(?:\.\d+)?)")]
    private static partial Regex TimestampRegex();

    private readonly List<Dictionary<string, double>> _train = [];
    private readonly List<Dictionary<string, double>> _test = [];
    private Dictionary<string, double>? _trainRow;
    private Dictionary<string, double>? _testRow;
    private double _iteration = -1;
    private double _learningRate = double.NaN;
    private double? _start;
    private double? _firstStamp;

    public IReadOnlyList<Dictionary<string, double>> Train => WithPending(_train, _trainRow);

    public IReadOnlyList<Dictionary<string, double>> Test => WithPending(_test, _testRow);

    /// <summary>Values read so far (train + test, pending rows included): a change means there is something new to draw.</summary>
    public int ValueCount => Train.Sum(r => r.Count) + Test.Sum(r => r.Count);

    public static TrainingLog Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CremaException($"{path}: training log not found");
        }
        var log = new TrainingLog();
        foreach (string line in File.ReadLines(path))
        {
            log.Add(line);
        }
        return log;
    }

    public void Add(string line)
    {
        double? stamp = Seconds(line);
        if (stamp != null)
        {
            _firstStamp ??= stamp;
            if (_start == null && line.Contains("Solving", StringComparison.Ordinal))
            {
                _start = stamp;
            }
        }
        var iteration = IterationRegex().Match(line);
        if (iteration.Success)
        {
            _iteration = double.Parse(iteration.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        if (_iteration == -1)
        {
            return;
        }
        double seconds = stamp is { } s ? s - (_start ?? _firstStamp ?? s) : double.NaN;
        var lr = LearningRateRegex().Match(line);
        if (lr.Success)
        {
            _learningRate = double.Parse(lr.Groups[1].Value, CultureInfo.InvariantCulture);
            // parse_log.py's fix_initial_nan_learning_rate: the first rows take the first rate seen.
            foreach (var row in _train.Concat(_test).Append(_trainRow).Append(_testRow))
            {
                if (row != null && double.IsNaN(row["LearningRate"]))
                {
                    row["LearningRate"] = _learningRate;
                }
            }
            // Caffe logs "Iteration N, lr = …" after iteration N's train outputs; parse_log.py gives that row the
            // previous rate (one display late). The rate belongs to iteration N.
            var last = _trainRow ?? (_train.Count > 0 ? _train[^1] : null);
            if (last != null && last["NumIters"] == _iteration)
            {
                last["LearningRate"] = _learningRate;
            }
        }
        _trainRow = AddOutput(TrainOutputRegex(), _trainRow, _train, line, seconds);
        _testRow = AddOutput(TestOutputRegex(), _testRow, _test, line, seconds);
    }

    private Dictionary<string, double>? AddOutput(Regex regex, Dictionary<string, double>? row, List<Dictionary<string, double>> rows,
        string line, double seconds)
    {
        var match = regex.Match(line);
        if (match.Success)
        {
            if (row == null || row["NumIters"] != _iteration)
            {
                if (row != null)
                {
                    rows.Add(row);
                }
                row = new Dictionary<string, double>(StringComparer.Ordinal)
                {
                    ["NumIters"] = _iteration,
                    ["Seconds"] = seconds,
                    ["LearningRate"] = _learningRate,
                };
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

    private static List<Dictionary<string, double>> WithPending(List<Dictionary<string, double>> rows, Dictionary<string, double>? pending) =>
        pending == null ? rows : [.. rows, pending];

    // Seconds since the start of the month of the line's timestamp (glog has no year); null without a glog prefix.
    private static double? Seconds(string line)
    {
        var m = TimestampRegex().Match(line);
        if (!m.Success)
        {
            return null;
        }
        int day = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        int hour = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        int minute = int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
        double second = double.Parse(m.Groups[5].Value, CultureInfo.InvariantCulture);
        return ((day * 24.0 + hour) * 60 + minute) * 60 + second;
    }
}
