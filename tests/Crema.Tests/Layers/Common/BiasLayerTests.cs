using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class BiasLayerTests
{
    private static readonly int[] Shape = [2, 3, 4, 5];

    private static LayerParameter Param(int axis = 1, int numAxes = 1) => new()
    {
        Name = "bias",
        Type = "Bias",
        BiasParam = new BiasParameter { Axis = axis, NumAxes = numAxes, Filler = new FillerParameter { Type = "gaussian", Std = 1 } },
    };

    public static TheoryData<int[], int> Cases => new()
    {
        { [2, 3, 4, 5], 0 },
        { [2, 3], 0 },
        { [3, 4], 1 },
        { [4, 5], 2 },
        { [], 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(int[] biasShape, int axis)
    {
        var x = TestBlobs.Gaussian(1701, 1f, Shape);
        var b = TestBlobs.Gaussian(3, 1f, biasShape);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param(axis));
        layer.SetUp([x, b], [top]);
        layer.Forward([x, b], [top]);
        var expected = BroadcastReference.Apply(x, b.Data.ToArray(), biasShape, biasShape.Length == 0 ? 0 : axis, (u, v) => u + v);
        TestBlobs.AssertClose(expected, top.Data, 1e-6f);
    }

    [Theory]
    [InlineData(1, 1, new[] { 3 })]
    [InlineData(1, -1, new[] { 3, 4, 5 })]
    [InlineData(0, 0, new int[0])]
    public void Forward_LearnedBias_MatchesReference(int axis, int numAxes, int[] expectedShape)
    {
        var x = TestBlobs.Gaussian(1701, 1f, Shape);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param(axis, numAxes));
        Rng.Seed(5);
        layer.SetUp([x], [top]);
        layer.Forward([x], [top]);
        Assert.Equal(expectedShape, layer.Blobs[0].Shape);
        var expected = BroadcastReference.Apply(x, layer.Blobs[0].Data.ToArray(), expectedShape, axis, (u, v) => u + v);
        TestBlobs.AssertClose(expected, top.Data, 1e-6f);
    }

    [Fact]
    public void SetUp_DefaultFillerIsZero()
    {
        var layer = LayerRegistry.Create(new LayerParameter { Name = "b", Type = "Bias" });
        layer.SetUp([new Blob(Shape)], [new Blob()]);
        Assert.Equal([3], layer.Blobs[0].Shape);
        Assert.All(layer.Blobs[0].Data.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Backward_LearnedBias_MatchesNumericGradient()
    {
        Rng.Seed(5);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(LayerRegistry.Create(Param(1, 2)), [TestBlobs.Gaussian(1701, 1f, Shape)], [new Blob()]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_TwoBottoms_MatchesNumericGradient(int[] biasShape, int axis)
    {
        var bottoms = new[] { TestBlobs.Gaussian(1701, 1f, Shape), TestBlobs.Gaussian(3, 1f, biasShape) };
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(LayerRegistry.Create(Param(axis)), bottoms, [new Blob()]);
    }

    [Fact]
    public void InPlace_Backward_LeavesDiffAndAccumulatesBias()
    {
        var x = TestBlobs.Gaussian(1701, 1f, Shape);
        var layer = LayerRegistry.Create(Param());
        Rng.Seed(5);
        layer.SetUp([x], [x]);
        layer.Forward([x], [x]);
        x.Diff.Fill(0.5f);
        layer.Backward([x], [true], [x]);
        layer.Backward([x], [true], [x]);
        Assert.All(x.Diff.ToArray(), d => Assert.Equal(0.5f, d));
        Assert.All(layer.Blobs[0].Diff.ToArray(), d => Assert.Equal(2 * 0.5f * 40, d, 1e-4f));
    }

    [Fact]
    public void MismatchedBiasBottom_Throws()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(Param(2)).SetUp([new Blob(Shape), new Blob(4, 6)], [new Blob()]));
        Assert.Contains("'bias'", e.Message);
        Assert.Contains("6 vs 5", e.Message);
    }

    [Fact]
    public void AxisOutOfRange_Throws()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(Param(4)).SetUp([new Blob(Shape)], [new Blob()]));
        Assert.Contains("'bias'", e.Message);
        Assert.Contains("axis 4", e.Message);
    }
}
