using Crema.Cli;

namespace Crema.Tests.Cli;

/// <summary>CLI tests swap process-wide state (Console, Log.Sink), so they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliCollection
{
    public const string Name = "Cli (serial: captures Console and Log)";
}

/// <summary>The outcome of one in-process `crema` run: exit code, stdout, stderr without log lines, and the log lines.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error, IReadOnlyList<string> Log)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public string AllText => Out + Error + string.Join("\n", Log);
}

internal static class CliRunner
{
    /// <summary>Runs `crema args…` in-process with Console.Out/Error and Log.Sink captured.</summary>
    public static CliResult Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var log = new List<string>();
        var (oldOut, oldError, oldSink, oldQuiet) = (Console.Out, Console.Error, Crema.Log.Sink, Crema.Log.Quiet);
        Console.SetOut(output);
        Console.SetError(error);
        Crema.Log.Sink = line =>
        {
            lock (log)
            {
                log.Add(line);
            }
        };
        Crema.Log.Quiet = false;
        int code;
        try
        {
            code = CremaCommand.Run(args);
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
            Crema.Log.Sink = oldSink;
            Crema.Log.Quiet = oldQuiet;
        }
        return new CliResult(code, output.ToString(), error.ToString(), log);
    }
}
