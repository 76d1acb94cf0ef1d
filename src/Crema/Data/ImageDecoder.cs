using Crema.Proto;
using Google.Protobuf;
using SkiaSharp;

namespace Crema.Data;

/// <summary>An 8-bit image in Caffe's Datum layout: channels (C, H, W), colour channels in BGR order as OpenCV gives them.</summary>
public sealed record DecodedImage(byte[] Data, int Channels, int Height, int Width);

/// <summary>
/// Decodes JPEG/PNG (and whatever else Skia reads) into Caffe's Datum layout, as Caffe's ReadImageToCVMat +
/// CVMatToDatum do with OpenCV: colour images become 3-channel BGR, gray ones 1-channel; optional bilinear resize.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Reads and decodes an image file; <paramref name="height"/>/<paramref name="width"/> 0 keep the original size.</summary>
    public static DecodedImage ReadFile(string path, int height = 0, int width = 0, bool gray = false)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CremaException($"Could not open or find file {path}: {e.Message}", e);
        }
        return Decode(bytes, height, width, gray, path);
    }

    /// <summary>Decodes encoded image bytes (C, H, W) BGR or gray; resizes bilinearly when a target size is given.</summary>
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, int height = 0, int width = 0, bool gray = false, string source = "<image>") =>
        Decode(encoded, height, width, (bool?)gray, source);

    /// <summary>Decodes keeping the image's own colour (OpenCV's IMREAD_ANYCOLOR): a grayscale file gives 1 channel, others 3 (BGR).</summary>
    public static DecodedImage DecodeNative(ReadOnlySpan<byte> encoded, string source = "<image>") => Decode(encoded, 0, 0, null, source);

    private static DecodedImage Decode(ReadOnlySpan<byte> encoded, int height, int width, bool? grayOrNative, string source)
    {
        if (height < 0 || width < 0)
        {
            throw new CremaException($"{source}: resize size {height}x{width} must not be negative");
        }
        ImageLimits.CheckResize(height, width, source);
        if (ExtraImageFormats.TryDecode(encoded, grayOrNative, source) is { } extra)
        {
            // PGM/PPM and TIFF, which Skia does not read.
            return height > 0 && width > 0 && (height != extra.Height || width != extra.Width) ? Resize(extra, height, width) : extra;
        }
        using var bitmap = DecodeBitmap(encoded, source, out bool fileIsGray);
        bool gray = grayOrNative ?? fileIsGray;
        int h = bitmap.Height;
        int w = bitmap.Width;
        int channels = gray ? 1 : 3;
        var chw = new byte[channels * h * w];
        var pixels = bitmap.GetPixelSpan(); // RGBA, unpremultiplied, row-major
        int plane = h * w;
        for (int i = 0; i < plane; i++)
        {
            byte r = pixels[4 * i];
            byte g = pixels[(4 * i) + 1];
            byte b = pixels[(4 * i) + 2];
            StorePixel(chw, plane, i, r, g, b, gray);
        }
        var image = new DecodedImage(chw, channels, h, w);
        return height > 0 && width > 0 && (height != h || width != w) ? Resize(image, height, width) : image;
    }

    /// <summary>Bilinear resize with pixel centres aligned (OpenCV's INTER_LINEAR): src = (dst + 0.5)·scale − 0.5, edges clamped.</summary>
    public static DecodedImage Resize(DecodedImage image, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (height <= 0 || width <= 0)
        {
            throw new CremaException($"resize size {height}x{width} must be positive");
        }
        ImageLimits.CheckResize(height, width, "resize");
        int c = image.Channels;
        int sh = image.Height;
        int sw = image.Width;
        var ys = Taps(height, sh);
        var xs = Taps(width, sw);
        var output = new byte[c * height * width];
        for (int ch = 0; ch < c; ch++)
        {
            var src = image.Data.AsSpan(ch * sh * sw, sh * sw);
            var dst = output.AsSpan(ch * height * width, height * width);
            for (int y = 0; y < height; y++)
            {
                var (y0, y1, fy) = ys[y];
                for (int x = 0; x < width; x++)
                {
                    var (x0, x1, fx) = xs[x];
                    float top = src[(y0 * sw) + x0] + (fx * (src[(y0 * sw) + x1] - src[(y0 * sw) + x0]));
                    float bottom = src[(y1 * sw) + x0] + (fx * (src[(y1 * sw) + x1] - src[(y1 * sw) + x0]));
                    float v = top + (fy * (bottom - top));
                    dst[(y * width) + x] = (byte)Math.Clamp((int)MathF.Round(v), 0, 255);
                }
            }
        }
        return new DecodedImage(output, c, height, width);
    }

    /// <summary>Encodes (C, H, W) BGR or gray bytes as "png" or "jpg" (quality 95, OpenCV's default).</summary>
    public static byte[] Encode(DecodedImage image, string format)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(format);
        var skFormat = format.TrimStart('.').ToLowerInvariant() switch
        {
            "png" => SKEncodedImageFormat.Png,
            "jpg" or "jpeg" => SKEncodedImageFormat.Jpeg,
            _ => throw new CremaException($"unknown encode_type '{format}' (use png or jpg)"),
        };
        int plane = image.Height * image.Width;
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var rgba = new byte[4 * plane];
        for (int i = 0; i < plane; i++)
        {
            byte b = image.Data[i];
            byte g = image.Channels == 3 ? image.Data[plane + i] : b;
            byte r = image.Channels == 3 ? image.Data[(2 * plane) + i] : b;
            rgba[4 * i] = r;
            rgba[(4 * i) + 1] = g;
            rgba[(4 * i) + 2] = b;
            rgba[(4 * i) + 3] = 255;
        }
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var data = bitmap.Encode(skFormat, 95) ?? throw new CremaException($"could not encode a {image.Width}x{image.Height} image as {format}");
        return data.ToArray();
    }

    /// <summary>
    /// A raw Datum (uint8 C×H×W) from an encoded one: gray true = 1 channel, false = 3 (Caffe's DecodeDatum with is_color),
    /// null = the image's own colour (DecodeDatumNative). Raw datums are returned unchanged.
    /// </summary>
    public static Datum DecodeDatum(Datum datum, bool? gray = null)
    {
        ArgumentNullException.ThrowIfNull(datum);
        if (!datum.Encoded)
        {
            return datum;
        }
        var image = Decode(datum.Data.Span, 0, 0, gray, "encoded datum");
        return new Datum
        {
            Channels = image.Channels,
            Height = image.Height,
            Width = image.Width,
            Data = ByteString.CopyFrom(image.Data),
            Label = datum.Label,
        };
    }

    /// <summary>A raw Datum holding the image and label.</summary>
    public static Datum ToDatum(DecodedImage image, int label)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new Datum { Channels = image.Channels, Height = image.Height, Width = image.Width, Data = ByteString.CopyFrom(image.Data), Label = label };
    }

    private static SKBitmap DecodeBitmap(ReadOnlySpan<byte> encoded, string source, out bool isGray)
    {
        if (encoded.IsEmpty)
        {
            throw new CremaException($"Could not decode {source}: it is empty");
        }
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data) ?? throw new CremaException($"Could not decode {source}: not a supported image (JPEG, PNG, BMP, GIF, WebP)");
        ImageLimits.CheckDecoded(codec.Info.Width, codec.Info.Height, source);
        isGray = codec.Info.ColorType == SKColorType.Gray8;
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        // A cut-off JPEG still decodes (libjpeg, hence OpenCV, only warns); other formats fail as OpenCV's readers do.
        bool acceptIncomplete = codec.EncodedFormat == SKEncodedImageFormat.Jpeg;
        if (result is not SKCodecResult.Success && !(result is SKCodecResult.IncompleteInput && acceptIncomplete))
        {
            bitmap.Dispose();
            throw new CremaException($"Could not decode {source}: {result}");
        }
        return bitmap;
    }

    // For each output coordinate: the two source neighbours and the weight of the second.
    private static (int Lo, int Hi, float Frac)[] Taps(int outSize, int inSize)
    {
        var taps = new (int, int, float)[outSize];
        float scale = (float)inSize / outSize;
        for (int i = 0; i < outSize; i++)
        {
            float s = ((i + 0.5f) * scale) - 0.5f;
            int lo = (int)MathF.Floor(s);
            float frac = s - lo;
            if (lo < 0)
            {
                lo = 0;
                frac = 0;
            }
            if (lo >= inSize - 1)
            {
                lo = inSize - 1;
                frac = 0;
            }
            taps[i] = (lo, Math.Min(lo + 1, inSize - 1), frac);
        }
        return taps;
    }

    /// <summary>Stores one RGB pixel into planar output: B, G, R planes, or one gray plane.</summary>
    internal static void StorePixel(Span<byte> chw, int plane, int i, byte r, byte g, byte b, bool gray)
    {
        if (gray)
        {
            // ITU-R BT.601 luma in 14-bit fixed point, as OpenCV's RGB→gray conversion.
            chw[i] = (byte)(((r * 4899) + (g * 9617) + (b * 1868) + 8192) >> 14);
        }
        else
        {
            chw[i] = b;
            chw[plane + i] = g;
            chw[(2 * plane) + i] = r;
        }
    }
}
