using PureHDF;
using System.Diagnostics;
using System.Globalization;
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
public abstract class Solver : IDisposable
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

    // As Caffe: with periodic snapshots, find an unwritable snapshot_prefix now rather than after the first N iterations.
    private void CheckSnapshotWritePermissions()
    {
        if (Param.Snapshot <= 0)
        {
            return;
        }
        string probe = SnapshotFilename(".tempfile");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(probe));
        if (folder != null && !Directory.Exists(folder))
        {
            throw new CremaException($"solver: cannot write to snapshot_prefix '{Param.SnapshotPrefix}': folder '{folder}' does not exist");
        }
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CremaException($"solver: cannot write to snapshot_prefix '{Param.SnapshotPrefix}' ({probe}): {e.Message}", e);
        }
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

    private string ResolvePath(string path)
    {
        if (File.Exists(path) || BaseDirectory == null || Path.IsPathRooted(path))
        {
            return path;
        }
        string alt = Path.Combine(BaseDirectory, path);
        return File.Exists(alt) ? alt : path;
    }

    private NetParameter ReadNet(string path)
    {
        string resolved = ResolvePath(path);
        if (!File.Exists(resolved))
        {
            throw new CremaException($"solver: net file '{path}' not found");
        }
        return ProtoFiles.ReadNetText(resolved);
    }

    private string? NetFolder(string? path) => path == null ? BaseDirectory : Path.GetDirectoryName(Path.GetFullPath(ResolvePath(path)));

    private void InitTrainNet()
    {
        int sources = (Param.TrainNetParam != null ? 1 : 0) + (Param.HasTrainNet ? 1 : 0) + (Param.NetParam != null ? 1 : 0) + (Param.HasNet ? 1 : 0);
        if (sources == 0)
        {
            throw new CremaException("solver: no train net given (set one of net, net_param, train_net, train_net_param)");
        }
        if (sources > 1)
        {
            throw new CremaException("solver: give exactly one of net, net_param, train_net, train_net_param");
        }
        NetParameter netParam;
        string? file = null;
        if (Param.TrainNetParam != null)
        {
            Log.Info("Creating training net specified in train_net_param.");
            netParam = Param.TrainNetParam.Clone();
        }
        else if (Param.HasTrainNet)
        {
            Log.Info($"Creating training net from train_net file: {Param.TrainNet}");
            file = Param.TrainNet;
            netParam = ReadNet(file);
        }
        else if (Param.NetParam != null)
        {
            Log.Info("Creating training net specified in net_param.");
            netParam = Param.NetParam.Clone();
        }
        else
        {
            Log.Info($"Creating training net from net file: {Param.Net}");
            file = Param.Net;
            netParam = ReadNet(file);
        }
        var state = new NetState { Phase = Phase.Train };
        if (netParam.State != null)
        {
            state.MergeFrom(netParam.State);
        }
        if (Param.TrainState != null)
        {
            state.MergeFrom(Param.TrainState);
        }
        state.Phase = Phase.Train;
        Net = new Net(netParam, state, NetFolder(file));
    }

    private void InitTestNets()
    {
        bool generic = Param.HasNet || Param.NetParam != null;
        int specific = Param.TestNetParam.Count + Param.TestNet.Count;
        if (generic ? Param.TestIter.Count < specific : Param.TestIter.Count != specific)
        {
            throw new CremaException($"solver: test_iter must be given once per test net ({specific} test net(s), {Param.TestIter.Count} test_iter value(s))");
        }
        int genericInstances = Param.TestIter.Count - specific;
        int total = specific + genericInstances;
        if (Param.TestState.Count > 0 && Param.TestState.Count != total)
        {
            throw new CremaException($"solver: test_state must be unspecified or given once per test net ({total} test net(s), {Param.TestState.Count} test_state value(s))");
        }
        if (total > 0 && Param.TestInterval <= 0)
        {
            throw new CremaException("solver: test_interval must be > 0 when test nets are given");
        }
        var sources = new List<(NetParameter Net, string? File)>();
        foreach (var p in Param.TestNetParam)
        {
            sources.Add((p.Clone(), null));
        }
        foreach (string f in Param.TestNet)
        {
            sources.Add((ReadNet(f), f));
        }
        for (int i = 0; i < genericInstances; i++)
        {
            sources.Add(Param.NetParam != null ? (Param.NetParam.Clone(), null) : (ReadNet(Param.Net), Param.Net));
        }
        for (int i = 0; i < sources.Count; i++)
        {
            var state = new NetState { Phase = Phase.Test };
            if (sources[i].Net.State != null)
            {
                state.MergeFrom(sources[i].Net.State);
            }
            if (Param.TestState.Count > 0)
            {
                state.MergeFrom(Param.TestState[i]);
            }
            state.Phase = Phase.Test;
            Log.Info($"Creating test net (#{i}) specified by {(sources[i].File != null ? "file " + sources[i].File : "net_param")}");
            var net = new Net(sources[i].Net, state, NetFolder(sources[i].File));
            net.ShareTrainedLayersWith(Net);
            _testNets.Add(net);
        }
    }

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

    /// <summary>The learning rate for the current iteration.</summary>
    public float LearningRate
    {
        get
        {
            int step = CurrentStep;
            float rate = LearningRatePolicy.Rate(Param, Iteration, ref step);
            CurrentStep = step;
            return rate;
        }
    }

    protected string SnapshotFilename(string extension) => $"{Param.SnapshotPrefix}_iter_{Iteration}{extension}";

    /// <summary>
    /// Writes &lt;prefix&gt;_iter_N.caffemodel and .solverstate (or .caffemodel.h5 and .solverstate.h5 with
    /// snapshot_format HDF5), each to a temporary file, then renamed.
    /// </summary>
    public void Snapshot()
    {
        bool hdf5 = Param.SnapshotFormat == SolverParameter.Types.SnapshotFormat.Hdf5;
        string modelFile = SnapshotFilename(hdf5 ? ".caffemodel.h5" : ".caffemodel");
        string stateFile = SnapshotFilename(hdf5 ? ".solverstate.h5" : ".solverstate");
        if (hdf5)
        {
            Log.Info($"Snapshotting to HDF5 file {modelFile}");
            Net.SaveHdf5(modelFile, Param.SnapshotDiff);
            Log.Info($"Snapshotting solver state to HDF5 file {stateFile}");
            var file = new H5File
            {
                ["iter"] = Iteration,
                ["learned_net"] = modelFile,
                ["current_step"] = CurrentStep,
            };
            var history = new H5Group();
            var blobs = HistoryBlobs();
            for (int i = 0; i < blobs.Count; i++)
            {
                history[i.ToString(CultureInfo.InvariantCulture)] = Hdf5Snapshot.BlobDataset(blobs[i]);
            }
            file["history"] = history;
            // Caffe stores learned_net as a fixed-length string (H5LTmake_dataset_string).
            Hdf5Snapshot.WriteAtomic(file, stateFile, stringLength: Math.Max(1, System.Text.Encoding.UTF8.GetByteCount(modelFile) + 1));
            return;
        }
        Log.Info($"Snapshotting to binary proto file {modelFile}");
        Net.Save(modelFile, Param.SnapshotDiff);
        Log.Info($"Snapshotting solver state to binary proto file {stateFile}");
        var state = new SolverState { Iter = Iteration, LearnedNet = modelFile, CurrentStep = CurrentStep };
        state.History.AddRange(HistoryBlobs().Select(h => h.ToProto()));
        WeightFiles.Write(state, stateFile);
    }

    /// <summary>Restores iteration, schedule position, history and (via learned_net) weights from a .solverstate or .solverstate.h5.</summary>
    public void Restore(string stateFile)
    {
        if (!File.Exists(stateFile))
        {
            throw new CremaException($"{stateFile}: solver state file not found");
        }
        if (stateFile.EndsWith(".h5", StringComparison.OrdinalIgnoreCase))
        {
            RestoreHdf5(stateFile);
            return;
        }
        SolverState state;
        try
        {
            using var stream = File.OpenRead(stateFile);
            state = SolverState.Parser.ParseFrom(stream);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new CremaException($"{stateFile}: not a valid .solverstate: {e.Message}", e);
        }
        var history = HistoryBlobs();
        CheckHistoryCount(stateFile, state.History.Count, history.Count);
        if (state.HasLearnedNet)
        {
            Net.CopyTrainedLayersFrom(LearnedNetPath(stateFile, state.LearnedNet));
        }
        for (int i = 0; i < history.Count; i++)
        {
            try
            {
                history[i].FromProto(state.History[i], reshape: false);
            }
            catch (ArgumentException e)
            {
                throw new CremaException($"{stateFile}: history blob {i}: {e.Message}", e);
            }
        }
        Iteration = state.Iter;
        CurrentStep = state.CurrentStep;
    }

    private void RestoreHdf5(string stateFile)
    {
        using var file = Hdf5Snapshot.Open(stateFile, "solver state file (.solverstate.h5)");
        try
        {
            foreach (string name in (string[])["iter", "current_step", "history"])
            {
                if (!file.LinkExists(name))
                {
                    throw new CremaException($"{stateFile}: not a Caffe HDF5 solver state: it has no '{name}'");
                }
            }
            var group = file.Group("history");
            var history = HistoryBlobs();
            CheckHistoryCount(stateFile, Hdf5Snapshot.ChildNames(group).Count, history.Count);
            int iter = Hdf5Snapshot.ReadInt(file, "iter");
            int step = Hdf5Snapshot.ReadInt(file, "current_step");
            if (file.LinkExists("learned_net"))
            {
                Net.CopyTrainedLayersFrom(LearnedNetPath(stateFile, Hdf5Snapshot.ReadString(file, "learned_net")));
            }
            for (int i = 0; i < history.Count; i++)
            {
                string name = i.ToString(CultureInfo.InvariantCulture);
                if (!group.LinkExists(name))
                {
                    throw new CremaException($"{stateFile}: history blob {i} is missing");
                }
                Hdf5Snapshot.ReadBlob(group, name, history[i], $"{stateFile}: history blob {i}");
            }
            Iteration = iter;
            CurrentStep = step;
        }
        catch (Exception e) when (e is not CremaException)
        {
            throw new CremaException($"{stateFile}: cannot read HDF5 solver state: {e.Message}", e);
        }
    }

    private void CheckHistoryCount(string stateFile, int stored, int needed)
    {
        if (stored != needed)
        {
            throw new CremaException($"{stateFile}: holds {stored} history blobs, but a {Type} solver for this net needs {needed}; was it written for another net or solver type?");
        }
    }

    // learned_net is stored as written (often relative to the training folder); fall back to the state file's folder.
    private static string LearnedNetPath(string stateFile, string learned)
    {
        if (string.IsNullOrWhiteSpace(learned))
        {
            throw new CremaException($"{stateFile}: learned_net is empty; the state names no .caffemodel to restore the weights from");
        }
        if (File.Exists(learned))
        {
            return learned;
        }
        string alt = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(stateFile)) ?? ".", Path.GetFileName(learned));
        return File.Exists(alt) ? alt : learned;
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
