using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class AddCoordsLayerTests
{
    private static AddCoordsLayer Make(bool withR) =>
        new(new LayerParameter { Name = "coords", Type = "AddCoords", AddCoordsParam = new AddCoordsParameter { WithR = withR } });

    public static TheoryData<int[], bool> Cases => new()
    {
        { [2, 3, 4, 5], false },
        { [2, 3, 4, 5], true },
        { [1, 2, 1, 4], true },
        { [2, 1, 3, 1], true },
        { [1, 1, 1, 1], false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(int[] shape, bool withR)
    {
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, shape) };
        var top = new[] { new Blob() };
        var layer = Make(withR);
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        int num = shape[0], channels = shape[1], height = shape[2], width = shape[3];
        int extra = withR ? 3 : 2;
        Assert.Equal([num, channels + extra, height, width], top[0].Shape);
        for (int n = 0; n < num; n++)
        {
            for (int h = 0; h < height; h++)
            {
                for (int w = 0; w < width; w++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        Assert.Equal(bottom[0].Data[bottom[0].Offset(n, c, h, w)], top[0].Data[top[0].Offset(n, c, h, w)]);
                    }
                    double x = width == 1 ? 0 : -1 + 2.0 * w / (width - 1);
                    double y = height == 1 ? 0 : -1 + 2.0 * h / (height - 1);
                    Assert.Equal(x, top[0].Data[top[0].Offset(n, channels, h, w)], 6);
                    Assert.Equal(y, top[0].Data[top[0].Offset(n, channels + 1, h, w)], 6);
                    if (withR)
                    {
                        Assert.Equal(Math.Sqrt(x * x + y * y), top[0].Data[top[0].Offset(n, channels + 2, h, w)], 6);
                    }
                }
            }
        }
    }

    [Fact]
    public void Forward_HandValues_3x2()
    {
        // H = 3, W = 2: x = [-1, 1] along width, y = [-1, 0, 1] along height, r = sqrt(x² + y²) unnormalised (corners √2).
        var bottom = new[] { new Blob(1, 1, 3, 2) };
        var top = new[] { new Blob() };
        var layer = Make(true);
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        float s = MathF.Sqrt(2);
        float[] expected = [0, 0, 0, 0, 0, 0, -1, 1, -1, 1, -1, 1, -1, -1, 0, 0, 1, 1, s, s, 1, 1, s, s];
        TestBlobs.AssertClose(expected, top[0].Data, 1e-6f);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Backward_MatchesNumericGradient(bool withR)
    {
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5) };
        var top = new[] { new Blob() };
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(Make(withR), bottom, top);
    }

    [Fact]
    public void Backward_PassesOriginalChannelsThrough()
    {
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5) };
        var top = new[] { new Blob() };
        var layer = Make(true);
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        TestBlobs.Gaussian(7, 1f, top[0].Shape.ToArray()).Data.CopyTo(top[0].Diff);
        layer.Backward(top, [true], bottom);
        for (int n = 0; n < 2; n++)
        {
            TestBlobs.AssertClose(top[0].Diff.Slice(n * 6 * 20, 3 * 20), bottom[0].Diff.Slice(n * 3 * 20, 3 * 20), 0f);
        }
    }

    [Fact]
    public void BadInputs_Throw()
    {
        var ex = Assert.Throws<CremaException>(() => Make(false).SetUp([new Blob(2, 3, 4)], [new Blob()]));
        Assert.Contains("'coords'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("bottom must be (N, C, H, W), got 2 3 4 (24)", ex.Message, StringComparison.Ordinal);
        var blob = new Blob(1, 2, 3, 3);
        ex = Assert.Throws<CremaException>(() => Make(false).SetUp([blob], [blob]));
        Assert.Contains("cannot run in place", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsRegistered() => Assert.Equal(typeof(AddCoordsLayer), LayerRegistry.TypeOf("AddCoords"));
}
