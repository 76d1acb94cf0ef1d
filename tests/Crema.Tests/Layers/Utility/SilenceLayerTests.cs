using Crema.Layers;
using Crema.Proto;

namespace Crema.Tests.Layers;

public class SilenceLayerTests
{
    private static SilenceLayer Make() => new(new LayerParameter { Name = "silence", Type = "Silence" });

    [Fact]
    public void Backward_WritesZeroDiffsWhereAsked()
    {
        var a = TestBlobs.Gaussian(1701, 1f, 2, 3);
        var b = TestBlobs.Gaussian(1702, 1f, 4);
        a.Diff.Fill(5);
        b.Diff.Fill(5);
        var layer = Make();
        layer.SetUp([a, b], []);
        Assert.Equal(0f, layer.Forward([a, b], []));
        layer.Backward([], [true, false], [a, b]);
        Assert.All(a.Diff.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(b.Diff.ToArray(), v => Assert.Equal(5f, v));
    }

    [Fact]
    public void SetUp_WithTop_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make().SetUp([new Blob(2)], [new Blob()]));
        Assert.Contains("'silence'", e.Message);
    }
}
