using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Crema.Tools;

/// <summary>NumPy .npy files (format 1.0) of little-endian float32 in C order, as <c>numpy.load</c> reads them.</summary>
public static class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes a whole array atomically (via a temporary file).</summary>
    public static void Write(string path, IReadOnlyList<int> shape, ReadOnlySpan<float> data)
    {
        using var writer = new NpyWriter(path, shape);
        writer.Append(data);
        writer.Complete();
    }

    /// <summary>Reads a float32 .npy file: its shape and data.</summary>
    public static (int[] Shape, float[] Data) Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CremaException($"Cannot read '{path}': {e.Message}", e);
        }
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
        {
            throw new CremaException($"'{path}' is not a NumPy .npy file");
        }
        int major = bytes[6];
        int start = major == 1 ? 10 : 12;
        long headerLength = bytes.Length < start ? -1
            : major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (headerLength < 0 || start + headerLength > bytes.Length)
        {
            throw new CremaException($"'{path}': truncated .npy header");
        }
        string header = Encoding.ASCII.GetString(bytes, start, (int)headerLength);
        if (!header.Contains("'descr': '<f4'", StringComparison.Ordinal) || header.Contains("'fortran_order': True", StringComparison.Ordinal))
        {
            throw new CremaException($"'{path}': only C-order little-endian float32 arrays are supported (header {header.Trim()})");
        }
        int[] shape = ParseShape(header, path);
        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
            if (count > Array.MaxLength)
            {
                throw new CremaException($"'{path}': shape ({string.Join(", ", shape)}) is too large");
            }
        }
        int offset = start + (int)headerLength;
        if (bytes.Length - offset != count * 4)
        {
            throw new CremaException($"'{path}': shape ({string.Join(", ", shape)}) needs {count * 4} bytes of data, file has {bytes.Length - offset}");
        }
        var data = new float[count];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(offset + (4 * i)));
        }
        return (shape, data);
    }

    private static int[] ParseShape(string header, string path)
    {
        int key = header.IndexOf("'shape'", StringComparison.Ordinal);
        int open = key < 0 ? -1 : header.IndexOf('(', key);
        int close = open < 0 ? -1 : header.IndexOf(')', open);
        if (close < 0)
        {
            throw new CremaException($"'{path}': .npy header has no shape tuple ({header.Trim()})");
        }
        var dims = header[(open + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            if (!int.TryParse(dims[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
            {
                throw new CremaException($"'{path}': bad dimension '{dims[i]}' in the .npy shape ({header.Trim()})");
            }
        }
        return shape;
    }

    /// <summary>The format 1.0 header: magic, version, length, and the dict padded so data starts on a 64-byte boundary.</summary>
    internal static byte[] Header(IReadOnlyList<int> shape)
    {
        string dims = shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string text = dict + new string(' ', padded - total) + "\n";
        var header = new byte[10 + text.Length];
        Magic.CopyTo(header, 0);
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)text.Length);
        Encoding.ASCII.GetBytes(text, header.AsSpan(10));
        return header;
    }
}

/// <summary>Streams a float32 .npy file of known shape; the file appears (atomically) only on <see cref="Complete"/>.</summary>
public sealed class NpyWriter : IDisposable
{
    private readonly string _path;
    private readonly string _tmp;
    private readonly FileStream _stream;
    private readonly long _expected;
    private readonly byte[] _buffer = new byte[1 << 16];
    private long _written;
    private bool _done;

    public NpyWriter(string path, IReadOnlyList<int> shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(d => d < 0))
        {
            throw new CremaException($"'{path}': negative dimension in shape ({string.Join(", ", shape)})");
        }
        _path = Path.GetFullPath(path);
        _tmp = _path + ".tmp";
        _expected = shape.Aggregate(1L, (a, d) => a * d);
        try
        {
            _stream = new FileStream(_tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CremaException($"Cannot write '{path}': {e.Message}", e);
        }
        _stream.Write(NpyFile.Header(shape));
    }

    public void Append(ReadOnlySpan<float> values)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (_written + values.Length > _expected)
        {
            throw new CremaException($"'{_path}': more values than the declared shape holds ({_expected})");
        }
        while (!values.IsEmpty)
        {
            int n = Math.Min(values.Length, _buffer.Length / 4);
            for (int i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(4 * i), values[i]);
            }
            _stream.Write(_buffer, 0, 4 * n);
            _written += n;
            values = values[n..];
        }
    }

    /// <summary>Checks the count, flushes and renames the temporary file into place.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (_written != _expected)
        {
            throw new CremaException($"'{_path}': wrote {_written} values, the shape needs {_expected}");
        }
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_tmp, _path, overwrite: true);
        _done = true;
    }

    /// <summary>Without <see cref="Complete"/>, discards the partial file.</summary>
    public void Dispose()
    {
        if (_done)
        {
            return;
        }
        _done = true;
        _stream.Dispose();
        try
        {
            File.Delete(_tmp);
        }
        catch (IOException)
        {
            // the original failure matters more than a leftover temporary file
        }
    }
}
