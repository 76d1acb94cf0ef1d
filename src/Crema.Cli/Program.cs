namespace Crema.Cli;

internal static class Program
{
    private static int Main(string[] args) => CremaCommand.Run(args);
}
