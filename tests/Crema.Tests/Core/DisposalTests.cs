using Crema.Layers;
using Crema.Nets;
using Crema.Proto;
using Crema.Solvers;

namespace Crema.Tests.Core;

/// <summary>Dispose frees native memory down the tree (Solver → Net → Layer → Blob), once, and never under a blob still using it.</summary>
public unsafe class DisposalTests
{
    [Fact]
    public void SharedBuffer_LivesUntilItsLastBlobIsDisposed()
    {
        var a = new Blob(2, 3);
        a.Data.Fill(1.5f);
        var b = new Blob(6);
        b.ShareData(a);
        var buffer = a.DataBuffer;

        a.Dispose();
        Assert.True(buffer.Pointer != null);
        Assert.All(b.Data.ToArray(), v => Assert.Equal(1.5f, v));
        Assert.Throws<ObjectDisposedException>(() => a.Data[0]);

        b.Dispose();
        Assert.True(buffer.Pointer == null);
        b.Dispose(); // twice is harmless
    }

    [Fact]
    public void ReshapePastCapacity_ReleasesTheOldBufferButNotOneStillShared()
    {
        var a = new Blob(4);
        var old = a.DataBuffer;
        var viewer = new Blob(4);
        viewer.ShareData(a);
        a.Reshape(8);
        a.Data.Fill(2f);
        Assert.True(old.Pointer != null); // the viewer still holds it
        Assert.NotSame(old, a.DataBuffer);
        viewer.Dispose();
        Assert.True(old.Pointer == null);
        a.Dispose();
    }

    private const string SharedNet = """
        name: "shared"
        layer { name: "data" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } }
        layer { name: "ip1" type: "InnerProduct" bottom: "x" top: "h1" param { name: "w" } inner_product_param { num_output: 3 bias_term: false weight_filler { type: "gaussian" std: 0.5 } } }
        layer { name: "ip2" type: "InnerProduct" bottom: "x" top: "h2" param { name: "w" } inner_product_param { num_output: 3 bias_term: false } }
        layer { name: "sum" type: "Eltwise" bottom: "h1" bottom: "h2" top: "y" }
        layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "h1" top: "loss" }
        """;

    [Fact]
    public void Net_FreesLayersParamsAndBlobs_SharedOnesOnce()
    {
        var net = NetBuilder.Build(SharedNet);
        net.ForwardBackward();
        // ip1 and ip2 share "w"; the split of h1 shares h1's data.
        var w1 = net.Layer("ip1").Blobs[0];
        var w2 = net.Layer("ip2").Blobs[0];
        Assert.Same(w1.DataBuffer, w2.DataBuffer);
        var buffers = new List<FloatBuffer> { w1.DataBuffer, w1.DiffBuffer };
        buffers.AddRange(net.Blobs.Values.Select(b => b.DataBuffer));
        Assert.Contains(net.BlobNames, n => n.Contains("split", StringComparison.Ordinal));
        Assert.All(buffers, b => Assert.True(b.Pointer != null));

        net.Dispose();
        Assert.All(buffers, b => Assert.True(b.Pointer == null));
        Assert.Throws<ObjectDisposedException>(() => w2.Data[0]);
        net.Dispose();
    }

    [Fact]
    public void Solver_FreesTrainAndTestNets_WhoseWeightsAreShared()
    {
        var param = new SolverParameter
        {
            NetParam = NetBuilder.Parse(SharedNet), BaseLr = 0.01f, Momentum = 0.9f, LrPolicy = "fixed", MaxIter = 2,
            TestIter = { 1 }, TestInterval = 100, Display = 0, SnapshotAfterTrain = false, RandomSeed = 1701,
        };
        var solver = SolverFactory.Create(param);
        solver.Step(2);
        var weights = solver.Net.Layer("ip1").Blobs[0].DataBuffer;
        var testNet = Assert.Single(solver.TestNets);
        Assert.Same(weights, testNet.Layer("ip1").Blobs[0].DataBuffer);

        testNet.Dispose();
        Assert.True(weights.Pointer != null); // the train net still holds the weights
        solver.Dispose();
        Assert.True(weights.Pointer == null);
    }
}
