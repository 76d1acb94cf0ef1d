using System.CommandLine;

namespace Crema.Cli.Commands;

/// <summary>The data and conversion verbs (convert_mnist_data, …).</summary>
internal static class ExtraCommands
{
    public static IEnumerable<Command> Create() => [];
}
