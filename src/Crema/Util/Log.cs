using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Crema;

/// <summary>
/// Caffe-format (glog) logging: <c>I1127 06:00:00.123456 12345 solver.cs:218] Iteration 100, loss = 0.3</c>.
/// Keeping glog's prefix and Caffe's message texts lets Caffe's parse_log tools read Crema's logs.
/// </summary>
public static class Log
{
    private static readonly int Pid = Environment.ProcessId;
    private static readonly Lock Gate = new();

    /// <summary>Where lines go (default: standard error, as glog). Set to capture or silence.</summary>
    public static Action<string> Sink { get; set; } = line => Console.Error.WriteLine(line);

    /// <summary>Also write every line to this file when set (the CLI's -log_dir / --log).</summary>
    public static TextWriter? File { get; set; }

    public static bool Quiet { get; set; }

    /// <summary>
    /// glog's minloglevel: lines below this severity (0 INFO, 1 WARNING, 2 ERROR) are not logged anywhere. Starts from
    /// the GLOG_minloglevel environment variable (default 0); set <c>Log.Level = 1</c> for a Net that builds silently.
    /// </summary>
    public static int Level { get; set; } = int.TryParse(Environment.GetEnvironmentVariable("GLOG_minloglevel"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int level) ? level : 0;

    /// <summary>Raised with every line, whatever <see cref="Level"/> and <see cref="Quiet"/> say (the CLI's live training chart reads it).</summary>
    public static event Action<string>? LineWritten;

    private static readonly AsyncLocal<List<string>?> Captured = new();

    /// <summary>Sends the lines this async flow logs into <paramref name="lines"/> (not the sink) until disposed; for tests and embedding.</summary>
    public static IDisposable Capture(List<string> lines)
    {
        var previous = Captured.Value;
        Captured.Value = lines;
        return new CaptureScope(previous);
    }

    private sealed class CaptureScope(List<string>? previous) : IDisposable
    {
        public void Dispose() => Captured.Value = previous;
    }

    public static void Info(string message, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) => Write('I', message, file, line);

    public static void Warning(string message, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) => Write('W', message, file, line);

    public static void Error(string message, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) => Write('E', message, file, line);

    private static void Write(char level, string message, string file, int line)
    {
        var now = DateTime.Now;
        string text = string.Create(CultureInfo.InvariantCulture,
            $"{level}{now:MMdd HH:mm:ss.ffffff} {Pid,5} {Path.GetFileName(file).ToLowerInvariant()}:{line}] {message}");
        LineWritten?.Invoke(text);
        if ((level switch { 'I' => 0, 'W' => 1, 'E' => 2, _ => 3 }) < Level)
        {
            return;
        }
        var captured = Captured.Value;
        if (captured != null)
        {
            lock (captured)
            {
                captured.Add(text);
            }
            return;
        }
        lock (Gate)
        {
            if (!Quiet)
            {
                Sink(text);
            }
            File?.WriteLine(text);
            File?.Flush();
        }
    }

    /// <summary>Formats a float as Caffe's glog stream does (6 significant digits, %g style).</summary>
    public static string Num(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }
        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }
        return value.ToString("G6", CultureInfo.InvariantCulture).Replace("E+", "e+", StringComparison.Ordinal).Replace("E-", "e-", StringComparison.Ordinal);
    }

    internal static long Timestamp() => Stopwatch.GetTimestamp();
}
