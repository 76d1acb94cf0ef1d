using System.Reflection;
using System.Runtime.InteropServices;

namespace Crema.Mpi;

/// <summary>MPI is not usable here: not installed, or the wrong implementation launched this process.</summary>
public sealed class MpiUnavailableException : CremaException
{
    public MpiUnavailableException(string message) : base(message) { }

    public MpiUnavailableException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Finds the MPI library for MPI.NET. MPI.NET imports "msmpi.dll" (Microsoft MPI); MPICH has the same ABI (handles
/// are the same 32-bit constants), so the import is resolved to Debian's libmpich.so.12. Open MPI's ABI differs.
/// </summary>
public static class MpiRuntime
{
    public const string InstallHint = "install mpich: apt-get install mpich";

    /// <summary>Set to a library path to use another MPICH-ABI build (Intel MPI, MVAPICH, Cray MPICH).</summary>
    public const string LibraryVariable = "CREMA_MPI_LIBRARY";

    private static readonly Lock Gate = new();
    private static IntPtr _library;

    /// <summary>True when this process was started by an MPICH-style launcher (mpiexec/mpirun/srun set PMI_RANK and PMI_SIZE).</summary>
    public static bool LaunchedByMpiexec =>
        Environment.GetEnvironmentVariable("PMI_SIZE") != null && Environment.GetEnvironmentVariable("PMI_RANK") != null;

    /// <summary>True when Open MPI's mpirun started this process (its ranks cannot talk to MPI.NET over MPICH).</summary>
    public static bool LaunchedByOpenMpi => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") != null;

    /// <summary>Loads libmpich and points MPI.NET's imports at it; throws <see cref="MpiUnavailableException"/> when it is missing.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_library != IntPtr.Zero)
            {
                return;
            }
            if (LaunchedByOpenMpi)
            {
                throw new MpiUnavailableException("this process was started by Open MPI's mpirun, which Crema cannot use; " +
                    $"{InstallHint} and start it with mpiexec.mpich (or make mpich the default: update-alternatives --config mpi)");
            }
            string name = Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } custom ? custom : "libmpich.so.12";
            if (!NativeLibrary.TryLoad(name, out var handle))
            {
                throw new MpiUnavailableException($"MPI is not installed ({name} not found): {InstallHint}");
            }
            NativeLibrary.SetDllImportResolver(typeof(MPI.Unsafe).Assembly, Resolve);
            _library = handle;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name.StartsWith("msmpi", StringComparison.OrdinalIgnoreCase) || name.StartsWith("mpich", StringComparison.OrdinalIgnoreCase)
            ? _library
            : IntPtr.Zero;
}
