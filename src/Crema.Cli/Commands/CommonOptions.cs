using System.CommandLine;
using Crema.Proto;

namespace Crema.Cli.Commands;

/// <summary>Flags shared by several verbs, with Caffe's names and defaults.</summary>
internal static class CommonOptions
{
    public static Option<string> Model() => new("--model") { Description = "The model definition protocol buffer text file." };

    public static Option<string> Weights() => new("--weights")
    {
        Description = "Trained weights (.caffemodel); for train, comma-separated files to initialise from (finetuning).",
    };

    public static Option<int> Iterations(int defaultValue) => new("--iterations")
    {
        Description = "The number of iterations to run.",
        DefaultValueFactory = _ => defaultValue,
    };

    public static Option<string> PhaseOption(string defaultValue) => new("--phase")
    {
        Description = "Network phase (TRAIN or TEST).",
        DefaultValueFactory = _ => defaultValue,
    };

    public static Option<int> Level() => new("--level") { Description = "Network level (optional)." };

    public static Option<string> Stage() => new("--stage") { Description = "Network stages, comma-separated (optional)." };

    public static Option<string> LogFile() => new("--log", "--log_dir")
    {
        Description = "Also write the log to this file, or for a folder to a new glog-named file crema.<host>.<user>.log.INFO.<date>-<time>.<pid> with the symlink crema.INFO.",
    };

    public static Option<int> Gpu() => new("--gpu") { Description = "Accepted for Caffe compatibility; Crema runs on the CPU.", Hidden = true };

    public static Phase ParsePhase(string text) => text.ToUpperInvariant() switch
    {
        "TRAIN" => Phase.Train,
        "TEST" => Phase.Test,
        _ => throw new CremaException($"unknown phase '{text}' (use TRAIN or TEST)"),
    };

    public static string[] Stages(string? text) =>
        string.IsNullOrEmpty(text) ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Opens the log file asked for by --log/--log_dir.</summary>
    public static void OpenLog(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return;
        }
        if (Directory.Exists(path))
        {
            // -log_dir: a new glog-named file per run, crema.INFO pointing at it; nothing existing is opened for writing.
            GlogLogFile.Open(path, DateTime.Now);
            return;
        }
        LogFileGuard.EnsureReplaceable(path);
        Log.File = new StreamWriter(path, append: false);
    }
}
