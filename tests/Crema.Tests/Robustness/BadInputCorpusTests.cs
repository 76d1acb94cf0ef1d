using System.Diagnostics;
using System.Text.RegularExpressions;
using Crema.Tests.Cli;
using Crema.Tests.Data;
using Xunit.Abstractions;

namespace Crema.Tests.Robustness;

/// <summary>
/// Runs the bad-input corpus through `crema`: in-process for every case (the CLI's own entry point, stderr and exit
/// code captured) and as real processes for a sample. Each run must exit non-zero with exactly one stderr line that
/// names the file (file:line:column for text) or layer, print no stack trace, change no file outside its output path,
/// and finish within 60 s and 2 GiB.
/// </summary>
[Collection(CliCollection.Name)]
public partial class BadInputCorpusTests(ITestOutputHelper output)
{
    private const long MemoryLimit = 2L << 30;

    public static TheoryData<string> Fast() => [.. BadInputCorpus.Cases.Values.Where(c => !c.Slow).Select(c => c.Name)];

    public static TheoryData<string> SlowCases() => [.. BadInputCorpus.Cases.Values.Where(c => c.Slow).Select(c => c.Name)];

    // A sample across readers and verbs, run as separate `crema` processes.
    public static TheoryData<string> ProcessSample() =>
    [
        "net_unknown_field_num_output", "net_duplicate_type_conv", "solver_iter_size_zero", "caffemodel_random_3", "weights_no_data",
        "state_history_shape", "idx_gzip_bad_crc", "lmdb_truncated_4096", "image_header_100000", "custom_forward_index",
        "flag_iterations_overflow", "flag_log_onto_model", "hdf5_random", "mean_count_short",
    ];

    [Fact]
    public void Corpus_HasAtLeast300Cases_FromEveryFamily()
    {
        var names = BadInputCorpus.Cases.Keys.ToArray();
        Assert.True(names.Length >= 300, $"{names.Length} cases");
        foreach (string family in (string[])["net_", "sem_", "solver_", "caffemodel_", "weights_", "state_", "mean_", "idx_", "lmdb_", "datum_", "data_layer_", "image_", "convert_imageset_", "hdf5_", "custom_", "flag_", "huge_"])
        {
            Assert.True(names.Count(n => n.StartsWith(family, StringComparison.Ordinal)) >= 2, $"family {family}");
        }
    }

    [Theory]
    [MemberData(nameof(Fast))]
    public void BadInput_InProcess(string name) => RunInProcess(name);

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(SlowCases))]
    public void BadInput_InProcess_Huge(string name) => RunInProcess(name);

    [Theory]
    [MemberData(nameof(ProcessSample))]
    public async Task BadInput_AsProcess(string name)
    {
        var c = BadInputCorpus.Cases[name];
        using var dir = new TempDir();
        string[] args = c.Setup(dir);
        var before = BadFiles.Snapshot(dir.Path);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Crema.Cli.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        start.Environment["CREMA_MEMORY_LIMIT_MB"] = "2048";
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x80000000";
        start.Environment.Remove("CREMA_DEBUG");
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        long peak = 0;
        while (!process.WaitForExit(50))
        {
            peak = Math.Max(peak, PeakRss(process.Id));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "ran past 60 s");
        }
        string errorText = await stderr;
        string outText = await stdout;
        var lines = errorText.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !GlogLine().IsMatch(l)).ToArray();
        output.WriteLine(string.Join('\n', lines));
        Check(c, dir, before, process.ExitCode, lines, outText + errorText);
        Assert.True(peak < MemoryLimit, $"peak RSS {peak >> 20} MiB");
    }

    private static long PeakRss(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // exited between the check and the read
        }
        return 0;
    }

    private void RunInProcess(string name)
    {
        var c = BadInputCorpus.Cases[name];
        using var dir = new TempDir();
        string[] args = c.Setup(dir);
        var before = BadFiles.Snapshot(dir.Path);
        long liveBefore = FloatBuffer.LiveBytes;
        var watch = Stopwatch.StartNew();
        CliResult r;
        using (MemoryGuard.UseLimit(liveBefore + MemoryLimit))
        {
            r = CliRunner.Run(args);
        }
        watch.Stop();
        output.WriteLine(r.Error);
        Check(c, dir, before, r.ExitCode, r.ErrorLines, r.AllText);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
    }

    private static void Check(BadCase c, TempDir dir, Dictionary<string, string> before, int exitCode, string[] errorLines, string all)
    {
        Assert.False(all.Contains("   at ", StringComparison.Ordinal), $"stack trace leaked:\n{all}");
        Assert.True(exitCode != 0, $"exit code 0:\n{all}");
        Assert.True(errorLines.Length == 1, $"expected one line on stderr, got {errorLines.Length}:\n{string.Join('\n', errorLines)}");
        string line = errorLines[0];
        Assert.StartsWith("crema: error: ", line, StringComparison.Ordinal);
        foreach (string expected in c.Expect)
        {
            Assert.True(line.Contains(expected, StringComparison.Ordinal), $"'{expected}' missing from: {line}");
        }
        if (c.LineColumn)
        {
            Assert.Matches(@"\.prototxt:\d+:\d+: ", line);
        }
        var after = BadFiles.Snapshot(dir.Path);
        foreach (var (file, hash) in before)
        {
            Assert.True(after.TryGetValue(file, out string? now), $"{file} was deleted");
            Assert.True(now == hash, $"{file} was changed");
        }
        var outputs = c.Outputs ?? [];
        var created = after.Keys.Where(f => !before.ContainsKey(f) && !outputs.Any(o => f.StartsWith(o, StringComparison.Ordinal))).ToArray();
        Assert.True(created.Length == 0, $"a failed run left files behind: {string.Join(", ", created)}");
    }

    [GeneratedRegex(@"^[IWE]\d{4} \d\d:\d\d:\d\d\.\d{6} ")]
    private static partial Regex GlogLine();
}
