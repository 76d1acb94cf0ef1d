using Crema.Proto;
using Google.Protobuf;

namespace Crema.Data;

/// <summary>
/// Caffe's examples/siamese convert_mnist_siamese_data: as many records as the IDX file has images, each a pair of
/// digits drawn at random (with replacement) stacked as a 2-channel Datum (channel 0 the first digit, channel 1 the
/// second), label 1 when both digits have the same class and 0 otherwise, keys "%08d".
/// </summary>
public static class SiameseConverter
{
    /// <summary>Converts with pairs drawn from <paramref name="seed"/>; returns the record count.</summary>
    public static int Convert(string imagesPath, string labelsPath, string dbPath, int seed, DbBackend backend = DbBackend.LevelDb)
    {
        var images = IdxFile.Read(imagesPath);
        var labels = IdxFile.Read(labelsPath);
        if (images.Magic != IdxFile.ImagesMagic)
        {
            throw new CremaException($"'{imagesPath}' is not an IDX image file (magic {images.Magic}, expected {IdxFile.ImagesMagic})");
        }
        if (labels.Magic != IdxFile.LabelsMagic)
        {
            throw new CremaException($"'{labelsPath}' is not an IDX label file (magic {labels.Magic}, expected {IdxFile.LabelsMagic})");
        }
        if (images.Count != labels.Count)
        {
            throw new CremaException($"'{imagesPath}' has {images.Count} images but '{labelsPath}' has {labels.Count} labels");
        }
        var random = new Random(seed);
        int n = images.Count;
        int size = images.ItemSize;
        var pair = new byte[2 * size];
        var datum = new Datum { Channels = 2, Height = images.Rows, Width = images.Columns };
        using var writer = KeyValueDb.Create(dbPath, backend);
        for (int item = 0; item < n; item++)
        {
            int i = random.Next(n);
            int j = random.Next(n);
            images.Item(i).CopyTo(pair);
            images.Item(j).CopyTo(pair.AsSpan(size));
            datum.Data = ByteString.CopyFrom(pair);
            datum.Label = labels.Data[i] == labels.Data[j] ? 1 : 0;
            writer.Put(MnistConverter.Key(item), datum.ToByteArray());
        }
        writer.Complete();
        return n;
    }
}
