using System.Text;
using Crema.Data;
using Crema.Layers;
using Crema.Proto;
using Crema.Tests.Cli;

namespace Crema.Tests.Data;

[Collection(CliCollection.Name)]
public class ExtraImageFormatsTests
{
    private const int W = 7, H = 5;

    private static string Tiff(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "images", "tiff", name);

    // The pixels make_tiffs.py wrote.
    private static (int R, int G, int B) Rgb(int x, int y) => ((30 * x) + y, (50 * y) + 3, x * y * 11 % 256);

    private static int Gray(int x, int y) => (36 * x) + (7 * y) + 1;

    private static byte Luma(int r, int g, int b) => (byte)(((r * 4899) + (g * 9617) + (b * 1868) + 8192) >> 14);

    private static byte[] Bytes(string header, params byte[] body) => [.. Encoding.ASCII.GetBytes(header), .. body];

    [Theory]
    [InlineData("rgb_raw.tif")]
    [InlineData("rgb_packbits.tif")]
    [InlineData("rgb_lzw.tif")]
    public void Tiff_Rgb_DecodesToBgrPlanes(string file)
    {
        var image = ImageDecoder.ReadFile(Tiff(file));
        Assert.Equal((3, H, W), (image.Channels, image.Height, image.Width));
        int plane = H * W;
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                var (r, g, b) = Rgb(x, y);
                int i = (y * W) + x;
                Assert.Equal((b, g, r), (image.Data[i], image.Data[plane + i], image.Data[(2 * plane) + i]));
            }
        }
        var gray = ImageDecoder.ReadFile(Tiff(file), gray: true);
        Assert.Equal(1, gray.Channels);
        var (r3, g3, b3) = Rgb(3, 4);
        Assert.Equal(Luma(r3, g3, b3), gray.Data[(4 * W) + 3]);
    }

    [Theory]
    [InlineData("gray_raw.tif")]
    [InlineData("gray_packbits.tif")]
    [InlineData("gray_lzw.tif")]
    public void Tiff_Gray_NativeIsOneChannel_ColourReplicates(string file)
    {
        byte[] bytes = File.ReadAllBytes(Tiff(file));
        var native = ImageDecoder.DecodeNative(bytes);
        var colour = ImageDecoder.Decode(bytes);
        Assert.Equal((1, H, W), (native.Channels, native.Height, native.Width));
        Assert.Equal(3, colour.Channels);
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                int i = (y * W) + x;
                Assert.Equal(Gray(x, y), native.Data[i]);
                Assert.Equal(Gray(x, y), colour.Data[i]);
                Assert.Equal(Gray(x, y), colour.Data[(2 * H * W) + i]);
            }
        }
    }

    [Fact]
    public void Tiff_16BitGray_KeepsTheHighByte()
    {
        var image = ImageDecoder.DecodeNative(File.ReadAllBytes(Tiff("gray16_raw.tif")));
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                Assert.Equal(((9000 * x) + (300 * y)) >> 8, image.Data[(y * W) + x]);
            }
        }
    }

    [Fact]
    public void Tiff_Truncated_OneClearError()
    {
        byte[] bytes = File.ReadAllBytes(Tiff("rgb_lzw.tif"))[..40];
        var e = Assert.Throws<CremaException>(() => ImageDecoder.Decode(bytes, source: "cut.tif"));
        Assert.StartsWith("Could not decode cut.tif: bad or unsupported TIFF", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tiff_HugeDeclaredSize_RefusedBeforeAllocating()
    {
        // Patch ImageWidth and ImageLength (tags 256, 257) of a little-endian file to 60,000 each.
        byte[] bytes = File.ReadAllBytes(Tiff("gray_raw.tif"));
        Assert.Equal((byte)'I', bytes[0]);
        int ifd = BitConverter.ToInt32(bytes, 4);
        int entries = BitConverter.ToUInt16(bytes, ifd);
        for (int k = 0; k < entries; k++)
        {
            int entry = ifd + 2 + (12 * k);
            int tag = BitConverter.ToUInt16(bytes, entry);
            if (tag is 256 or 257)
            {
                int type = BitConverter.ToUInt16(bytes, entry + 2);
                Assert.True(BitConverter.TryWriteBytes(bytes.AsSpan(entry + 8), type == 3 ? (ushort)60000 : 60000u)); // SHORT or LONG
            }
        }
        var e = Assert.Throws<CremaException>(() => ImageDecoder.Decode(bytes, source: "huge.tif"));
        Assert.Contains("image size 60000x60000 is empty or over", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ppm_BinaryAndAscii_AreBgrPlanes_AsciiScaledByMaxval()
    {
        // 2×1 binary P6 with a comment in the header: (10, 20, 30) and (200, 100, 0).
        var p6 = ImageDecoder.Decode(Bytes("P6\n# made by hand\n2 1\n255\n", 10, 20, 30, 200, 100, 0));
        Assert.Equal((3, 1, 2), (p6.Channels, p6.Height, p6.Width));
        Assert.Equal([30, 0, 20, 100, 10, 200], p6.Data);

        // ASCII P3 with maxval 15: v·255/15 = 17v (integer division), samples above maxval clamped.
        var p3 = ImageDecoder.Decode(Encoding.ASCII.GetBytes("P3 2 1 15\n1 2 3 # comment\n 15 99 0\n"));
        Assert.Equal([3 * 17, 0, 2 * 17, 255, 1 * 17, 255], p3.Data);

        var gray = ImageDecoder.Decode(Bytes("P6 1 1 255 ", 200, 100, 50), gray: true);
        Assert.Equal([Luma(200, 100, 50)], gray.Data);
    }

    [Fact]
    public void Pgm_8And16Bit_AsOpenCvReadsThem()
    {
        // Binary 8-bit samples are taken as stored even when maxval < 255 (OpenCV scales only ASCII ones).
        var p5 = ImageDecoder.DecodeNative(Bytes("P5 3 1 100\n", 0, 50, 100));
        Assert.Equal((1, 1, 3), (p5.Channels, p5.Height, p5.Width));
        Assert.Equal([0, 50, 100], p5.Data);

        // 16-bit binary is big-endian; the high byte is kept.
        var p5w = ImageDecoder.DecodeNative(Bytes("P5 2 1 65535\n", 0x12, 0x34, 0xfe, 0xdc));
        Assert.Equal([0x12, 0xfe], p5w.Data);

        // 16-bit ASCII: high byte, not rescaled by maxval.
        var p2 = ImageDecoder.DecodeNative(Encoding.ASCII.GetBytes("P2\n2 1\n1000\n1000 513\n"));
        Assert.Equal([1000 >> 8, 513 >> 8], p2.Data);

        // A gray file read in colour has the value in all three planes.
        var colour = ImageDecoder.Decode(Bytes("P5 1 1 255\n", 77));
        Assert.Equal([77, 77, 77], colour.Data);
    }

    [Theory]
    [InlineData("P6 4 4 255\n", "need 48 bytes but only 3 follow the header")]
    [InlineData("P5 0 4 255\n", "need positive sizes")]
    [InlineData("P5 4 # no height\n", "no height in the header")]
    [InlineData("P2 2 2 255\n1 2 x 4\n", "sample 2 is missing or not a number")]
    public void Pnm_BadFile_OneClearError(string text, string detail)
    {
        var e = Assert.Throws<CremaException>(() => ImageDecoder.Decode(Bytes(text, 1, 2, 3), source: "x.pnm"));
        Assert.StartsWith("Could not decode x.pnm: bad PGM/PPM file", e.Message, StringComparison.Ordinal);
        Assert.Contains(detail, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertImagesetAndImageData_ReadPpmPgmAndTiff()
    {
        using var dir = new TempDir();
        string root = dir.Combine("img") + "/";
        Directory.CreateDirectory(root);
        File.WriteAllBytes(root + "a.ppm", Bytes("P6 7 5 255\n", [.. Enumerable.Range(0, 3 * 35).Select(i => (byte)(i * 2))]));
        File.WriteAllBytes(root + "b.pgm", Bytes("P5 7 5 255\n", [.. Enumerable.Range(0, 35).Select(i => (byte)(i + 100))]));
        File.Copy(Tiff("rgb_lzw.tif"), root + "c.tif");
        string list = dir.Combine("list.txt");
        File.WriteAllText(list, "a.ppm 0\nb.pgm 1\nc.tif 2\n");
        var r = CliRunner.Run("convert_imageset", "-check_size", root, list, dir.Combine("db"));
        Assert.Equal(0, r.ExitCode);
        using var cursor = KeyValueDb.OpenCursor(dir.Combine("db"), DbBackend.Lmdb);
        var datums = new List<Datum>();
        for (; cursor.IsValid; cursor.MoveNext())
        {
            datums.Add(Datum.Parser.ParseFrom(cursor.Value));
        }
        Assert.Equal(3, datums.Count);
        Assert.Equal(ImageDecoder.ReadFile(root + "a.ppm").Data, datums[0].Data.ToByteArray());
        Assert.Equal(2, datums[0].Data[35]); // G plane of pixel 0 = sample 1 of the file (1 × 2)
        Assert.Equal(100, datums[1].Data[0]);
        Assert.Equal(100, datums[1].Data[70]); // gray replicated into the R plane
        Assert.Equal(ImageDecoder.ReadFile(root + "c.tif").Data, datums[2].Data.ToByteArray());

        // ImageData reads the same files (gray: is_color false).
        var p = new LayerParameter
        {
            Name = "images",
            Type = "ImageData",
            ImageDataParam = new ImageDataParameter { Source = list, BatchSize = 3, RootFolder = root, IsColor = false },
        };
        using var layer = new ImageDataLayer(p);
        var data = new Blob();
        var label = new Blob();
        layer.SetUp([], [data, label]);
        layer.Forward([], [data, label]);
        Assert.Equal([3, 1, 5, 7], data.Shape);
        Assert.Equal(Luma(0, 2, 4), data.Data[0]);
        Assert.Equal(100 + 34, data.Data[35 + 34]);
        var (r0, g0, b0) = Rgb(6, 4);
        Assert.Equal(Luma(r0, g0, b0), data.Data[70 + 34]);
        Assert.Equal([0f, 1f, 2f], label.Data.ToArray());
    }
}
