namespace Crema.Imaging;

/// <summary>
/// A float image in pycaffe's layout: rows, then columns, then channels (H × W × K, row-major), as the NumPy arrays
/// <c>caffe.io.load_image</c> returns. <see cref="ImageIO.Load"/> gives RGB values in [0, 1].
/// </summary>
public sealed class FloatImage
{
    /// <summary>An image of the given size over <paramref name="data"/> (H·W·K values, HWC order), or zeros when null.</summary>
    public FloatImage(int height, int width, int channels, float[]? data = null)
    {
        if (height <= 0 || width <= 0 || channels <= 0)
        {
            throw new CremaException($"image size {height}x{width}x{channels} must be positive");
        }
        long count = (long)height * width * channels;
        if (count > Array.MaxLength)
        {
            throw new CremaException($"image size {height}x{width}x{channels} is too large");
        }
        if (data != null && data.Length != count)
        {
            throw new CremaException($"image {height}x{width}x{channels} needs {count} values, got {data.Length}");
        }
        Height = height;
        Width = width;
        Channels = channels;
        Data = data ?? new float[count];
    }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Channels per pixel (3 for RGB, 1 for gray).</summary>
    public int Channels { get; }

    /// <summary>The values, H × W × K row-major: element (y, x, c) is at ((y·W) + x)·K + c.</summary>
    public float[] Data { get; }

    /// <summary>The value at row <paramref name="y"/>, column <paramref name="x"/>, channel <paramref name="c"/>.</summary>
    public float this[int y, int x, int c]
    {
        get => Data[(((y * Width) + x) * Channels) + c];
        set => Data[(((y * Width) + x) * Channels) + c] = value;
    }

    /// <summary>Rows [<paramref name="top"/>, top + height) and columns [<paramref name="left"/>, left + width), copied.</summary>
    public FloatImage Crop(int top, int left, int height, int width)
    {
        if (top < 0 || left < 0 || height <= 0 || width <= 0 || top + height > Height || left + width > Width)
        {
            throw new CremaException($"crop rows {top}..{top + height}, columns {left}..{left + width} is outside the {Height}x{Width} image");
        }
        var result = new FloatImage(height, width, Channels);
        int row = width * Channels;
        for (int y = 0; y < height; y++)
        {
            Data.AsSpan((((top + y) * Width) + left) * Channels, row).CopyTo(result.Data.AsSpan(y * row, row));
        }
        return result;
    }

    /// <summary>The image mirrored left–right (NumPy's <c>im[:, ::-1, :]</c>).</summary>
    public FloatImage MirrorHorizontally()
    {
        var result = new FloatImage(Height, Width, Channels);
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                Data.AsSpan(((y * Width) + x) * Channels, Channels).CopyTo(result.Data.AsSpan(((y * Width) + (Width - 1 - x)) * Channels));
            }
        }
        return result;
    }
}
