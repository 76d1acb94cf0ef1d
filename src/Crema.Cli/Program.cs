namespace Crema.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        Crema.Scripting.CSharpLayers.Enable();
        return CremaCommand.Run(args);
    }
}
