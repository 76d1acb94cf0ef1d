using Crema.Proto;
using Google.Protobuf;

namespace Crema.Data;

/// <summary>
/// Caffe's convert_mnist_data: MNIST IDX images + labels → an LMDB or LevelDB of Datum records
/// (key "%08d" of the item index; channels 1, height/width from the file, raw pixel bytes, label).
/// </summary>
public static class MnistConverter
{
    /// <summary>Converts the first <paramref name="maxItems"/> items; <paramref name="progress"/> gets (done, total). Returns the item count.</summary>
    public static int Convert(string imagesPath, string labelsPath, string dbPath, Action<int, int>? progress = null, int maxItems = int.MaxValue, DbBackend backend = DbBackend.Lmdb)
    {
        var images = IdxFile.Read(imagesPath, maxItems);
        var labels = IdxFile.Read(labelsPath, maxItems);
        if (images.Magic != IdxFile.ImagesMagic)
        {
            throw new CremaException($"'{imagesPath}' is an IDX label file, expected images (magic {IdxFile.ImagesMagic})");
        }
        if (labels.Magic != IdxFile.LabelsMagic)
        {
            throw new CremaException($"'{labelsPath}' is an IDX image file, expected labels (magic {IdxFile.LabelsMagic})");
        }
        if (images.Count != labels.Count)
        {
            throw new CremaException($"'{imagesPath}' has {images.Count} images but '{labelsPath}' has {labels.Count} labels");
        }

        using var writer = KeyValueDb.Create(dbPath, backend);
        try
        {
            var datum = new Datum { Channels = 1, Height = images.Rows, Width = images.Columns };
            for (int i = 0; i < images.Count; i++)
            {
                datum.Data = ByteString.CopyFrom(images.Item(i));
                datum.Label = labels.Data[i];
                writer.Put(Key(i), datum.ToByteArray());
                if ((i + 1) % 1000 == 0)
                {
                    progress?.Invoke(i + 1, images.Count);
                }
            }
            writer.Complete();
        }
        catch
        {
            writer.Abandon();
            throw;
        }
        progress?.Invoke(images.Count, images.Count);
        return images.Count;
    }

    /// <summary>The record key Caffe's converters use: the index as 8 zero-padded digits.</summary>
    public static string Key(int index) => index.ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
}
