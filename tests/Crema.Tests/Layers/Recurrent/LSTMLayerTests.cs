using Crema.Layers;
using Crema.Nets;
using Crema.Proto;
using Crema.Testing;
using static Crema.Tests.Layers.RecurrentReference;

namespace Crema.Tests.Layers;

public class LSTMLayerTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Forward_MatchesReference(bool staticInput, bool exposeHidden)
    {
        var bottom = Bottoms(staticInput, exposeHidden ? 2 : 0);
        var top = Tops(exposeHidden ? 3 : 1);
        Rng.Seed(1701);
        var layer = new LSTMLayer(Param("LSTM", exposeHidden: exposeHidden));
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);

        int s = staticInput ? 1 : 0;
        var (h, hT, cT) = Lstm(layer.Blobs, bottom[0], bottom[1], staticInput ? bottom[2] : null,
            exposeHidden ? bottom[2 + s] : null, exposeHidden ? bottom[3 + s] : null, D);
        Assert.Equal([T, N, D], top[0].Shape);
        AssertClose(h, top[0].Data);
        if (exposeHidden)
        {
            Assert.Equal([1, N, D], top[1].Shape);
            AssertClose(hT, top[1].Data);
            AssertClose(cT, top[2].Data);
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Backward_MatchesNumericGradient(bool staticInput, bool exposeHidden)
    {
        var bottom = Bottoms(staticInput, exposeHidden ? 2 : 0);
        var top = Tops(exposeHidden ? 3 : 1);
        Rng.Seed(1701);
        var layer = new LSTMLayer(Param("LSTM", exposeHidden: exposeHidden));
        var checker = new GradientChecker(1e-2f, 1e-3f);
        // every bottom but cont (#1); the parameters are checked with each
        for (int b = 0; b < bottom.Count; b++)
        {
            if (b != 1)
            {
                checker.CheckGradient(layer, bottom, top, b);
            }
        }
    }

    [Fact]
    public void Blobs_HaveCaffesOrderAndShapes()
    {
        var bottom = Bottoms(staticInput: true, 0);
        var layer = new LSTMLayer(Param("LSTM", numOutput: 5));
        layer.SetUp(bottom, Tops(1));
        // W_xc (4D, I), b_c (4D), W_xc_static (4D, S), W_hc (4D, D)
        Assert.Equal([[20, 4], [20], [20, 2], [20, 5]], layer.Blobs.Select(b => b.Shape.ToArray()).ToArray());
    }

    [Fact]
    public void StepByStep_CarriesStateAcrossForwards_AsCaffe()
    {
        // Caffe's TestForward: a whole sequence in one batch equals the same sequence fed one step per forward.
        var x = TestBlobs.Gaussian(1701, 1f, T, N, 4);
        var contAll = TestBlobs.FromValues([T, N], 0, 0, 1, 1, 1, 1);
        Rng.Seed(1701);
        var full = new LSTMLayer(Param("LSTM"));
        var top = Tops(1);
        full.SetUp([x, contAll], top);
        full.Forward([x, contAll], top);

        var xStep = new Blob(1, N, 4);
        var contStep = new Blob(1, N);
        var stepTop = Tops(1);
        var stepped = new LSTMLayer(Param("LSTM"));
        Rng.Seed(1701);
        stepped.SetUp([xStep, contStep], stepTop);
        for (int t = 0; t < T; t++)
        {
            x.Data.Slice(t * N * 4, N * 4).CopyTo(xStep.Data);
            contStep.Data.Fill(t > 0 ? 1 : 0);
            stepped.Forward([xStep, contStep], stepTop);
            TestBlobs.AssertClose(top[0].Data.Slice(t * N * D, N * D), stepTop[0].Data, 1e-5f);
        }

        // With cont 0 at every step, each step starts afresh: equal at t = 0 only.
        stepped.ResetState();
        for (int t = 0; t < T; t++)
        {
            x.Data.Slice(t * N * 4, N * 4).CopyTo(xStep.Data);
            contStep.Data.Clear();
            stepped.Forward([xStep, contStep], stepTop);
            var expected = top[0].Data.Slice(t * N * D, N * D).ToArray();
            for (int i = 0; i < expected.Length; i++)
            {
                if (t == 0)
                {
                    Assert.Equal(expected[i], stepTop[0].Data[i], 5);
                }
                else
                {
                    Assert.NotEqual(expected[i], stepTop[0].Data[i]);
                }
            }
        }
    }

    [Fact]
    public void NumOutputZero_Throws()
    {
        var ex = Assert.Throws<CremaException>(() => new LSTMLayer(Param("LSTM", numOutput: 0)).SetUp(Bottoms(false, 0), Tops(1)));
        Assert.Contains("'lstm'", ex.Message);
        Assert.Contains("num_output must be > 0, got 0", ex.Message);
    }

    [Fact]
    public void ContShapeMismatch_ThrowsNamingShapes()
    {
        var bottom = Bottoms(false, 0);
        bottom[1] = new Blob(T, N + 1);
        var ex = Assert.Throws<CremaException>(() => new LSTMLayer(Param("LSTM")).SetUp(bottom, Tops(1)));
        Assert.Contains("'lstm'", ex.Message);
        Assert.Contains("(3, 3)", ex.Message);
        Assert.Contains("(3, 2, 2, 2)", ex.Message);
    }

    [Fact]
    public void LoadedBlobWithWrongShape_ThrowsNamingTheBlob()
    {
        var p = Param("LSTM");
        foreach (var shape in new[] { new[] { 12, 4 }, [12], [12, 2] })
        {
            p.Blobs.Add(new Blob(shape).ToProto());
        }
        var ex = Assert.Throws<CremaException>(() => new LSTMLayer(p).SetUp(Bottoms(false, 0), Tops(1)));
        Assert.Contains("W_hc", ex.Message);
        Assert.Contains("(12, 2)", ex.Message);
        Assert.Contains("(12, 3)", ex.Message);
    }

    [Fact]
    public void ExposedStateShapeMismatch_Throws()
    {
        var bottom = Bottoms(false, 2);
        bottom[3] = new Blob(1, N, D + 1);
        var ex = Assert.Throws<CremaException>(() => new LSTMLayer(Param("LSTM", exposeHidden: true)).SetUp(bottom, Tops(3)));
        Assert.Contains("(1, 2, 4)", ex.Message);
        Assert.Contains("(1, 2, 3)", ex.Message);
    }

    [Fact]
    public void BackwardToCont_Throws()
    {
        var bottom = Bottoms(false, 0);
        var top = Tops(1);
        var layer = new LSTMLayer(Param("LSTM"));
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        Assert.False(layer.AllowForceBackward(1));
        var ex = Assert.Throws<CremaException>(() => layer.Backward(top, [true, true], bottom));
        Assert.Contains("sequence continuation", ex.Message);
    }

    [Fact]
    public void Net_FromPrototxt_ForwardMatchesReferenceAndTrains()
    {
        const string prototxt = """
            name: "lstm_net"
            layer { name: "input" type: "Input" top: "x" top: "cont" top: "target"
                    input_param { shape { dim: 3 dim: 2 dim: 4 } shape { dim: 3 dim: 2 } shape { dim: 3 dim: 2 dim: 3 } } }
            layer { name: "lstm" type: "LSTM" bottom: "x" bottom: "cont" top: "h"
                    recurrent_param { num_output: 3
                                      weight_filler { type: "uniform" min: -0.5 max: 0.5 }
                                      bias_filler { type: "constant" value: 0.1 } } }
            layer { name: "loss" type: "EuclideanLoss" bottom: "h" bottom: "target" top: "loss" }
            """;
        Rng.Seed(1701);
        using var net = NetBuilder.Build(prototxt);
        var x = net.Blob("x");
        TestBlobs.Gaussian(1701, 1f, 3, 2, 4).Data.CopyTo(x.Data);
        Cont().Data.CopyTo(net.Blob("cont").Data);
        net.Blob("target").Data.Fill(0.5f);

        net.ForwardBackward();
        var lstm = net.Params["lstm"];
        Assert.Equal([[12, 4], [12], [12, 3]], lstm.Select(b => b.Shape.ToArray()).ToArray());
        var (h, _, _) = Lstm(lstm, x, net.Blob("cont"), null, null, null, D);
        AssertClose(h, net.Blob("h").Data);
        Assert.All(lstm, b => Assert.True(b.AsumDiff() > 0, "every parameter gets a gradient"));

        // The weights survive a save/load round trip.
        Rng.Seed(7);
        using var copy = NetBuilder.Build(prototxt);
        copy.CopyTrainedLayersFrom(net.ToProto());
        for (int i = 0; i < lstm.Count; i++)
        {
            Assert.Equal(lstm[i].Data.ToArray(), copy.Params["lstm"][i].Data.ToArray());
        }
    }
}
