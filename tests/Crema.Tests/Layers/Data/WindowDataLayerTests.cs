using Crema.Data;
using Crema.Layers;
using Crema.Proto;
using Crema.Tests.Data;

namespace Crema.Tests.Layers;

public sealed class WindowDataLayerTests : IDisposable
{
    private const int ImageHeight = 12, ImageWidth = 16;

    // Two 12×16 images. Image 0: fg class 1 (4×4 at x 2..5, y 3..6), fg class 2 (4×4 at x 8..11, y 1..4), a window of
    // overlap 0.4 that falls between the thresholds (dropped), bg (4×4 at x 10..13, y 6..9); image 1: one bg (x 4..7, y 4..7).
    private const string DefaultWindows = """
        # 0
        img0.png
        3
        12
        16
        4
        1 0.8 2 3 5 6
        2 0.6 8 1 11 4
        3 0.4 0 0 3 3
        5 0.1 10 6 13 9
        # 1
        img1.png
        3 12 16
        1
        0 0.0 4 4 7 7
        """;

    private readonly TempDir _dir = new();

    public WindowDataLayerTests()
    {
        Rng.Seed(1701);
        TestImages.WritePngs(_dir.Combine("root"), 2, ImageHeight, ImageWidth);
    }

    public void Dispose() => _dir.Dispose();

    private LayerParameter Param(string windows, uint batchSize, uint crop, Action<WindowDataParameter>? configure = null)
    {
        string file = _dir.Combine("windows.txt");
        File.WriteAllText(file, windows);
        var p = new LayerParameter
        {
            Name = "windows",
            Type = "WindowData",
            Phase = Phase.Train,
            TransformParam = new TransformationParameter { CropSize = crop },
            WindowDataParam = new WindowDataParameter
            {
                Source = file,
                BatchSize = batchSize,
                FgThreshold = 0.5f,
                BgThreshold = 0.3f,
                FgFraction = 0.25f,
                RootFolder = _dir.Combine("root") + Path.DirectorySeparatorChar,
            },
        };
        configure?.Invoke(p.WindowDataParam);
        return p;
    }

    private static (Blob Data, Blob Label) Run(WindowDataLayer layer, Action<Blob, Blob> check, int batches = 1)
    {
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        for (int i = 0; i < batches; i++)
        {
            layer.Forward([], [data, label]);
            check(data, label);
        }
        return (data, label);
    }

    // The (c, y, x) pixel of the image region (x0, y0) of size h × w, as a C×h×w image.
    private static DecodedImage Region(int image, int x0, int y0, int h, int w)
    {
        var data = new byte[3 * h * w];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    data[(((c * h) + y) * w) + x] = TestImages.Pixel(image, c, y0 + y, x0 + x);
                }
            }
        }
        return new DecodedImage(data, 3, h, w);
    }

    private static float[] Item(Blob data, int item) => data.Data.Slice(item * data.Count / data.Num, data.Count / data.Num).ToArray();

    [Fact]
    public void Forward_MatchesReference_BackgroundThenForeground_WithMeanAndScale()
    {
        var p = Param(DefaultWindows, 8, 4);
        p.TransformParam.MeanValue.Add([10, 20, 30]);
        p.WindowDataParam.Scale = 0.5f;
        // 4×4 windows warp to 4×4 unchanged, so each item is one window's pixels: (pixel − mean_c) · 0.5.
        float[] Expected(int image, int x, int y) =>
            Region(image, x, y, 4, 4).Data.Select((v, i) => (v - (10 * ((i / 16) + 1))) * 0.5f).ToArray();
        var byLabel = new Dictionary<int, float[][]>
        {
            [0] = [Expected(0, 10, 6), Expected(1, 4, 4)],
            [1] = [Expected(0, 2, 3)],
            [2] = [Expected(0, 8, 1)],
        };
        var seen = new HashSet<(int Label, int Window)>();
        using var layer = new WindowDataLayer(p);
        var (data, _) = Run(layer, (data, label) =>
        {
            Assert.Equal([8, 3, 4, 4], data.Shape);
            for (int item = 0; item < 8; item++)
            {
                int l = (int)label.Data[item];
                // ⌊8 · 0.25⌋ = 2 foreground windows, after 6 background ones.
                Assert.True(item < 6 ? l == 0 : l is 1 or 2, $"item {item} has label {l}");
                int match = Array.FindIndex(byLabel[l], w => w.SequenceEqual(Item(data, item)));
                Assert.True(match >= 0, $"item {item} (label {l}) is none of its class's windows");
                seen.Add((l, match));
            }
        }, batches: 6);
        Assert.Equal(4, seen.Count);
    }

    [Fact]
    public void Forward_Mirror_FlipsSomeWindows()
    {
        var p = Param(DefaultWindows, 8, 4, w => (w.FgThreshold, w.FgFraction) = (0.7f, 1f));
        p.TransformParam.Mirror = true;
        var straight = Region(0, 2, 3, 4, 4).Data.Select(v => (float)v).ToArray();
        var flipped = straight.Select((_, i) => straight[(i / 4 * 4) + 3 - (i % 4)]).ToArray();
        int flips = 0;
        using var layer = new WindowDataLayer(p);
        Run(layer, (data, label) =>
        {
            for (int item = 0; item < 8; item++)
            {
                Assert.Equal(1f, label.Data[item]);
                var x = Item(data, item);
                Assert.True(x.SequenceEqual(straight) || x.SequenceEqual(flipped), $"item {item} is neither the window nor its mirror image");
                flips += x.SequenceEqual(flipped) ? 1 : 0;
            }
        }, batches: 2);
        Assert.InRange(flips, 1, 15);
    }

    [Fact]
    public void Forward_ContextPadAtTheCorner_ZeroPadsTheClippedPart()
    {
        // Window x, y 0..3 with crop 8, context_pad 2: grown by 8/(8 − 4) = 2 about its centre (2, 2) to −2..6, i.e. 9 pixels,
        // clipped to 0..6 (7 pixels). Warped at 8/9: the 7 pixels become round(7·8/9) = 6, the 2 clipped ones round(2·8/9) = 2
        // zero rows/columns before them.
        const string windows = "# 0\nimg0.png\n3 12 16\n2\n1 0.9 0 0 3 3\n0 0.0 8 4 15 11\n";
        using var layer = new WindowDataLayer(Param(windows, 4, 8, w => (w.ContextPad, w.FgFraction) = (2, 1f)));
        var region = ImageDecoder.Resize(Region(0, 0, 0, 7, 7), 6, 6);
        Run(layer, (data, label) =>
        {
            for (int item = 0; item < 4; item++)
            {
                for (int c = 0; c < 3; c++)
                {
                    for (int h = 0; h < 8; h++)
                    {
                        for (int w = 0; w < 8; w++)
                        {
                            float expected = h < 2 || w < 2 ? 0 : region.Data[(((c * 6) + h - 2) * 6) + w - 2];
                            Assert.Equal(expected, data.Data[data.Offset(item, c, h, w)]);
                        }
                    }
                }
            }
        });
    }

    [Fact]
    public void Forward_SquareMode_WarpsTheSquareAroundTheWindow()
    {
        // Window x 1..2, y 0..3 (2 wide, 4 tall), centre (2, 2): squared to half-size 2, so x, y 0..4 (5×5) warp to 4×4.
        const string windows = "# 0\nimg0.png\n3 12 16\n1\n4 1.0 1 0 2 3\n";
        using var layer = new WindowDataLayer(Param(windows, 2, 4, w => (w.CropMode, w.FgFraction) = ("square", 1f)));
        var expected = ImageDecoder.Resize(Region(0, 0, 0, 5, 5), 4, 4).Data.Select(v => (float)v).ToArray();
        Run(layer, (data, label) =>
        {
            Assert.Equal([4f, 4f], label.Data.ToArray());
            Assert.Equal(expected, Item(data, 0));
            Assert.Equal(expected, Item(data, 1));
        });
    }

    [Fact]
    public void Forward_CachedImages_GiveTheSameBatches()
    {
        float[] RunOnce(bool cache)
        {
            Rng.Seed(42);
            using var layer = new WindowDataLayer(Param(DefaultWindows, 8, 6, w => (w.CacheImages, w.ContextPad) = (cache, 1)));
            var (data, _) = Run(layer, (_, _) => { }, batches: 2);
            return data.Data.ToArray();
        }
        Assert.Equal(RunOnce(false), RunOnce(true));
    }

    [Theory]
    [InlineData("crop 0", "crop_size must be positive")]
    [InlineData("crop mode", "crop_mode must be 'warp' or 'square', got 'circle'")]
    [InlineData("no hash", "windows.txt:1: expected '# image_index', got 'image'")]
    [InlineData("fg class 0", "windows.txt:7: foreground window (overlap 0.9) has class 0")]
    [InlineData("no background", "no background window")]
    [InlineData("outside", "windows.txt:7: window (10, 0)–(16, 3) is not inside the 16×12 image")]
    [InlineData("cache missing", "cannot read image")]
    public void SetUp_BadParameters_NameLayerFileAndLine(string variant, string expected)
    {
        string windows = variant switch
        {
            "no hash" => "image 0\n",
            "fg class 0" => "# 0\nimg0.png\n3\n12\n16\n1\n0 0.9 0 0 3 3\n",
            "no background" => "# 0\nimg0.png\n3 12 16\n1\n1 0.9 0 0 3 3\n",
            "outside" => "# 0\nimg0.png\n3\n12\n16\n1\n1 0.9 10 0 16 3\n",
            "cache missing" => DefaultWindows.Replace("img1.png", "gone.png", StringComparison.Ordinal),
            _ => DefaultWindows,
        };
        using var layer = new WindowDataLayer(Param(windows, 4, variant == "crop 0" ? 0u : 4u, w =>
        {
            w.CropMode = variant == "crop mode" ? "circle" : "warp";
            w.CacheImages = variant == "cache missing";
        }));
        var e = Assert.Throws<CremaException>(() => layer.SetUp([], [new Blob(), new Blob()]));
        Assert.Contains("'windows' (type WindowData)", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_MissingImage_NamesTheImage()
    {
        using var layer = new WindowDataLayer(Param(DefaultWindows.Replace("img1.png", "gone.png", StringComparison.Ordinal), 8, 4, w => w.FgFraction = 0));
        var e = Assert.Throws<CremaException>(() => Run(layer, (_, _) => { }, batches: 4));
        Assert.Contains("'windows'", e.Message, StringComparison.Ordinal);
        Assert.Contains("gone.png", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backward_HasNoBottomsToPropagateTo()
    {
        using var layer = new WindowDataLayer(Param(DefaultWindows, 4, 4));
        var (data, label) = Run(layer, (_, _) => { });
        var before = data.Data.ToArray();
        layer.Backward([data, label], [], []);
        Assert.Equal(before, data.Data.ToArray());
    }
}
