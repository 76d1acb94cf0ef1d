using System.Buffers.Binary;
using Crema.Data;

namespace Crema.Tests.Data;

public class IdxFileTests
{
    [Fact]
    public void Read_RawImageFile_ParsesBigEndianHeaderAndPixels()
    {
        using var dir = new TempDir();
        string path = dir.Combine("images.idx");
        var bytes = new byte[16 + 2 * 3 * 2];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 2051);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), 2);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 3);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), 2);
        for (int i = 0; i < 12; i++)
        {
            bytes[16 + i] = (byte)(10 * i);
        }
        File.WriteAllBytes(path, bytes);

        var idx = IdxFile.Read(path);

        Assert.Equal((2051, 2, 3, 2), (idx.Magic, idx.Count, idx.Rows, idx.Columns));
        Assert.Equal(new byte[] { 60, 70, 80, 90, 100, 110 }, idx.Item(1).ToArray());
    }

    [Fact]
    public void Read_GzipMnist_HasMnistShapes()
    {
        var images = IdxFile.Read(MnistFixture.TrainImages, maxItems: 5);
        var labels = IdxFile.Read(MnistFixture.TrainLabels);

        Assert.Equal((IdxFile.ImagesMagic, 5, 28, 28), (images.Magic, images.Count, images.Rows, images.Columns));
        Assert.Equal(IdxFile.LabelsMagic, labels.Magic);
        Assert.True(labels.Count >= 5);
        Assert.All(labels.Data, l => Assert.InRange(l, 0, 9));
        // Labels start right after the 8-byte header.
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(MnistFixture.TrainLabels), System.IO.Compression.CompressionMode.Decompress);
        var head = new byte[12];
        gz.ReadExactly(head);
        Assert.Equal(head[8..], labels.Data[..4]);
    }

    [Fact]
    public void Read_BadMagic_NamesFileAndMagic()
    {
        using var dir = new TempDir();
        string path = dir.Combine("bad.idx");
        File.WriteAllBytes(path, [0, 0, 0, 7, 0, 0, 0, 0]);

        var e = Assert.Throws<CremaException>(() => IdxFile.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("magic number 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_Truncated_Throws()
    {
        using var dir = new TempDir();
        string path = dir.Combine("short.idx");
        File.WriteAllBytes(path, [0, 0, 8, 1, 0, 0, 0, 9, 1, 2]);

        var e = Assert.Throws<CremaException>(() => IdxFile.Read(path));
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }
}
