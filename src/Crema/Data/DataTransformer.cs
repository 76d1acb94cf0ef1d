using Crema.Proto;

namespace Crema.Data;

/// <summary>
/// Caffe's DataTransformer: y[c,h,w] = (x[c, h+h₀, w'+w₀] − mean) · scale, where mean is the mean_file blob at the
/// source position or mean_value[c]; (h₀, w₀) is a random crop offset in TRAIN and the centre in TEST; w' = w, or
/// crop−1−w when mirrored (a coin flip per item whenever mirror is set, in either phase, as Caffe does).
/// One instance serves one thread: it keeps a scratch buffer and draws from that thread's <see cref="Rng"/>.
/// </summary>
public sealed class DataTransformer
{
    private readonly TransformationParameter _param;
    private readonly float[]? _mean;
    private readonly int[] _meanShape = [];
    private float[] _scratch = [];

    public DataTransformer(TransformationParameter? param, Phase phase)
    {
        _param = param ?? new TransformationParameter();
        Phase = phase;
        if (_param.HasMeanFile && _param.MeanValue.Count > 0)
        {
            throw new CremaException($"transform_param: cannot specify mean_file ('{_param.MeanFile}') and mean_value at the same time");
        }
        if (_param.ForceColor && _param.ForceGray)
        {
            throw new CremaException("transform_param: force_color and force_gray cannot both be set");
        }
        if (_param.HasMeanFile)
        {
            using var blob = LoadMean(_param.MeanFile);
            _mean = blob.Data.ToArray();
            _meanShape = [blob.Channels, blob.Height, blob.Width];
        }
    }

    public Phase Phase { get; }

    public int CropSize => (int)_param.CropSize;

    /// <summary>Reads a mean image saved as a binaryproto BlobProto (compute_image_mean's output).</summary>
    public static Blob LoadMean(string path)
    {
        if (!File.Exists(path))
        {
            throw new CremaException($"mean_file '{path}' not found");
        }
        try
        {
            var proto = BlobProto.Parser.ParseFrom(File.ReadAllBytes(path));
            var blob = new Blob();
            blob.FromProto(proto);
            if (blob.NumAxes > 4 || (blob.NumAxes == 4 && blob.Num != 1))
            {
                throw new CremaException($"mean_file '{path}' has shape ({string.Join(",", blob.Shape)}); expected a single C×H×W image");
            }
            return blob;
        }
        catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or ArgumentException)
        {
            throw new CremaException($"mean_file '{path}' is not a valid BlobProto: {e.Message}", e);
        }
    }

    /// <summary>
    /// A raw datum from an encoded one (convert_imageset -encoded), decoded as Caffe does: 3-channel BGR under force_color,
    /// 1-channel under force_gray, else the image's own colour (gray stays 1 channel); raw datums are returned unchanged.
    /// </summary>
    public Datum Decode(Datum datum)
    {
        ArgumentNullException.ThrowIfNull(datum);
        if (!datum.Encoded)
        {
            return datum;
        }
        bool? gray = _param.ForceColor ? false : _param.ForceGray ? true : null;
        return ImageDecoder.DecodeDatum(datum, gray);
    }

    /// <summary>The shape one transformed datum takes: (1, C, crop or H, crop or W); encoded datums are decoded first.</summary>
    public int[] InferShape(Datum datum)
    {
        datum = Decode(datum);
        DatumCount(datum);
        return InferShape(datum.Channels, datum.Height, datum.Width);
    }

    /// <summary>C·H·W of a datum, computed without overflow; sizes read from a file that are not positive or too large throw.</summary>
    internal static int DatumCount(Datum datum)
    {
        long count = (long)datum.Channels * datum.Height * datum.Width;
        if (datum.Channels <= 0 || datum.Height <= 0 || datum.Width <= 0 || count > Array.MaxLength)
        {
            throw new CremaException($"datum has shape {datum.Channels}×{datum.Height}×{datum.Width}; channels, height and width must be positive and their product at most {Array.MaxLength}");
        }
        return (int)count;
    }

    /// <summary>The shape one transformed image takes: (1, C, crop or H, crop or W).</summary>
    public int[] InferShape(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return InferShape(image.Channels, image.Height, image.Width);
    }

    public int[] InferShape(int channels, int height, int width)
    {
        CheckCrop(height, width);
        int crop = CropSize;
        return [1, channels, crop > 0 ? crop : height, crop > 0 ? crop : width];
    }

    /// <summary>Transforms one datum (uint8 <c>data</c>, <c>float_data</c>, or encoded image bytes) into <paramref name="output"/> (C × H' × W').</summary>
    public void Transform(Datum datum, Span<float> output)
    {
        datum = Decode(datum);
        int count = DatumCount(datum);
        if (_scratch.Length < count)
        {
            _scratch = new float[count];
        }
        var source = _scratch.AsSpan(0, count);
        var bytes = datum.Data.Span;
        if (bytes.Length > 0)
        {
            if (bytes.Length != count)
            {
                throw new CremaException($"datum has {bytes.Length} data bytes but shape {datum.Channels}×{datum.Height}×{datum.Width} needs {count}");
            }
            for (int i = 0; i < count; i++)
            {
                source[i] = bytes[i];
            }
        }
        else
        {
            if (datum.FloatData.Count != count)
            {
                throw new CremaException($"datum has {datum.FloatData.Count} float_data values but shape {datum.Channels}×{datum.Height}×{datum.Width} needs {count}");
            }
            for (int i = 0; i < count; i++)
            {
                source[i] = datum.FloatData[i];
            }
        }
        Transform(source, datum.Channels, datum.Height, datum.Width, output);
    }

    /// <summary>Transforms one decoded 8-bit image (C × H × W) into <paramref name="output"/> (C × H' × W').</summary>
    public void Transform(DecodedImage image, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(image);
        int count = image.Data.Length;
        if (_scratch.Length < count)
        {
            _scratch = new float[count];
        }
        var source = _scratch.AsSpan(0, count);
        for (int i = 0; i < count; i++)
        {
            source[i] = image.Data[i];
        }
        Transform(source, image.Channels, image.Height, image.Width, output);
    }

    /// <summary>Transforms one C×H×W item of floats into <paramref name="output"/> (C × H' × W').</summary>
    public void Transform(ReadOnlySpan<float> input, int channels, int height, int width, Span<float> output)
    {
        CheckCrop(height, width);
        if (_mean != null && (_meanShape[0] != channels || _meanShape[1] != height || _meanShape[2] != width))
        {
            throw new CremaException($"mean_file '{_param.MeanFile}' is {_meanShape[0]}×{_meanShape[1]}×{_meanShape[2]} but the data is {channels}×{height}×{width}");
        }
        var meanValues = _param.MeanValue;
        if (meanValues.Count > 1 && meanValues.Count != channels)
        {
            throw new CremaException($"transform_param has {meanValues.Count} mean_value entries; specify either 1 or as many as channels ({channels})");
        }

        // Draw order matches Caffe: the mirror coin first, then the crop offsets.
        bool mirror = _param.Mirror && Rng.NextInt(2) == 1;
        int crop = CropSize;
        int outH = height, outW = width, hOff = 0, wOff = 0;
        if (crop > 0)
        {
            outH = outW = crop;
            if (Phase == Phase.Train)
            {
                hOff = Rng.NextInt(height - crop + 1);
                wOff = Rng.NextInt(width - crop + 1);
            }
            else
            {
                hOff = (height - crop) / 2;
                wOff = (width - crop) / 2;
            }
        }
        if (output.Length < channels * outH * outW)
        {
            throw new ArgumentException($"output holds {output.Length} values, the transformed item needs {channels * outH * outW}", nameof(output));
        }

        float scale = _param.Scale;
        for (int c = 0; c < channels; c++)
        {
            float meanValue = meanValues.Count == 0 ? 0 : meanValues[meanValues.Count == 1 ? 0 : c];
            for (int h = 0; h < outH; h++)
            {
                int src = (c * height + hOff + h) * width + wOff;
                int dst = (c * outH + h) * outW;
                for (int w = 0; w < outW; w++)
                {
                    float mean = _mean != null ? _mean[src + w] : meanValue;
                    output[dst + (mirror ? outW - 1 - w : w)] = (input[src + w] - mean) * scale;
                }
            }
        }
    }

    private void CheckCrop(int height, int width)
    {
        int crop = CropSize;
        if (crop > 0 && (height < crop || width < crop))
        {
            throw new CremaException($"crop_size {crop} is larger than the {height}×{width} input");
        }
    }
}
