using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class ScaleLayerTests
{
    private static readonly int[] Shape = [2, 3, 4, 5];

    private static LayerParameter Param(int axis = 1, int numAxes = 1, bool bias = false) => new()
    {
        Name = "scale",
        Type = "Scale",
        ScaleParam = new ScaleParameter
        {
            Axis = axis,
            NumAxes = numAxes,
            BiasTerm = bias,
            Filler = new FillerParameter { Type = "gaussian", Std = 1 },
            BiasFiller = new FillerParameter { Type = "gaussian", Std = 1 },
        },
    };

    private static Blob Operand(int[] shape, int seed) => TestBlobs.Gaussian(seed, 1f, shape);

    // Caffe's cases: element-wise (axis 0), broadcast at the beginning / middle / end, whole-tail (num_axes -1), scalar.
    public static TheoryData<int[], int> Cases => new()
    {
        { [2, 3, 4, 5], 0 },
        { [2, 3], 0 },
        { [3, 4], 1 },
        { [4, 5], 2 },
        { [3], 1 },
        { [5], -1 },
        { [], 1 },
        { [], 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_TwoBottoms_MatchesReference(int[] scaleShape, int axis)
    {
        foreach (bool bias in new[] { false, true })
        {
            var x = TestBlobs.Gaussian(1701, 1f, Shape);
            var s = Operand(scaleShape, 3);
            var top = new Blob();
            var layer = LayerRegistry.Create(Param(axis, bias: bias));
            Rng.Seed(5);
            layer.SetUp([x, s], [top]);
            layer.Forward([x, s], [top]);
            int canonical = scaleShape.Length == 0 ? 0 : (axis + 4) % 4;
            var expected = BroadcastReference.Apply(x, s.Data.ToArray(), scaleShape, canonical, (a, b) => a * b);
            if (bias)
            {
                Assert.Equal(scaleShape, layer.Blobs[0].Shape);
                var withBias = TestBlobs.FromValues(Shape, expected);
                expected = BroadcastReference.Apply(withBias, layer.Blobs[0].Data.ToArray(), scaleShape, canonical, (a, b) => a + b);
            }
            Assert.Equal(Shape, top.Shape);
            TestBlobs.AssertClose(expected, top.Data, 1e-5f);
        }
    }

    [Theory]
    [InlineData(1, 1, new[] { 3 })]
    [InlineData(1, 2, new[] { 3, 4 })]
    [InlineData(0, -1, new[] { 2, 3, 4, 5 })]
    [InlineData(2, 0, new int[0])]
    [InlineData(-2, 2, new[] { 4, 5 })]
    public void Forward_LearnedScale_MatchesReference(int axis, int numAxes, int[] expectedShape)
    {
        var x = TestBlobs.Gaussian(1701, 1f, Shape);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param(axis, numAxes, bias: true));
        Rng.Seed(5);
        layer.SetUp([x], [top]);
        layer.Forward([x], [top]);
        Assert.Equal(2, layer.Blobs.Count);
        Assert.Equal(expectedShape, layer.Blobs[0].Shape);
        Assert.Equal(expectedShape, layer.Blobs[1].Shape);
        int start = expectedShape.Length == 0 ? 0 : (axis + 4) % 4;
        var scaled = TestBlobs.FromValues(Shape, BroadcastReference.Apply(x, layer.Blobs[0].Data.ToArray(), expectedShape, start, (a, b) => a * b));
        var expected = BroadcastReference.Apply(scaled, layer.Blobs[1].Data.ToArray(), expectedShape, start, (a, b) => a + b);
        TestBlobs.AssertClose(expected, top.Data, 1e-5f);
    }

    [Fact]
    public void SetUp_DefaultFillersAreOneAndZero()
    {
        var layer = LayerRegistry.Create(new LayerParameter { Name = "s", Type = "Scale", ScaleParam = new ScaleParameter { BiasTerm = true } });
        layer.SetUp([new Blob(Shape)], [new Blob()]);
        Assert.All(layer.Blobs[0].Data.ToArray(), v => Assert.Equal(1f, v));
        Assert.All(layer.Blobs[1].Data.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void InPlace_MatchesOutOfPlace_ForwardAndBackward()
    {
        float[] dy = TestBlobs.Uniform(7, -1, 1, Shape).Data.ToArray();
        (float[] Y, float[] Dx, float[] Ds, float[] Db) Run(bool inPlace)
        {
            var x = TestBlobs.Gaussian(1701, 1f, Shape);
            var top = inPlace ? x : new Blob();
            var layer = LayerRegistry.Create(Param(bias: true));
            Rng.Seed(5);
            layer.SetUp([x], [top]);
            layer.Forward([x], [top]);
            float[] y = top.Data.ToArray();
            dy.CopyTo(top.Diff);
            layer.Backward([top], [true], [x]);
            return (y, x.Diff.ToArray(), layer.Blobs[0].Diff.ToArray(), layer.Blobs[1].Diff.ToArray());
        }
        var a = Run(false);
        var b = Run(true);
        Assert.Equal(a.Y, b.Y);
        Assert.Equal(a.Dx, b.Dx);
        Assert.Equal(a.Ds, b.Ds);
        Assert.Equal(a.Db, b.Db);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Backward_LearnedScale_MatchesNumericGradient(bool bias)
    {
        Rng.Seed(5);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(LayerRegistry.Create(Param(bias: bias)), [TestBlobs.Gaussian(1701, 1f, Shape)], [new Blob()]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_TwoBottoms_MatchesNumericGradient(int[] scaleShape, int axis)
    {
        Rng.Seed(5);
        var bottoms = new[] { TestBlobs.Gaussian(1701, 1f, Shape), Operand(scaleShape, 3) };
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(LayerRegistry.Create(Param(axis, bias: true)), bottoms, [new Blob()]);
    }

    [Fact]
    public void Backward_TwoBottoms_OverwritesScaleDiff()
    {
        var x = TestBlobs.Gaussian(1701, 1f, Shape);
        var s = Operand([3], 3);
        var top = new Blob();
        var layer = LayerRegistry.Create(Param());
        layer.SetUp([x, s], [top]);
        layer.Forward([x, s], [top]);
        top.Diff.Fill(1);
        s.Diff.Fill(100);
        layer.Backward([top], [false, true], [x, s]);
        for (int c = 0; c < 3; c++)
        {
            float sum = 0;
            for (int n = 0; n < 2; n++)
            {
                for (int k = 0; k < 20; k++)
                {
                    sum += x.Data[x.Offset(n, c) + k];
                }
            }
            Assert.Equal(sum, s.Diff[c], 1e-4f);
        }
    }

    [Fact]
    public void BadNumAxes_Throws()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(Param(numAxes: -2)).SetUp([new Blob(Shape)], [new Blob()]));
        Assert.Contains("'scale'", e.Message);
        Assert.Contains("num_axes -2", e.Message);
    }

    [Fact]
    public void AxisPlusNumAxesBeyondBottom_Throws()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(Param(axis: 2, numAxes: 3)).SetUp([new Blob(Shape)], [new Blob()]));
        Assert.Contains("'scale'", e.Message);
        Assert.Contains("num_axes 3", e.Message);
    }

    [Fact]
    public void MismatchedScaleBottom_Throws()
    {
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(Param()).SetUp([new Blob(Shape), new Blob(4)], [new Blob()]));
        Assert.Contains("'scale'", e.Message);
        Assert.Contains("4 vs 3", e.Message);
    }

    [Fact]
    public void LoadedBlobWithWrongShape_Throws()
    {
        var p = Param();
        p.Blobs.Add(new Blob(7).ToProto());
        var e = Assert.Throws<CremaException>(() => LayerRegistry.Create(p).SetUp([new Blob(Shape)], [new Blob()]));
        Assert.Contains("'scale'", e.Message);
        Assert.Contains("7 vs 3", e.Message);
    }
}
