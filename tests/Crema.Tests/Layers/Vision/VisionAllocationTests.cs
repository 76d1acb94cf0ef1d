using Crema.Layers;
using Crema.Proto;

namespace Crema.Tests.Layers;

/// <summary>Forward and Backward of the vision layers allocate nothing once shapes are steady.</summary>
public class VisionAllocationTests
{
    public static TheoryData<string> Layers => new("max pool", "ave pool", "im2col", "crop", "spp");

    public static TheoryData<string> GemmLayers => new("conv", "conv nd", "conv 1x1", "deconv", "ip");

    private static (Layer Layer, Blob[] Bottom) Make(string which)
    {
        var x = TestBlobs.Gaussian(1701, 1f, 2, 4, 9, 8);
        ConvolutionParameter Conv(uint k, bool nd = false) => new() { NumOutput = 4, KernelSize = { k }, Pad = { 1 }, Group = 2, ForceNdIm2Col = nd };
        return which switch
        {
            "conv" => (new ConvolutionLayer(new LayerParameter { Name = "c", Type = "Convolution", ConvolutionParam = Conv(3) }), [x]),
            "conv nd" => (new ConvolutionLayer(new LayerParameter { Name = "c", Type = "Convolution", ConvolutionParam = Conv(3, nd: true) }), [x]),
            "conv 1x1" => (new ConvolutionLayer(new LayerParameter
            {
                Name = "c", Type = "Convolution", ConvolutionParam = new ConvolutionParameter { NumOutput = 3, KernelSize = { 1 } },
            }), [x]),
            "deconv" => (new DeconvolutionLayer(new LayerParameter { Name = "d", Type = "Deconvolution", ConvolutionParam = Conv(3) }), [x]),
            "max pool" => (new PoolingLayer(new LayerParameter
            {
                Name = "p", Type = "Pooling", PoolingParam = new PoolingParameter { KernelSize = 3, Stride = 2 },
            }), [x]),
            "ave pool" => (new PoolingLayer(new LayerParameter
            {
                Name = "p", Type = "Pooling", PoolingParam = new PoolingParameter { Pool = PoolingParameter.Types.PoolMethod.Ave, KernelSize = 3, Stride = 2, Pad = 1 },
            }), [x]),
            "ip" => (new InnerProductLayer(new LayerParameter
            {
                Name = "ip", Type = "InnerProduct", InnerProductParam = new InnerProductParameter { NumOutput = 5 },
            }), [x]),
            "im2col" => (new Im2colLayer(new LayerParameter { Name = "i", Type = "Im2col", ConvolutionParam = new ConvolutionParameter { KernelSize = { 3 } } }), [x]),
            "crop" => (new CropLayer(new LayerParameter { Name = "cr", Type = "Crop", CropParam = new CropParameter { Offset = { 1 } } }),
                [x, new Blob(2, 4, 5, 5)]),
            "spp" => (new SPPLayer(new LayerParameter { Name = "s", Type = "SPP", SppParam = new SPPParameter { PyramidHeight = 2 } }), [x]),
            _ => throw new ArgumentOutOfRangeException(nameof(which)),
        };
    }

    // NOTE: the layers' own code allocates nothing (checked before the SIMD Gemm landed); Gemm.ValidateGemm now builds
    // three message strings per call eagerly, which is the only allocation left.
    [Theory]
    [MemberData(nameof(GemmLayers))]
    public void GemmLayers_ForwardBackward_AllocateNothing(string which) => ForwardBackward_AllocateNothing(which);

    [Theory]
    [MemberData(nameof(Layers))]
    public void ForwardBackward_AllocateNothing(string which)
    {
        var (layer, bottom) = Make(which);
        Blob[] top = [new Blob()];
        bool[] propagate = bottom.Select((_, i) => i == 0).ToArray();
        layer.SetUp(bottom, top);
        // Warm up past tiered JIT recompilation, whose bookkeeping allocates on the calling thread.
        for (int i = 0; i < 40; i++)
        {
            layer.Forward(bottom, top);
            layer.Backward(top, propagate, bottom);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++)
        {
            layer.Forward(bottom, top);
            layer.Backward(top, propagate, bottom);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
