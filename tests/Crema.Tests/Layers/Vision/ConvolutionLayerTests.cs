using Crema.Layers;
using Crema.Proto;
using Crema.Testing;

namespace Crema.Tests.Layers;

public class ConvolutionLayerTests
{
    internal sealed record ConvCase(int[] Shape, int NumOutput, int[] Kernel, int[] Pad, int[] Stride, int[] Dilation,
        int Group = 1, int Axis = 1, bool ForceNd = false, bool HwFields = false, bool Bias = true)
    {
        public LayerParameter Param(string type = "Convolution")
        {
            var p = new ConvolutionParameter
            {
                NumOutput = (uint)NumOutput, Group = (uint)Group, Axis = Axis, ForceNdIm2Col = ForceNd, BiasTerm = Bias,
                WeightFiller = new FillerParameter { Type = "gaussian", Std = 1 },
                BiasFiller = new FillerParameter { Type = "gaussian", Std = 1 },
            };
            if (HwFields)
            {
                (p.KernelH, p.KernelW, p.PadH, p.PadW, p.StrideH, p.StrideW) =
                    ((uint)Kernel[0], (uint)Kernel[1], (uint)Pad[0], (uint)Pad[1], (uint)Stride[0], (uint)Stride[1]);
                Add(p.Dilation, Dilation);
            }
            else
            {
                Add(p.KernelSize, Kernel);
                Add(p.Pad, Pad);
                Add(p.Stride, Stride);
                Add(p.Dilation, Dilation);
            }
            return new LayerParameter { Name = "conv", Type = type, ConvolutionParam = p };
        }

        // One value when all axes agree (Caffe's short form), else one per axis.
        private static void Add(Google.Protobuf.Collections.RepeatedField<uint> field, int[] values)
        {
            if (values.Length > 0 && values.All(v => v == values[0]))
            {
                field.Add((uint)values[0]);
            }
            else
            {
                field.Add(values.Select(v => (uint)v));
            }
        }
    }

    internal static readonly Dictionary<string, ConvCase> Cases = new()
    {
        ["simple k3 s2"] = new([2, 3, 6, 4], 4, [3, 3], [0, 0], [2, 2], [1, 1]),
        ["dilated"] = new([2, 3, 8, 7], 4, [3, 3], [0, 0], [1, 1], [2, 2]),
        ["padded"] = new([2, 3, 5, 4], 2, [3, 3], [1, 1], [1, 1], [1, 1]),
        ["group 3"] = new([2, 3, 6, 4], 3, [3, 3], [0, 0], [2, 2], [1, 1], Group: 3),
        ["group 2 dilated padded"] = new([1, 4, 7, 6], 6, [3, 2], [2, 1], [2, 1], [2, 3], Group: 2),
        ["1x1"] = new([2, 3, 6, 4], 4, [1, 1], [0, 0], [1, 1], [1, 1]),
        ["1x1 stride 2"] = new([2, 3, 6, 4], 4, [1, 1], [0, 0], [2, 2], [1, 1]),
        ["rect hw fields"] = new([2, 3, 6, 5], 2, [3, 2], [1, 0], [2, 1], [1, 1], HwFields: true),
        ["force nd"] = new([1, 4, 7, 6], 6, [3, 2], [2, 1], [2, 1], [2, 3], Group: 2, ForceNd: true),
        ["3-D"] = new([2, 3, 5, 6, 4], 4, [3, 3, 3], [0, 0, 0], [2, 2, 2], [1, 1, 1]),
        ["3-D dilated padded"] = new([1, 2, 6, 7, 8], 2, [3, 2, 3], [1, 0, 2], [1, 2, 1], [2, 1, 2]),
        ["1-D"] = new([2, 3, 9], 2, [3], [1], [2], [1]),
        ["axis 2"] = new([2, 2, 3, 6, 5], 4, [3, 3], [1, 1], [2, 2], [1, 1], Axis: 2),
        ["0-D axis 3"] = new([2, 3, 6, 4], 3, [], [], [], [], Axis: 3),
        ["no bias"] = new([2, 3, 6, 4], 4, [3, 3], [0, 0], [2, 2], [1, 1], Bias: false),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_MatchesReference(string name)
    {
        var c = Cases[name];
        // Two bottoms share the weights, as Caffe's conv allows several bottom/top pairs.
        var bottoms = new[] { TestBlobs.Gaussian(1701, 1f, c.Shape), TestBlobs.Gaussian(1702, 1f, c.Shape) };
        var tops = new[] { new Blob(), new Blob() };
        Rng.Seed(1701);
        var layer = new ConvolutionLayer(c.Param());
        layer.SetUp(bottoms, tops);
        layer.Forward(bottoms, tops);

        var w = layer.Blobs[0].Data.ToArray();
        var b = c.Bias ? layer.Blobs[1].Data.ToArray() : null;
        for (int i = 0; i < 2; i++)
        {
            var expected = ConvolutionReference.Convolve(bottoms[i], c.Axis, w, b, c.NumOutput, c.Group, c.Kernel, c.Pad, c.Stride, c.Dilation, out int[] shape);
            Assert.Equal(shape, tops[i].Shape);
            TestBlobs.AssertClose(expected, tops[i].Data);
        }
    }

    [Fact]
    public void Setup_GivesCaffesShapes()
    {
        var bottom = new[] { new Blob(2, 3, 6, 4) };
        var top = new[] { new Blob() };
        new ConvolutionLayer(Cases["simple k3 s2"].Param()).SetUp(bottom, top);
        Assert.Equal([2, 4, 2, 1], top[0].Shape);
        new ConvolutionLayer(Cases["group 3"].Param()).SetUp(bottom, top);
        Assert.Equal([2, 3, 2, 1], top[0].Shape);
        new ConvolutionLayer(Cases["0-D axis 3"].Param()).SetUp(bottom, top);
        Assert.Equal([2, 3, 6, 3], top[0].Shape);
    }

    [Fact]
    public void Forward_SobelEqualsSeparableTwoStep()
    {
        // Caffe's TestSobelConvolution: a 3x3 G_x filter equals a [1 2 1] column pass then a [-1 0 1] row pass.
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, 2, 3, 6, 4) };
        var full = new[] { new Blob() };
        var sobel = new ConvolutionLayer(new LayerParameter
        {
            Name = "sobel", Type = "Convolution",
            ConvolutionParam = new ConvolutionParameter { NumOutput = 1, KernelSize = { 3 }, Stride = { 2 }, BiasTerm = false },
        });
        sobel.SetUp(bottom, full);
        float[] gx = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
        for (int c = 0; c < 3; c++)
        {
            gx.CopyTo(sobel.Blobs[0].Data.Slice(c * 9, 9));
        }
        sobel.Forward(bottom, full);

        var middle = new[] { new Blob() };
        var column = new ConvolutionLayer(new LayerParameter
        {
            Name = "column", Type = "Convolution",
            ConvolutionParam = new ConvolutionParameter { NumOutput = 1, KernelH = 3, KernelW = 1, StrideH = 2, StrideW = 1, BiasTerm = false },
        });
        column.SetUp(bottom, middle);
        for (int c = 0; c < 3; c++)
        {
            new float[] { 1, 2, 1 }.CopyTo(column.Blobs[0].Data.Slice(c * 3, 3));
        }
        column.Forward(bottom, middle);

        var result = new[] { new Blob() };
        var row = new ConvolutionLayer(new LayerParameter
        {
            Name = "row", Type = "Convolution",
            ConvolutionParam = new ConvolutionParameter { NumOutput = 1, KernelH = 1, KernelW = 3, StrideH = 1, StrideW = 2, BiasTerm = false },
        });
        row.SetUp(middle, result);
        new float[] { -1, 0, 1 }.CopyTo(row.Blobs[0].Data);
        row.Forward(middle, result);

        Assert.Equal(full[0].Shape, result[0].Shape);
        TestBlobs.AssertClose(full[0].Data, result[0].Data);
        Assert.True(full[0].AsumData() > 0.1f);
    }

    [Fact]
    public void ForceNd_MatchesTwoDPath_ForwardAndBackward()
    {
        var c = Cases["group 2 dilated padded"];
        float[] Run(bool forceNd, out float[] bottomDiff, out float[] weightDiff)
        {
            var bottom = new[] { TestBlobs.Gaussian(1701, 1f, c.Shape) };
            var top = new[] { new Blob() };
            Rng.Seed(1701);
            var layer = new ConvolutionLayer((c with { ForceNd = forceNd }).Param());
            layer.SetUp(bottom, top);
            layer.Forward(bottom, top);
            TestBlobs.Gaussian(7, 1f, top[0].Shape.ToArray()).Data.CopyTo(top[0].Diff);
            layer.Blobs[0].Diff.Clear();
            layer.Blobs[1].Diff.Clear();
            layer.Backward(top, [true], bottom);
            bottomDiff = bottom[0].Diff.ToArray();
            weightDiff = layer.Blobs[0].Diff.ToArray();
            return top[0].Data.ToArray();
        }
        var y2 = Run(false, out var dx2, out var dw2);
        var yn = Run(true, out var dxn, out var dwn);
        TestBlobs.AssertClose(y2, yn, 1e-6f);
        TestBlobs.AssertClose(dx2, dxn, 1e-6f);
        TestBlobs.AssertClose(dw2, dwn, 1e-6f);
    }

    public static TheoryData<string> GradientCaseNames => new(
        "padded", "group 2 dilated padded", "1x1", "rect hw fields", "force nd", "3-D dilated padded", "1-D", "axis 2", "0-D axis 3", "no bias");

    [Theory]
    [MemberData(nameof(GradientCaseNames))]
    public void Backward_MatchesNumericGradient(string name)
    {
        var c = Cases[name];
        // Shrink the batch to keep the exhaustive-ish check fast.
        int[] shape = [1, .. c.Shape.Skip(1)];
        var bottoms = new[] { TestBlobs.Gaussian(1701, 1f, shape), TestBlobs.Gaussian(1702, 1f, shape) };
        var tops = new[] { new Blob(), new Blob() };
        Rng.Seed(1701);
        var layer = new ConvolutionLayer(c.Param());
        new GradientChecker(1e-2f, 1e-3f).CheckGradient(layer, bottoms, tops);
    }

    [Fact]
    public void Backward_AccumulatesParameterGradients()
    {
        var c = Cases["padded"];
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, c.Shape) };
        var top = new[] { new Blob() };
        Rng.Seed(1701);
        var layer = new ConvolutionLayer(c.Param());
        layer.SetUp(bottom, top);
        layer.Forward(bottom, top);
        top[0].Diff.Fill(1f);
        layer.Backward(top, [false], bottom);
        var once = layer.Blobs[0].Diff.ToArray();
        var biasOnce = layer.Blobs[1].Diff.ToArray();
        layer.Backward(top, [false], bottom);
        TestBlobs.AssertClose(once.Select(v => 2 * v).ToArray(), layer.Blobs[0].Diff);
        TestBlobs.AssertClose(biasOnce.Select(v => 2 * v).ToArray(), layer.Blobs[1].Diff);
    }

    [Theory]
    [InlineData("Convolution")]
    [InlineData("Deconvolution")]
    public void Backward_RespectsPropagateDownAndParamFlags(string type)
    {
        var c = Cases["padded"];
        var bottom = new[] { TestBlobs.Gaussian(1701, 1f, c.Shape) };
        var top = new[] { new Blob() };
        Rng.Seed(1701);
        Layer layer = type == "Convolution" ? new ConvolutionLayer(c.Param(type)) : new DeconvolutionLayer(c.Param(type));
        layer.SetUp(bottom, top);
        layer.ParamPropagateDown.AddRange([false, true]);
        layer.Forward(bottom, top);
        top[0].Diff.Fill(1f);
        bottom[0].Diff.Fill(7f);
        layer.Backward(top, [false], bottom);
        Assert.All(bottom[0].Diff.ToArray(), v => Assert.Equal(7f, v));
        Assert.All(layer.Blobs[0].Diff.ToArray(), v => Assert.Equal(0f, v));
        Assert.True(layer.Blobs[1].Diff.ToArray().All(v => v > 0));
    }

    [Fact]
    public void LoadedBlobs_AreKeptAndShapeChecked()
    {
        var c = Cases["simple k3 s2"];
        var param = c.Param();
        param.Blobs.Add(new Blob(4, 3, 3, 3).ToProto());
        param.Blobs.Add(TestBlobs.FromValues([1, 1, 1, 4], 1, 2, 3, 4).ToProto());
        var layer = new ConvolutionLayer(param);
        layer.SetUp([new Blob(c.Shape)], [new Blob()]);
        Assert.All(layer.Blobs[0].Data.ToArray(), v => Assert.Equal(0f, v));
        // A legacy 4-D bias is accepted and given its canonical shape.
        Assert.Equal([4], layer.Blobs[1].Shape);
        Assert.Equal([1f, 2f, 3f, 4f], layer.Blobs[1].Data.ToArray());

        var bad = c.Param();
        bad.Blobs.Add(new Blob(4, 3, 2, 3).ToProto());
        bad.Blobs.Add(new Blob(4).ToProto());
        var ex = Assert.Throws<CremaException>(() => new ConvolutionLayer(bad).SetUp([new Blob(c.Shape)], [new Blob()]));
        Assert.Contains("weight shape (4, 3, 2, 3)", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadParameters => new()
    {
        { "kernel", "kernel 7 larger than padded input 6" },
        { "dilated", "dilated kernel extent 9 larger than padded input 6" },
        { "num_output", "num_output must be > 0" },
        { "channel group", "input channels 3 not divisible by group 2" },
        { "output group", "num_output 5 not divisible by group 3" },
        { "stride", "stride must be > 0, got 0" },
        { "both kernels", "give either kernel_size or kernel_h/kernel_w, not both" },
        { "no kernel", "kernel_size must be given" },
        { "kernel count", "kernel_size must be given once or once per spatial axis (2), got 3 values" },
        { "bottom shapes", "all bottoms must have the same shape" },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public void BadParameters_Throw(string which, string message)
    {
        var p = new ConvolutionParameter { NumOutput = 4, KernelSize = { 3 } };
        var bottoms = new List<Blob> { new(2, 3, 6, 4) };
        var tops = new List<Blob> { new() };
        switch (which)
        {
            case "kernel": p.KernelSize[0] = 7; break;
            case "dilated": p.Dilation.Add(4); break;
            case "num_output": p.NumOutput = 0; break;
            case "channel group": p.Group = 2; break;
            case "output group": p.NumOutput = 5; p.Group = 3; break;
            case "stride": p.Stride.Add(0); break;
            case "both kernels": p.KernelH = 3; p.KernelW = 3; break;
            case "no kernel": p.KernelSize.Clear(); break;
            case "kernel count": p.KernelSize.Add([3, 3]); break;
            case "bottom shapes": bottoms.Add(new Blob(2, 3, 6, 5)); tops.Add(new Blob()); break;
        }
        var layer = new ConvolutionLayer(new LayerParameter { Name = "conv1", Type = "Convolution", ConvolutionParam = p });
        var ex = Assert.Throws<CremaException>(() => layer.SetUp(bottoms, tops));
        Assert.Contains("conv1", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsRegistered()
    {
        Assert.Equal(typeof(ConvolutionLayer), LayerRegistry.TypeOf("Convolution"));
        Assert.Equal(typeof(DeconvolutionLayer), LayerRegistry.TypeOf("Deconvolution"));
    }
}
