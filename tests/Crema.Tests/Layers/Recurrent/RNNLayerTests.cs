using Crema.Layers;
using Crema.Testing;
using static Crema.Tests.Layers.RecurrentReference;

namespace Crema.Tests.Layers;

public class RNNLayerTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Forward_MatchesReference(bool staticInput, bool exposeHidden)
    {
        var bottom = Bottoms(staticInput, exposeHidden ? 1 : 0);
        var top = Tops(exposeHidden ? 2 : 1);
        Rng.Seed(1701);
        var layer = new RNNLayer(Param("RNN", exposeHidden: exposeHidden));
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);

        var (o, hT) = Rnn(layer.Blobs, bottom[0], bottom[1], staticInput ? bottom[2] : null,
            exposeHidden ? bottom[staticInput ? 3 : 2] : null, D);
        Assert.Equal([T, N, D], top[0].Shape);
        AssertClose(o, top[0].Data);
        if (exposeHidden)
        {
            Assert.Equal([1, N, D], top[1].Shape);
            AssertClose(hT, top[1].Data);
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Backward_MatchesNumericGradient(bool staticInput, bool exposeHidden)
    {
        var bottom = Bottoms(staticInput, exposeHidden ? 1 : 0);
        var top = Tops(exposeHidden ? 2 : 1);
        Rng.Seed(1701);
        var layer = new RNNLayer(Param("RNN", exposeHidden: exposeHidden));
        var checker = new GradientChecker(1e-2f, 1e-3f);
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
        var layer = new RNNLayer(Param("RNN", numOutput: 5));
        layer.SetUp(Bottoms(staticInput: true, 0), Tops(1));
        // W_xh (D, I), b_h (D), W_xh_static (D, S), W_hh (D, D), W_ho (D, D), b_o (D)
        Assert.Equal([[5, 4], [5], [5, 2], [5, 5], [5, 5], [5]], layer.Blobs.Select(b => b.Shape.ToArray()).ToArray());
    }

    [Fact]
    public void StepByStep_CarriesStateAcrossForwards()
    {
        var x = TestBlobs.Gaussian(1701, 1f, T, N, 4);
        var cont = TestBlobs.FromValues([T, N], 0, 0, 1, 1, 1, 1);
        Rng.Seed(1701);
        var full = new RNNLayer(Param("RNN"));
        var top = Tops(1);
        full.SetUp([x, cont], top);
        full.Forward([x, cont], top);

        var xStep = new Blob(1, N, 4);
        var contStep = new Blob(1, N);
        var stepTop = Tops(1);
        Rng.Seed(1701);
        var stepped = new RNNLayer(Param("RNN"));
        stepped.SetUp([xStep, contStep], stepTop);
        for (int t = 0; t < T; t++)
        {
            x.Data.Slice(t * N * 4, N * 4).CopyTo(xStep.Data);
            contStep.Data.Fill(t > 0 ? 1 : 0);
            stepped.Forward([xStep, contStep], stepTop);
            TestBlobs.AssertClose(top[0].Data.Slice(t * N * D, N * D), stepTop[0].Data, 1e-5f);
        }
    }

    [Fact]
    public void NumOutputZero_Throws()
    {
        var ex = Assert.Throws<CremaException>(() => new RNNLayer(Param("RNN", numOutput: 0)).SetUp(Bottoms(false, 0), Tops(1)));
        Assert.Contains("'rnn'", ex.Message);
        Assert.Contains("num_output must be > 0, got 0", ex.Message);
    }

    [Fact]
    public void ContShapeMismatch_ThrowsNamingShapes()
    {
        var bottom = Bottoms(false, 0);
        bottom[1] = new Blob(T * N);
        var ex = Assert.Throws<CremaException>(() => new RNNLayer(Param("RNN")).SetUp(bottom, Tops(1)));
        Assert.Contains("'rnn'", ex.Message);
        Assert.Contains("(6)", ex.Message);
        Assert.Contains("(3, 2)", ex.Message);
    }

    [Fact]
    public void StaticInputWithWrongBatch_Throws()
    {
        var bottom = Bottoms(true, 0);
        bottom[2] = new Blob(N + 1, 2);
        var ex = Assert.Throws<CremaException>(() => new RNNLayer(Param("RNN")).SetUp(bottom, Tops(1)));
        Assert.Contains("x_static", ex.Message);
        Assert.Contains("(3, 2)", ex.Message);
    }

    [Fact]
    public void ExposeHidden_NeedsTheStateBlobs()
    {
        var ex = Assert.Throws<CremaException>(() => new RNNLayer(Param("RNN", exposeHidden: true)).SetUp(Bottoms(false, 0), Tops(1)));
        Assert.Contains("bottom", ex.Message);
    }
}
