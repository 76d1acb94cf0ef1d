using Crema.Proto;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class ClipLayerTests
{
    private static LayerParameter Param(float min, float max) =>
        new() { Name = "clip", Type = "Clip", ClipParam = new ClipParameter { Min = min, Max = max } };

    // Caffe's TestClip: [-1, 2].
    [Theory]
    [InlineData(-1f, 2f)]
    [InlineData(0f, 0.5f)]
    [InlineData(0.25f, 0.25f)]
    public void Forward_MatchesReference(float min, float max) =>
        AssertForward(Param(min, max), Input(2), x => x < min ? min : x > max ? max : x, 0);

    [Theory]
    [InlineData(-1f, 2f)]
    [InlineData(0f, 0.5f)]
    public void Backward_MatchesNumericGradient(float min, float max) =>
        CheckElementwise(Param(min, max), AwayFromBounds(Input(2), min, max));

    // Inclusive bounds, as Caffe: x exactly on min or max passes the gradient.
    [Fact]
    public void Backward_PassesOnTheBounds()
    {
        var bottom = TestBlobs.FromValues([5], -1.5f, -1, 0, 2, 2.5f);
        var top = new Blob();
        var layer = Create(Param(-1, 2));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        top.Diff.Fill(3);
        layer.Backward([top], [true], [bottom]);
        Assert.Equal([0f, 3f, 3f, 3f, 0f], bottom.Diff.ToArray());
    }

    [Theory]
    [InlineData(-1f, 2f)]
    [InlineData(0f, 0.5f)]
    public void InPlace_MatchesOutOfPlace(float min, float max) => AssertInPlaceMatchesOutOfPlace(Param(min, max), Input(2));

    [Fact]
    public void SetUp_RejectsMinAboveMax()
    {
        var ex = Assert.Throws<CremaException>(() => Forward(Param(3, 1), Input()));
        Assert.Contains("clip", ex.Message, StringComparison.Ordinal);
        Assert.Contains("min 3 is greater than max 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetUp_RequiresBounds()
    {
        var ex = Assert.Throws<CremaException>(() => Forward(new LayerParameter { Name = "clip", Type = "Clip" }, Input()));
        Assert.Contains("clip_param", ex.Message, StringComparison.Ordinal);
    }

    // The checker skips one kink; move inputs off both bounds instead.
    private static Blob AwayFromBounds(Blob blob, float min, float max)
    {
        var d = blob.Data;
        for (int i = 0; i < d.Length; i++)
        {
            if (MathF.Abs(d[i] - min) < 0.05f || MathF.Abs(d[i] - max) < 0.05f)
            {
                d[i] += 0.1f;
            }
        }
        return blob;
    }
}
