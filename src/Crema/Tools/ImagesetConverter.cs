using System.Globalization;
using Crema.Data;
using Crema.Proto;
using Google.Protobuf;

namespace Crema.Tools;

/// <summary>Options of Caffe's convert_imageset, with its flag names.</summary>
public sealed record ImagesetOptions
{
    /// <summary>-gray: store 1-channel images.</summary>
    public bool Gray { get; init; }

    /// <summary>-shuffle: randomise the order (through Crema.Rng).</summary>
    public bool Shuffle { get; init; }

    public int ResizeHeight { get; init; }

    public int ResizeWidth { get; init; }

    /// <summary>-check_size: require every datum to have the size of the first.</summary>
    public bool CheckSize { get; init; }

    /// <summary>-encoded: store the (re-)encoded image bytes instead of raw pixels.</summary>
    public bool Encoded { get; init; }

    /// <summary>-encode_type png|jpg; empty keeps each file's own format.</summary>
    public string EncodeType { get; init; } = "";

    /// <summary>-backend lmdb|leveldb: the database written.</summary>
    public DbBackend Backend { get; init; } = DbBackend.Lmdb;
}

/// <summary>Caffe's convert_imageset: a list of "relative/path label" lines and a root folder → an LMDB or LevelDB of Datum records keyed "%08d_path".</summary>
public static class ImagesetConverter
{
    /// <summary>Reads Caffe's list file: the label is after the last space, so paths may contain spaces.</summary>
    public static List<(string Path, int Label)> ReadList(string listFile)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(listFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CremaException($"Cannot read list file '{listFile}': {e.Message}", e);
        }
        var result = new List<(string, int)>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r', ' ', '\t');
            if (line.Length == 0)
            {
                continue;
            }
            int space = line.LastIndexOf(' ');
            if (space <= 0 || !int.TryParse(line.AsSpan(space + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out int label))
            {
                throw new CremaException($"{listFile}:{i + 1}: expected 'relative/path label', got '{line}'");
            }
            result.Add((line[..space], label));
        }
        return result;
    }

    /// <summary>Converts; returns the number of images written (unreadable images are skipped with an error line, as Caffe does). <paramref name="progress"/> gets (written, listed) after each image.</summary>
    public static int Convert(string rootFolder, string listFile, string dbPath, ImagesetOptions options, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(rootFolder);
        ArgumentNullException.ThrowIfNull(options);
        if (options.ResizeHeight < 0 || options.ResizeWidth < 0)
        {
            throw new CremaException($"resize_height {options.ResizeHeight} and resize_width {options.ResizeWidth} must not be negative");
        }
        ImageLimits.CheckResize(options.ResizeHeight, options.ResizeWidth, "convert_imageset");
        string encodeType = options.EncodeType.TrimStart('.').ToLowerInvariant();
        if (encodeType.Length > 0 && encodeType is not ("png" or "jpg" or "jpeg"))
        {
            throw new CremaException($"unknown encode_type '{options.EncodeType}' (use png or jpg)");
        }
        bool encoded = options.Encoded || encodeType.Length > 0;
        if (encodeType.Length > 0 && !options.Encoded)
        {
            Log.Info("encode_type specified, assuming encoded=true.");
        }
        var lines = ReadList(listFile);
        if (options.Shuffle)
        {
            Log.Info("Shuffling data");
            Rng.Shuffle(lines);
        }
        Log.Info($"A total of {lines.Count} images.");

        using var writer = KeyValueDb.Create(dbPath, options.Backend);
        try
        {
            int written = Write(writer, lines, rootFolder, options, encoded, encodeType, progress);
            writer.Complete();
            return written;
        }
        catch
        {
            // A failed conversion leaves no half-written database behind.
            writer.Abandon();
            throw;
        }
    }

    private static int Write(IDbWriter writer, List<(string Relative, int Label)> lines, string rootFolder, ImagesetOptions options,
        bool encoded, string encodeType, Action<int, int>? progress)
    {
        int written = 0;
        int dataSize = -1;
        for (int id = 0; id < lines.Count; id++)
        {
            var (relative, label) = lines[id];
            string file = rootFolder + relative;
            Datum? datum = ReadDatum(file, label, options, encoded, encodeType);
            if (datum == null)
            {
                continue;
            }
            if (options.CheckSize && !encoded)
            {
                if (dataSize < 0)
                {
                    dataSize = datum.Data.Length;
                }
                else if (datum.Data.Length != dataSize)
                {
                    throw new CremaException($"{file}: Incorrect data field size {datum.Data.Length} (the first image has {dataSize}); use -resize_height/-resize_width");
                }
            }
            writer.Put(id.ToString("D8", CultureInfo.InvariantCulture) + "_" + relative, datum.ToByteArray());
            written++;
            progress?.Invoke(written, lines.Count);
        }
        return written;
    }

    private static Datum? ReadDatum(string file, int label, ImagesetOptions options, bool encoded, string encodeType)
    {
        DecodedImage image;
        try
        {
            image = ImageDecoder.ReadFile(file, options.ResizeHeight, options.ResizeWidth, options.Gray);
        }
        catch (CremaException e)
        {
            Log.Error(e.Message);
            return null;
        }
        if (!encoded)
        {
            return ImageDecoder.ToDatum(image, label);
        }
        string extension = Path.GetExtension(file).TrimStart('.').ToLowerInvariant();
        string format = encodeType.Length > 0 ? encodeType : extension;
        bool sameFormat = Normal(format) == Normal(extension);
        bool untouched = options.ResizeHeight == 0 && options.ResizeWidth == 0 && !options.Gray;
        byte[] bytes;
        if (sameFormat && untouched)
        {
            bytes = File.ReadAllBytes(file);
        }
        else
        {
            bytes = ImageDecoder.Encode(image, Normal(format) is "png" or "jpg" ? format : "png");
        }
        return new Datum { Data = ByteString.CopyFrom(bytes), Label = label, Encoded = true };
    }

    private static string Normal(string format) => format == "jpeg" ? "jpg" : format;
}
