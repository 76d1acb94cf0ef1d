using System.Runtime.InteropServices;
using MpiApi = MPI.Unsafe;

namespace Crema.Mpi;

/// <summary>
/// MPI_COMM_WORLD for this process: initialised once (MPI cannot be re-initialised after MPI_Finalize), finalised at
/// process exit. The float collectives call MPI directly on pinned spans, in place, without copies.
/// </summary>
public sealed class MpiWorld
{
    // MPICH and MS-MPI share these handle values (mpi.h); MPI.NET's Unsafe has no MPI_IN_PLACE.
    private static readonly IntPtr InPlace = new(-1);
    private static readonly Lock Gate = new();
    private static MpiWorld? _instance;
    private readonly MPI.Environment _environment;

    private MpiWorld(MPI.Environment environment)
    {
        _environment = environment;
        Check(MpiApi.MPI_Comm_rank(MpiApi.MPI_COMM_WORLD, out int rank), "MPI_Comm_rank");
        Check(MpiApi.MPI_Comm_size(MpiApi.MPI_COMM_WORLD, out int size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Shutdown();
    }

    /// <summary>This process's rank in MPI_COMM_WORLD (0 logs, tests and snapshots).</summary>
    public int Rank { get; }

    /// <summary>Number of processes (ranks).</summary>
    public int Size { get; }

    /// <summary>
    /// The world, initialising MPI on first use (serialized threading: only the training thread calls MPI). Outside
    /// mpiexec this is a world of one (MPI singleton start).
    /// </summary>
    public static MpiWorld Get()
    {
        lock (Gate)
        {
            if (_instance != null)
            {
                return _instance;
            }
            MpiRuntime.EnsureLoaded();
            string[] args = [];
            MPI.Environment environment;
            try
            {
                environment = new MPI.Environment(ref args, MPI.Threading.Serialized);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                throw new MpiUnavailableException($"MPI failed to start: {e.Message}; {MpiRuntime.InstallHint}", e);
            }
            _instance = new MpiWorld(environment);
            return _instance;
        }
    }

    /// <summary>Seconds on MPI's wall clock (MPI_Wtime).</summary>
    public static double Time() => MpiApi.MPI_Wtime();

    /// <summary>values ← Σ over ranks of values, in place.</summary>
    public unsafe void AllreduceSum(Span<float> values)
    {
        fixed (float* p = values)
        {
            Check(MpiApi.MPI_Allreduce(InPlace, (IntPtr)p, values.Length, MpiApi.MPI_FLOAT, MpiApi.MPI_SUM, MpiApi.MPI_COMM_WORLD), "MPI_Allreduce");
        }
    }

    /// <summary>The largest of every rank's <paramref name="value"/>.</summary>
    public unsafe int AllreduceMax(int value)
    {
        int result = value;
        Check(MpiApi.MPI_Allreduce(InPlace, (IntPtr)(&result), 1, MpiApi.MPI_INT, MpiApi.MPI_MAX, MpiApi.MPI_COMM_WORLD), "MPI_Allreduce");
        return result;
    }

    /// <summary>Every rank's values ← rank <paramref name="root"/>'s.</summary>
    public unsafe void Broadcast(Span<float> values, int root = 0)
    {
        fixed (float* p = values)
        {
            Check(MpiApi.MPI_Bcast((IntPtr)p, values.Length, MpiApi.MPI_FLOAT, root, MpiApi.MPI_COMM_WORLD), "MPI_Bcast");
        }
    }

    /// <summary>Every rank's value ← rank <paramref name="root"/>'s.</summary>
    public unsafe int Broadcast(int value, int root = 0)
    {
        int result = value;
        Check(MpiApi.MPI_Bcast((IntPtr)(&result), 1, MpiApi.MPI_INT, root, MpiApi.MPI_COMM_WORLD), "MPI_Bcast");
        return result;
    }

    /// <summary>Rank 0 receives every rank's <paramref name="values"/> (rank-major); other ranks get an empty array.</summary>
    public unsafe double[] Gather(ReadOnlySpan<double> values)
    {
        double[] all = Rank == 0 ? new double[values.Length * Size] : [];
        fixed (double* send = values)
        fixed (double* receive = all)
        {
            Check(MpiApi.MPI_Gather((IntPtr)send, values.Length, MpiApi.MPI_DOUBLE, (IntPtr)receive, values.Length, MpiApi.MPI_DOUBLE, 0, MpiApi.MPI_COMM_WORLD), "MPI_Gather");
        }
        return all;
    }

    public void Barrier() => Check(MpiApi.MPI_Barrier(MpiApi.MPI_COMM_WORLD), "MPI_Barrier");

    /// <summary>Ends every rank (MPI_Abort): the launcher kills the others, so no rank waits forever in a collective.</summary>
    public static void Abort(int code)
    {
        Console.Error.Flush();
        // NOTE: the launcher kills every rank as soon as it hears of the abort; give its proxy a moment to forward the
        // error line just written, or the one line explaining the abort can be lost.
        Thread.Sleep(200);
        _ = MpiApi.MPI_Abort(MpiApi.MPI_COMM_WORLD, code);
        Environment.Exit(code);
    }

    private void Shutdown()
    {
        lock (Gate)
        {
            if (!MPI.Environment.Finalized)
            {
                _environment.Dispose();
            }
        }
    }

    private static void Check(int code, string call)
    {
        if (code != 0)
        {
            throw new CremaException($"{call} failed with MPI error {code}");
        }
    }
}
