using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Crema.Data;
using Crema.Proto;
using Google.Protobuf;

namespace Crema.Tests.Robustness;

/// <summary>Builders for valid and deliberately damaged input files, shared by the robustness tests, the corpus and the fuzzer.</summary>
internal static class BadFiles
{
    public const string Deploy = """
        name: "bad"
        layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } } }
        layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 3 } }
        layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
        layer { name: "ip" type: "InnerProduct" bottom: "pool" top: "ip" inner_product_param { num_output: 5 } }
        """;

    public const string TrainNet = """
        name: "train"
        layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
        layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
        """;

    /// <summary>A net's weights as a binary .caffemodel NetParameter.</summary>
    public static NetParameter Weights(string netText, Phase phase = Phase.Test)
    {
        using var net = new Crema.Nets.Net(Crema.Proto.TextFormat.PrototxtParser.Parse<NetParameter>(netText, "net.prototxt"), phase);
        return net.ToProto();
    }

    /// <summary>An LMDB of <paramref name="n"/> raw 1×4×4 Datums (every <paramref name="bigEvery"/>-th value is large enough for overflow pages).</summary>
    public static void Lmdb(string path, int n = 20, int bigEvery = 0)
    {
        using var writer = LmdbDatabase.Create(path);
        for (int i = 0; i < n; i++)
        {
            int side = bigEvery > 0 && i % bigEvery == 0 ? 64 : 4;
            var datum = new Datum { Channels = 1, Height = side, Width = side, Label = i % 10, Data = ByteString.CopyFrom(Enumerable.Range(0, side * side).Select(j => (byte)(i + j)).ToArray()) };
            writer.Put(MnistConverter.Key(i), datum.ToByteArray());
        }
    }

    /// <summary>A raw (or gzipped) IDX image file of <paramref name="count"/> rows×cols images.</summary>
    public static byte[] IdxImages(int count, int rows, int cols, bool gzip = false, int? declaredCount = null)
    {
        var bytes = new byte[16 + count * rows * cols];
        BinaryPrimitives.WriteInt32BigEndian(bytes, IdxFile.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), declaredCount ?? count);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), cols);
        for (int i = 16; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i * 7);
        }
        return gzip ? Gzip(bytes) : bytes;
    }

    public static byte[] IdxLabels(int count, int? declaredCount = null)
    {
        var bytes = new byte[8 + count];
        BinaryPrimitives.WriteInt32BigEndian(bytes, IdxFile.LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), declaredCount ?? count);
        for (int i = 8; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i % 10);
        }
        return bytes;
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(bytes);
        }
        return output.ToArray();
    }

    /// <summary>A PNG with only a signature, an IHDR declaring <paramref name="width"/>×<paramref name="height"/> and an empty IDAT/IEND: the header lies.</summary>
    public static byte[] PngHeader(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        Chunk(stream, "IHDR", ihdr);
        Chunk(stream, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(stream, "IEND", []);
        return stream.ToArray();
    }

    private static void Chunk(Stream stream, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        stream.Write(word);
    }

    /// <summary>CRC-32 (IEEE, reflected), as PNG and gzip use.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }
        return ~crc;
    }

    /// <summary>A small real PNG (w×h, colour) encoded by Crema's own encoder.</summary>
    public static byte[] Png(int width = 6, int height = 5, byte seed = 1)
    {
        var data = new byte[3 * width * height];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i * 11 + seed);
        }
        return ImageDecoder.Encode(new DecodedImage(data, 3, height, width), "png");
    }

    public static byte[] Jpg(int width = 8, int height = 8) =>
        ImageDecoder.Encode(new DecodedImage(Enumerable.Range(0, 3 * width * height).Select(i => (byte)(i * 5)).ToArray(), 3, height, width), "jpg");

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Every file under <paramref name="root"/> with its bytes' hash: what a failed run must leave unchanged.</summary>
    public static Dictionary<string, string> Snapshot(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))), StringComparer.Ordinal);
}
