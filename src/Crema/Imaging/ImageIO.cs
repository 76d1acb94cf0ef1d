using Crema.Data;

namespace Crema.Imaging;

/// <summary>
/// pycaffe's <c>caffe.io</c> image helpers: <see cref="Load"/> (<c>load_image</c>), <see cref="Resize"/>
/// (<c>resize_image</c>) and <see cref="Oversample"/> (<c>oversample</c>), on <see cref="FloatImage"/> (H × W × K).
/// </summary>
public static class ImageIO
{
    /// <summary>
    /// Loads an image file (JPEG, PNG, anything SkiaSharp decodes) as float <b>RGB</b> in [0, 1], H × W × 3, as
    /// <c>caffe.io.load_image(path)</c>; with <paramref name="color"/> false, one gray channel (OpenCV's BT.601 weights).
    /// A gray file loaded in colour repeats its channel three times; an alpha channel is dropped.
    /// </summary>
    /// <exception cref="CremaException">The file is missing or not a decodable image (the message names it).</exception>
    public static FloatImage Load(string path, bool color = true)
    {
        // ImageDecoder gives Caffe's Datum layout: (C, H, W) bytes, colour in BGR order.
        var decoded = ImageDecoder.ReadFile(path, gray: !color);
        int h = decoded.Height;
        int w = decoded.Width;
        int k = decoded.Channels;
        var image = new FloatImage(h, w, k);
        int plane = h * w;
        for (int c = 0; c < k; c++)
        {
            int source = k == 3 ? 2 - c : c; // BGR planes → RGB channels
            var bytes = decoded.Data.AsSpan(source * plane, plane);
            for (int i = 0; i < plane; i++)
            {
                image.Data[(i * k) + c] = bytes[i] / 255f;
            }
        }
        return image;
    }

    /// <summary>
    /// Resizes to <paramref name="height"/> × <paramref name="width"/> keeping the channels, bilinear with pixel centres
    /// aligned (source = (target + ½)·scale − ½) and the border pixels repeated, as <c>caffe.io.resize_image</c> with its
    /// default linear order. NOTE: skimage also smooths before shrinking (anti-aliasing) in recent versions; this does not,
    /// so strong downscales differ slightly from pycaffe's.
    /// </summary>
    public static FloatImage Resize(FloatImage image, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (height <= 0 || width <= 0)
        {
            throw new CremaException($"resize size {height}x{width} must be positive");
        }
        if (height == image.Height && width == image.Width)
        {
            return new FloatImage(height, width, image.Channels, (float[])image.Data.Clone());
        }
        int k = image.Channels;
        var ys = Taps(height, image.Height);
        var xs = Taps(width, image.Width);
        var result = new FloatImage(height, width, k);
        for (int y = 0; y < height; y++)
        {
            var (y0, y1, fy) = ys[y];
            for (int x = 0; x < width; x++)
            {
                var (x0, x1, fx) = xs[x];
                for (int c = 0; c < k; c++)
                {
                    float top = image[y0, x0, c] + (fx * (image[y0, x1, c] - image[y0, x0, c]));
                    float bottom = image[y1, x0, c] + (fx * (image[y1, x1, c] - image[y1, x0, c]));
                    result[y, x, c] = top + (fy * (bottom - top));
                }
            }
        }
        return result;
    }

    // For each target index: the two source indices and the weight of the second.
    private static (int Low, int High, float Weight)[] Taps(int target, int source)
    {
        var taps = new (int, int, float)[target];
        double scale = (double)source / target;
        for (int i = 0; i < target; i++)
        {
            double s = Math.Clamp(((i + 0.5) * scale) - 0.5, 0, source - 1);
            int low = (int)Math.Floor(s);
            int high = Math.Min(low + 1, source - 1);
            taps[i] = (low, high, (float)(s - low));
        }
        return taps;
    }

    /// <summary>
    /// Ten crops of <paramref name="cropHeight"/> × <paramref name="cropWidth"/> per image, as <c>caffe.io.oversample</c>:
    /// top-left, top-right, bottom-left, bottom-right, centre, then the same five mirrored left–right. Images must
    /// all have the first image's size.
    /// </summary>
    public static IReadOnlyList<FloatImage> Oversample(IReadOnlyList<FloatImage> images, int cropHeight, int cropWidth)
    {
        ArgumentNullException.ThrowIfNull(images);
        var crops = new List<FloatImage>(10 * images.Count);
        if (images.Count == 0)
        {
            return crops;
        }
        int h = images[0].Height;
        int w = images[0].Width;
        var (centreTop, centreLeft) = CentreCrop(h, w, cropHeight, cropWidth);
        (int Top, int Left)[] corners = [(0, 0), (0, w - cropWidth), (h - cropHeight, 0), (h - cropHeight, w - cropWidth), (centreTop, centreLeft)];
        foreach (var image in images)
        {
            if (image.Height != h || image.Width != w)
            {
                throw new CremaException($"oversample: image {image.Height}x{image.Width} differs from the first image's {h}x{w}");
            }
            var five = corners.Select(c => image.Crop(c.Top, c.Left, cropHeight, cropWidth)).ToArray();
            crops.AddRange(five);
            crops.AddRange(five.Select(c => c.MirrorHorizontally()));
        }
        return crops;
    }

    /// <summary>The top-left corner of the centred crop, as pycaffe computes it: ⌊H/2 − h/2⌋, ⌊W/2 − w/2⌋ (truncated).</summary>
    public static (int Top, int Left) CentreCrop(int height, int width, int cropHeight, int cropWidth)
    {
        if (cropHeight <= 0 || cropWidth <= 0 || cropHeight > height || cropWidth > width)
        {
            throw new CremaException($"crop {cropHeight}x{cropWidth} does not fit in a {height}x{width} image");
        }
        return ((int)((height / 2.0) - (cropHeight / 2.0)), (int)((width / 2.0) - (cropWidth / 2.0)));
    }
}
