using Crema.Kernels;

namespace Crema.Tests.Kernels;

/// <summary>The pointer-walking 2-D im2col/col2im against their plain-loop twins on the shapes real nets use.</summary>
public class Im2ColFastPathTests
{
    // (channels, height, width, kernel, pad, stride, dilation)
    public static TheoryData<int, int, int, int, int, int, int> Shapes => new()
    {
        { 1, 28, 28, 5, 0, 1, 1 },   // LeNet conv1
        { 20, 12, 12, 5, 0, 1, 1 },  // LeNet conv2: 8-float rows
        { 2, 20, 20, 5, 0, 1, 1 },   // 16-float rows
        { 2, 16, 16, 3, 1, 1, 1 },   // 16-float rows, padded
        { 2, 10, 10, 3, 1, 2, 1 },   // rows skipped by vertical padding, strided
        { 3, 32, 32, 5, 2, 1, 1 },   // CIFAR-10 conv1
        { 3, 35, 35, 11, 0, 4, 1 },  // CaffeNet conv1 geometry on a small image
        { 4, 13, 13, 3, 1, 1, 1 },   // CaffeNet conv3
        { 2, 11, 9, 5, 2, 2, 1 },
        { 2, 10, 12, 3, 2, 2, 2 },   // dilated, padded, strided
        { 1, 7, 6, 3, 4, 3, 1 },     // padding wider than a stride
        { 2, 5, 5, 5, 0, 1, 1 },     // kernel = image
        { 1, 3, 17, 1, 0, 1, 1 },
        // stride 2, the vector gather: ResNet-50's conv1 geometry, rows of 17/33/34 outputs (vector bodies and tails), and
        // windows whose last read is the image's last float (the gather must not read past it)
        { 2, 40, 40, 7, 3, 2, 1 },
        { 1, 9, 70, 3, 0, 2, 1 },
        { 1, 3, 33, 1, 0, 2, 1 },
        { 1, 3, 34, 1, 0, 2, 1 },
        { 1, 4, 67, 3, 1, 2, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Im2Col2D_And_Col2Im2D_MatchNaiveTwins(int channels, int height, int width, int kernel, int pad, int stride, int dilation)
    {
        int outH = Im2Col.OutputSize(height, kernel, pad, stride, dilation), outW = Im2Col.OutputSize(width, kernel, pad, stride, dilation);
        int colCount = channels * kernel * kernel * outH * outW;
        var shape = new Im2ColShape(channels, height, width, kernel, kernel, pad, pad, stride, stride, dilation, dilation);
        var im = TestBlobs.Gaussian(1701, 1f, channels, height, width).Data.ToArray();
        var expected = new float[colCount];
        var actual = Enumerable.Repeat(float.NaN, colCount).ToArray();
        Im2ColNaive.Im2Col2D(im, shape, expected);
        Im2Col.Im2Col2D(im, shape, actual);
        Assert.Equal(expected, actual);

        var col = TestBlobs.Gaussian(1702, 1f, colCount).Data.ToArray();
        var back = TestBlobs.Gaussian(1703, 1f, channels, height, width).Data.ToArray();
        var backNaive = (float[])back.Clone();
        Im2ColNaive.Col2Im2D(col, shape, backNaive);
        Im2Col.Col2Im2D(col, shape, back);
        // Same additions in the same order: bit-identical.
        Assert.Equal(backNaive, back);
    }

    [Fact]
    public void ShortBuffers_AreRefusedWithTheSizesNeeded()
    {
        // 2 channels of 5×5, 3×3 kernel: 50 image floats, 2·9·3·3 = 162 column floats
        var ex = Assert.Throws<ArgumentException>(() => Im2Col.Im2Col2D(new float[50], new Im2ColShape(2, 5, 5, 3, 3, 0, 0, 1, 1, 1, 1), new float[161]));
        Assert.Contains("columns need 162", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Im2Col.Col2Im2D(new float[162], new Im2ColShape(2, 5, 5, 3, 3, 0, 0, 1, 1, 1, 1), new float[49]));
        Assert.Contains("image needs 50", ex.Message);
    }
}
