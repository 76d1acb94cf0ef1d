namespace Crema.Cli;

internal static class CremaCommand
{
    public static int Run(string[] args)
    {
        Console.WriteLine($"crema: {string.Join(' ', args)}");
        return 0;
    }
}
