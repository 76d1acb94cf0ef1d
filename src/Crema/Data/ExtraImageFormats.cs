namespace Crema.Data;

/// <summary>
/// The image formats OpenCV reads that Skia does not: PGM/PPM (<see cref="PnmDecoder"/>) and TIFF
/// (<see cref="TiffDecoder"/>), converted to Caffe's Datum layout as <see cref="ImageDecoder"/> does for the others.
/// </summary>
internal static class ExtraImageFormats
{
    /// <summary>
    /// (C, H, W) BGR or gray at the file's size when the bytes are PGM/PPM or TIFF, else null. <paramref name="grayOrNative"/>:
    /// true = 1 channel (BT.601 luma), false = 3 (gray replicated), null = the file's own.
    /// </summary>
    public static DecodedImage? TryDecode(ReadOnlySpan<byte> encoded, bool? grayOrNative, string source)
    {
        (byte[] Pixels, int Channels, int Height, int Width) raw;
        if (PnmDecoder.IsPnm(encoded))
        {
            raw = PnmDecoder.Decode(encoded, source);
        }
        else if (TiffDecoder.IsTiff(encoded))
        {
            raw = TiffDecoder.Decode(encoded, source);
        }
        else
        {
            return null;
        }
        bool gray = grayOrNative ?? raw.Channels == 1;
        int plane = raw.Height * raw.Width;
        var chw = new byte[(gray ? 1 : 3) * plane];
        var px = raw.Pixels;
        for (int i = 0; i < plane; i++)
        {
            if (raw.Channels == 1)
            {
                chw[i] = px[i];
                if (!gray)
                {
                    chw[plane + i] = px[i];
                    chw[(2 * plane) + i] = px[i];
                }
                continue;
            }
            byte r = px[3 * i], g = px[(3 * i) + 1], b = px[(3 * i) + 2];
            ImageDecoder.StorePixel(chw, plane, i, r, g, b, gray);
        }
        return new DecodedImage(chw, gray ? 1 : 3, raw.Height, raw.Width);
    }
}
