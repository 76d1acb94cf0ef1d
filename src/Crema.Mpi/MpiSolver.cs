using System.Diagnostics;
using System.Numerics.Tensors;
using Crema.Layers;
using Crema.Proto;
using Crema.Solvers;

namespace Crema.Mpi;

/// <summary>
/// Data-parallel SGD over MPI. Every rank runs the same <see cref="Solver"/> on its own shard of the data (see
/// <see cref="DataShard"/>); after each iteration's forward/backward passes the gradients of all ranks are summed with
/// MPI_Allreduce on one flat buffer and divided by the number of ranks, so every rank applies the same update to the
/// same weights. K ranks with batch B and iter_size I equal one process with batch B and iter_size K·I, record for
/// record (the gradient is the same sum, normalised by K·I). Rank 0 alone displays, tests and snapshots.
/// </summary>
public sealed class MpiSolver : IDisposable
{
    private readonly MpiWorld _world;
    private readonly bool _ownsSolver;
    private readonly float[] _flat;
    private readonly int _display;
    private readonly int _samplesPerIteration;
    private SolverAction _agreed;
    private long _iterationStart;
    private Period _period;
    private Period _total;

    /// <summary>
    /// Wraps <paramref name="solver"/>, which every rank must have built from the same solver parameter, with its Data
    /// layers set up under <see cref="DataShard.Use"/> (as <see cref="Create"/> does); rank 0's weights are broadcast.
    /// </summary>
    public MpiSolver(Solver solver, MpiWorld world) : this(solver, world, ownsSolver: false)
    {
    }

    private MpiSolver(Solver solver, MpiWorld world, bool ownsSolver)
    {
        Solver = solver;
        _world = world;
        _ownsSolver = ownsSolver;
        CheckSharding(solver.Net, world);
        var param = solver.Param;
        _display = param.Display;
        if (world.Rank != 0)
        {
            // Rank 0 alone displays, tests and snapshots; the other ranks only compute gradients.
            param.Display = 0;
            param.TestInterval = 0;
            param.Snapshot = 0;
            param.SnapshotAfterTrain = false;
            param.DebugInfo = false;
        }
        if (param.ClipGradients >= 0)
        {
            // The solver clips the sum of its iter_size gradients; after the allreduce we hold that sum over K ranks
            // divided by K, so the threshold scales by 1/K to clip exactly when one process with iter_size K·I would.
            param.ClipGradients /= world.Size;
        }
        _flat = new float[solver.Net.LearnableParams.Sum(p => p.Count)];
        var first = solver.Net.Layers.Count > 0 && solver.Net.TopsOf(0).Count > 0 ? solver.Net.TopsOf(0)[0] : null;
        _samplesPerIteration = (first is { NumAxes: > 0 } ? first.Shape[0] : 1) * Math.Max(1, param.IterSize);
        solver.IterationStarting += OnIterationStarting;
        solver.GradientsReady += OnGradientsReady;
        solver.IterationCompleted += OnIterationCompleted;
        SyncWeights();
    }

    /// <summary>Builds the solver for this rank, its TRAIN Data layers reading shard (rank, size), and wraps it.</summary>
    public static MpiSolver Create(SolverParameter param, MpiWorld world, string? baseDirectory = null)
    {
        Solver solver;
        using (DataShard.Use(new DataShard(world.Rank, world.Size)))
        {
            solver = SolverFactory.Create(param, baseDirectory);
        }
        try
        {
            return new MpiSolver(solver, world, ownsSolver: true);
        }
        catch
        {
            solver.Dispose();
            throw;
        }
    }

    public Solver Solver { get; }

    public int Rank => _world.Rank;

    public int Size => _world.Size;

    /// <summary>This rank's wish after each iteration (Ctrl-C, SIGHUP); the ranks agree on the strongest (stop over snapshot).</summary>
    public Func<SolverAction>? ActionRequest { get; set; }

    /// <summary>Bytes of gradient each rank contributes to one allreduce.</summary>
    public long GradientBytes => (long)_flat.Length * sizeof(float);

    /// <summary>Seconds spent in the gradient allreduce so far (including waiting for slower ranks).</summary>
    public double AllreduceSeconds => _total.Allreduce;

    /// <summary>Restores every rank from the same .solverstate (a shared or copied file), then re-broadcasts rank 0's weights.</summary>
    public void Restore(string stateFile)
    {
        Solver.Restore(stateFile);
        int iteration = _world.Broadcast(Solver.Iteration);
        if (iteration != Solver.Iteration)
        {
            throw new CremaException($"{stateFile}: rank {Rank} restored iteration {Solver.Iteration} but rank 0 restored {iteration}; give every rank the same snapshot");
        }
        SyncWeights();
    }

    /// <summary>Every rank's parameters ← rank 0's (after initialisation, finetuning or restore).</summary>
    public void SyncWeights()
    {
        var seen = new HashSet<Blob>(ReferenceEqualityComparer.Instance);
        foreach (var layer in Solver.Net.Layers)
        {
            foreach (var blob in layer.Blobs)
            {
                if (seen.Add(blob))
                {
                    _world.Broadcast(blob.Data);
                }
            }
        }
    }

    /// <summary>Trains to max_iter as <see cref="Solver.Solve"/> on every rank, then logs per-rank totals on rank 0.</summary>
    public void Solve()
    {
        Solver.ActionRequest = AgreedAction;
        Solver.Solve();
        Report("total", _total);
    }

    private SolverAction AgreedAction()
    {
        var action = _agreed;
        _agreed = SolverAction.None;
        return action;
    }

    private void OnIterationStarting(Solver solver) => _iterationStart = Stopwatch.GetTimestamp();

    private void OnGradientsReady(Solver solver)
    {
        long start = Stopwatch.GetTimestamp();
        double compute = Stopwatch.GetElapsedTime(_iterationStart, start).TotalSeconds;
        if (_world.Size > 1)
        {
            var parameters = solver.Net.LearnableParams;
            int offset = 0;
            foreach (var p in parameters)
            {
                p.Diff.CopyTo(_flat.AsSpan(offset));
                offset += p.Count;
            }
            _world.AllreduceSum(_flat);
            float scale = 1f / _world.Size;
            offset = 0;
            foreach (var p in parameters)
            {
                TensorPrimitives.Multiply(_flat.AsSpan(offset, p.Count), scale, p.Diff);
                offset += p.Count;
            }
        }
        double allreduce = Stopwatch.GetElapsedTime(start).TotalSeconds;
        _period.Add(compute, allreduce, _samplesPerIteration);
        _total.Add(compute, allreduce, _samplesPerIteration);
    }

    private void OnIterationCompleted(Solver solver, float loss)
    {
        // Collective: every rank reaches this point once per iteration, so the ranks agree here on Ctrl-C / SIGHUP.
        var local = ActionRequest?.Invoke() ?? SolverAction.None;
        var agreed = (SolverAction)FromPriority(_world.AllreduceMax(Priority(local)));
        // Only rank 0 writes snapshots; the others just stop when asked to.
        _agreed = agreed == SolverAction.Snapshot && Rank != 0 ? SolverAction.None : agreed;
        if (_display > 0 && solver.Iteration % _display == 0)
        {
            Report($"iterations {solver.Iteration - _period.Iterations}-{solver.Iteration}", _period);
            _period = default;
        }
    }

    // Stop outranks Snapshot outranks None when the ranks' wishes differ.
    private static int Priority(SolverAction action) => action switch
    {
        SolverAction.Stop => 2,
        SolverAction.Snapshot => 1,
        _ => 0,
    };

    private static int FromPriority(int priority) => (int)(priority switch
    {
        2 => SolverAction.Stop,
        1 => SolverAction.Snapshot,
        _ => SolverAction.None,
    });

    // Collective: rank 0 logs one line per rank.
    private void Report(string what, Period period)
    {
        double[] mine = [period.Iterations, period.Samples, period.Compute, period.Allreduce];
        double[] all = _world.Gather(mine);
        if (Rank != 0 || period.Iterations == 0)
        {
            return;
        }
        double megabytes = GradientBytes / 1e6;
        for (int r = 0; r < Size; r++)
        {
            double iterations = all[r * 4], samples = all[r * 4 + 1], compute = all[r * 4 + 2], allreduce = all[r * 4 + 3];
            double wall = compute + allreduce;
            double perIteration = allreduce / Math.Max(1, iterations);
            // Bus bandwidth as nccl-tests define it: a ring allreduce moves 2(K-1)/K of the buffer through each link.
            double bus = Size > 1 && perIteration > 0 ? 2.0 * (Size - 1) / Size * GradientBytes / perIteration / 1e9 : 0;
            Log.Info($"MPI rank {r}/{Size} {what}: {Log.Num(samples / Math.Max(wall, 1e-9))} samples/s, " +
                $"forward-backward {Log.Num(compute / Math.Max(1, iterations) * 1e3)} ms/iter, allreduce {Log.Num(perIteration * 1e3)} ms/iter " +
                $"({Log.Num(megabytes)} MB, bus {Log.Num(bus)} GB/s)");
        }
    }

    private static void CheckSharding(Nets.Net net, MpiWorld world)
    {
        var expected = world.Size > 1 ? new DataShard(world.Rank, world.Size) : (DataShard?)null;
        foreach (var layer in net.Layers)
        {
            if (layer is DataLayer data && data.Shard != expected)
            {
                throw new CremaException($"layer '{layer.Name}': its Data layer reads {(data.Shard is { } s ? $"shard {s.Rank} of {s.Count}" : "every record")} " +
                    $"but this is rank {world.Rank} of {world.Size}; build the solver with MpiSolver.Create or under DataShard.Use");
            }
            if (world.Rank == 0 && world.Size > 1 && layer.Type is "ImageData" or "HDF5Data" or "WindowData")
            {
                Log.Warning($"layer '{layer.Name}' ({layer.Type}) is not sharded: every rank reads the same records; use a Data layer (LMDB) to split the data across ranks");
            }
        }
    }

    public void Dispose()
    {
        Solver.IterationStarting -= OnIterationStarting;
        Solver.GradientsReady -= OnGradientsReady;
        Solver.IterationCompleted -= OnIterationCompleted;
        if (_ownsSolver)
        {
            Solver.Dispose();
        }
    }

    // Sums over a display period (or the whole run) on this rank.
    private struct Period
    {
        public int Iterations;
        public double Samples;
        public double Compute;
        public double Allreduce;

        public void Add(double compute, double allreduce, int samples)
        {
            Iterations++;
            Samples += samples;
            Compute += compute;
            Allreduce += allreduce;
        }
    }
}
