using System.Globalization;
using System.Text.RegularExpressions;
using Crema.Tests.Data;
using Crema.Tests.Robustness;

namespace Crema.Tests.Cli;

/// <summary>-log_dir names files as glog does for Caffe (crema.&lt;host&gt;.&lt;user&gt;.log.INFO.&lt;date&gt;-&lt;time&gt;.&lt;pid&gt;) with a crema.INFO symlink to the newest.</summary>
[Collection(CliCollection.Name)]
public class GlogLogFileTests
{
    // Independent of the code under test: the kernel's node name and the login name glog would read.
    private static readonly string Host = File.ReadAllText("/proc/sys/kernel/hostname").Trim();
    private static readonly string User = Environment.GetEnvironmentVariable("USER") is { Length: > 0 } u ? u : Environment.UserName;

    private static string Model(TempDir d)
    {
        File.WriteAllText(d.Combine("net.prototxt"), BadFiles.Deploy);
        return d.Combine("net.prototxt");
    }

    private static string[] LogFiles(string folder) =>
        [.. Directory.GetFiles(folder).Select(Path.GetFileName).Where(n => n!.Contains(".log.INFO.", StringComparison.Ordinal)).Order(StringComparer.Ordinal)!];

    [Fact]
    public void LogDir_CreatesAGlogNamedFile_AndTheInfoSymlink()
    {
        using var d = new TempDir();
        Directory.CreateDirectory(d.Combine("logs"));
        var before = DateTime.Now.AddSeconds(-1);
        var r = CliRunner.Run("time", "-model", Model(d), "-iterations", "1", "-log_dir", d.Combine("logs"));
        var after = DateTime.Now.AddSeconds(1);
        Assert.Equal(0, r.ExitCode);

        string name = Assert.Single(LogFiles(d.Combine("logs")));
        var m = Regex.Match(name, $@"^crema\.{Regex.Escape(Host)}\.{Regex.Escape(User)}\.log\.INFO\.(\d{{8}}-\d{{6}})\.(\d+)$");
        Assert.True(m.Success, name);
        var stamp = DateTime.ParseExact(m.Groups[1].Value, "yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        Assert.InRange(stamp, before, after);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), m.Groups[2].Value);

        var link = new FileInfo(Path.Combine(d.Combine("logs"), "crema.INFO"));
        Assert.Equal(name, link.LinkTarget); // relative, as glog makes it
        string[] lines = File.ReadAllLines(link.FullName);
        Assert.StartsWith("Log file created at: ", lines[0], StringComparison.Ordinal);
        Assert.Equal($"Running on machine: {Host}", lines[1]);
        Assert.StartsWith("Log line format: [IWEF]mmdd hh:mm:ss.uuuuuu threadid file:line] msg", lines[3], StringComparison.Ordinal);
        Assert.Equal(r.Log, lines[4..]);
        Assert.Equal(2, Directory.GetFileSystemEntries(d.Combine("logs")).Length); // no temporary left behind
    }

    [Fact]
    public void SecondRun_MakesANewFile_AndMovesTheSymlink()
    {
        using var d = new TempDir();
        Directory.CreateDirectory(d.Combine("logs"));
        string model = Model(d);
        Assert.Equal(0, CliRunner.Run("time", "-model", model, "-iterations", "1", "-log_dir", d.Combine("logs")).ExitCode);
        string first = Assert.Single(LogFiles(d.Combine("logs")));
        string firstText = File.ReadAllText(Path.Combine(d.Combine("logs"), first));

        var second = CliRunner.Run("time", "-model", model, "-iterations", "2", "-log_dir", d.Combine("logs"));
        Assert.Equal(0, second.ExitCode);
        var files = LogFiles(d.Combine("logs"));
        Assert.Equal(2, files.Length);
        string newest = files.Single(f => f != first);
        Assert.Equal(newest, new FileInfo(Path.Combine(d.Combine("logs"), "crema.INFO")).LinkTarget);
        Assert.Equal(firstText, File.ReadAllText(Path.Combine(d.Combine("logs"), first)));
        Assert.Equal(second.Log, File.ReadAllLines(Path.Combine(d.Combine("logs"), "crema.INFO"))[4..]);
    }

    [Fact]
    public void ExistingFiles_AreNeverTouched()
    {
        // A user's file called crema.INFO, and files already holding the names this run would take (this second and
        // the next), stay byte for byte; the run logs to a fresh name and leaves crema.INFO alone.
        using var d = new TempDir();
        string logs = d.Combine("logs");
        Directory.CreateDirectory(logs);
        File.WriteAllText(Path.Combine(logs, "crema.INFO"), "my notes");
        var now = DateTime.Now;
        string[] taken = [.. Enumerable.Range(0, 3).Select(s => $"crema.{Host}.{User}.log.INFO.{now.AddSeconds(s):yyyyMMdd-HHmmss}.{Environment.ProcessId}")];
        foreach (string t in taken)
        {
            File.WriteAllText(Path.Combine(logs, t), "not a log: " + t);
        }

        var r = CliRunner.Run("time", "-model", Model(d), "-iterations", "1", "-log_dir", logs);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("my notes", File.ReadAllText(Path.Combine(logs, "crema.INFO")));
        Assert.Null(new FileInfo(Path.Combine(logs, "crema.INFO")).LinkTarget);
        foreach (string t in taken)
        {
            Assert.Equal("not a log: " + t, File.ReadAllText(Path.Combine(logs, t)));
        }
        string written = Assert.Single(LogFiles(logs).Except(taken));
        Assert.Matches(@"\.\d+\.\d+$", written); // the taken name plus a suffix
        Assert.Equal(r.Log, File.ReadAllLines(Path.Combine(logs, written))[4..]);
        Assert.Contains(r.Log, l => l.StartsWith('W') && l.Contains("crema.INFO exists and is not a symlink", StringComparison.Ordinal));
    }

    [Fact]
    public void LogFile_StillWritesThatFile_AndMayReplaceAGlogNamedLog()
    {
        using var d = new TempDir();
        string model = Model(d);
        Directory.CreateDirectory(d.Combine("logs"));
        Assert.Equal(0, CliRunner.Run("time", "-model", model, "-iterations", "1", "-log_dir", d.Combine("logs")).ExitCode);
        string glogFile = Path.Combine(d.Combine("logs"), Assert.Single(LogFiles(d.Combine("logs"))));

        // --log FILE onto a log that starts with glog's header: replaced, as a log from an earlier run.
        var r = CliRunner.Run("time", "-model", model, "-iterations", "1", "--log", glogFile);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(r.Log, File.ReadAllLines(glogFile));
    }
}
