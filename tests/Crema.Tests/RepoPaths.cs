namespace Crema.Tests;

/// <summary>Finds files of the repository (examples, bundled data) from the test binaries' folder.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Get(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Crema.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("repository root (Crema.slnx) not found above " + AppContext.BaseDirectory);
    }
}
