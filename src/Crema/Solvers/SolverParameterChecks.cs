using Crema.Proto;

namespace Crema.Solvers;

/// <summary>Solver settings Caffe refuses, refused here too before any net is built (Caffe would CHECK-fail or misbehave).</summary>
internal static class SolverParameterChecks
{
    public static void Check(SolverParameter p)
    {
        if (p.Snapshot > 0 && string.IsNullOrEmpty(p.SnapshotPrefix))
        {
            throw new CremaException($"solver: 'snapshot: {p.Snapshot}' is set but snapshot_prefix is not (where should snapshots go?)");
        }
        if (p.Snapshot < 0)
        {
            throw new CremaException($"solver: snapshot must be >= 0, got {p.Snapshot}");
        }
        if (p.HasIterSize && p.IterSize < 1)
        {
            throw new CremaException($"solver: iter_size must be >= 1, got {p.IterSize}");
        }
        if (p.HasAverageLoss && p.AverageLoss < 1)
        {
            throw new CremaException($"solver: average_loss must be >= 1, got {p.AverageLoss}");
        }
        if (p.Display < 0)
        {
            throw new CremaException($"solver: display must be >= 0, got {p.Display}");
        }
        CheckInlineNet(p.NetParam, "net_param");
        CheckInlineNet(p.TrainNetParam, "train_net_param");
        foreach (var test in p.TestNetParam)
        {
            CheckInlineNet(test, "test_net_param");
        }
    }

    // A file is upgraded on read; an inline net is not, so V1 `layers { }` blocks would leave a net with no layers.
    private static void CheckInlineNet(NetParameter? net, string field)
    {
        if (net == null)
        {
            return;
        }
        if (net.Layers.Count > 0)
        {
            throw new CremaException(
                $"solver: {field} uses the old V1 'layers {{ }}' form ({net.Layers.Count} block(s)); write 'layer {{ }}' blocks or move the net to a file (crema upgrade_net_proto_text upgrades it)");
        }
        if (net.Layer.Count == 0)
        {
            throw new CremaException($"solver: {field} has no 'layer {{ }}' blocks");
        }
    }
}
