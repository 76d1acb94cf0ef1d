using Crema.Data;
using Crema.Layers;
using Crema.Proto;
using Crema.Tests.Data;

namespace Crema.Tests.Layers;

/// <summary>Generated lossless test images: pixel (c, y, x) of image i = (60c + 7y + 3x + 11i) mod 256, stored BGR C×H×W.</summary>
internal static class TestImages
{
    public static byte Pixel(int image, int c, int y, int x) => (byte)(((60 * c) + (7 * y) + (3 * x) + (11 * image)) % 256);

    public static DecodedImage Make(int image, int height, int width)
    {
        var data = new byte[3 * height * width];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    data[(((c * height) + y) * width) + x] = Pixel(image, c, y, x);
                }
            }
        }
        return new DecodedImage(data, 3, height, width);
    }

    /// <summary>Writes img{i}.png (height × width) for i in [0, count) into <paramref name="folder"/>.</summary>
    public static void WritePngs(string folder, int count, int height, int width)
    {
        Directory.CreateDirectory(folder);
        for (int i = 0; i < count; i++)
        {
            File.WriteAllBytes(Path.Combine(folder, $"img{i}.png"), ImageDecoder.Encode(Make(i, height, width), "png"));
        }
    }

    public static string ImagesFolder => Path.Combine(AppContext.BaseDirectory, "TestData", "images") + Path.DirectorySeparatorChar;
}

public sealed class ImageDataLayerTests : IDisposable
{
    private readonly TempDir _dir = new();

    public ImageDataLayerTests() => Rng.Seed(1701);

    public void Dispose() => _dir.Dispose();

    // Five 4×6 PNGs under root/, listed as "img{i}.png {10 + i}".
    private string WriteFive()
    {
        TestImages.WritePngs(_dir.Combine("root"), 5, 4, 6);
        string list = _dir.Combine("list.txt");
        File.WriteAllLines(list, Enumerable.Range(0, 5).Select(i => $"img{i}.png {10 + i}"));
        return list;
    }

    private LayerParameter Param(string list, uint batchSize, Action<LayerParameter>? configure = null)
    {
        var p = new LayerParameter
        {
            Name = "images",
            Type = "ImageData",
            Phase = Phase.Test,
            ImageDataParam = new ImageDataParameter { Source = list, BatchSize = batchSize, RootFolder = _dir.Combine("root") + Path.DirectorySeparatorChar },
        };
        configure?.Invoke(p);
        return p;
    }

    public static TheoryData<string> Variants() => new() { "plain", "crop+mirror", "mean+scale", "gray", "resize" };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Forward_MatchesReference(string variant)
    {
        using var layer = new ImageDataLayer(Param(WriteFive(), 3, p =>
        {
            switch (variant)
            {
                case "crop+mirror":
                    p.TransformParam = new TransformationParameter { CropSize = 3, Mirror = true };
                    break;
                case "mean+scale":
                    p.TransformParam = new TransformationParameter { MeanValue = { 10, 20, 30 }, Scale = 0.5f };
                    break;
                case "gray":
                    p.ImageDataParam.IsColor = false;
                    break;
                case "resize":
                    p.ImageDataParam.NewHeight = 8;
                    p.ImageDataParam.NewWidth = 5;
                    break;
            }
        }));
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        int[] shape = variant switch
        {
            "crop+mirror" => [3, 3, 3, 3],
            "gray" => [3, 1, 4, 6],
            "resize" => [3, 3, 8, 5],
            _ => [3, 3, 4, 6],
        };
        Assert.Equal(shape, data.Shape);
        Assert.Equal([3], label.Shape);

        int[][] batches = [[0, 1, 2], [3, 4, 0]];
        foreach (var images in batches)
        {
            layer.Forward([], [data, label]);
            for (int item = 0; item < 3; item++)
            {
                int i = images[item];
                Assert.Equal(10 + i, label.Data[item]);
                var original = TestImages.Make(i, 4, 6);
                var expected = variant switch
                {
                    "gray" => Gray(original),
                    "resize" => ImageDecoder.Resize(original, 8, 5),
                    _ => original,
                };
                bool? mirrored = null;
                for (int c = 0; c < shape[1]; c++)
                {
                    for (int h = 0; h < shape[2]; h++)
                    {
                        for (int w = 0; w < shape[3]; w++)
                        {
                            float actual = data.Data[data.Offset(item, c, h, w)];
                            if (variant == "crop+mirror")
                            {
                                // TEST phase: centre crop offsets (0, 1); mirror is a coin per item, the same for all its pixels.
                                float straight = expected.Data[(((c * 4) + h) * 6) + w + 1];
                                float flipped = expected.Data[(((c * 4) + h) * 6) + (2 - w) + 1];
                                mirrored ??= actual == flipped && actual != straight ? true : actual == straight && actual != flipped ? false : null;
                                Assert.Equal(mirrored == true ? flipped : straight, actual);
                                continue;
                            }
                            float value = expected.Data[(((c * shape[2]) + h) * shape[3]) + w];
                            if (variant == "mean+scale")
                            {
                                value = (value - (10 * (c + 1))) * 0.5f;
                            }
                            Assert.Equal(value, actual);
                        }
                    }
                }
            }
        }
    }

    private static DecodedImage Gray(DecodedImage bgr)
    {
        int plane = bgr.Height * bgr.Width;
        var g = new byte[plane];
        for (int i = 0; i < plane; i++)
        {
            int b = bgr.Data[i], gr = bgr.Data[plane + i], r = bgr.Data[(2 * plane) + i];
            g[i] = (byte)(((r * 4899) + (gr * 9617) + (b * 1868) + 8192) >> 14);
        }
        return new DecodedImage(g, 1, bgr.Height, bgr.Width);
    }

    [Fact]
    public void Forward_Jpegs_MatchDecoderResizedTo32()
    {
        string list = _dir.Combine("jpegs.txt");
        File.WriteAllLines(list, ["cat.jpg 281", "fish-bike.jpg 671", "cat_gray.jpg 282"]);
        using var layer = new ImageDataLayer(Param(list, 3, p =>
        {
            p.ImageDataParam.RootFolder = TestImages.ImagesFolder;
            p.ImageDataParam.NewHeight = 32;
            p.ImageDataParam.NewWidth = 32;
        }));
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        layer.Forward([], [data, label]);
        Assert.Equal([3, 3, 32, 32], data.Shape);
        Assert.Equal([281f, 671f, 282f], label.Data.ToArray());
        string[] files = ["cat.jpg", "fish-bike.jpg", "cat_gray.jpg"];
        for (int item = 0; item < 3; item++)
        {
            var expected = ImageDecoder.ReadFile(TestImages.ImagesFolder + files[item], 32, 32);
            Assert.Equal(expected.Data.Select(b => (float)b), data.Data.Slice(item * 3072, 3072).ToArray());
        }
    }

    [Fact]
    public void Forward_Shuffle_VisitsEveryImageOncePerEpochInChangingOrder()
    {
        using var layer = new ImageDataLayer(Param(WriteFive(), 5, p => p.ImageDataParam.Shuffle = true));
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        var orders = new HashSet<string>();
        for (int epoch = 0; epoch < 6; epoch++)
        {
            layer.Forward([], [data, label]);
            var labels = label.Data.ToArray();
            Assert.Equal([10f, 11, 12, 13, 14], labels.Order());
            for (int item = 0; item < 5; item++)
            {
                int i = (int)labels[item] - 10;
                Assert.Equal(TestImages.Pixel(i, 1, 2, 3), data.Data[data.Offset(item, 1, 2, 3)]);
            }
            orders.Add(string.Join(",", labels));
        }
        Assert.True(orders.Count > 1, "shuffle gave the same order in every epoch");
    }

    [Fact]
    public void Forward_RandSkip_StartsPastTheSkippedImages()
    {
        using var layer = new ImageDataLayer(Param(WriteFive(), 5, p => p.ImageDataParam.RandSkip = 5));
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        layer.Forward([], [data, label]);
        int first = (int)label.Data[0] - 10;
        Assert.Equal(Enumerable.Range(0, 5).Select(k => 10f + ((first + k) % 5)), label.Data.ToArray());
    }

    [Fact]
    public void SetUp_MalformedLine_NamesListFileAndLine()
    {
        string list = WriteFive();
        File.AppendAllLines(list, ["img1.png eleven"]);
        using var layer = new ImageDataLayer(Param(list, 2));
        var e = Assert.Throws<CremaException>(() => layer.SetUp([], [new Blob(), new Blob()]));
        Assert.Contains("'images'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{list}:6", e.Message, StringComparison.Ordinal);
        Assert.Contains("img1.png eleven", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_MissingImage_NamesListFileLineAndImage()
    {
        string list = WriteFive();
        File.Delete(_dir.Combine(Path.Combine("root", "img3.png")));
        using var layer = new ImageDataLayer(Param(list, 2));
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        layer.Forward([], [data, label]);
        var e = Assert.Throws<CremaException>(() => layer.Forward([], [data, label]));
        Assert.Contains("'images'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{list}:4", e.Message, StringComparison.Ordinal);
        Assert.Contains("img3.png", e.Message, StringComparison.Ordinal);
        // The loader has stopped: later calls fail the same way rather than wait for a batch that never comes.
        Assert.Same(e, Assert.Throws<CremaException>(() => layer.Forward([], [data, label])));
    }

    [Theory]
    [InlineData("missing list", "list-does-not-exist")]
    [InlineData("height only", "new_height (4) and new_width (0)")]
    [InlineData("batch 0", "batch_size must be positive")]
    [InlineData("empty list", "names no images")]
    public void SetUp_BadParameters_Throw(string variant, string expected)
    {
        string list = WriteFive();
        using var layer = new ImageDataLayer(Param(list, variant == "batch 0" ? 0u : 2u, p =>
        {
            if (variant == "missing list")
            {
                p.ImageDataParam.Source = _dir.Combine("list-does-not-exist");
            }
            if (variant == "height only")
            {
                p.ImageDataParam.NewHeight = 4;
            }
            if (variant == "empty list")
            {
                File.WriteAllText(list, "\n\n");
            }
        }));
        var e = Assert.Throws<CremaException>(() => layer.SetUp([], [new Blob(), new Blob()]));
        Assert.Contains("'images' (type ImageData)", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backward_HasNoBottomsToPropagateTo_AndOneTopIsRefused()
    {
        using var layer = new ImageDataLayer(Param(WriteFive(), 2));
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        layer.Forward([], [data, label]);
        var before = data.Data.ToArray();
        layer.Backward([data, label], [], []);
        Assert.Equal(before, data.Data.ToArray());

        using var oneTop = new ImageDataLayer(Param(WriteFive(), 2));
        Assert.Contains("top blob", Assert.Throws<CremaException>(() => oneTop.SetUp([], [new Blob()])).Message, StringComparison.Ordinal);
    }
}
