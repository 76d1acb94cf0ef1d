using Crema.Nets;

namespace Crema.Imaging;

/// <summary>A window in an image: rows [<see cref="YMin"/>, <see cref="YMax"/>), columns [<see cref="XMin"/>, <see cref="XMax"/>) (pycaffe's (ymin, xmin, ymax, xmax)).</summary>
public readonly record struct Window(int YMin, int XMin, int YMax, int XMax);

/// <summary>One window's prediction (the net's first output for its crop), with the image it came from.</summary>
public sealed record Detection(string? Image, Window Window, float[] Prediction);

/// <summary>
/// pycaffe's <c>caffe.Detector</c> (and <c>detect.py</c>): crops each window of each image (optionally with
/// <see cref="ContextPad"/> pixels of surrounding context, R-CNN style), preprocesses the crops, runs them through the
/// net in batches and returns one prediction per window.
/// </summary>
public sealed class Detector : IDisposable
{
    private readonly bool _ownsNet;
    private readonly FloatImage _cropMean;

    /// <summary>Loads <paramref name="modelFile"/> (deploy prototxt) in the TEST phase with <paramref name="weightsFile"/>'s weights.</summary>
    public Detector(string modelFile, string weightsFile, ImagePreprocessing? preprocessing = null, int contextPad = 0)
        : this(ImagePreprocessing.LoadNet(modelFile, weightsFile), preprocessing, contextPad, ownsNet: true)
    {
    }

    /// <summary>Detects with an existing net (not disposed by this detector).</summary>
    public Detector(Net net, ImagePreprocessing? preprocessing = null, int contextPad = 0)
        : this(net, preprocessing, contextPad, ownsNet: false)
    {
    }

    private Detector(Net net, ImagePreprocessing? preprocessing, int contextPad, bool ownsNet)
    {
        ArgumentNullException.ThrowIfNull(net);
        Net = net;
        _ownsNet = ownsNet;
        (Transformer, Input) = (preprocessing ?? new ImagePreprocessing()).CreateTransformer(net, "Detector");
        var shape = net.Blob(Input).Shape;
        if (contextPad < 0 || 2 * contextPad >= shape[3])
        {
            throw new CremaException($"Detector: context pad {contextPad} must be in [0, {(shape[3] - 1) / 2}] for a {shape[3]}-pixel-wide input");
        }
        ContextPad = contextPad;
        // The image value that preprocesses to 0 in every channel (mean / raw scale, in the image's channel order):
        // context that falls outside the image is filled with it, as pycaffe's crop_mean.
        _cropMean = Transformer.Deprocess(Input, new float[shape[1] * shape[2] * shape[3]]);
    }

    /// <summary>The net that scores the windows (TEST phase).</summary>
    public Net Net { get; }

    /// <summary>The input blob crops go into (the net's first input).</summary>
    public string Input { get; }

    /// <summary>The preprocessing applied to each crop.</summary>
    public Transformer Transformer { get; }

    /// <summary>Pixels of context, in the net's input, around each window (0: the window alone).</summary>
    public int ContextPad { get; }

    /// <summary>Loads each image file (<see cref="ImageIO.Load"/>) and predicts every window in it, in order.</summary>
    public IReadOnlyList<Detection> DetectWindows(IEnumerable<(string Image, IReadOnlyList<Window> Windows)> imagesWindows)
    {
        ArgumentNullException.ThrowIfNull(imagesWindows);
        return Detect(imagesWindows.Select(iw => ((string?)iw.Image, ImageIO.Load(iw.Image), iw.Windows)).ToList());
    }

    /// <summary>Predicts every window of images already in memory (H × W × K, values as <see cref="ImageIO.Load"/> gives).</summary>
    public IReadOnlyList<Detection> DetectWindows(IEnumerable<(FloatImage Image, IReadOnlyList<Window> Windows)> imagesWindows)
    {
        ArgumentNullException.ThrowIfNull(imagesWindows);
        return Detect(imagesWindows.Select(iw => ((string?)null, iw.Image, iw.Windows)).ToList());
    }

    private List<Detection> Detect(List<(string? Name, FloatImage Image, IReadOnlyList<Window> Windows)> items)
    {
        var windows = items.SelectMany(i => i.Windows.Select(w => (i.Name, Window: w, Crop: Crop(i.Image, w)))).ToList();
        if (windows.Count == 0)
        {
            return [];
        }
        var batch = windows.SelectMany(w => Transformer.Preprocess(Input, w.Crop)).ToArray();
        float[] scores = Net.ForwardAll(new Dictionary<string, float[]> { [Input] = batch })[Net.Outputs[0]];
        int per = scores.Length / windows.Count;
        return windows.Select((w, i) => new Detection(w.Name, w.Window, scores.AsSpan(i * per, per).ToArray())).ToList();
    }

    /// <summary>
    /// The crop for one window (pycaffe's <c>Detector.crop</c>): without context pad, the window's pixels; with it, the
    /// window enlarged so that, once resized to the input, it has <see cref="ContextPad"/> pixels of context on each side;
    /// the part outside the image is filled with the mean.
    /// </summary>
    public FloatImage Crop(FloatImage image, Window window)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (window.YMin < 0 || window.XMin < 0 || window.YMax > image.Height || window.XMax > image.Width || window.YMin >= window.YMax || window.XMin >= window.XMax)
        {
            throw new CremaException($"Detector: window {window} is empty or outside the {image.Height}x{image.Width} image");
        }
        if (ContextPad == 0)
        {
            return image.Crop(window.YMin, window.XMin, window.YMax - window.YMin, window.XMax - window.XMin);
        }
        // Pycaffe's arithmetic, kept as is (inclusive +1 sizes, round-half-even), so the crops match its crops.
        int cropSize = _cropMean.Width;
        double scale = cropSize / ((1.0 * cropSize) - (ContextPad * 2));
        double halfH = (window.YMax - window.YMin + 1) / 2.0;
        double halfW = (window.XMax - window.XMin + 1) / 2.0;
        double centreY = window.YMin + halfH;
        double centreX = window.XMin + halfW;
        double[] box =
        [
            Math.Round(centreY - (scale * halfH)), Math.Round(centreX - (scale * halfW)),
            Math.Round(centreY + (scale * halfH)), Math.Round(centreX + (scale * halfW)),
        ];
        double scaleH = cropSize / (box[2] - box[0] + 1);
        double scaleW = cropSize / (box[3] - box[1] + 1);
        int padY = (int)Math.Round(Math.Max(0, -box[0]) * scaleH);
        int padX = (int)Math.Round(Math.Max(0, -box[1]) * scaleW);
        box[0] = Math.Clamp(box[0], 0, image.Height);
        box[1] = Math.Clamp(box[1], 0, image.Width);
        box[2] = Math.Clamp(box[2], 0, image.Height);
        box[3] = Math.Clamp(box[3], 0, image.Width);
        int cropH = Math.Min((int)Math.Round((box[2] - box[0] + 1) * scaleH), _cropMean.Height - padY);
        int cropW = Math.Min((int)Math.Round((box[3] - box[1] + 1) * scaleW), cropSize - padX);
        var context = image.Crop((int)box[0], (int)box[1], (int)(box[2] - box[0]), (int)(box[3] - box[1]));
        context = ImageIO.Resize(context, cropH, cropW);
        var crop = new FloatImage(_cropMean.Height, _cropMean.Width, _cropMean.Channels, (float[])_cropMean.Data.Clone());
        for (int y = 0; y < cropH; y++)
        {
            context.Data.AsSpan(y * cropW * crop.Channels, cropW * crop.Channels)
                .CopyTo(crop.Data.AsSpan((((padY + y) * crop.Width) + padX) * crop.Channels));
        }
        return crop;
    }

    /// <summary>Disposes the net when this detector loaded it.</summary>
    public void Dispose()
    {
        if (_ownsNet)
        {
            Net.Dispose();
        }
    }
}
