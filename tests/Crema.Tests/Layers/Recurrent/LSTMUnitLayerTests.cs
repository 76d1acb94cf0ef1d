using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class LSTMUnitLayerTests
{
    private const int N = 3, D = 4;

    private static LayerParameter Param => new() { Name = "unit", Type = "LSTMUnit" };

    private static List<Blob> Bottoms(params float[] cont) =>
        [TestBlobs.Uniform(1701, -1, 1, 1, N, D), TestBlobs.Uniform(1702, -2, 2, 1, N, 4 * D), TestBlobs.FromValues([1, N], cont)];

    [Theory]
    [InlineData(0f, 0f, 0f)]
    [InlineData(1f, 0f, 1f)]
    [InlineData(1f, 1f, 1f)]
    public void Forward_MatchesReference(float c0, float c1, float c2)
    {
        var bottom = Bottoms(c0, c1, c2);
        var top = RecurrentReference.Tops(2);
        var layer = new LSTMUnitLayer(Param);
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        Assert.Equal([1, N, D], top[0].Shape);
        Assert.Equal([1, N, D], top[1].Shape);
        for (int n = 0; n < N; n++)
        {
            var cPrev = bottom[0].Data.Slice(n * D, D).ToArray().Select(v => (double)v).ToArray();
            var pre = bottom[1].Data.Slice(n * 4 * D, 4 * D).ToArray().Select(v => (double)v).ToArray();
            var (c, h) = RecurrentReference.LstmCell(cPrev, pre, bottom[2].Data[n]);
            RecurrentReference.AssertClose(c, top[0].Data.Slice(n * D, D));
            RecurrentReference.AssertClose(h, top[1].Data.Slice(n * D, D));
        }
    }

    [Theory]
    [InlineData(0f, 0f, 0f)]
    [InlineData(1f, 0f, 1f)]
    public void Backward_MatchesNumericGradient(float c0, float c1, float c2)
    {
        var bottom = Bottoms(c0, c1, c2);
        var top = RecurrentReference.Tops(2);
        var checker = new GradientChecker(1e-2f, 1e-3f);
        checker.CheckGradient(new LSTMUnitLayer(Param), bottom, top, 0);
        checker.CheckGradient(new LSTMUnitLayer(Param), bottom, top, 1);
        // Caffe's own test: every top element as its own objective
        checker.CheckGradientExhaustive(new LSTMUnitLayer(Param), bottom, top, 0);
        checker.CheckGradientExhaustive(new LSTMUnitLayer(Param), bottom, top, 1);
    }

    [Fact]
    public void Backward_OnlyWritesRequestedDiffs()
    {
        var bottom = Bottoms(1, 0, 1);
        var top = RecurrentReference.Tops(2);
        var layer = new LSTMUnitLayer(Param);
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        top[0].Diff.Fill(1);
        top[1].Diff.Fill(1);
        bottom[0].Diff.Fill(42);
        layer.Backward(top, [false, true, false], bottom);
        Assert.All(bottom[0].Diff.ToArray(), v => Assert.Equal(42, v));
        Assert.True(bottom[1].AsumDiff() > 0);
    }

    [Fact]
    public void BackwardToCont_Throws()
    {
        var bottom = Bottoms(1, 1, 1);
        var top = RecurrentReference.Tops(2);
        var layer = new LSTMUnitLayer(Param);
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        Assert.False(layer.AllowForceBackward(2));
        var ex = Assert.Throws<CremaException>(() => layer.Backward(top, [true, true, true], bottom));
        Assert.Contains("'unit'", ex.Message);
        Assert.Contains("sequence continuation", ex.Message);
    }

    [Fact]
    public void GateWidthMismatch_ThrowsNamingShapes()
    {
        var bottom = Bottoms(0, 0, 0);
        bottom[1] = new Blob(1, N, 3 * D);
        var ex = Assert.Throws<CremaException>(() => new LSTMUnitLayer(Param).SetUp(bottom, RecurrentReference.Tops(2)));
        Assert.Contains("'unit'", ex.Message);
        Assert.Contains("(1, 3, 16)", ex.Message);
        Assert.Contains("(1, 3, 12)", ex.Message);
    }

    [Fact]
    public void ContShapeMismatch_Throws()
    {
        var bottom = Bottoms(0, 0, 0);
        bottom[2] = new Blob(1, N + 1);
        var ex = Assert.Throws<CremaException>(() => new LSTMUnitLayer(Param).SetUp(bottom, RecurrentReference.Tops(2)));
        Assert.Contains("(1, 4)", ex.Message);
    }
}
