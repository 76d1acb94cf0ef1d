using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class Im2colLayerTests
{
    private static LayerParameter Param(Action<ConvolutionParameter> configure)
    {
        var p = new ConvolutionParameter();
        configure(p);
        return new LayerParameter { Name = "im2col", Type = "Im2col", ConvolutionParam = p };
    }

    [Fact]
    public void Setup_GivesCaffesShape()
    {
        var top = new Blob();
        new Im2colLayer(Param(p => { p.KernelSize.Add(3); p.Stride.Add(2); p.Dilation.Add(3); })).SetUp([new Blob(2, 3, 10, 11)], [top]);
        Assert.Equal([2, 27, 2, 3], top.Shape);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(5, 3)]
    public void Forward_MatchesCaffeColumnOrder(int kh, int kw)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 5);
        var top = new Blob();
        var layer = new Im2colLayer(Param(p => { p.KernelH = (uint)kh; p.KernelW = (uint)kw; p.StrideH = 2; p.StrideW = 2; }));
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        // Channel-major, then kernel row, then kernel column.
        for (int c = 0; c < 3 * kh * kw; c++)
        {
            Assert.Equal(bottom.Data[bottom.Offset(0, c / (kh * kw), c / kw % kh, c % kw)], top.Data[top.Offset(0, c, 0, 0)]);
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    public void Backward_MatchesNumericGradient(bool forceNd, int dilation)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 2, 7, 6);
        var layer = new Im2colLayer(Param(p =>
        {
            p.KernelSize.Add(3);
            p.Stride.Add(2);
            p.Pad.Add(1);
            p.Dilation.Add((uint)dilation);
            p.ForceNdIm2Col = forceNd;
        }));
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, [bottom], [new Blob()]);
    }

    [Fact]
    public void BadParameters_Throw()
    {
        var layer = new Im2colLayer(Param(p => p.KernelSize.Add(9)));
        var ex = Assert.Throws<CremaException>(() => layer.SetUp([new Blob(1, 1, 6, 5)], [new Blob()]));
        Assert.Contains("'im2col'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("kernel 9 larger than padded input 6 on axis 2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Im2col", typeof(Im2colLayer))]
    [InlineData("Crop", typeof(CropLayer))]
    [InlineData("SPP", typeof(SPPLayer))]
    public void IsRegistered(string type, Type layerClass) => Assert.Equal(layerClass, LayerRegistry.TypeOf(type));
}
