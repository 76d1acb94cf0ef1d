using Crema.Layers;
using Crema.Proto;
using Crema.Tests.Data;
using Crema.Tools;

namespace Crema.Tests.Layers;

/// <summary>convert_imageset -encoded LMDBs read through the Data layer give what the raw (decoded) LMDBs give.</summary>
public sealed class EncodedDatumTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static float[][] ReadAll(string db, int count, Action<LayerParameter>? configure = null)
    {
        var p = new LayerParameter
        {
            Name = "data",
            Type = "Data",
            Phase = Phase.Test,
            DataParam = new DataParameter { Source = db, BatchSize = 1, Backend = DataParameter.Types.DB.Lmdb },
        };
        configure?.Invoke(p);
        using var layer = new DataLayer(p);
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        var items = new float[count][];
        for (int i = 0; i < count; i++)
        {
            layer.Forward([], [data, label]);
            items[i] = [.. data.Shape.Select(d => (float)d), label.Data[0], .. data.Data.ToArray()];
        }
        return items;
    }

    // PNG kept as PNG and JPEG kept as the file's bytes decode exactly; re-encoding as JPEG is lossy.
    [Theory]
    [InlineData("png", "", 0)]
    [InlineData("png", "jpg", 32)]
    [InlineData("jpg", "", 0)]
    [InlineData("jpg", "png", 0)]
    public void Forward_EncodedLmdb_MatchesRawLmdb(string source, string encodeType, int tolerance)
    {
        string root;
        string list = _dir.Combine("list.txt");
        var resize = (H: 0, W: 0);
        if (source == "png")
        {
            root = _dir.Combine("root") + Path.DirectorySeparatorChar;
            TestImages.WritePngs(root, 3, 12, 16);
            File.WriteAllLines(list, ["img0.png 0", "img1.png 1", "img2.png 2"]);
        }
        else
        {
            root = TestImages.ImagesFolder;
            File.WriteAllLines(list, ["cat.jpg 0", "fish-bike.jpg 1", "cat.jpg 2"]);
            // A resized JPEG has to be re-encoded; keep the original size so -encoded stores the file's own bytes.
            resize = encodeType == "" ? (0, 0) : (40, 48);
        }
        var raw = new ImagesetOptions { ResizeHeight = resize.H, ResizeWidth = resize.W };
        Assert.Equal(3, ImagesetConverter.Convert(root, list, _dir.Combine("raw"), raw));
        Assert.Equal(3, ImagesetConverter.Convert(root, list, _dir.Combine("enc"), raw with { Encoded = true, EncodeType = encodeType }));

        Action<LayerParameter> transform = p => p.TransformParam = new TransformationParameter { CropSize = 10, Scale = 0.5f, MeanValue = { 100, 110, 120 } };
        var expected = ReadAll(_dir.Combine("raw"), 3, transform);
        var actual = ReadAll(_dir.Combine("enc"), 3, transform);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            Assert.Equal(expected[i].AsSpan(0, 5).ToArray(), actual[i].AsSpan(0, 5).ToArray()); // shape and label
            float worst = expected[i].Zip(actual[i], (a, b) => MathF.Abs(a - b)).Max();
            Assert.True(worst <= tolerance * 0.5f, $"item {i}: largest difference {worst} > {tolerance} grey levels × scale 0.5");
            // JPEG at quality 95 errs by a few levels on average (the pattern's wrap from 255 to 0 rings more).
            float mean = expected[i].Zip(actual[i], (a, b) => MathF.Abs(a - b)).Average();
            Assert.True(mean <= (tolerance == 0 ? 0 : 2.5f), $"item {i}: mean difference {mean}");
        }
    }

    [Theory]
    [InlineData("native", 1)]
    [InlineData("force_color", 3)]
    [InlineData("force_encoded_color", 3)]
    [InlineData("force_gray", 1)]
    public void Forward_EncodedGrayJpeg_ChannelsFollowForceFlags(string mode, int channels)
    {
        string list = _dir.Combine("list.txt");
        File.WriteAllLines(list, ["cat_gray.jpg 5", "cat.jpg 6"]);
        Assert.Equal(2, ImagesetConverter.Convert(TestImages.ImagesFolder, list, _dir.Combine("enc"), new ImagesetOptions { Encoded = true }));
        var items = ReadAll(_dir.Combine("enc"), 1, p =>
        {
            p.TransformParam = new TransformationParameter { ForceColor = mode == "force_color", ForceGray = mode == "force_gray" };
            p.DataParam.ForceEncodedColor = mode == "force_encoded_color";
        });
        Assert.Equal(channels, items[0][1]);
        var decoded = Crema.Data.ImageDecoder.ReadFile(TestImages.ImagesFolder + "cat_gray.jpg", gray: channels == 1);
        Assert.Equal(decoded.Data.Select(b => (float)b), items[0].AsSpan(5).ToArray());
    }

    [Fact]
    public void Forward_CorruptEncodedRecord_NamesLayerAndRecord()
    {
        string db = _dir.Combine("bad");
        using (var writer = Crema.Data.LmdbDatabase.Create(db))
        {
            writer.Put("00000000_x.jpg", Google.Protobuf.MessageExtensions.ToByteArray(new Datum { Encoded = true, Data = Google.Protobuf.ByteString.CopyFrom(1, 2, 3), Label = 1 }));
        }
        var e = Assert.Throws<CremaException>(() => ReadAll(db, 1));
        Assert.Contains("'data'", e.Message, StringComparison.Ordinal);
        Assert.Contains("00000000_x.jpg", e.Message, StringComparison.Ordinal);
        Assert.Contains("Could not decode", e.Message, StringComparison.Ordinal);
    }
}
