using System.Diagnostics;
using Crema.Tests.Data;

namespace Crema.Tests.Solvers;

/// <summary>
/// Ctrl-C on a real `crema train` process: SIGINT with the default -sigint_effect stop snapshots and exits cleanly;
/// SIGHUP (default snapshot) snapshots and keeps training. A child process, so Slow.
/// </summary>
public sealed class SolverSignalTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Process StartTraining(List<string> stderr)
    {
        File.WriteAllText(_dir.Combine("net.prototxt"), """
            layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }
            layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
            """);
        File.WriteAllText(_dir.Combine("solver.prototxt"), $"""
            net: "{_dir.Combine("net.prototxt")}"
            base_lr: 0.1 momentum: 0.9 lr_policy: "fixed" max_iter: 2000000000 display: 0
            snapshot_prefix: "{_dir.Combine("sig")}"
            """);
        string cli = Path.Combine(AppContext.BaseDirectory, "Crema.Cli.dll");
        // A process started in the background by a non-interactive shell inherits SIGINT as ignored; perl resets it.
        var start = new ProcessStartInfo("perl")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["-e", "$SIG{INT}='DEFAULT'; $SIG{HUP}='DEFAULT'; exec @ARGV or die", "dotnet", cli, "train", "-solver", _dir.Combine("solver.prototxt")])
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (stderr)
                {
                    stderr.Add(e.Data);
                }
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private static bool WaitFor(List<string> lines, string text, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            lock (lines)
            {
                if (lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
                {
                    return true;
                }
            }
            Thread.Sleep(50);
        }
        return false;
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Sighup_Snapshots_ThenSigint_SnapshotsAndStopsEarly()
    {
        var stderr = new List<string>();
        using var process = StartTraining(stderr);
        try
        {
            Assert.True(WaitFor(stderr, "Learning Rate Policy", TimeSpan.FromSeconds(60)), string.Join('\n', stderr));
            Thread.Sleep(300);
            Signal(process, "HUP");
            Assert.True(WaitFor(stderr, "Snapshotting solver state", TimeSpan.FromSeconds(30)), string.Join('\n', stderr));
            Assert.False(process.HasExited, "SIGHUP (snapshot) must not stop training");
            Signal(process, "INT");
            Assert.True(process.WaitForExit(30_000), "SIGINT should stop training");
            process.WaitForExit();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
        Assert.Equal(0, process.ExitCode);
        string[] log;
        lock (stderr)
        {
            log = [.. stderr];
        }
        Assert.Contains(log, l => l.EndsWith("] Optimization stopped early.", StringComparison.Ordinal));
        var states = Directory.GetFiles(_dir.Path, "sig_iter_*.solverstate");
        Assert.Equal(2, states.Length); // one from SIGHUP, one from SIGINT (snapshot_after_train)
        Assert.Equal(2, Directory.GetFiles(_dir.Path, "sig_iter_*.caffemodel").Length);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }
}
