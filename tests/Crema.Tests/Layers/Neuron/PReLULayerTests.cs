using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using static Crema.Tests.Layers.NeuronTestKit;

namespace Crema.Tests.Layers;

public class PReLULayerTests
{
    private static LayerParameter Param(bool channelShared, FillerParameter? filler = null)
    {
        var p = new PReLUParameter { ChannelShared = channelShared };
        if (filler != null)
        {
            p.Filler = filler;
        }
        return new LayerParameter { Name = "prelu", Type = "PReLU", PreluParam = p };
    }

    // Distinct slopes per channel, one negative, so a wrong channel index or sign shows. Loaded as saved blobs rather than
    // drawn by a filler, so the tests do not depend on the process-wide Rng.
    private static LayerParameter WithSlopes(bool channelShared)
    {
        var p = Param(channelShared);
        var slopes = channelShared ? new Blob() : new Blob(3);
        float[] values = [0.3f, -0.4f, 0.7f];
        values.AsSpan(0, slopes.Count).CopyTo(slopes.Data);
        p.Blobs.Add(slopes.ToProto());
        return p;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_MatchesReference(bool channelShared)
    {
        var bottom = Input();
        var top = new Blob();
        var layer = Create(WithSlopes(channelShared));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);

        var slopes = layer.Blobs[0];
        Assert.Equal(channelShared ? [] : [3], slopes.Shape);
        // x: (2, 3, 4, 5); slope index = channel c (or 0 when shared).
        for (int n = 0; n < 2; n++)
        {
            for (int c = 0; c < 3; c++)
            {
                float a = slopes.Data[channelShared ? 0 : c];
                for (int k = 0; k < 20; k++)
                {
                    int i = bottom.Offset(n, c) + k;
                    float x = bottom.Data[i];
                    Assert.Equal(Math.Max(x, 0) + a * Math.Min(x, 0), top.Data[i], 1e-6f);
                }
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SetUp_DefaultSlopeIsQuarter(bool channelShared)
    {
        var layer = Create(Param(channelShared));
        layer.SetUp([Input()], [new Blob()]);
        Assert.All(layer.Blobs[0].Data.ToArray(), a => Assert.Equal(0.25f, a));
        Assert.Equal(channelShared ? 1 : 3, layer.Blobs[0].Count);
    }

    // Caffe's TestPReLUConsistencyReLU: PReLU with slope 0.25 is ReLU with negative_slope 0.25, forward and backward.
    [Fact]
    public void DefaultSlope_EqualsLeakyRelu()
    {
        float[] dy = TestBlobs.Uniform(3, -1, 1, Shape).Data.ToArray();
        (float[] Y, float[] Dx) Run(LayerParameter p)
        {
            var bottom = Input();
            var top = new Blob();
            var layer = Create(p);
            layer.SetUp([bottom], [top]);
            layer.Forward([bottom], [top]);
            dy.CopyTo(top.Diff);
            layer.Backward([top], [true], [bottom]);
            return (top.Data.ToArray(), bottom.Diff.ToArray());
        }
        var prelu = Run(Param(false));
        var relu = Run(new LayerParameter { Name = "relu", Type = "ReLU", ReluParam = new ReLUParameter { NegativeSlope = 0.25f } });
        Assert.Equal(relu.Y, prelu.Y);
        Assert.Equal(relu.Dx, prelu.Dx);
    }

    // Random projection over the bottom and the slopes.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Backward_MatchesNumericGradient(bool channelShared)
    {
        var checker = new GradientChecker(1e-2f, 1e-3f, 1701, 0, 0.01f);
        checker.CheckGradient(Create(WithSlopes(channelShared)), [Input()], [new Blob()]);
    }

    [Fact]
    public void Backward_AccumulatesSlopeDiffEvenWithoutPropagateDown()
    {
        var bottom = Input();
        var top = new Blob();
        var layer = Create(Param(false));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        top.Diff.Fill(1);
        bottom.Diff.Fill(42);
        layer.Backward([top], [false], [bottom]);
        float[] once = layer.Blobs[0].Diff.ToArray();
        layer.Backward([top], [false], [bottom]);
        Assert.All(bottom.Diff.ToArray(), d => Assert.Equal(42f, d));
        for (int c = 0; c < 3; c++)
        {
            // Σ min(x, 0) over channel c of both images.
            float expected = 0;
            for (int n = 0; n < 2; n++)
            {
                for (int k = 0; k < 20; k++)
                {
                    expected += Math.Min(bottom.Data[bottom.Offset(n, c) + k], 0);
                }
            }
            Assert.Equal(expected, once[c], 1e-4f);
            Assert.Equal(2 * expected, layer.Blobs[0].Diff[c], 1e-4f);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InPlace_MatchesOutOfPlace(bool channelShared)
    {
        // Also compare the slope gradients: in place, dy is overwritten by dx.
        float[] dy = TestBlobs.Uniform(7, -1, 1, Shape).Data.ToArray();
        float[] Run(bool inPlace)
        {
            var bottom = Input();
            var top = inPlace ? bottom : new Blob();
            var layer = Create(WithSlopes(channelShared));
            layer.SetUp([bottom], [top]);
            layer.Forward([bottom], [top]);
            dy.CopyTo(top.Diff);
            layer.Backward([top], [true], [bottom]);
            return [.. top.Data, .. bottom.Diff, .. layer.Blobs[0].Diff];
        }
        TestBlobs.AssertClose(Run(false), Run(true), 1e-6f);
    }

    [Fact]
    public void SetUp_RejectsLoadedSlopesOfWrongSize()
    {
        var p = Param(false);
        p.Blobs.Add(new Blob(5).ToProto());
        var ex = Assert.Throws<CremaException>(() => Create(p).SetUp([Input()], [new Blob()]));
        Assert.Contains("prelu", ex.Message, StringComparison.Ordinal);
        Assert.Contains("5 values, expected 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetUp_KeepsLoadedSlopes()
    {
        var p = Param(false);
        var saved = new Blob(3);
        float[] values = [0.1f, -0.2f, 0.3f];
        values.CopyTo(saved.Data);
        p.Blobs.Add(saved.ToProto());
        var layer = Create(p);
        layer.SetUp([Input()], [new Blob()]);
        Assert.Equal(values, layer.Blobs[0].Data.ToArray());
    }

    [Fact]
    public void SetUp_RejectsOneAxisBottom()
    {
        var ex = Assert.Throws<CremaException>(() => Create(Param(false)).SetUp([new Blob(7)], [new Blob()]));
        Assert.Contains("at least 2 axes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reshape_RejectsChannelCountChange()
    {
        var layer = Create(Param(false));
        var top = new Blob();
        layer.SetUp([Input()], [top]);
        var ex = Assert.Throws<CremaException>(() => layer.Forward([new Blob(2, 4, 3)], [top]));
        Assert.Contains("4 channels but 3 slopes", ex.Message, StringComparison.Ordinal);
    }
}
