using Crema.Proto;

namespace Crema.Fillers;

/// <summary>Initialises a blob from a <see cref="FillerParameter"/>: constant, uniform, gaussian, positive_unitball, xavier, msra, bilinear.</summary>
public static class Filler
{
    public static readonly IReadOnlyList<string> Types = ["constant", "uniform", "gaussian", "positive_unitball", "xavier", "msra", "bilinear"];

    /// <summary>Fills <paramref name="blob"/>; <paramref name="parameter"/> null means constant 0.</summary>
    public static void Fill(Blob blob, FillerParameter? parameter)
    {
        parameter ??= new FillerParameter();
        var data = blob.Data;
        switch (parameter.Type)
        {
            case "constant":
                data.Fill(parameter.Value);
                break;
            case "uniform":
                // As Caffe's caffe_rng_uniform (CHECK_LE(a, b)): an empty range is a mistake, not a constant.
                if (!(parameter.Min <= parameter.Max))
                {
                    throw new CremaException($"uniform filler: min {parameter.Min} is above max {parameter.Max}");
                }
                Rng.Uniform(data, parameter.Min, parameter.Max);
                break;
            case "gaussian":
                if (!(parameter.Std >= 0))
                {
                    throw new CremaException($"gaussian filler: std {parameter.Std} must not be negative");
                }
                Rng.Gaussian(data, parameter.Mean, parameter.Std);
                if (parameter.Sparse >= 0)
                {
                    Sparsify(blob, parameter.Sparse);
                }
                break;
            case "positive_unitball":
                PositiveUnitball(blob);
                break;
            case "xavier":
            {
                float scale = MathF.Sqrt(3f / FanNorm(blob, parameter.VarianceNorm));
                Rng.Uniform(data, -scale, scale);
                break;
            }
            case "msra":
                Rng.Gaussian(data, 0, MathF.Sqrt(2f / FanNorm(blob, parameter.VarianceNorm)));
                break;
            case "bilinear":
                Bilinear(blob);
                break;
            default:
                throw new CremaException($"unknown filler type '{parameter.Type}' (known: {string.Join(", ", Types)})");
        }
    }

    // fan_in = count / shape(0); fan_out = count / shape(1), as Caffe computes them for (out, in, kh, kw) weights.
    private static float FanNorm(Blob blob, FillerParameter.Types.VarianceNorm norm)
    {
        if (blob.Count == 0 || blob.NumAxes == 0)
        {
            return 1;
        }
        float fanIn = (float)blob.Count / blob.ShapeAt(0);
        float fanOut = blob.NumAxes > 1 ? (float)blob.Count / blob.ShapeAt(1) : blob.Count;
        return norm switch
        {
            FillerParameter.Types.VarianceNorm.FanOut => fanOut,
            FillerParameter.Types.VarianceNorm.Average => (fanIn + fanOut) / 2f,
            _ => fanIn,
        };
    }

    private static void Sparsify(Blob blob, int sparse)
    {
        int numOutputs = blob.NumAxes > 0 ? blob.ShapeAt(0) : 1;
        float probability = Math.Min(1f, (float)sparse / numOutputs);
        var mask = new float[blob.Count];
        Rng.Bernoulli(mask, probability);
        var data = blob.Data;
        for (int i = 0; i < data.Length; i++)
        {
            data[i] *= mask[i];
        }
    }

    private static void PositiveUnitball(Blob blob)
    {
        var data = blob.Data;
        Rng.Uniform(data, 0, 1);
        int num = blob.NumAxes > 0 ? blob.ShapeAt(0) : 1;
        int dim = num == 0 ? 0 : blob.Count / num;
        for (int n = 0; n < num; n++)
        {
            var row = data.Slice(n * dim, dim);
            float sum = System.Numerics.Tensors.TensorPrimitives.Sum((ReadOnlySpan<float>)row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, sum, row);
        }
    }

    // Bilinear upsampling kernel for Deconvolution weights (out, in, k, k).
    private static void Bilinear(Blob blob)
    {
        if (blob.NumAxes != 4 || blob.Width != blob.Height)
        {
            throw new CremaException($"bilinear filler needs a 4-D blob with square kernels, got shape {blob.ShapeString()}");
        }
        int w = blob.Width;
        int f = (w + 1) / 2;
        float c = (w - 1) / (2f * f);
        var data = blob.Data;
        for (int i = 0; i < data.Length; i++)
        {
            float x = i % w;
            float y = i / w % blob.Height;
            data[i] = (1 - MathF.Abs(x / f - c)) * (1 - MathF.Abs(y / f - c));
        }
    }
}
