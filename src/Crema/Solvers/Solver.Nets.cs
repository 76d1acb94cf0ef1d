using Crema.Nets;
using Crema.Proto;

namespace Crema.Solvers;

/// <summary>Building the train net and the test nets (which share the train net's weights) from the solver's net fields.</summary>
public abstract partial class Solver
{
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
}
