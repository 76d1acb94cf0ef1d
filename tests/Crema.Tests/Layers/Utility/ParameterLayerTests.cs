using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class ParameterLayerTests
{
    private static ParameterLayer Make(params long[] dims)
    {
        var shape = new BlobShape();
        shape.Dim.AddRange(dims);
        return new(new LayerParameter { Name = "param", Type = "Parameter", ParameterParam = new ParameterParameter { Shape = shape } });
    }

    [Fact]
    public void Forward_TopIsTheLearnableBlob()
    {
        var layer = Make(3, 4);
        var top = new Blob();
        layer.SetUp([], [top]);
        Assert.Single(layer.Blobs);
        Assert.Equal(new[] { 3, 4 }, layer.Blobs[0].Shape);
        layer.Blobs[0].Data.Fill(2.5f);
        layer.Forward([], [top]);
        Assert.All(top.Data.ToArray(), v => Assert.Equal(2.5f, v));
        top.Diff.Fill(1);
        Assert.Equal(1f, layer.Blobs[0].Diff[5]);
    }

    [Fact]
    public void Backward_MatchesNumericGradient()
    {
        var layer = Make(2, 3);
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [], [new Blob()]);
    }

    [Fact]
    public void SetUp_LoadedBlobOfWrongShape_NamesShapes()
    {
        var layer = Make(3, 4);
        layer.Blobs.Add(new Blob(4, 3));
        var e = Assert.Throws<CremaException>(() => layer.SetUp([], [new Blob()]));
        Assert.Contains("'param'", e.Message);
        Assert.Contains("(4, 3)", e.Message);
    }
}
