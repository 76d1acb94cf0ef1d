using Crema.Nets;
using Crema.Proto;

namespace Crema.Imaging;

/// <summary>How images become a net's input, as the keyword arguments of pycaffe's <c>Classifier</c> and <c>Detector</c>.</summary>
/// <param name="Mean">Per-channel mean, in the net's channel order (after <paramref name="ChannelSwap"/>), e.g. (104, 117, 123) for BGR ImageNet nets.</param>
/// <param name="MeanImage">A mean image (1, K, H, W) of the input's size, instead of <paramref name="Mean"/>.</param>
/// <param name="RawScale">Multiplies the [0, 1] image before the mean is subtracted (255 for nets trained on 0–255 pixels).</param>
/// <param name="ChannelSwap">Channel order, e.g. (2, 1, 0) for RGB → BGR.</param>
/// <param name="InputScale">Multiplies the result after the mean is subtracted.</param>
public sealed record ImagePreprocessing(float[]? Mean = null, Blob? MeanImage = null, float? RawScale = null, int[]? ChannelSwap = null, float? InputScale = null)
{
    /// <summary>Caffe's ImageNet recipe for nets such as CaffeNet and SqueezeNet: BGR, 0–255, minus (104, 117, 123).</summary>
    public static ImagePreprocessing ImageNet { get; } = new(Mean: [104f, 117f, 123f], RawScale: 255, ChannelSwap: [2, 1, 0]);

    /// <summary>A transformer for <paramref name="net"/>'s first input, which must be (N, K, H, W): transpose (2, 0, 1) and these settings.</summary>
    /// <param name="net">The net whose first input receives the images.</param>
    /// <param name="user">Who asks (Classifier, Detector), for the error message.</param>
    internal (Transformer Transformer, string Input) CreateTransformer(Net net, string user)
    {
        if (net.Inputs.Count == 0)
        {
            throw new CremaException($"Net '{net.Name}' has no Input layer to feed images into");
        }
        string input = net.Inputs[0];
        var shape = net.Blob(input).Shape;
        if (shape.Count != 4)
        {
            throw new CremaException($"{user}: input '{input}' has shape ({string.Join(" ", shape)}); it needs (N, K, H, W)");
        }
        var transformer = Transformer.ForNet(net);
        transformer.SetTranspose(input, 2, 0, 1);
        if (Mean != null)
        {
            transformer.SetMean(input, Mean);
        }
        if (MeanImage != null)
        {
            transformer.SetMean(input, MeanImage);
        }
        if (InputScale is float inputScale)
        {
            transformer.SetInputScale(input, inputScale);
        }
        if (RawScale is float rawScale)
        {
            transformer.SetRawScale(input, rawScale);
        }
        if (ChannelSwap != null)
        {
            transformer.SetChannelSwap(input, ChannelSwap);
        }
        return (transformer, input);
    }

    internal static Net LoadNet(string modelFile, string weightsFile)
    {
        var net = new Net(ProtoFiles.ReadNetText(modelFile), Phase.Test, Path.GetDirectoryName(Path.GetFullPath(modelFile)));
        net.CopyTrainedLayersFrom(weightsFile);
        // The net is private to the Classifier/Detector and only ever runs forward.
        net.OptimizeForInference();
        return net;
    }
}

/// <summary>
/// pycaffe's <c>caffe.Classifier</c> (and <c>classify.py</c>): resizes images to <see cref="ImageDimensions"/>, takes
/// the ten oversampled crops (corners, centre, mirrors) or the centre crop of the net's input size, preprocesses them,
/// runs the net in batches, and returns the first output per image, averaged over the ten crops.
/// </summary>
public sealed class Classifier : IDisposable
{
    private readonly bool _ownsNet;

    /// <summary>Loads <paramref name="modelFile"/> (a deploy prototxt with an Input layer) in the TEST phase with <paramref name="weightsFile"/>'s weights.</summary>
    /// <param name="modelFile">The deploy prototxt.</param>
    /// <param name="weightsFile">The .caffemodel with the trained weights.</param>
    /// <param name="preprocessing">Mean, scales and channel order applied to each crop; default: none.</param>
    /// <param name="imageDimensions">(height, width) images are resized to before cropping; default: the input's size (no crop margin).</param>
    public Classifier(string modelFile, string weightsFile, ImagePreprocessing? preprocessing = null, (int Height, int Width)? imageDimensions = null)
        : this(ImagePreprocessing.LoadNet(modelFile, weightsFile), preprocessing, imageDimensions, ownsNet: true)
    {
    }

    /// <summary>Classifies with an existing net (not disposed by this classifier).</summary>
    public Classifier(Net net, ImagePreprocessing? preprocessing = null, (int Height, int Width)? imageDimensions = null)
        : this(net, preprocessing, imageDimensions, ownsNet: false)
    {
    }

    private Classifier(Net net, ImagePreprocessing? preprocessing, (int Height, int Width)? imageDimensions, bool ownsNet)
    {
        ArgumentNullException.ThrowIfNull(net);
        Net = net;
        _ownsNet = ownsNet;
        (Transformer, Input) = (preprocessing ?? new ImagePreprocessing()).CreateTransformer(net, "Classifier");
        var shape = net.Blob(Input).Shape;
        CropDimensions = (shape[2], shape[3]);
        ImageDimensions = imageDimensions ?? CropDimensions;
        if (ImageDimensions.Height < CropDimensions.Height || ImageDimensions.Width < CropDimensions.Width)
        {
            throw new CremaException($"Classifier: image dimensions {ImageDimensions.Height}x{ImageDimensions.Width} are smaller than the net's input {CropDimensions.Height}x{CropDimensions.Width}");
        }
    }

    /// <summary>The net that classifies (TEST phase).</summary>
    public Net Net { get; }

    /// <summary>The input blob images go into (the net's first input).</summary>
    public string Input { get; }

    /// <summary>The preprocessing applied to each crop.</summary>
    public Transformer Transformer { get; }

    /// <summary>The net input's (height, width): the crop size.</summary>
    public (int Height, int Width) CropDimensions { get; }

    /// <summary>The size images are resized to before cropping.</summary>
    public (int Height, int Width) ImageDimensions { get; }

    /// <summary>
    /// Class scores for each image (the net's first output, one row per image): with <paramref name="oversample"/>, the
    /// mean over the ten crops of <see cref="ImageIO.Oversample"/>; otherwise the centre crop alone.
    /// </summary>
    public float[][] Predict(IReadOnlyList<FloatImage> images, bool oversample = true)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
        {
            return [];
        }
        var resized = images.Select(i => ImageIO.Resize(i, ImageDimensions.Height, ImageDimensions.Width)).ToArray();
        IReadOnlyList<FloatImage> crops;
        if (oversample)
        {
            crops = ImageIO.Oversample(resized, CropDimensions.Height, CropDimensions.Width);
        }
        else
        {
            var (top, left) = ImageIO.CentreCrop(ImageDimensions.Height, ImageDimensions.Width, CropDimensions.Height, CropDimensions.Width);
            crops = resized.Select(i => i.Crop(top, left, CropDimensions.Height, CropDimensions.Width)).ToArray();
        }
        var batch = crops.SelectMany(c => Transformer.Preprocess(Input, c)).ToArray();
        string output = Net.Outputs[0];
        float[] scores = Net.ForwardAll(new Dictionary<string, float[]> { [Input] = batch })[output];
        int perCrop = scores.Length / crops.Count;
        int group = oversample ? 10 : 1;
        var result = new float[images.Count][];
        for (int i = 0; i < images.Count; i++)
        {
            var row = new float[perCrop];
            for (int g = 0; g < group; g++)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(row, scores.AsSpan(((i * group) + g) * perCrop, perCrop), row);
            }
            System.Numerics.Tensors.TensorPrimitives.Divide(row, group, row);
            result[i] = row;
        }
        return result;
    }

    /// <summary>Disposes the net when this classifier loaded it.</summary>
    public void Dispose()
    {
        if (_ownsNet)
        {
            Net.Dispose();
        }
    }
}
