using Crema.Data;
using SkiaSharp;

namespace Crema.Tests.Cli;

public class ImageDecoderTests
{
    internal static string CatJpg => Path.Combine(AppContext.BaseDirectory, "TestData", "images", "cat.jpg");

    [Fact]
    public void Decode_CatJpg_IsBgrChwOfTheDecodedPixels()
    {
        var image = ImageDecoder.ReadFile(CatJpg);
        Assert.Equal((3, 360, 480), (image.Channels, image.Height, image.Width));
        using var reference = SKBitmap.Decode(CatJpg);
        int plane = image.Height * image.Width;
        foreach (var (x, y) in new[] { (0, 0), (479, 0), (0, 359), (240, 180), (123, 321) })
        {
            var color = reference.GetPixel(x, y);
            int i = (y * image.Width) + x;
            Assert.Equal((color.Blue, color.Green, color.Red), (image.Data[i], image.Data[plane + i], image.Data[(2 * plane) + i]));
        }
    }

    [Fact]
    public void Decode_Gray_IsBt601LumaOfTheColourImage()
    {
        var color = ImageDecoder.ReadFile(CatJpg);
        var gray = ImageDecoder.ReadFile(CatJpg, gray: true);
        Assert.Equal((1, 360, 480), (gray.Channels, gray.Height, gray.Width));
        int plane = color.Height * color.Width;
        for (int i = 0; i < plane; i += 997)
        {
            double luma = (0.114 * color.Data[i]) + (0.587 * color.Data[plane + i]) + (0.299 * color.Data[(2 * plane) + i]);
            Assert.InRange(gray.Data[i], luma - 1, luma + 1);
        }
    }

    [Fact]
    public void Resize_HalvingAveragesPixelPairs_AndSameSizeIsIdentity()
    {
        // One channel 4×4: rows 0..3, columns 0..3, value 10·row + 2·column.
        var data = new byte[16];
        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                data[(y * 4) + x] = (byte)((10 * y) + (2 * x));
            }
        }
        var image = new DecodedImage(data, 1, 4, 4);
        // Output pixel (i, j) samples source (2i + 0.5, 2j + 0.5): the mean of a 2×2 block.
        var half = ImageDecoder.Resize(image, 2, 2);
        Assert.Equal(new byte[] { 6, 10, 26, 30 }, half.Data);
        Assert.Equal(data, ImageDecoder.Resize(image, 4, 4).Data);
        var resized = ImageDecoder.Decode(File.ReadAllBytes(CatJpg), 24, 32);
        Assert.Equal((3, 24, 32, 3 * 24 * 32), (resized.Channels, resized.Height, resized.Width, resized.Data.Length));
    }

    [Fact]
    public void Png_RoundTripIsExact()
    {
        var data = new byte[3 * 5 * 7];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)((i * 37) % 256);
        }
        var image = new DecodedImage(data, 3, 5, 7);
        var decoded = ImageDecoder.Decode(ImageDecoder.Encode(image, "png"));
        Assert.Equal(data, decoded.Data);
    }

    [Fact]
    public void Decode_Garbage_FailsWithTheSource()
    {
        var e = Assert.Throws<CremaException>(() => ImageDecoder.Decode(new byte[] { 1, 2, 3, 4, 5 }, source: "junk.jpg"));
        Assert.Contains("junk.jpg", e.Message, StringComparison.Ordinal);
    }
}
