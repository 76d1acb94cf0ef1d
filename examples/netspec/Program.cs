using Crema.Examples.NetSpecs;

string repo = args.Length > 0 ? args[0] : FindRepoRoot();
return NetSpecExample.Run(repo, Console.Out) ? 0 : 1;

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Crema.slnx")))
        {
            return dir.FullName;
        }
    }
    return Directory.GetCurrentDirectory();
}
