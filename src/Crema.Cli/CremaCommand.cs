using System.CommandLine;
using Crema.Cli.Commands;

namespace Crema.Cli;

/// <summary>The `crema` command: Caffe's verbs and flags (single-dash Caffe spellings and double-dash forms both work).</summary>
internal static class CremaCommand
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("Crema: Caffe-compatible deep learning for .NET. Verbs mirror the `caffe` tool.");
        root.Add(TrainCommand.Create());
        root.Add(TestCommand.Create());
        root.Add(TimeCommand.Create());
        root.Add(DeviceQueryCommand.Create());
        foreach (var command in ExtraCommands.Create())
        {
            root.Add(command);
        }
        root.Add(GlobalFlags.HelpCommand(root));
        root.Add(GlobalFlags.MinLogLevel());
        int logLevel = Log.Level;
        try
        {
            (args, string? flagError) = GlobalFlags.Apply(args);
            if (flagError != null)
            {
                Console.Error.WriteLine($"crema: error: {flagError}");
                return 1;
            }
            var parsed = root.Parse(NormalizeArgs(args));
            if (parsed.Errors.Count > 0 && args.Length > 0)
            {
                // One line, like every other user error; the verb's help is one flag away.
                if (parsed.CommandResult.Command == root && !args[0].StartsWith('-'))
                {
                    Console.Error.WriteLine($"crema: error: unknown verb '{args[0]}' (verbs: {string.Join(", ", root.Subcommands.Select(c => c.Name))})");
                    return 1;
                }
                string verb = parsed.CommandResult.Command == root ? "" : " " + parsed.CommandResult.Command.Name;
                Console.Error.WriteLine($"crema: error: {string.Join("; ", parsed.Errors.Select(e => e.Message))} (see 'crema{verb} --help')");
                return 1;
            }
            return GlobalFlags.Invoke(parsed, root);
        }
        finally
        {
            // --log opens a file per run; close it so in-process callers (tests, examples) do not keep writing to it.
            Log.File?.Dispose();
            Log.File = null;
            Log.Level = logLevel;
        }
    }

    /// <summary>Caffe's gflags accept `-solver x` and `-solver=x`; map single-dash long names to System.CommandLine's `--solver`.</summary>
    internal static string[] NormalizeArgs(string[] args)
    {
        var result = new string[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            bool singleDashLong = a.Length > 2 && a[0] == '-' && a[1] != '-' && char.IsLetter(a[1]);
            result[i] = singleDashLong ? "-" + a : a;
        }
        return result;
    }

    /// <summary>Runs a verb: user errors become one line on stderr and exit code 1, never a stack trace (CREMA_DEBUG=1 shows it).</summary>
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e)
        {
            // Every exception, expected or not (OverflowException, a user layer's fault…), ends as one line.
            string message = ErrorReport.Describe(e);
            Log.File?.WriteLine($"F {message}");
            Console.Error.WriteLine($"crema: error: {message}");
            if (Environment.GetEnvironmentVariable("CREMA_DEBUG") == "1")
            {
                Console.Error.WriteLine(e);
            }
            return 1;
        }
    }
}
