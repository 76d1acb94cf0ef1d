using System.Buffers.Binary;

namespace Crema.Data;

/// <summary>
/// Netpbm gray and colour images (PGM P2/P5, PPM P3/P6; maxval up to 65535), decoded to 8 bits as OpenCV's imread
/// does: ASCII samples are clamped to maxval and scaled by 255/maxval when maxval &lt; 256; binary 8-bit samples are
/// taken as stored; 16-bit samples (maxval ≥ 256, big-endian when binary) keep their high byte.
/// </summary>
internal static class PnmDecoder
{
    public static bool IsPnm(ReadOnlySpan<byte> data) =>
        data.Length >= 3 && data[0] == (byte)'P' && data[1] is (byte)'2' or (byte)'3' or (byte)'5' or (byte)'6' && IsSpace(data[2]);

    /// <summary>Interleaved samples (gray, or R, G, B), one byte each, row-major.</summary>
    public static (byte[] Pixels, int Channels, int Height, int Width) Decode(ReadOnlySpan<byte> data, string source)
    {
        char kind = (char)data[1];
        bool binary = kind is '5' or '6';
        int channels = kind is '3' or '6' ? 3 : 1;
        int pos = 2;
        int width = Header(data, ref pos, source, "width");
        int height = Header(data, ref pos, source, "height");
        int maxval = Header(data, ref pos, source, "maxval");
        if (width <= 0 || height <= 0 || maxval <= 0 || maxval > 65535)
        {
            throw Bad(source, $"header gives width {width}, height {height}, maxval {maxval} (need positive sizes and maxval 1..65535)");
        }
        // Exactly one whitespace byte separates the header from binary samples.
        pos++;
        bool wide = maxval > 255;
        long samples = (long)width * height * channels;
        long available = data.Length - Math.Min(pos, data.Length);
        // Checked before allocating: binary samples take 1 or 2 bytes, ASCII ones at least 2 (a digit and a separator).
        long needed = binary ? samples * (wide ? 2 : 1) : (samples * 2) - 1;
        if (needed > available)
        {
            throw Bad(source, $"{width}x{height}x{channels} samples need {needed} bytes{(binary ? "" : " at least")} but only {available} follow the header (truncated?)");
        }
        var pixels = new byte[samples];
        if (binary)
        {
            var body = data[pos..];
            for (long i = 0; i < samples; i++)
            {
                pixels[i] = wide ? (byte)(BinaryPrimitives.ReadUInt16BigEndian(body[(int)(2 * i)..]) >> 8) : body[(int)i];
            }
        }
        else
        {
            pos--;
            for (long i = 0; i < samples; i++)
            {
                int v = Math.Min(Number(data, ref pos, source, i), maxval);
                pixels[i] = wide ? (byte)(v >> 8) : (byte)(v * 255 / maxval);
            }
        }
        return (pixels, channels, height, width);
    }

    private static int Header(ReadOnlySpan<byte> data, ref int pos, string source, string what)
    {
        SkipSpaceAndComments(data, ref pos);
        int start = pos;
        long value = 0;
        while (pos < data.Length && data[pos] is >= (byte)'0' and <= (byte)'9')
        {
            value = Math.Min((value * 10) + (data[pos++] - '0'), int.MaxValue);
        }
        if (pos == start)
        {
            throw Bad(source, $"no {what} in the header");
        }
        return (int)value;
    }

    private static int Number(ReadOnlySpan<byte> data, ref int pos, string source, long index)
    {
        SkipSpaceAndComments(data, ref pos);
        int start = pos;
        int value = 0;
        while (pos < data.Length && data[pos] is >= (byte)'0' and <= (byte)'9')
        {
            value = Math.Min((value * 10) + (data[pos++] - '0'), 1 << 20);
        }
        if (pos == start)
        {
            throw Bad(source, $"sample {index} is missing or not a number");
        }
        return value;
    }

    private static void SkipSpaceAndComments(ReadOnlySpan<byte> data, ref int pos)
    {
        while (pos < data.Length)
        {
            if (IsSpace(data[pos]))
            {
                pos++;
            }
            else if (data[pos] == (byte)'#')
            {
                while (pos < data.Length && data[pos] != (byte)'\n' && data[pos] != (byte)'\r')
                {
                    pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0b or 0x0c;

    private static CremaException Bad(string source, string detail) => new($"Could not decode {source}: bad PGM/PPM file: {detail}");
}
