using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class TileLayerTests
{
    private static TileLayer Make(int axis, int tiles) =>
        new(new LayerParameter { Name = "tile", Type = "Tile", TileParam = new TileParameter { Axis = axis, Tiles = tiles } });

    [Theory]
    [InlineData(0, 3)]
    [InlineData(1, 2)]
    [InlineData(3, 4)]
    [InlineData(-1, 1)]
    public void Forward_MatchesReference(int axis, int tiles)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var top = new Blob();
        var layer = Make(axis, tiles);
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        int a = axis < 0 ? axis + 4 : axis;
        int[] shape = [2, 3, 4, 5];
        shape[a] *= tiles;
        Assert.Equal(shape, top.Shape);
        var index = new int[4];
        for (int i = 0; i < top.Count; i++)
        {
            int rem = i;
            for (int d = 3; d >= 0; d--)
            {
                index[d] = rem % shape[d];
                rem /= shape[d];
            }
            index[a] %= bottom.Shape[a];
            Assert.Equal(bottom.Data[bottom.Offset(index)], top.Data[i]);
        }
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(2, 2)]
    public void Backward_MatchesNumericGradient(int axis, int tiles)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(Make(axis, tiles), [bottom], [new Blob()]);
    }

    [Fact]
    public void SetUp_NonPositiveTiles_NamesValue()
    {
        var e = Assert.Throws<CremaException>(() => Make(1, 0).SetUp([new Blob(2, 3)], [new Blob()]));
        Assert.Contains("'tile'", e.Message);
        Assert.Contains("0", e.Message);
    }

    [Fact]
    public void SetUp_MissingTiles_IsRejected()
    {
        var layer = new TileLayer(new LayerParameter { Name = "tile", Type = "Tile" });
        var e = Assert.Throws<CremaException>(() => layer.SetUp([new Blob(2, 3)], [new Blob()]));
        Assert.Contains("tiles", e.Message);
    }
}
