using Crema.Layers;
using Crema.Mpi;
using Crema.Proto;
using Crema.Solvers;

namespace Crema.Cli.Commands;

/// <summary>
/// `crema train` over MPI: on when the process was started by mpiexec (PMI_RANK/PMI_SIZE set) or with -mpi (a world
/// of one outside mpiexec). Rank 0 logs; a failing rank prints one line and ends all ranks with MPI_Abort.
/// </summary>
internal sealed class MpiTraining : IDisposable
{
    private static MpiWorld? _active;
    private readonly MpiWorld _world;
    private MpiSolver? _parallel;

    private MpiTraining(MpiWorld world) => _world = world;

    public int Rank => _world.Rank;

    /// <summary>Unhooks the MPI solver from the solver's events.</summary>
    public void Dispose() => _parallel?.Dispose();

    /// <summary>Starts MPI when asked (or under mpiexec); null for ordinary single-process training.</summary>
    public static MpiTraining? Start(bool requested)
    {
        if (!requested && !MpiRuntime.LaunchedByMpiexec && !MpiRuntime.LaunchedByOpenMpi)
        {
            return null;
        }
        var world = MpiWorld.Get();
        _active = world;
        if (world.Rank != 0)
        {
            Log.Quiet = true;
        }
        Log.Info($"MPI: {world.Size} rank(s); rank r trains on batches r, r+{world.Size}, r+2·{world.Size}, … and gradients are summed with MPI_Allreduce");
        return new MpiTraining(world);
    }

    /// <summary>Builds this rank's solver: TRAIN Data layers read shard (rank, size).</summary>
    public Solver CreateSolver(SolverParameter param, string? baseDirectory)
    {
        Solver solver;
        using (DataShard.Use(new DataShard(_world.Rank, _world.Size)))
        {
            solver = SolverFactory.Create(param, baseDirectory);
        }
        _parallel = new MpiSolver(solver, _world);
        return solver;
    }

    /// <summary>Trains on every rank after restore/finetune: rank 0's weights are broadcast, Ctrl-C/SIGHUP agreed per iteration.</summary>
    public void Solve(Solver solver)
    {
        var parallel = _parallel ?? throw new InvalidOperationException("CreateSolver first");
        int iteration = _world.Broadcast(solver.Iteration);
        if (iteration != solver.Iteration)
        {
            throw new CremaException($"rank {_world.Rank} resumed at iteration {solver.Iteration} but rank 0 at {iteration}; give every rank the same -snapshot");
        }
        parallel.SyncWeights();
        parallel.ActionRequest = solver.ActionRequest;
        parallel.Solve();
        parallel.Dispose();
    }

    /// <summary>Runs a verb; under MPI an error ends every rank (one line from the failing rank, then MPI_Abort) instead of leaving the others waiting.</summary>
    public static int AbortOnError(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (_active != null)
        {
            if (_active.Rank != 0)
            {
                // An error every rank meets (a bad solver file) should be reported once: rank 0's abort ends this rank
                // before it prints; an error of this rank alone is printed a moment later.
                Thread.Sleep(1000);
            }
            Console.Error.WriteLine($"crema: error: rank {_active.Rank}/{_active.Size}: {e.Message}");
            if (Environment.GetEnvironmentVariable("CREMA_DEBUG") == "1")
            {
                Console.Error.WriteLine(e);
            }
            MpiWorld.Abort(1);
            return 1;
        }
    }
}
