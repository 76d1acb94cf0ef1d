using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class DeconvolutionLayerTests
{
    private static readonly Dictionary<string, ConvolutionLayerTests.ConvCase> Cases = new()
    {
        ["simple k3 s2"] = new([2, 3, 6, 4], 4, [3, 3], [0, 0], [2, 2], [1, 1]),
        ["group 3"] = new([2, 3, 6, 4], 3, [3, 3], [0, 0], [2, 2], [1, 1], Group: 3),
        ["padded dilated group 2"] = new([1, 4, 4, 3], 6, [3, 2], [1, 1], [2, 1], [2, 2], Group: 2),
        ["1x1"] = new([2, 3, 4, 3], 2, [1, 1], [0, 0], [1, 1], [1, 1]),
        ["rect hw fields"] = new([1, 2, 3, 4], 2, [3, 2], [1, 0], [2, 3], [1, 1], HwFields: true),
        ["force nd"] = new([1, 4, 4, 3], 6, [3, 2], [1, 1], [2, 1], [2, 2], Group: 2, ForceNd: true),
        ["3-D"] = new([1, 2, 3, 2, 3], 2, [3, 2, 2], [1, 0, 0], [2, 1, 2], [1, 1, 1]),
        ["1-D"] = new([2, 2, 4], 3, [3], [1], [2], [1]),
        ["no bias"] = new([1, 3, 3, 3], 2, [3, 3], [0, 0], [2, 2], [1, 1], Bias: false),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_MatchesReference(string name)
    {
        var c = Cases[name];
        var bottoms = new[] { TestBlobs.Gaussian(1701, 1f, c.Shape), TestBlobs.Gaussian(1702, 1f, c.Shape) };
        var tops = new[] { new Blob(), new Blob() };
        Rng.Seed(1701);
        var layer = new DeconvolutionLayer(c.Param("Deconvolution"));
        layer.SetUp(bottoms, tops);
        Assert.Equal([c.Shape[1], c.NumOutput / c.Group, .. c.Kernel], layer.Blobs[0].Shape);
        layer.Forward(bottoms, tops);
        var w = layer.Blobs[0].Data.ToArray();
        var b = c.Bias ? layer.Blobs[1].Data.ToArray() : null;
        for (int i = 0; i < 2; i++)
        {
            var expected = ConvolutionReference.Deconvolve(bottoms[i], w, b, c.NumOutput, c.Group, c.Kernel, c.Pad, c.Stride, c.Dilation, out int[] shape);
            Assert.Equal(shape, tops[i].Shape);
            TestBlobs.AssertClose(expected, tops[i].Data);
        }
    }

    [Fact]
    public void Forward_OnesMatchCaffe()
    {
        // Caffe's TestSimpleDeconvolution: inputs and weights 1, bias 0.1, k3 s2, 4 outputs.
        var bottom = new Blob(2, 3, 6, 4);
        bottom.Data.Fill(1f);
        var top = new Blob();
        var layer = new DeconvolutionLayer(new LayerParameter
        {
            Name = "deconv", Type = "Deconvolution",
            ConvolutionParam = new ConvolutionParameter
            {
                NumOutput = 4, KernelSize = { 3 }, Stride = { 2 },
                WeightFiller = new FillerParameter { Type = "constant", Value = 1 },
                BiasFiller = new FillerParameter { Type = "constant", Value = 0.1f },
            },
        });
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        Assert.Equal([2, 4, 13, 9], top.Shape);
        for (int n = 0; n < 2; n++)
        {
            for (int c = 0; c < 4; c++)
            {
                for (int h = 0; h < 13; h++)
                {
                    for (int w = 0; w < 9; w++)
                    {
                        bool hEven = h % 2 == 0 && h > 0 && h < 12;
                        bool wEven = w % 2 == 0 && w > 0 && w < 8;
                        float expected = hEven && wEven ? 12.1f : hEven || wEven ? 6.1f : 3.1f;
                        Assert.Equal(expected, top.Data[top.Offset(n, c, h, w)], 1e-4f);
                    }
                }
            }
        }
    }

    [Fact]
    public void Setup_GivesCaffesShapes()
    {
        var bottom = new[] { new Blob(2, 3, 6, 4) };
        var top = new[] { new Blob() };
        new DeconvolutionLayer(Cases["simple k3 s2"].Param("Deconvolution")).SetUp(bottom, top);
        Assert.Equal([2, 4, 13, 9], top[0].Shape);
        new DeconvolutionLayer(Cases["group 3"].Param("Deconvolution")).SetUp(bottom, top);
        Assert.Equal([2, 3, 13, 9], top[0].Shape);
    }

    public static TheoryData<string> GradientCaseNames => new("padded dilated group 2", "1x1", "rect hw fields", "force nd", "3-D", "1-D", "no bias");

    [Theory]
    [MemberData(nameof(GradientCaseNames))]
    public void Backward_MatchesNumericGradient(string name)
    {
        var c = Cases[name];
        int[] shape = [1, .. c.Shape.Skip(1)];
        var bottoms = new[] { TestBlobs.Gaussian(1701, 1f, shape), TestBlobs.Gaussian(1702, 1f, shape) };
        Rng.Seed(1701);
        var layer = new DeconvolutionLayer(c.Param("Deconvolution"));
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, bottoms, [new Blob(), new Blob()]);
    }

    [Fact]
    public void BadParameters_Throw()
    {
        // Output 1·(1−1) + 3 − 2·2 = −1.
        var layer = new DeconvolutionLayer(new LayerParameter
        {
            Name = "up", Type = "Deconvolution",
            ConvolutionParam = new ConvolutionParameter { NumOutput = 2, KernelSize = { 3 }, Pad = { 2 } },
        });
        var ex = Assert.Throws<CremaException>(() => layer.SetUp([new Blob(1, 2, 1, 1)], [new Blob()]));
        Assert.Contains("'up'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("output size -1 on axis 2 is not positive", ex.Message, StringComparison.Ordinal);

        layer = new DeconvolutionLayer(new LayerParameter
        {
            Name = "up", Type = "Deconvolution",
            ConvolutionParam = new ConvolutionParameter { NumOutput = 3, Group = 2, KernelSize = { 3 } },
        });
        ex = Assert.Throws<CremaException>(() => layer.SetUp([new Blob(1, 2, 3, 3)], [new Blob()]));
        Assert.Contains("num_output 3 not divisible by group 2", ex.Message, StringComparison.Ordinal);
    }
}
