using Crema.Nets;

namespace Crema.Imaging;

/// <summary>
/// pycaffe's <c>caffe.io.Transformer</c>: turns an H × W × K image into the array an input blob expects, and back.
/// <see cref="Preprocess"/> runs, in this order: resize to the blob's height and width, transpose, channel swap,
/// × raw scale, − mean, × input scale. <see cref="Deprocess"/> undoes them in reverse.
/// </summary>
/// <example>
/// The usual set-up for an ImageNet net trained with Caffe (BGR, 0–255, mean pixel subtracted):
/// <code>
/// var t = Transformer.ForNet(net);
/// t.SetTranspose("data", 2, 0, 1);      // H×W×K → K×H×W
/// t.SetChannelSwap("data", 2, 1, 0);    // RGB → BGR
/// t.SetRawScale("data", 255);           // [0, 1] → [0, 255]
/// t.SetMean("data", [104f, 117f, 123f]); // per channel, in the swapped (BGR) order
/// float[] chw = t.Preprocess("data", ImageIO.Load("cat.jpg"));
/// </code>
/// </example>
public sealed class Transformer
{
    private readonly Dictionary<string, int[]> _inputs;
    private readonly Dictionary<string, int[]> _transpose = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int[]> _channelSwap = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float> _rawScale = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (float[] Values, int[] Shape)> _mean = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float> _inputScale = new(StringComparer.Ordinal);

    /// <summary>A transformer for inputs given by name and blob shape (N, K, H, W), as <c>Transformer({'data': shape})</c>.</summary>
    public Transformer(IReadOnlyDictionary<string, int[]> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        _inputs = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in inputs)
        {
            if (shape.Length != 4)
            {
                throw new CremaException($"Transformer: input '{name}' has shape ({string.Join(", ", shape)}); an image input needs 4 axes (N, K, H, W)");
            }
            _inputs[name] = (int[])shape.Clone();
        }
    }

    /// <summary>A transformer for every 4-axis input blob of <paramref name="net"/> (pycaffe: <c>{'data': net.blobs['data'].data.shape}</c>).</summary>
    public static Transformer ForNet(Net net)
    {
        ArgumentNullException.ThrowIfNull(net);
        return new Transformer(net.Inputs.Where(n => net.Blob(n).NumAxes == 4).ToDictionary(n => n, n => net.Blob(n).Shape.ToArray(), StringComparer.Ordinal));
    }

    /// <summary>The blob shape (N, K, H, W) registered for <paramref name="input"/>.</summary>
    public IReadOnlyList<int> InputShape(string input) => Shape(input);

    /// <summary>The axis order applied to the image, e.g. (2, 0, 1) for H×W×K → K×H×W (<c>set_transpose</c>).</summary>
    public void SetTranspose(string input, params int[] order)
    {
        Shape(input);
        ArgumentNullException.ThrowIfNull(order);
        if (order.Length != 3 || !order.Order().SequenceEqual([0, 1, 2]))
        {
            throw new CremaException($"Transformer: transpose order ({string.Join(", ", order)}) for '{input}' must be a permutation of (0, 1, 2)");
        }
        _transpose[input] = (int[])order.Clone();
    }

    /// <summary>
    /// The channel order taken after the transpose, e.g. (2, 1, 0) for RGB → BGR (<c>set_channel_swap</c>): output
    /// channel i is input channel order[i]. It applies to the first axis after the transpose.
    /// </summary>
    public void SetChannelSwap(string input, params int[] order)
    {
        int channels = Shape(input)[1];
        ArgumentNullException.ThrowIfNull(order);
        if (order.Length != channels || !order.Order().SequenceEqual(Enumerable.Range(0, channels)))
        {
            throw new CremaException($"Transformer: channel swap ({string.Join(", ", order)}) for '{input}' must be a permutation of the input's {channels} channels");
        }
        _channelSwap[input] = (int[])order.Clone();
    }

    /// <summary>Multiplies the raw image before the mean is subtracted, e.g. 255 to go from [0, 1] to [0, 255] (<c>set_raw_scale</c>).</summary>
    public void SetRawScale(string input, float scale)
    {
        Shape(input);
        _rawScale[input] = scale;
    }

    /// <summary>Multiplies the result after the mean is subtracted (<c>set_input_scale</c>), e.g. 0.017 for a unit-variance input.</summary>
    public void SetInputScale(string input, float scale)
    {
        Shape(input);
        _inputScale[input] = scale;
    }

    /// <summary>One mean value per channel (in the order after the channel swap), subtracted everywhere (<c>set_mean</c> with a 1-D array).</summary>
    public void SetMean(string input, float[] perChannel)
    {
        int channels = Shape(input)[1];
        ArgumentNullException.ThrowIfNull(perChannel);
        if (perChannel.Length != channels)
        {
            throw new CremaException($"Transformer: {perChannel.Length} mean values for '{input}', which has {channels} channels");
        }
        _mean[input] = ((float[])perChannel.Clone(), [channels, 1, 1]);
    }

    /// <summary>
    /// A mean image subtracted element by element (<c>set_mean</c> with a K×H×W array), e.g. a
    /// <c>compute_image_mean</c> .binaryproto read with <see cref="Blob.FromProto"/>: shape (1, K, H, W), (K, H, W) or
    /// (H, W), equal to the input's K×H×W. For a mean image of another size (ImageNet's 256×256 for a 227×227 input),
    /// use its per-channel average: <see cref="ChannelMeans"/>.
    /// </summary>
    public void SetMean(string input, Blob mean)
    {
        ArgumentNullException.ThrowIfNull(mean);
        int[] expected = Shape(input)[1..];
        int[] given = mean.Shape.SkipWhile((d, i) => d == 1 && mean.NumAxes - i > 3).ToArray();
        if (given.Length == 2)
        {
            given = [1, .. given];
        }
        if (!given.SequenceEqual(expected))
        {
            throw new CremaException(
                $"Transformer: mean shape {mean.ShapeString()} is incompatible with input '{input}' ({string.Join(" ", expected)}); use Transformer.ChannelMeans(mean) for a per-channel mean");
        }
        _mean[input] = (mean.Data.ToArray(), expected);
    }

    /// <summary>The average of each channel of a (1, K, H, W) or (K, H, W) mean image (pycaffe: <c>mu.mean(1).mean(1)</c>).</summary>
    public static float[] ChannelMeans(Blob mean)
    {
        ArgumentNullException.ThrowIfNull(mean);
        if (mean.NumAxes < 3)
        {
            throw new CremaException($"mean blob {mean.ShapeString()} needs at least 3 axes (K, H, W)");
        }
        int k = mean.ShapeAt(-3);
        int plane = mean.ShapeAt(-2) * mean.ShapeAt(-1);
        var data = mean.Data;
        var result = new float[k];
        for (int c = 0; c < k; c++)
        {
            double sum = 0;
            foreach (float v in data.Slice(c * plane, plane))
            {
                sum += v;
            }
            result[c] = (float)(sum / plane);
        }
        return result;
    }

    /// <summary>
    /// The blob-ready array for one image (pycaffe's <c>preprocess</c>): resized to the input's H × W when it differs,
    /// then transposed, channel-swapped, × raw scale, − mean, × input scale. With the usual transpose (2, 0, 1) the
    /// result is K × H × W, one item of the input blob.
    /// </summary>
    public float[] Preprocess(string input, FloatImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int[] blob = Shape(input);
        if (image.Height != blob[2] || image.Width != blob[3])
        {
            image = ImageIO.Resize(image, blob[2], blob[3]);
        }
        var data = (float[])image.Data.Clone();
        int[] shape = [image.Height, image.Width, image.Channels];
        if (_transpose.TryGetValue(input, out var order))
        {
            (data, shape) = Transpose(data, shape, order);
        }
        if (_channelSwap.TryGetValue(input, out var swap))
        {
            data = TakeAxis0(data, shape, swap, input);
        }
        if (_rawScale.TryGetValue(input, out float raw))
        {
            Scale(data, raw);
        }
        if (_mean.TryGetValue(input, out var mean))
        {
            SubtractMean(data, shape, mean, input, sign: -1);
        }
        if (_inputScale.TryGetValue(input, out float inputScale))
        {
            Scale(data, inputScale);
        }
        return data;
    }

    /// <summary>
    /// The image back from one item of the input blob (pycaffe's <c>deprocess</c>): ÷ input scale, + mean, ÷ raw scale,
    /// channels and axes put back. <paramref name="data"/> holds the input's K·H·W values in the preprocessed layout.
    /// </summary>
    public FloatImage Deprocess(string input, ReadOnlySpan<float> data)
    {
        int[] blob = Shape(input);
        int[] shape = blob[1..];
        if (data.Length != shape[0] * shape[1] * shape[2])
        {
            throw new CremaException($"Transformer: deprocess of '{input}' needs {shape[0] * shape[1] * shape[2]} values (one item), got {data.Length}");
        }
        var values = data.ToArray();
        if (_inputScale.TryGetValue(input, out float inputScale))
        {
            Scale(values, 1 / inputScale);
        }
        if (_mean.TryGetValue(input, out var mean))
        {
            SubtractMean(values, shape, mean, input, sign: 1);
        }
        if (_rawScale.TryGetValue(input, out float raw))
        {
            Scale(values, 1 / raw);
        }
        if (_channelSwap.TryGetValue(input, out var swap))
        {
            values = TakeAxis0(values, shape, Inverse(swap), input);
        }
        if (_transpose.TryGetValue(input, out var order))
        {
            (values, shape) = Transpose(values, shape, Inverse(order));
        }
        return new FloatImage(shape[0], shape[1], shape[2], values);
    }

    private int[] Shape(string input) => _inputs.TryGetValue(input, out var shape)
        ? shape
        : throw new CremaException($"Transformer: '{input}' is not one of the net inputs ({string.Join(", ", _inputs.Keys)})");

    private static int[] Inverse(int[] permutation)
    {
        var inverse = new int[permutation.Length];
        for (int i = 0; i < permutation.Length; i++)
        {
            inverse[permutation[i]] = i;
        }
        return inverse;
    }

    // NumPy's a.transpose(order): result axis i is source axis order[i].
    private static (float[] Data, int[] Shape) Transpose(float[] data, int[] shape, int[] order)
    {
        int[] outShape = [shape[order[0]], shape[order[1]], shape[order[2]]];
        int[] strides = [shape[1] * shape[2], shape[2], 1];
        int s0 = strides[order[0]], s1 = strides[order[1]], s2 = strides[order[2]];
        var result = new float[data.Length];
        int o = 0;
        for (int i = 0; i < outShape[0]; i++)
        {
            for (int j = 0; j < outShape[1]; j++)
            {
                for (int k = 0; k < outShape[2]; k++)
                {
                    result[o++] = data[(i * s0) + (j * s1) + (k * s2)];
                }
            }
        }
        return (result, outShape);
    }

    // NumPy's a[order, :, :].
    private static float[] TakeAxis0(float[] data, int[] shape, int[] order, string input)
    {
        if (shape[0] != order.Length)
        {
            throw new CremaException($"Transformer: channel swap of '{input}' has {order.Length} entries but the first axis after the transpose has {shape[0]} (set the transpose so that channels come first)");
        }
        int plane = shape[1] * shape[2];
        var result = new float[data.Length];
        for (int i = 0; i < order.Length; i++)
        {
            data.AsSpan(order[i] * plane, plane).CopyTo(result.AsSpan(i * plane));
        }
        return result;
    }

    private static void Scale(float[] data, float factor) => System.Numerics.Tensors.TensorPrimitives.Multiply(data, factor, data);

    // data (d0, d1, d2) ± mean, the mean either (d0, 1, 1) broadcast or (d0, d1, d2) elementwise.
    private static void SubtractMean(float[] data, int[] shape, (float[] Values, int[] Shape) mean, string input, int sign)
    {
        if (mean.Shape[0] != shape[0] || (mean.Values.Length != shape[0] && mean.Values.Length != data.Length))
        {
            throw new CremaException($"Transformer: mean ({string.Join(" ", mean.Shape)}) of '{input}' does not match the array ({string.Join(" ", shape)}) after the transpose");
        }
        int plane = shape[1] * shape[2];
        for (int c = 0; c < shape[0]; c++)
        {
            var span = data.AsSpan(c * plane, plane);
            if (mean.Values.Length == shape[0])
            {
                System.Numerics.Tensors.TensorPrimitives.Add(span, sign * mean.Values[c], span);
            }
            else
            {
                var m = mean.Values.AsSpan(c * plane, plane);
                if (sign < 0)
                {
                    System.Numerics.Tensors.TensorPrimitives.Subtract(span, m, span);
                }
                else
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(span, m, span);
                }
            }
        }
    }
}
