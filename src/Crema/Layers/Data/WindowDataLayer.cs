using System.Globalization;
using Crema.Data;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// R-CNN's window sampler: each batch holds ⌊N·fg_fraction⌋ foreground windows (overlap ≥ fg_threshold, their class) after
/// N − that many background ones (overlap &lt; bg_threshold, label 0), drawn uniformly; each window (grown by context_pad,
/// squared in crop_mode "square", clipped to the image) is warped to crop_size², optionally mirrored, then
/// y = (pixel − mean) · scale. Tops: data (N, C, crop, crop), label (N). Prefetched on a background thread.
/// </summary>
[LayerType("WindowData")]
public sealed class WindowDataLayer : PrefetchingDataLayer
{
    private readonly List<(string Path, byte[]? Cached)> _images = [];
    private readonly List<Window> _foreground = [];
    private readonly List<Window> _background = [];
    private int _channels;
    private float[]? _mean;
    private int _meanHeight, _meanWidth;
    private float _scale = 1;
    private float[] _meanValues = [];
    private bool _mirror;

    private readonly record struct Window(int Image, int Label, int X1, int Y1, int X2, int Y2);

    public WindowDataLayer(LayerParameter param) : base(param) { }

    public override BlobCount TopCount => BlobCount.Exactly(2);

    private WindowDataParameter P => Param.WindowDataParam ?? new WindowDataParameter();

    /// <summary>transform_param, overridden by the deprecated window_data_param scale/mean_file/crop_size/mirror when set.</summary>
    protected override TransformationParameter TransformParam
    {
        get
        {
            var p = P;
            var t = WithLegacyTransform(p.HasScale ? p.Scale : null, p.HasMeanFile ? p.MeanFile : null,
                p.HasCropSize ? p.CropSize : null, p.HasMirror ? p.Mirror : null);
            return t;
        }
    }

    private int Crop => Transformer.CropSize;

    protected override void DataLayerSetUp(IReadOnlyList<Blob> top)
    {
        var p = P;
        var t = TransformParam;
        Check(Crop > 0, "crop_size must be positive (windows are warped to crop_size × crop_size)");
        Check(p.BatchSize > 0, $"window_data_param.batch_size must be positive, got {p.BatchSize}");
        Check(p.FgFraction is >= 0 and <= 1, $"fg_fraction must be in [0, 1], got {p.FgFraction}");
        Check(p.CropMode is "warp" or "square", $"crop_mode must be 'warp' or 'square', got '{p.CropMode}'");
        Check(2 * (int)p.ContextPad < Crop, $"context_pad {p.ContextPad} leaves nothing of crop_size {Crop}");
        Check(p.HasSource && p.Source.Length > 0, "window_data_param.source is required");
        ReadWindowFile(p);

        int numFg = (int)(p.BatchSize * p.FgFraction);
        Check(numFg == 0 || _foreground.Count > 0, $"'{p.Source}' has no foreground window (overlap ≥ fg_threshold {p.FgThreshold}) to sample {numFg} per batch from");
        Check(numFg == p.BatchSize || _background.Count > 0, $"'{p.Source}' has no background window (overlap < bg_threshold {p.BgThreshold}) to sample {p.BatchSize - numFg} per batch from");

        if (t.HasMeanFile)
        {
            using var mean = DataTransformer.LoadMean(t.MeanFile);
            // Caffe centres the crop in the mean image with one offset, (mean width − crop) / 2, for both axes.
            Check(mean.Channels == _channels && mean.Width >= Crop && mean.Height >= Crop + ((mean.Width - Crop) / 2),
                $"mean_file '{t.MeanFile}' is {mean.Channels}×{mean.Height}×{mean.Width}; it needs {_channels} channels and at least {Crop}×{Crop}");
            (_mean, _meanHeight, _meanWidth) = (mean.Data.ToArray(), mean.Height, mean.Width);
        }
        Check(t.MeanValue.Count is 0 or 1 || t.MeanValue.Count == _channels,
            $"transform_param has {t.MeanValue.Count} mean_value entries; specify either 1 or as many as channels ({_channels})");

        (_scale, _meanValues, _mirror) = (t.Scale, t.MeanValue.ToArray(), t.Mirror);

        top[0].Reshape((int)p.BatchSize, _channels, Crop, Crop);
        top[1].Reshape((int)p.BatchSize);
    }

    // Format, repeated per image: "# index", path, channels, height, width, window count, then per window
    // "class overlap x1 y1 x2 y2" (0-based inclusive pixel corners). Whitespace and line breaks are interchangeable.
    private void ReadWindowFile(WindowDataParameter p)
    {
        string source = p.Source;
        string[] lines;
        try
        {
            lines = File.ReadAllLines(source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error($"cannot read window file '{source}': {e.Message}");
        }
        var tokens = lines.SelectMany((l, i) => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => (Text: w, Line: i + 1))).ToList();
        int at = 0;
        (string Text, int Line) Next(string what) =>
            at < tokens.Count ? tokens[at++] : throw Error($"{source}: ends early, expected {what}");
        int Int(string what)
        {
            var (text, line) = Next(what);
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw Error($"{source}:{line}: expected {what}, got '{text}'");
        }
        float Float(string what)
        {
            var (text, line) = Next(what);
            return float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : throw Error($"{source}:{line}: expected {what}, got '{text}'");
        }

        Check(tokens.Count > 0, $"window file '{source}' is empty");
        while (at < tokens.Count)
        {
            var (hash, hashLine) = Next("'#'");
            Check(hash == "#", $"{source}:{hashLine}: expected '# image_index', got '{hash}'");
            int index = Int("an image index");
            Check(index == _images.Count, $"{source}:{hashLine}: image index {index} out of order (expected {_images.Count})");
            string path = p.RootFolder + Next("an image path").Text;
            int channels = Int("channels"), height = Int("height"), width = Int("width");
            Check(channels is 1 or 3, $"{source}:{hashLine}: image '{path}' has {channels} channels; only 1 or 3 are supported");
            Check(_images.Count == 0 || channels == _channels, $"{source}:{hashLine}: image '{path}' has {channels} channels, earlier images {_channels}");
            _channels = channels;
            byte[]? cached = null;
            if (p.CacheImages)
            {
                try
                {
                    cached = File.ReadAllBytes(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw Error($"{source}:{hashLine}: cannot read image '{path}': {e.Message}");
                }
            }
            _images.Add((path, cached));

            int count = Int("a window count");
            for (int i = 0; i < count; i++)
            {
                int label = Int("a class index");
                int line = tokens[at - 1].Line;
                float overlap = Float("an overlap");
                var window = new Window(index, label, Int("x1"), Int("y1"), Int("x2"), Int("y2"));
                Check(window.X1 <= window.X2 && window.Y1 <= window.Y2 && window.X1 >= 0 && window.Y1 >= 0 && window.X2 < width && window.Y2 < height,
                    $"{source}:{line}: window ({window.X1}, {window.Y1})–({window.X2}, {window.Y2}) is not inside the {width}×{height} image");
                if (overlap >= p.FgThreshold)
                {
                    Check(label > 0, $"{source}:{line}: foreground window (overlap {overlap}) has class {label}; foreground classes must be > 0");
                    _foreground.Add(window);
                }
                else if (overlap < p.BgThreshold)
                {
                    _background.Add(window with { Label = 0 });
                }
            }
        }
    }

    protected override void LoadBatch(Batch batch)
    {
        var p = P;
        int batchSize = (int)p.BatchSize;
        batch.Data.Reshape(batchSize, _channels, Crop, Crop);
        batch.Label.Reshape(batchSize);
        // Context padding and the parts of grown windows beyond the image stay 0.
        batch.Data.Data.Clear();
        int numFg = (int)(batchSize * p.FgFraction);
        for (int item = 0; item < batchSize; item++)
        {
            var pool = item < batchSize - numFg ? _background : _foreground;
            var window = pool[Rng.NextInt(pool.Count)];
            bool mirror = _mirror && Rng.NextInt(2) == 1;
            LoadWindow(window, mirror, batch.Data.Data.Slice(item * _channels * Crop * Crop, _channels * Crop * Crop));
            batch.Label.Data[item] = window.Label;
        }
    }

    private void LoadWindow(Window window, bool mirror, Span<float> output)
    {
        var p = P;
        var (path, cached) = _images[window.Image];
        DecodedImage image;
        try
        {
            image = cached != null ? ImageDecoder.Decode(cached, gray: _channels == 1, source: path) : ImageDecoder.ReadFile(path, gray: _channels == 1);
        }
        catch (CremaException e)
        {
            throw Error($"window file '{p.Source}': {e.Message}");
        }
        int crop = Crop;
        int x1 = window.X1, y1 = window.Y1, x2 = window.X2, y2 = window.Y2;
        Check(x2 < image.Width && y2 < image.Height, $"image '{path}' is {image.Width}×{image.Height}, smaller than the window file says");
        int outH = crop, outW = crop, padH = 0, padW = 0;
        if (p.ContextPad > 0 || p.CropMode == "square")
        {
            // Grow the window so that after warping it to crop² exactly context_pad pixels of context surround it.
            float contextScale = crop / (float)(crop - (2 * (int)p.ContextPad));
            float halfH = (y2 - y1 + 1) / 2f, halfW = (x2 - x1 + 1) / 2f;
            float centreX = x1 + halfW, centreY = y1 + halfH;
            if (p.CropMode == "square")
            {
                halfH = halfW = MathF.Max(halfH, halfW);
            }
            x1 = Round(centreX - (halfW * contextScale));
            x2 = Round(centreX + (halfW * contextScale));
            y1 = Round(centreY - (halfH * contextScale));
            y2 = Round(centreY + (halfH * contextScale));
            // Clip to the image; the clipped-off parts become zero padding, scaled like the region.
            int fullW = x2 - x1 + 1, fullH = y2 - y1 + 1;
            int padX1 = Math.Max(0, -x1), padY1 = Math.Max(0, -y1);
            int padX2 = Math.Max(0, x2 - image.Width + 1), padY2 = Math.Max(0, y2 - image.Height + 1);
            x1 += padX1;
            x2 -= padX2;
            y1 += padY1;
            y2 -= padY2;
            float scaleX = crop / (float)fullW, scaleY = crop / (float)fullH;
            outW = Round((x2 - x1 + 1) * scaleX);
            outH = Round((y2 - y1 + 1) * scaleY);
            padH = Round(padY1 * scaleY);
            padW = mirror ? Round(padX2 * scaleX) : Round(padX1 * scaleX);
            outH = Math.Min(outH, crop - padH);
            outW = Math.Min(outW, crop - padW);
            Check(outH > 0 && outW > 0, $"window ({window.X1}, {window.Y1})–({window.X2}, {window.Y2}) of '{path}' warps to nothing");
        }

        var warped = ImageDecoder.Resize(Cut(image, x1, y1, x2 - x1 + 1, y2 - y1 + 1), outH, outW);
        int meanOff = (_meanWidth - crop) / 2;
        for (int c = 0; c < _channels; c++)
        {
            float meanValue = _meanValues.Length == 0 ? 0 : _meanValues[_meanValues.Length == 1 ? 0 : c];
            for (int h = 0; h < outH; h++)
            {
                for (int w = 0; w < outW; w++)
                {
                    float pixel = warped.Data[(((c * outH) + h) * outW) + (mirror ? outW - 1 - w : w)];
                    float mean = _mean != null ? _mean[(((c * _meanHeight) + h + meanOff + padH) * _meanWidth) + w + meanOff + padW] : meanValue;
                    output[(((c * crop) + h + padH) * crop) + w + padW] = (pixel - mean) * _scale;
                }
            }
        }
    }

    private static int Round(float v) => (int)MathF.Round(v, MidpointRounding.AwayFromZero);

    // The (w × h) region at (x, y) of every channel.
    private static DecodedImage Cut(DecodedImage image, int x, int y, int w, int h)
    {
        var data = new byte[image.Channels * h * w];
        for (int c = 0; c < image.Channels; c++)
        {
            for (int row = 0; row < h; row++)
            {
                image.Data.AsSpan((((c * image.Height) + y + row) * image.Width) + x, w).CopyTo(data.AsSpan(((c * h) + row) * w, w));
            }
        }
        return new DecodedImage(data, image.Channels, h, w);
    }
}
