using BitMiracle.LibTiff.Classic;

namespace Crema.Data;

/// <summary>
/// TIFF through LibTiff.NET (the managed port of libtiff, which OpenCV also uses): uncompressed, PackBits, LZW and the
/// other codecs libtiff reads, 8-bit (and 16-bit, high byte) gray or RGB, strips or tiles; the first page only.
/// </summary>
internal static class TiffDecoder
{
    // libtiff decodes into one int per pixel, sized from the header before any pixel is read: a few bytes of a
    // compressed file could otherwise ask for gigabytes. 8192×8192 is far above any training image.
    private const long MaxPixels = 8192L * 8192;

    [ThreadStatic]
    private static string? t_lastError;

    static TiffDecoder() => Tiff.SetErrorHandler(new Handler());

    public static bool IsTiff(ReadOnlySpan<byte> data) =>
        data.Length >= 8 && ((data[0] == (byte)'I' && data[1] == (byte)'I' && data[2] == 42 && data[3] == 0)
            || (data[0] == (byte)'M' && data[1] == (byte)'M' && data[2] == 0 && data[3] == 42));

    /// <summary>Interleaved samples (gray, or R, G, B), one byte each, row-major, top row first.</summary>
    public static (byte[] Pixels, int Channels, int Height, int Width) Decode(ReadOnlySpan<byte> data, string source)
    {
        t_lastError = null;
        using var stream = new MemoryStream(data.ToArray(), writable: false);
        using var tiff = Tiff.ClientOpen(source, "r", stream, new TiffStream())
            ?? throw Bad(source, t_lastError ?? "libtiff could not open it");
        int width = tiff.GetField(TiffTag.IMAGEWIDTH)?[0].ToInt() ?? 0;
        int height = tiff.GetField(TiffTag.IMAGELENGTH)?[0].ToInt() ?? 0;
        if (width <= 0 || height <= 0 || (long)width * height > MaxPixels)
        {
            throw Bad(source, $"image size {width}x{height} is empty or over {MaxPixels} pixels");
        }
        var photometric = (Photometric)(tiff.GetField(TiffTag.PHOTOMETRIC)?[0].ToInt() ?? (int)Photometric.MINISBLACK);
        int samples = tiff.GetFieldDefaulted(TiffTag.SAMPLESPERPIXEL)?[0].ToInt() ?? 1;
        bool gray = photometric is Photometric.MINISBLACK or Photometric.MINISWHITE && samples <= 2;
        var raster = new int[width * height];
        if (!tiff.ReadRGBAImageOriented(width, height, raster, Orientation.TOPLEFT, stopOnError: true))
        {
            throw Bad(source, t_lastError ?? "libtiff could not read the pixels");
        }
        int channels = gray ? 1 : 3;
        var pixels = new byte[raster.Length * channels];
        for (int i = 0; i < raster.Length; i++)
        {
            int p = raster[i];
            if (gray)
            {
                pixels[i] = (byte)Tiff.GetR(p);
            }
            else
            {
                pixels[3 * i] = (byte)Tiff.GetR(p);
                pixels[(3 * i) + 1] = (byte)Tiff.GetG(p);
                pixels[(3 * i) + 2] = (byte)Tiff.GetB(p);
            }
        }
        return (pixels, channels, height, width);
    }

    private static CremaException Bad(string source, string detail) => new($"Could not decode {source}: bad or unsupported TIFF: {detail}");

    /// <summary>libtiff reports through a process-wide handler; keep the last error for this thread's message instead of printing it.</summary>
    private sealed class Handler : TiffErrorHandler
    {
        public override void ErrorHandler(Tiff tif, string method, string format, params object[] args) =>
            t_lastError = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args);

        public override void ErrorHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args) =>
            ErrorHandler(tif, method, format, args);

        public override void WarningHandler(Tiff tif, string method, string format, params object[] args) { }

        public override void WarningHandlerExt(Tiff tif, object clientData, string method, string format, params object[] args) { }
    }
}
