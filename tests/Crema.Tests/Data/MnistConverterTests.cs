using Crema.Data;
using Crema.Proto;

namespace Crema.Tests.Data;

public class MnistConverterTests
{
    [Fact]
    public void Convert_FirstHundred_DatumsMatchIdx()
    {
        using var dir = new TempDir();
        string path = dir.Combine("mnist_lmdb");
        var progress = new List<(int, int)>();

        int n = MnistConverter.Convert(MnistFixture.TrainImages, MnistFixture.TrainLabels, path, (d, t) => progress.Add((d, t)), maxItems: 100);

        Assert.Equal(100, n);
        Assert.Equal((100, 100), progress[^1]);
        var images = IdxFile.Read(MnistFixture.TrainImages, 100);
        var labels = IdxFile.Read(MnistFixture.TrainLabels, 100);
        using var db = LmdbDatabase.OpenRead(path);
        Assert.Equal(100, db.Count);
        using var cursor = db.OpenCursor();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(cursor.IsValid);
            Assert.Equal($"{i:D8}", cursor.KeyString);
            var datum = Datum.Parser.ParseFrom(cursor.Value);
            Assert.Equal((1, 28, 28, false), (datum.Channels, datum.Height, datum.Width, datum.Encoded));
            Assert.Equal(labels.Data[i], datum.Label);
            Assert.True(images.Item(i).SequenceEqual(datum.Data.Span), $"pixels of item {i} differ");
            Assert.Empty(datum.FloatData);
            cursor.MoveNext();
        }
        Assert.False(cursor.IsValid);
    }

    [Fact]
    public void Convert_SwappedFiles_Throws()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<CremaException>(() =>
            MnistConverter.Convert(MnistFixture.TrainLabels, MnistFixture.TrainImages, dir.Combine("db"), maxItems: 10));
        Assert.Contains(MnistFixture.TrainLabels, e.Message, StringComparison.Ordinal);
    }
}
