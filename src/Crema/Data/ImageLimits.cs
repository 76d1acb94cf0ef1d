namespace Crema.Data;

/// <summary>
/// Image sizes are checked from the header before any pixel buffer exists: a 100000×100000 PNG header must fail with
/// a message, not by asking for 40 GB. The cap (2^27 pixels, e.g. 11585×11585; 512 MiB as RGBA) is far above any
/// training image; OpenCV, which Caffe uses, caps at 2^30.
/// </summary>
public static class ImageLimits
{
    public const long MaxPixels = 1L << 27;

    public static void CheckDecoded(int width, int height, string source)
    {
        if (width <= 0 || height <= 0)
        {
            throw new CremaException($"Could not decode {source}: the image is {width}x{height} (empty or corrupt header)");
        }
        if ((long)width * height > MaxPixels)
        {
            throw new CremaException($"{source}: image is {width}x{height} ({(long)width * height} pixels), more than the {MaxPixels} pixels Crema decodes");
        }
    }

    public static void CheckResize(int height, int width, string source)
    {
        if ((long)width * height > MaxPixels)
        {
            throw new CremaException($"{source}: resize to {height}x{width} ({(long)width * height} pixels) exceeds the {MaxPixels}-pixel limit");
        }
    }
}
