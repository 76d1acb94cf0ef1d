namespace Crema.Tests.Mpi;

/// <summary>A test that starts ranks with mpiexec: skipped, saying what to install, when MPICH is missing.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiExec == null)
        {
            Skip = "mpiexec not found: install MPICH to run the MPI tests (apt-get install -y mpich libmpich-dev)";
        }
    }

    /// <summary>MPICH's launcher (mpiexec.hydra / mpiexec.mpich preferred over an mpiexec alternative that may be Open MPI's), or null.</summary>
    public static string? MpiExec { get; } = Find();

    private static string? Find()
    {
        string[] folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        foreach (string name in (string[])["mpiexec.mpich", "mpiexec.hydra", "mpiexec"])
        {
            foreach (string folder in folders)
            {
                string path = Path.Combine(folder, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }
        return null;
    }
}
