using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using Crema.Tests.Kernels;

namespace Crema.Tests.Layers;

/// <summary>The frozen-inference Winograd path of ConvolutionLayer against the same layer's im2col path.</summary>
public class ConvolutionWinogradTests
{
    // (shape, num_output, pad, group, bias, the output tile the rule picks: 4 = F(4,3), 2 = F(2,3))
    public static TheoryData<int[], int, int, int, bool, int> Cases => new()
    {
        { [1, 48, 18, 22], 16, 1, 1, true, 4 },
        { [3, 64, 12, 12], 24, 1, 1, true, 4 },
        { [2, 48, 15, 14], 48, 0, 1, false, 4 },
        { [1, 96, 17, 17], 48, 2, 2, true, 4 },
        { [2, 64, 14, 14], 64, 1, 1, true, 4 },
        { [1, 64, 14, 14], 64, 1, 1, true, 2 },   // 16 F(4,3) tiles, 49 F(2,3) tiles: ResNet res4 / VGG conv5 at batch 1
        { [1, 96, 13, 13], 64, 1, 2, true, 2 },   // groups, odd size
        { [1, 50, 12, 12], 20, 2, 1, false, 2 },  // pad 2, channels and outputs not multiples of 16, no bias
        { [1, 64, 7, 7], 64, 1, 1, true, 2 },     // 4 F(4,3) tiles, 16 F(2,3) tiles: ResNet res5 at batch 1
        { [4, 64, 5, 5], 16, 1, 1, true, 2 },     // 4 images × 4 F(4,3) tiles = 16, too few; F(2,3): 4 × 9 = 36
        { [1, 32, 27, 27], 48, 1, 1, true, 4 },   // 32 channels at batch 1: SqueezeNet fire5 expand3x3
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FrozenForward_EqualsUnfrozen(int[] shape, int numOutput, int pad, int group, bool bias, int tile)
    {
        var bottoms = new[] { TestBlobs.Uniform(1701, 0f, 1f, shape), TestBlobs.Uniform(1702, 0f, 1f, shape) };
        var tops = new[] { new Blob(), new Blob() };
        var layer = Layer(numOutput, pad, group, bias, std: MathF.Sqrt(2f / (9 * shape[1] / group)));
        layer.SetUp(bottoms, tops);
        layer.Forward(bottoms, tops);
        Assert.False(layer.HasWinogradCache);
        var expected = tops.Select(t => t.Data.ToArray()).ToArray();

        layer.InferenceFrozen = true;
        layer.Forward(bottoms, tops);
        Assert.True(layer.HasWinogradCache);
        Assert.Equal(tile, layer.WinogradTile);
        for (int i = 0; i < 2; i++)
        {
            WinogradTests.AssertClose(expected[i], tops[i].Data.ToArray(), 1e-5);
        }
    }

    [Fact]
    public void BatchReshape_SwitchesVariant_AndRebuildsTransformedWeights()
    {
        // 64 channels, 14×14: F(2,3) at batch 1 (16 F(4,3) tiles are too few), F(4,3) at batch 2 (32 tiles). Each switch must
        // transform the weights again for the other tile (U has 16 or 36 points), and back.
        // The reference: a second, never frozen layer with the same weights (an unfrozen Forward would drop the cache).
        var layer = Layer(32, 1, 1, true, MathF.Sqrt(2f / (9 * 64)));
        var reference = Layer(32, 1, 1, true, MathF.Sqrt(2f / (9 * 64)));
        var top = new[] { new Blob() };
        var referenceTop = new[] { new Blob() };
        int[] tiles = [2, 4, 2];
        int[] batches = [1, 2, 1];
        layer.SetUp([TestBlobs.Uniform(1701, 0f, 1f, 1, 64, 14, 14)], top);
        reference.SetUp([TestBlobs.Uniform(1701, 0f, 1f, 1, 64, 14, 14)], referenceTop);
        for (int i = 0; i < 2; i++)
        {
            layer.Blobs[i].Data.CopyTo(reference.Blobs[i].Data);
        }
        layer.InferenceFrozen = true;
        for (int step = 0; step < 3; step++)
        {
            var bottom = new[] { TestBlobs.Uniform(1701 + step, 0f, 1f, batches[step], 64, 14, 14) };
            reference.Reshape(bottom, referenceTop);
            reference.Forward(bottom, referenceTop);
            layer.Reshape(bottom, top);
            layer.Forward(bottom, top);
            Assert.Equal(tiles[step], layer.WinogradTile);
            WinogradTests.AssertClose(referenceTop[0].Data.ToArray(), top[0].Data.ToArray(), 1e-5);
        }
    }

    [Fact]
    public void Train_AndUnfrozen_NeverTakeTheFastPath()
    {
        var (layer, bottom, top) = FrozenLayer();
        layer.Phase = Phase.Train;
        layer.Forward(bottom, top);
        Assert.False(layer.HasWinogradCache);
        layer.Phase = Phase.Test;
        layer.Forward(bottom, top);
        Assert.True(layer.HasWinogradCache);
        layer.InferenceFrozen = false;
        layer.Forward(bottom, top);
        Assert.False(layer.HasWinogradCache);
    }

    [Fact]
    public void InvalidateInferenceCache_PicksUpWeightsChangedInPlace()
    {
        var (layer, bottom, top) = FrozenLayer();
        layer.Forward(bottom, top);
        layer.Blobs[0].ScaleData(2f);
        layer.InvalidateInferenceCache();
        layer.Forward(bottom, top);
        var frozen = top[0].Data.ToArray();
        layer.InferenceFrozen = false;
        layer.Forward(bottom, top);
        WinogradTests.AssertClose(top[0].Data.ToArray(), frozen, 1e-5);
    }

    [Fact]
    public void WeightsRescaledInPlace_AreNoticedWithoutInvalidation()
    {
        var (layer, bottom, top) = FrozenLayer();
        layer.Forward(bottom, top);
        var before = top[0].Data.ToArray();
        layer.Blobs[0].ScaleData(-1f); // same buffer, every sampled value changes sign
        layer.Forward(bottom, top);
        var frozen = top[0].Data.ToArray();
        Assert.NotEqual(before, frozen);
        layer.InferenceFrozen = false;
        layer.Forward(bottom, top);
        WinogradTests.AssertClose(top[0].Data.ToArray(), frozen, 1e-5);
    }

    [Theory]
    [InlineData(2, 32, 16, 20)] // 32 channels at batch 2: too few
    [InlineData(1, 16, 16, 20)] // 16 channels at batch 1: too few
    [InlineData(1, 64, 6, 6)]   // 4 tiles: too few; F(2,3): 9 tiles, too few
    [InlineData(1, 64, 5, 5)]   // F(2,3): 9 tiles, too few
    public void ShapesMeasuredSlower_KeepIm2Col(int num, int channels, int height, int width)
    {
        var bottom = new[] { TestBlobs.Uniform(1701, 0f, 1f, num, channels, height, width) };
        var top = new[] { new Blob() };
        var layer = Layer(16, 1, 1, true, 0.1f);
        layer.SetUp(bottom, top);
        layer.InferenceFrozen = true;
        layer.Forward(bottom, top);
        Assert.False(layer.HasWinogradCache);
    }

    // 48 → 16 channels on 16×20 (Winograd), set up and frozen, not yet run.
    private static (ConvolutionLayer Layer, Blob[] Bottom, Blob[] Top) FrozenLayer()
    {
        var bottom = new[] { TestBlobs.Uniform(1701, 0f, 1f, 1, 48, 16, 20) };
        var top = new[] { new Blob() };
        var layer = Layer(16, 1, 1, true, 0.1f);
        layer.SetUp(bottom, top);
        layer.InferenceFrozen = true;
        return (layer, bottom, top);
    }

    private static ConvolutionLayer Layer(int numOutput, int pad, int group, bool bias, float std)
    {
        Rng.Seed(1701);
        var p = new ConvolutionParameter
        {
            NumOutput = (uint)numOutput, Group = (uint)group, BiasTerm = bias,
            WeightFiller = new FillerParameter { Type = "gaussian", Std = std },
            BiasFiller = new FillerParameter { Type = "gaussian", Std = 0.1f },
        };
        p.KernelSize.Add(3);
        p.Pad.Add((uint)pad);
        return new ConvolutionLayer(new LayerParameter { Name = "conv", Type = "Convolution", ConvolutionParam = p }) { Phase = Phase.Test };
    }
}
