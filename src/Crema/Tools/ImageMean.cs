using Crema.Data;
using Crema.Proto;

namespace Crema.Tools;

/// <summary>Caffe's compute_image_mean: the per-pixel mean of every Datum in an LMDB or LevelDB, as a 1×C×H×W BlobProto.</summary>
public static class ImageMean
{
    /// <summary>Averages uint8 or float_data datums (encoded ones are decoded); <paramref name="progress"/> gets the running count.</summary>
    public static BlobProto Compute(string dbPath, Action<int>? progress = null, DbBackend backend = DbBackend.Lmdb)
    {
        using var cursor = KeyValueDb.OpenCursor(dbPath, backend);
        cursor.SeekToFirst();
        double[]? sum = null;
        int channels = 0, height = 0, width = 0;
        int count = 0;
        while (cursor.IsValid)
        {
            Datum datum;
            try
            {
                datum = Datum.Parser.ParseFrom(cursor.Value);
            }
            catch (Google.Protobuf.InvalidProtocolBufferException e)
            {
                throw new CremaException($"{dbPath}: record '{cursor.KeyString}' is not a Caffe Datum ({e.Message})", e);
            }
            int size;
            try
            {
                datum = ImageDecoder.DecodeDatum(datum);
                size = DataTransformer.DatumCount(datum);
            }
            catch (CremaException e)
            {
                throw new CremaException($"{dbPath}: record '{cursor.KeyString}': {e.Message}", e);
            }
            if (sum == null)
            {
                (channels, height, width) = (datum.Channels, datum.Height, datum.Width);
                sum = new double[size];
                Log.Info($"Starting iteration");
            }
            else if (datum.Channels != channels || datum.Height != height || datum.Width != width)
            {
                throw new CremaException($"{dbPath}: record '{cursor.KeyString}' is {datum.Channels}x{datum.Height}x{datum.Width}, the first was {channels}x{height}x{width}; all images must have the same size");
            }
            var bytes = datum.Data.Span;
            if (bytes.Length > 0)
            {
                Require(bytes.Length == size, dbPath, cursor.KeyString, bytes.Length, size);
                for (int i = 0; i < size; i++)
                {
                    sum[i] += bytes[i];
                }
            }
            else
            {
                Require(datum.FloatData.Count == size, dbPath, cursor.KeyString, datum.FloatData.Count, size);
                for (int i = 0; i < size; i++)
                {
                    sum[i] += datum.FloatData[i];
                }
            }
            count++;
            if (count % 10000 == 0)
            {
                progress?.Invoke(count);
            }
            cursor.MoveNext();
        }
        if (sum == null)
        {
            throw new CremaException($"{dbPath}: the database is empty");
        }
        progress?.Invoke(count);
        var mean = new BlobProto { Num = 1, Channels = channels, Height = height, Width = width };
        foreach (double s in sum)
        {
            mean.Data.Add((float)(s / count));
        }
        return mean;
    }

    /// <summary>The mean of each channel of a mean blob (Caffe prints these as mean_value).</summary>
    public static float[] ChannelMeans(BlobProto mean)
    {
        ArgumentNullException.ThrowIfNull(mean);
        int plane = mean.Height * mean.Width;
        var result = new float[mean.Channels];
        for (int c = 0; c < result.Length; c++)
        {
            double s = 0;
            for (int i = 0; i < plane; i++)
            {
                s += mean.Data[(c * plane) + i];
            }
            result[c] = (float)(s / plane);
        }
        return result;
    }

    private static void Require(bool ok, string db, string key, int got, int expected)
    {
        if (!ok)
        {
            throw new CremaException($"{db}: record '{key}': Incorrect data field size {got} (expected {expected})");
        }
    }
}
