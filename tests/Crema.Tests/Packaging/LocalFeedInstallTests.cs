using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Crema.Tests.Packaging;

/// <summary>
/// The packages as a user gets them: Crema, Crema.Scripting and Crema.Cli packed from a copy of src/ into a local feed,
/// the `crema` tool installed from it and trained with, and a new console app that adds Crema from the feed and runs a
/// net. Restores use a private packages folder (falling back to the machine's NuGet cache for the dependencies) and a
/// version unique to the run, so nothing stale or installed elsewhere is picked up.
/// </summary>
[Trait("Category", "Slow")]
public sealed class LocalFeedInstallTests : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(15);
    private readonly string _dir = Directory.CreateTempSubdirectory("crema-pack-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PackedPackages_InstallFromALocalFeed_CremaTrainsAndAConsoleAppRunsANet()
    {
        string version = "0.3.0-localtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        string feed = Path.Combine(_dir, "feed");
        string packages = Path.Combine(_dir, "packages");
        string config = WriteNuGetConfig(feed);

        // Pack from a copy of the sources, so the repository's own bin/ and obj/ are never rebuilt under other tests.
        string src = Path.Combine(_dir, "repo");
        CopySources(src);
        foreach (string project in new[] { "Crema", "Crema.Scripting", "Crema.Cli" })
        {
            Run(src, "dotnet", ["pack", $"src/{project}/{project}.csproj", "-c", "Release", "-o", feed, "-nologo", $"-p:Version={version}"]);
        }
        string[] packed = Directory.GetFiles(feed).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "Crema", "Crema.Cli", "Crema.Scripting" }.SelectMany(p => new[] { $"{p}.{version}.nupkg", $"{p}.{version}.snupkg" })
            .Order(StringComparer.Ordinal).ToArray(), packed);

        // The tool: install, convert the bundled MNIST digits, train LeNet for a few iterations.
        string tools = Path.Combine(_dir, "tools");
        Run(_dir, "dotnet", ["tool", "install", "--tool-path", tools, "--configfile", config, "--add-source", feed, "--version", version, "Crema.Cli"], packages);
        string crema = Path.Combine(tools, "crema");
        Assert.True(File.Exists(crema), "the tool's command is named crema");
        string mnist = RepoPaths.Get("data", "mnist-10k");
        Run(_dir, crema, ["convert_mnist_data", Path.Combine(mnist, "train-images-idx3-ubyte.gz"), Path.Combine(mnist, "train-labels-idx1-ubyte.gz"), "train_lmdb"]);
        Run(_dir, crema, ["convert_mnist_data", Path.Combine(mnist, "test-images-idx3-ubyte.gz"), Path.Combine(mnist, "test-labels-idx1-ubyte.gz"), "test_lmdb"]);
        File.WriteAllText(Path.Combine(_dir, "lenet_train_test.prototxt"), File.ReadAllText(RepoPaths.Get("examples", "mnist", "lenet_train_test.prototxt"))
            .Replace("examples/mnist/mnist_train_lmdb", "train_lmdb", StringComparison.Ordinal)
            .Replace("examples/mnist/mnist_test_lmdb", "test_lmdb", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(_dir, "solver.prototxt"), """
            net: "lenet_train_test.prototxt"
            test_iter: 2  test_interval: 20  test_initialization: false
            base_lr: 0.01  momentum: 0.9  weight_decay: 0.0005  lr_policy: "inv"  gamma: 0.0001  power: 0.75
            display: 10  max_iter: 20  snapshot_prefix: "lenet"  random_seed: 1701  solver_mode: CPU
            """);
        string log = Run(_dir, crema, ["train", "-solver", "solver.prototxt"]);
        string[] lines = log.Split('\n');
        Assert.Contains(lines, l => l.Contains("] Iteration 10 (", StringComparison.Ordinal) && l.Contains("loss = ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("] Iteration 20, Testing net (#0)", StringComparison.Ordinal));
        string accuracy = Assert.Single(lines, l => l.Contains("Test net output #0: accuracy = ", StringComparison.Ordinal));
        Assert.InRange(double.Parse(accuracy[(accuracy.LastIndexOf('=') + 2)..], CultureInfo.InvariantCulture), 0, 1);
        Assert.Contains(lines, l => l.EndsWith("] Optimization Done.", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(_dir, "lenet_iter_20.caffemodel")));

        // The library: a new console app with `dotnet add package Crema` runs a net built from a prototxt.
        string app = Path.Combine(_dir, "app");
        Directory.CreateDirectory(app);
        Run(app, "dotnet", ["new", "console", "--no-restore"], packages);
        File.Copy(config, Path.Combine(app, "NuGet.config"));
        Run(app, "dotnet", ["add", "package", "Crema", "--version", version], packages);
        File.WriteAllText(Path.Combine(app, "net.prototxt"), """
            name: "Affine"
            layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 } } }
            layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
                    inner_product_param { num_output: 2 weight_filler { type: "constant" value: 0.5 }
                                          bias_filler { type: "constant" value: 1 } } }
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using Crema.Nets;
            using Crema.Proto;

            using var net = new Net(ProtoFiles.ReadNetText("net.prototxt"), Phase.Test);
            float[] input = [1, 2, 3];
            input.CopyTo(net.Blob("data").Data);
            net.Forward();
            Console.WriteLine("ip = " + string.Join(" ", net.Blob("ip").Data.ToArray()));
            """);
        string output = Run(app, "dotnet", ["run", "-c", "Release"], packages);
        // 0.5 * (1 + 2 + 3) + 1 for both outputs.
        Assert.Contains(output.Split('\n'), l => l.Trim() == "ip = 4 4");
        // The package carries its README, icon and XML docs.
        string restored = Path.Combine(packages, "crema", version);
        Assert.True(File.Exists(Path.Combine(restored, "nuget-readme.md")), "README in the package");
        Assert.True(File.Exists(Path.Combine(restored, "icon.png")), "icon in the package");
        Assert.True(File.Exists(Path.Combine(restored, "lib", "net10.0", "Crema.xml")), "XML docs in the package");
        string assets = File.ReadAllText(Path.Combine(app, "obj", "project.assets.json"));
        Assert.Contains($"\"Crema/{version}\"", assets, StringComparison.Ordinal);
        Assert.DoesNotContain("Microsoft.CodeAnalysis", assets, StringComparison.Ordinal); // no Roslyn in a plain app
    }

    private string WriteNuGetConfig(string feed)
    {
        // The local feed on top of the usual sources; the machine's package cache as a fallback for the dependencies.
        string global = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(_dir, "NuGet.config");
        File.WriteAllText(path, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="crema-local" value="{feed}" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine" value="{global}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        Directory.CreateDirectory(feed);
        return path;
    }

    private static void CopySources(string to)
    {
        foreach (string file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json", "docs/nuget-readme.md", "docs/icon.png" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, file))!);
            File.Copy(RepoPaths.Get(file), Path.Combine(to, file));
        }
        string src = RepoPaths.Get("src");
        foreach (string file in Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(src, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                continue;
            }
            string target = Path.Combine(to, "src", relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <summary>Runs a command to completion; fails with its output when it exits non-zero. Returns stdout + stderr.</summary>
    private static string Run(string workDir, string command, string[] args, string? packagesFolder = null)
    {
        var start = new ProcessStartInfo(command, args)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_ROOT"] = DotnetRoot();
        if (packagesFolder != null)
        {
            start.Environment["NUGET_PACKAGES"] = packagesFolder;
        }
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) { lock (output) { output.Append(e.Data).Append('\n'); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) { lock (output) { output.Append(e.Data).Append('\n'); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(StepTimeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{command} {string.Join(' ', args)}: no exit after {StepTimeout}\n{output}");
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command} {string.Join(' ', args)} exited with {process.ExitCode}:\n{output}");
        return output.ToString();
    }

    /// <summary>The dotnet installation running the tests (…/shared/Microsoft.NETCore.App/10.0.x/ is three levels down).</summary>
    private static string DotnetRoot() =>
        Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
}
