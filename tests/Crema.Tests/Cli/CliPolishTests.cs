using System.Diagnostics;
using Crema.Layers;
using Crema.Proto;
using Crema.Tests.Data;

namespace Crema.Tests.Cli;

/// <summary>`crema help`, help naming crema at 100 columns, -gpu, -minloglevel / GLOG_minloglevel, "did you mean", the launcher's build line.</summary>
[Collection(CliCollection.Name)]
public class CliPolishTests
{
    [Fact]
    public void Help_NamesTheProgramCrema_ListsTheVerbs_FitsIn100Columns()
    {
        var r = CliRunner.Run("help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage:\n  crema [command] [options]", r.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        foreach (string verb in new[] { "train", "test", "time", "draw_net", "plot_training_log", "help" })
        {
            Assert.Contains("\n  " + verb + " ", r.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        }
        AssertHelpShape(r.Out);
        Assert.Equal(r.Out, CliRunner.Run("--help").Out);
    }

    [Theory]
    [InlineData("draw_net", "--help")]
    [InlineData("train", "-help")]
    [InlineData("help", "time")]
    public void VerbHelp_NamesCremaAndTheVerb(string first, string second)
    {
        var r = CliRunner.Run(first, second);
        Assert.Equal(0, r.ExitCode);
        string verb = first == "help" ? second : first;
        Assert.Contains($"  crema {verb} ", r.Out, StringComparison.Ordinal);
        AssertHelpShape(r.Out);
    }

    [Fact]
    public void Help_UnknownVerb_OneLineError()
    {
        var r = CliRunner.Run("help", "trian");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("unknown verb 'trian'", Assert.Single(r.ErrorLines), StringComparison.Ordinal);
    }

    private static void AssertHelpShape(string help)
    {
        Assert.DoesNotContain("Crema.Cli", help, StringComparison.Ordinal);
        Assert.DoesNotContain("testhost", help, StringComparison.Ordinal);
        var lines = help.ReplaceLineEndings("\n").Split('\n');
        Assert.All(lines, l => Assert.True(l.Length <= 100, $"{l.Length} columns: {l}"));
    }

    [Fact]
    public void Gpu_WarnsThatCremaRunsOnTheCpu_AndCarriesOn()
    {
        var r = CliRunner.Run("device_query", "-gpu", "0");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(r.Log, l => l.StartsWith('W') && l.EndsWith("Crema runs on the CPU: -gpu 0 is ignored", StringComparison.Ordinal));
        Assert.Contains(r.Log, l => l.StartsWith('I') && l.Contains("Logical cores", StringComparison.Ordinal));
    }

    [Fact]
    public void MinLogLevel_DropsLowerSeverities_ForThisRunOnly()
    {
        int before = Crema.Log.Level;
        var warnings = CliRunner.Run("device_query", "-minloglevel", "1", "-gpu", "0");
        Assert.Equal(0, warnings.ExitCode);
        Assert.NotEmpty(warnings.Log);
        Assert.All(warnings.Log, l => Assert.StartsWith("W", l, StringComparison.Ordinal));
        var errors = CliRunner.Run("device_query", "--minloglevel=2", "-gpu", "0");
        Assert.Equal(0, errors.ExitCode);
        Assert.Empty(errors.Log);
        Assert.Equal(before, Crema.Log.Level);
        var bad = CliRunner.Run("device_query", "-minloglevel", "loud");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("-minloglevel needs 0 (INFO)", Assert.Single(bad.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void GlogMinloglevel_EnvironmentVariable_SilencesInfo()
    {
        string config = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = RepoPaths.Get("src", "Crema.Cli", "bin", config, "net10.0", "Crema.Cli.dll");
        Assert.True(File.Exists(dll), dll);
        foreach (var (level, expectInfo) in new[] { ("0", true), ("1", false) })
        {
            var psi = new ProcessStartInfo("dotnet", [dll, "device_query", "-gpu", "1"]) { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.Environment["GLOG_minloglevel"] = level;
            using var process = Process.Start(psi)!;
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(expectInfo, lines.Any(l => l.StartsWith('I')));
            Assert.Contains(lines, l => l.StartsWith('W') && l.Contains("-gpu 1 is ignored", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("Relu", "ReLU")]
    [InlineData("relu", "ReLU")]
    [InlineData("Convolutoin", "Convolution")]
    [InlineData("InnerProdcut", "InnerProduct")]
    [InlineData("SoftmaxWithLos", "SoftmaxWithLoss")]
    public void UnknownLayerType_SuggestsTheNearestKnownType(string typo, string suggestion)
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(new LayerParameter { Name = "l", Type = typo }));
        Assert.Contains($"unknown layer type '{typo}' — did you mean '{suggestion}'? (known: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownLayerType_FarFromEveryType_NoSuggestion()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(new LayerParameter { Name = "l", Type = "Frobnicate" }));
        Assert.DoesNotContain("did you mean", e.Message, StringComparison.Ordinal);
        Assert.Null(TypeSuggestion.Nearest("Frobnicate", LayerRegistry.KnownTypes));
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("ReLU", "RELU", 1)]
    [InlineData("abc", "acb", 1)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "abc", 3)]
    public void Distance_IsTheOptimalStringAlignmentDistance(string a, string b, int expected)
    {
        Assert.Equal(expected, TypeSuggestion.Distance(a, b));
        Assert.Equal(expected, TypeSuggestion.Distance(b, a));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Launcher_SaysWhenItBuilds_AndStaysQuietOtherwise()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // a bash script
        }
        using var dir = new TempDir();
        File.Copy(RepoPaths.Get("crema"), dir.Combine("crema"));
        Directory.CreateDirectory(dir.Combine("src"));
        File.WriteAllText(dir.Combine("src/A.cs"), "class A {}");
        // A stand-in `dotnet`: "build" creates the DLL, anything else says it ran.
        Directory.CreateDirectory(dir.Combine("bin"));
        File.WriteAllText(dir.Combine("bin/dotnet"), """
            #!/usr/bin/env bash
            if [ "$1" = build ]; then mkdir -p "$ROOT_FOR_TEST/src/Crema.Cli/bin/Release/net10.0"; touch "$ROOT_FOR_TEST/src/Crema.Cli/bin/Release/net10.0/Crema.Cli.dll"; exit 0; fi
            echo ran
            """.ReplaceLineEndings("\n"));
        File.SetUnixFileMode(dir.Combine("bin/dotnet"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        (string Out, string Err) Run()
        {
            var psi = new ProcessStartInfo("bash", [dir.Combine("crema"), "help"]) { RedirectStandardError = true, RedirectStandardOutput = true };
            psi.Environment["PATH"] = dir.Combine("bin") + ":" + Environment.GetEnvironmentVariable("PATH");
            psi.Environment["ROOT_FOR_TEST"] = dir.Path;
            using var process = Process.Start(psi)!;
            string output = process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            return (output, error);
        }
        var first = Run();
        Assert.Equal("building crema (first run, about a minute)…", first.Err.Trim());
        Assert.Equal("ran", first.Out.Trim());
        var second = Run();
        Assert.Equal("", second.Err);
        File.SetLastWriteTimeUtc(dir.Combine("src/A.cs"), DateTime.UtcNow.AddMinutes(1));
        var third = Run();
        Assert.Equal("rebuilding crema…", third.Err.Trim());
        Assert.Equal("ran", third.Out.Trim());
    }
}
