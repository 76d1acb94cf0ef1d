using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class SplitLayerTests
{
    private static SplitLayer Make() => new(new LayerParameter { Name = "split", Type = "Split" });

    [Fact]
    public void Forward_EveryTopEqualsBottom()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 5);
        var tops = new[] { new Blob(), new Blob(), new Blob() };
        var layer = Make();
        layer.SetUp([bottom], tops);
        layer.Forward([bottom], tops);
        foreach (var t in tops)
        {
            Assert.Equal(bottom.Shape, t.Shape);
            Assert.Equal(bottom.Data.ToArray(), t.Data.ToArray());
        }
        // Shared memory: a later change to the bottom is visible in the tops.
        bottom.Data[3] = 42;
        Assert.Equal(42f, tops[2].Data[3]);
    }

    [Fact]
    public void Backward_SumsTopDiffs()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3);
        var tops = new[] { new Blob(), new Blob() };
        var layer = Make();
        layer.SetUp([bottom], tops);
        layer.Forward([bottom], tops);
        TestBlobs.Gaussian(1, 1f, 2, 3).Data.CopyTo(tops[0].Diff);
        TestBlobs.Gaussian(2, 1f, 2, 3).Data.CopyTo(tops[1].Diff);
        layer.Backward(tops, [true], [bottom]);
        var expected = new float[6];
        for (int i = 0; i < 6; i++)
        {
            expected[i] = tops[0].Diff[i] + tops[1].Diff[i];
        }
        TestBlobs.AssertClose(expected, bottom.Diff, 1e-6f);
    }

    [Fact]
    public void Backward_MatchesNumericGradient()
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 5);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(Make(), [bottom], [new Blob(), new Blob()]);
    }

    [Fact]
    public void SetUp_InPlace_IsRejected()
    {
        var bottom = new Blob(2, 3);
        var e = Assert.Throws<CremaException>(() => Make().SetUp([bottom], [new Blob(), bottom]));
        Assert.Contains("'split'", e.Message);
    }

    [Fact]
    public void SetUp_NoTop_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(2)], []));
        Assert.Contains("'split'", e.Message);
    }
}
