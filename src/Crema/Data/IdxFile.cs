using System.Buffers.Binary;
using System.IO.Compression;

namespace Crema.Data;

/// <summary>
/// Reads MNIST's IDX files (raw or gzip): a big-endian header (magic 2051 for images with count, rows, cols;
/// 2049 for labels with count) followed by one unsigned byte per pixel or label.
/// </summary>
public sealed class IdxFile
{
    public const int ImagesMagic = 2051;
    public const int LabelsMagic = 2049;

    private IdxFile(int magic, int count, int rows, int cols, byte[] data)
    {
        Magic = magic;
        Count = count;
        Rows = rows;
        Columns = cols;
        Data = data;
    }

    public int Magic { get; }

    public int Count { get; }

    /// <summary>Image height (1 for label files).</summary>
    public int Rows { get; }

    /// <summary>Image width (1 for label files).</summary>
    public int Columns { get; }

    public int ItemSize => Rows * Columns;

    /// <summary>All items back to back: Count × Rows × Columns bytes.</summary>
    public byte[] Data { get; }

    public ReadOnlySpan<byte> Item(int index) => Data.AsSpan(index * ItemSize, ItemSize);

    /// <summary>Reads an IDX file, gunzipping it when it starts with the gzip signature. <paramref name="maxItems"/> keeps only the first items.</summary>
    public static IdxFile Read(string path, int maxItems = int.MaxValue)
    {
        if (!File.Exists(path))
        {
            throw new CremaException($"IDX file '{path}' not found");
        }
        using var file = File.OpenRead(path);
        Stream stream = file;
        int b0 = file.ReadByte(), b1 = file.ReadByte();
        file.Position = 0;
        bool gzip = b0 == 0x1f && b1 == 0x8b;
        if (gzip)
        {
            stream = new GZipStream(file, CompressionMode.Decompress);
        }
        using (stream)
        {
            try
            {
                return Read(stream, path, maxItems, gzip ? -1 : file.Length);
            }
            catch (InvalidDataException e)
            {
                // .NET reports a bad CRC or damaged deflate data as "unsupported compression method"; say what it is.
                throw new CremaException($"IDX file '{path}': corrupt gzip data (bad checksum or damaged stream)", e);
            }
        }
    }

    private static IdxFile Read(Stream stream, string path, int maxItems, long fileLength)
    {
        Span<byte> header = stackalloc byte[16];
        ReadExactly(stream, header[..8], path);
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        int rows = 1, cols = 1;
        if (magic == ImagesMagic)
        {
            ReadExactly(stream, header[8..16], path);
            rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
            cols = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        }
        else if (magic != LabelsMagic)
        {
            throw new CremaException($"IDX file '{path}': bad magic number {magic} (expected {ImagesMagic} for images or {LabelsMagic} for labels)");
        }
        if (count < 0 || rows <= 0 || cols <= 0 || (long)rows * cols > 1 << 24)
        {
            throw new CremaException($"IDX file '{path}': bad header (count {count}, rows {rows}, cols {cols})");
        }
        int keep = Math.Min(count, maxItems);
        long total = (long)keep * rows * cols;
        if (total > Array.MaxLength)
        {
            throw new CremaException($"IDX file '{path}': header declares {count} items of {rows}x{cols} ({total} bytes), more than one array holds; use fewer items");
        }
        long available = fileLength < 0 ? -1 : fileLength - (magic == ImagesMagic ? 16 : 8);
        if (available >= 0 && total > available)
        {
            throw new CremaException($"IDX file '{path}' is truncated: its header declares {count} items of {rows}x{cols} ({total} bytes) but only {available} bytes follow");
        }
        return new IdxFile(magic, keep, rows, cols, ReadData(stream, (int)total, path));
    }

    // Grows the buffer as bytes arrive, so a gzip file whose header lies about its size cannot make us allocate gigabytes.
    private static byte[] ReadData(Stream stream, int total, string path)
    {
        var data = new byte[Math.Min(total, 1 << 24)];
        int filled = 0;
        while (filled < total)
        {
            if (filled == data.Length)
            {
                Array.Resize(ref data, (int)Math.Min(total, 2L * data.Length));
            }
            ReadExactly(stream, data.AsSpan(filled, data.Length - filled), path);
            filled = data.Length;
        }
        return data;
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string path)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new CremaException($"IDX file '{path}' is truncated", e);
        }
    }
}
