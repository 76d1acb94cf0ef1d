using System.Diagnostics;
using System.Globalization;

namespace Crema.Cli;

/// <summary>
/// A one-line progress bar with ETA on an interactive stderr. Log lines keep flowing: the bar is erased before each
/// line and redrawn after it. When stderr is redirected (files, pipes, tests) it does nothing, so logs stay plain glog.
/// </summary>
internal sealed class Progress : IDisposable
{
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly string _label;
    private readonly long _total;
    private readonly TextWriter _out;
    private readonly Action<string> _previousSink;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastDraw = TimeSpan.MinValue;
    private long _done;
    private bool _disposed;

    private Progress(string label, long total, TextWriter output)
    {
        _label = label;
        _total = Math.Max(1, total);
        _out = output;
        _previousSink = Log.Sink;
        Log.Sink = line =>
        {
            Erase();
            _previousSink(line);
            Draw();
        };
        Draw();
    }

    /// <summary>Whether bars are drawn: stderr is a terminal (tests override this to render into a writer).</summary>
    internal static Func<bool> IsInteractive { get; set; } = () =>
        !Console.IsErrorRedirected && !Log.Quiet && Environment.GetEnvironmentVariable("TERM") is not "dumb";

    /// <summary>Where bars are drawn (stderr unless a test redirects it).</summary>
    internal static Func<TextWriter> Output { get; set; } = () => Console.Error;

    /// <summary>A bar for <paramref name="total"/> steps, or null when stderr is not interactive.</summary>
    public static Progress? Start(string label, long total) => IsInteractive() ? new Progress(label, total, Output()) : null;

    public void Report(long done)
    {
        _done = Math.Clamp(done, 0, _total);
        if (_clock.Elapsed - _lastDraw >= RedrawInterval || _done == _total)
        {
            Draw();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Erase();
        Log.Sink = _previousSink;
    }

    /// <summary>"label [#####.....]  45% 450/1000 12.3/s ETA 0:01:02".</summary>
    internal static string Render(string label, long done, long total, TimeSpan elapsed, int width = 30)
    {
        double fraction = total > 0 ? Math.Clamp((double)done / total, 0, 1) : 0;
        int filled = (int)(fraction * width);
        string bar = new string('#', filled) + new string('.', width - filled);
        double rate = elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0;
        string eta = done > 0 && rate > 0 ? FormatTime(TimeSpan.FromSeconds((total - done) / rate)) : "--:--";
        return string.Create(CultureInfo.InvariantCulture, $"{label} [{bar}] {fraction * 100,3:0}% {done}/{total} {rate:0.#}/s ETA {eta}");
    }

    private static string FormatTime(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
        : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes:00}:{t.Seconds:00}");

    private void Draw()
    {
        if (_disposed)
        {
            return;
        }
        _lastDraw = _clock.Elapsed;
        _out.Write("\r\u001b[2K" + Render(_label, _done, _total, _clock.Elapsed));
        _out.Flush();
    }

    private void Erase()
    {
        _out.Write("\r\u001b[2K");
        _out.Flush();
    }
}
