using System.Diagnostics;
using Crema.Nets;
using Crema.Proto;

namespace Crema.Solvers;

/// <summary>What a solver should do when asked from outside (Ctrl-C, SIGHUP): Caffe's SolverAction.</summary>
public enum SolverAction
{
    None,
    Stop,
    Snapshot,
}

/// <summary>
/// Caffe's Solver: owns the train net and test nets (which share its weights), runs <see cref="Step"/> =
/// iter_size × ForwardBackward, then the method's update; tests, displays and snapshots on schedule.
/// </summary>
public abstract partial class Solver : IDisposable
{
    private readonly List<Net> _testNets = [];
    private readonly List<float> _losses = [];
    private int _iterationsLast;

    protected Solver(SolverParameter param, string? baseDirectory = null)
    {
        Param = param;
        BaseDirectory = baseDirectory;
        if (param.RandomSeed >= 0)
        {
            Rng.Seed(param.RandomSeed);
        }
        Log.Info("Initializing solver from parameters: ");
        SolverParameterChecks.Check(param);
        CheckSnapshotWritePermissions();
        StaleSnapshotFiles.Remove(param.SnapshotPrefix);
        InitTrainNet();
        InitTestNets();
        Log.Info("Solver scaffolding done.");
    }

    public SolverParameter Param { get; }

    /// <summary>Folder of the solver file: relative paths that do not exist from the working folder are tried from here.</summary>
    public string? BaseDirectory { get; }

    public Net Net { get; private set; } = null!;

    public IReadOnlyList<Net> TestNets => _testNets;

    /// <summary>Number of weight updates done so far.</summary>
    public int Iteration { get; protected set; }

    /// <summary>Multistep/step position of the learning-rate schedule.</summary>
    public int CurrentStep { get; protected set; }

    public float SmoothedLoss { get; private set; }

    /// <summary>Polled after each iteration (the CLI wires Ctrl-C / SIGHUP here).</summary>
    public Func<SolverAction>? ActionRequest { get; set; }

    public bool RequestedEarlyExit { get; private set; }

    /// <summary>Raised before each iteration's forward/backward (pycaffe's callback on_start).</summary>
    public event Action<Solver>? IterationStarting;

    /// <summary>Raised when gradients are accumulated, before the update (on_gradients_ready).</summary>
    public event Action<Solver>? GradientsReady;

    /// <summary>Raised after the update of each iteration, with the iteration's (unsmoothed) loss.</summary>
    public event Action<Solver, float>? IterationCompleted;

    public abstract string Type { get; }

    /// <summary>Trains to max_iter (restoring from <paramref name="resumeFile"/> first if given), snapshotting at the end as Caffe does.</summary>
    public void Solve(string? resumeFile = null)
    {
        Log.Info($"Solving {Net.Name}");
        Log.Info($"Learning Rate Policy: {Param.LrPolicy}");
        RequestedEarlyExit = false;
        if (resumeFile != null)
        {
            Log.Info($"Restoring previous solver status from {resumeFile}");
            Restore(resumeFile);
        }
        int startIter = Iteration;
        Step(Param.MaxIter - Iteration);
        if (Param.SnapshotAfterTrain && (Param.Snapshot == 0 || Iteration % Param.Snapshot != 0))
        {
            Snapshot();
        }
        if (RequestedEarlyExit)
        {
            Log.Info("Optimization stopped early.");
            return;
        }
        if (Param.Display > 0 && Iteration % Param.Display == 0)
        {
            float loss = Net.Forward();
            UpdateSmoothedLoss(loss, startIter, Math.Max(1, Param.AverageLoss));
            Log.Info($"Iteration {Iteration}, loss = {Log.Num(SmoothedLoss)}");
        }
        if (Param.TestInterval > 0 && Iteration % Param.TestInterval == 0)
        {
            TestAll();
        }
        Log.Info("Optimization Done.");
    }

    /// <summary>Runs <paramref name="iters"/> iterations: each is iter_size forward/backward passes, then one update.</summary>
    public void Step(int iters)
    {
        int startIter = Iteration;
        int stopIter = Iteration + iters;
        int averageLoss = Math.Max(1, Param.AverageLoss);
        _losses.Clear();
        SmoothedLoss = 0;
        long timerStart = Stopwatch.GetTimestamp(); // a timestamp, not a Stopwatch object: Step(1) loops allocate nothing
        _iterationsLast = Iteration;
        int iterSize = Math.Max(1, Param.IterSize);

        while (Iteration < stopIter)
        {
            Net.ClearParamDiffs();
            if (Param.TestInterval > 0 && Iteration % Param.TestInterval == 0 && (Iteration > 0 || Param.TestInitialization))
            {
                TestAll();
                if (RequestedEarlyExit)
                {
                    break;
                }
            }
            IterationStarting?.Invoke(this);
            bool display = Param.Display > 0 && Iteration % Param.Display == 0;
            Net.DebugInfo = display && Param.DebugInfo;
            float loss = 0;
            for (int i = 0; i < iterSize; i++)
            {
                loss += Net.ForwardBackward();
            }
            loss /= iterSize;
            UpdateSmoothedLoss(loss, startIter, averageLoss);
            if (display)
            {
                double lapse = Stopwatch.GetElapsedTime(timerStart).TotalSeconds;
                double perSecond = (Iteration - _iterationsLast) / (lapse > 0 ? lapse : 1);
                Log.Info($"Iteration {Iteration} ({Log.Num(perSecond)} iter/s, {Log.Num(lapse)}s/{Param.Display} iters), loss = {Log.Num(SmoothedLoss)}");
                timerStart = Stopwatch.GetTimestamp();
                _iterationsLast = Iteration;
                LogOutputs(Net, "Train", null, 1);
            }
            GradientsReady?.Invoke(this);
            ApplyUpdate();
            Iteration++;
            IterationCompleted?.Invoke(this, loss);

            var request = ActionRequest?.Invoke() ?? SolverAction.None;
            if ((Param.Snapshot > 0 && Iteration % Param.Snapshot == 0) || request == SolverAction.Snapshot)
            {
                Snapshot();
            }
            if (request == SolverAction.Stop)
            {
                RequestedEarlyExit = true;
                break;
            }
        }
    }

    private void UpdateSmoothedLoss(float loss, int startIter, int averageLoss)
    {
        if (_losses.Count < averageLoss)
        {
            _losses.Add(loss);
            int size = _losses.Count;
            SmoothedLoss = (SmoothedLoss * (size - 1) + loss) / size;
        }
        else
        {
            int idx = (Iteration - startIter) % averageLoss;
            SmoothedLoss += (loss - _losses[idx]) / averageLoss;
            _losses[idx] = loss;
        }
    }

    // "    Train net output #0: loss = 0.3 (* 1 = 0.3 loss)", one line per element of every output blob.
    private static void LogOutputs(Net net, string kind, float[]? scores, int divisor)
    {
        int index = 0;
        int offset = 0;
        foreach (var blob in net.OutputBlobs)
        {
            float weight = net.BlobLossWeight(blob);
            for (int k = 0; k < blob.Count; k++)
            {
                double value = scores != null ? (double)scores[offset + k] / divisor : blob.Data[k];
                string lossText = weight != 0 ? $" (* {Log.Num(weight)} = {Log.Num(weight * value)} loss)" : "";
                Log.Info($"    {kind} net output #{index++}: {blob.Name} = {Log.Num(value)}{lossText}");
            }
            offset += blob.Count;
        }
    }

    public void TestAll()
    {
        for (int i = 0; i < _testNets.Count && !RequestedEarlyExit; i++)
        {
            Test(i);
        }
    }

    /// <summary>Runs test net <paramref name="id"/> for its test_iter batches and logs the mean of each output.</summary>
    public IReadOnlyList<float> Test(int id)
    {
        Log.Info($"Iteration {Iteration}, Testing net (#{id})");
        var net = _testNets[id];
        int iters = Param.TestIter[id];
        float[]? scores = null;
        double loss = 0;
        for (int i = 0; i < iters; i++)
        {
            var request = ActionRequest?.Invoke() ?? SolverAction.None;
            if (request == SolverAction.Stop)
            {
                RequestedEarlyExit = true;
                Log.Info("Test interrupted.");
                return [];
            }
            loss += net.Forward();
            int total = net.OutputBlobs.Sum(b => b.Count);
            scores ??= new float[total];
            int offset = 0;
            foreach (var blob in net.OutputBlobs)
            {
                var data = blob.Data;
                for (int k = 0; k < data.Length; k++)
                {
                    scores[offset + k] += data[k];
                }
                offset += data.Length;
            }
        }
        if (Param.TestComputeLoss)
        {
            Log.Info($"Test loss: {Log.Num(loss / iters)}");
        }
        if (scores == null)
        {
            return [];
        }
        LogOutputs(net, "Test", scores, iters);
        return scores.Select(s => s / iters).ToArray();
    }

    /// <summary>Computes the update from the accumulated gradients and applies it to the weights.</summary>
    protected abstract void ApplyUpdate();

    /// <summary>
    /// The learning rate for the current iteration. A method, not a property: it advances the multistep position
    /// (<see cref="CurrentStep"/>) and logs when it does, as Caffe's GetLearningRate.
    /// </summary>
    public float LearningRate()
    {
        int step = CurrentStep;
        float rate = LearningRatePolicy.Rate(Param, Iteration, ref step);
        CurrentStep = step;
        return rate;
    }

    /// <summary>The per-parameter state saved in .solverstate, in Caffe's order.</summary>
    protected abstract IReadOnlyList<Blob> HistoryBlobs();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the train and test nets and the update history.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }
        Net.Dispose();
        foreach (var net in _testNets)
        {
            net.Dispose();
        }
        foreach (var blob in HistoryBlobs())
        {
            blob.Dispose();
        }
    }
}
