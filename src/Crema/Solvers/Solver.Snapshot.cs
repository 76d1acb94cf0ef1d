using System.Globalization;
using Crema.Nets;
using Crema.Proto;
using PureHDF;

namespace Crema.Solvers;

/// <summary>Snapshot and restore: weights plus solver state (iteration, schedule position, history), as binaryproto or HDF5.</summary>
public abstract partial class Solver
{
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
}
