using Crema.Data;
using Crema.Imaging;
using Crema.Proto;
using Crema.Tests.Data;

namespace Crema.Tests.Pycaffe;

/// <summary>Transformer, ImageIO.Load/Resize/Oversample against hand-computed numbers (pycaffe's caffe.io semantics).</summary>
public sealed class TransformerTests
{
    // (H=2, W=2, K=3): channel 0 = y·2 + x (0..3), channel 1 = 10 + that, channel 2 = 20 + that.
    private static FloatImage Image()
    {
        var image = new FloatImage(2, 2, 3);
        for (int y = 0; y < 2; y++)
        {
            for (int x = 0; x < 2; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    image[y, x, c] = (y * 2) + x + (10 * c);
                }
            }
        }
        return image;
    }

    private static Transformer Make() => new(new Dictionary<string, int[]> { ["data"] = [1, 3, 2, 2] });

    [Fact]
    public void Preprocess_EachStepInPycaffesOrder()
    {
        var t = Make();
        t.SetTranspose("data", 2, 0, 1);
        Assert.Equal([0f, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], t.Preprocess("data", Image()));
        t.SetChannelSwap("data", 2, 1, 0);
        Assert.Equal([20f, 21, 22, 23, 10, 11, 12, 13, 0, 1, 2, 3], t.Preprocess("data", Image()));
        t.SetRawScale("data", 2);
        Assert.Equal([40f, 42, 44, 46, 20, 22, 24, 26, 0, 2, 4, 6], t.Preprocess("data", Image()));
        t.SetMean("data", [1f, 2, 3]);
        Assert.Equal([39f, 41, 43, 45, 18, 20, 22, 24, -3, -1, 1, 3], t.Preprocess("data", Image()));
        t.SetInputScale("data", 0.5f);
        float[] result = t.Preprocess("data", Image());
        Assert.Equal([19.5f, 20.5f, 21.5f, 22.5f, 9, 10, 11, 12, -1.5f, -0.5f, 0.5f, 1.5f], result);

        var back = t.Deprocess("data", result);
        Assert.Equal((2, 2, 3), (back.Height, back.Width, back.Channels));
        Assert.Equal(Image().Data, back.Data);
    }

    [Fact]
    public void Transpose_OtherOrder_AndNonSymmetricSwap_Invert()
    {
        var t = Make();
        t.SetTranspose("data", 2, 1, 0); // (K, W, H)
        Assert.Equal([0f, 2, 1, 3, 10, 12, 11, 13, 20, 22, 21, 23], t.Preprocess("data", Image()));
        t.SetChannelSwap("data", 1, 2, 0);
        float[] swapped = t.Preprocess("data", Image());
        Assert.Equal([10f, 12, 11, 13, 20, 22, 21, 23, 0, 2, 1, 3], swapped);
        Assert.Equal(Image().Data, t.Deprocess("data", swapped).Data);
    }

    [Fact]
    public void MeanImage_SubtractsElementwise_AndChannelMeansAverage()
    {
        var t = Make();
        t.SetTranspose("data", 2, 0, 1);
        var mean = new Blob(1, 3, 2, 2);
        for (int i = 0; i < 12; i++)
        {
            mean.Data[i] = i;
        }
        t.SetMean("data", mean);
        // (0..3, 10..13, 20..23) − (0..3, 4..7, 8..11)
        Assert.Equal([0f, 0, 0, 0, 6, 6, 6, 6, 12, 12, 12, 12], t.Preprocess("data", Image()));
        Assert.Equal([1.5f, 5.5f, 9.5f], Transformer.ChannelMeans(mean));

        var wrong = new Blob(1, 3, 4, 4);
        var e = Assert.Throws<CremaException>(() => t.SetMean("data", wrong));
        Assert.Contains("ChannelMeans", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MeanImage_FromBinaryproto()
    {
        using var dir = new TempDir();
        var mean = new Blob(1, 3, 2, 2);
        mean.Data.Fill(5);
        string path = dir.Combine("mean.binaryproto");
        ProtoFiles.WriteBinaryAtomic(mean.ToProto(), path);
        var loaded = new Blob();
        loaded.FromProto(ProtoFiles.ReadBlobProto(path));
        var t = Make();
        t.SetTranspose("data", 2, 0, 1);
        t.SetMean("data", loaded);
        Assert.Equal([-5f, -4, -3, -2, 5, 6, 7, 8, 15, 16, 17, 18], t.Preprocess("data", Image()));
    }

    [Fact]
    public void BadSettings_ClearErrors()
    {
        var t = Make();
        Assert.Contains("not one of the net inputs (data)", Assert.Throws<CremaException>(() => t.SetRawScale("label", 1)).Message, StringComparison.Ordinal);
        Assert.Throws<CremaException>(() => t.SetChannelSwap("data", 0, 1));
        Assert.Throws<CremaException>(() => t.SetTranspose("data", 0, 0, 1));
        Assert.Throws<CremaException>(() => t.SetMean("data", [1f, 2]));
    }

    [Fact]
    public void Preprocess_ResizesToTheInputSize()
    {
        // A 1×2 gray ramp (0, 1) into a (1, 1, 1, 4) input: bilinear with centres aligned gives 0, ¼, ¾, 1.
        var t = new Transformer(new Dictionary<string, int[]> { ["data"] = [1, 1, 1, 4] });
        t.SetTranspose("data", 2, 0, 1);
        Assert.Equal([0f, 0.25f, 0.75f, 1f], t.Preprocess("data", new FloatImage(1, 2, 1, [0, 1])));
    }

    [Fact]
    public void Resize_Bilinear_BothAxes()
    {
        // 2×2 → 4×4: corners keep their values, the inner samples at ¼ / ¾ mix.
        var image = new FloatImage(2, 2, 1, [0, 4, 8, 12]);
        var r = ImageIO.Resize(image, 4, 4);
        Assert.Equal(0, r[0, 0, 0]);
        Assert.Equal(12, r[3, 3, 0]);
        Assert.Equal(1, r[0, 1, 0]);          // x = 0.25 on the top row: 0 + 0.25·4
        Assert.Equal(1 + 2, r[1, 1, 0], 5);   // y = 0.25 too: + 0.25·8
        Assert.Equal(4 * 0.75f + 8 * 0.75f, r[2, 2, 0], 5);
    }

    [Fact]
    public void Oversample_CornersCentreAndMirrors()
    {
        // 4×5 image, value y·5 + x; crops 2×3.
        var image = new FloatImage(4, 5, 1, Enumerable.Range(0, 20).Select(i => (float)i).ToArray());
        var crops = ImageIO.Oversample([image, image], 2, 3);
        Assert.Equal(20, crops.Count);
        Assert.Equal([0f, 1, 2, 5, 6, 7], crops[0].Data);        // top-left
        Assert.Equal([2f, 3, 4, 7, 8, 9], crops[1].Data);        // top-right
        Assert.Equal([10f, 11, 12, 15, 16, 17], crops[2].Data);  // bottom-left
        Assert.Equal([12f, 13, 14, 17, 18, 19], crops[3].Data);  // bottom-right
        Assert.Equal([6f, 7, 8, 11, 12, 13], crops[4].Data);     // centre: rows ⌊2 − 1⌋ = 1, columns ⌊2.5 − 1.5⌋ = 1
        Assert.Equal([2f, 1, 0, 7, 6, 5], crops[5].Data);        // top-left mirrored
        Assert.Equal([8f, 7, 6, 13, 12, 11], crops[9].Data);     // centre mirrored
        Assert.Equal(crops[3].Data, crops[13].Data);
    }

    [Fact]
    public void Load_GivesRgbHwcInZeroOne()
    {
        using var dir = new TempDir();
        // Two pixels, RGB (255, 0, 51) and (0, 102, 255), given to the encoder as BGR planes.
        var bgr = new DecodedImage([51, 255, 0, 102, 255, 0], 3, 1, 2);
        string path = dir.Combine("two.png");
        File.WriteAllBytes(path, ImageDecoder.Encode(bgr, "png"));

        var image = ImageIO.Load(path);
        Assert.Equal((1, 2, 3), (image.Height, image.Width, image.Channels));
        Assert.Equal([1f, 0, 0.2f, 0, 0.4f, 1], image.Data);

        var gray = ImageIO.Load(path, color: false);
        Assert.Equal(1, gray.Channels);
        // BT.601: 0.299·255 + 0.114·51 ≈ 82 → 82/255.
        Assert.Equal(82 / 255f, gray.Data[0], 2);

        var cat = ImageIO.Load(RepoPaths.Get("examples", "feature_extraction", "cat.jpg"));
        Assert.Equal(3, cat.Channels);
        Assert.All(cat.Data, v => Assert.InRange(v, 0f, 1f));
        Assert.Throws<CremaException>(() => ImageIO.Load(dir.Combine("missing.jpg")));
    }
}
