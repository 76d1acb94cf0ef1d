using System.Text;
using Crema.Layers;

namespace Crema.Testing;

/// <summary>How the checker turns a layer's tops into the scalar objective E whose gradient it checks.</summary>
public enum GradientObjective
{
    /// <summary>E = Σ rᵢ·yᵢ with a fixed random r (default): every top element contributes with its own weight, so dropped terms show.</summary>
    RandomProjection,

    /// <summary>E = Σ yᵢ²/2, Caffe's objective (kept for comparison; misses small-slope bugs).</summary>
    SumOfSquares,
}

/// <summary>One element whose analytic and numeric gradients disagree.</summary>
public sealed record GradientMismatch(string Blob, int Index, double Analytic, double Numeric);

/// <summary>Thrown by <see cref="GradientChecker"/> when a backward pass disagrees with central differences.</summary>
public sealed class GradientCheckException(string message, IReadOnlyList<GradientMismatch> mismatches) : Exception(message)
{
    public IReadOnlyList<GradientMismatch> Mismatches { get; } = mismatches;
}

/// <summary>
/// Checks a layer's Backward against central differences of its Forward, as Caffe's GradientChecker:
/// numeric = (E(x+h) − E(x−h)) / 2h, pass when |analytic − numeric| ≤ threshold·max(1, |analytic|, |numeric|).
/// Inputs within <see cref="KinkRange"/> of <see cref="Kink"/> (e.g. ReLU at 0) are skipped.
/// </summary>
public sealed class GradientChecker
{
    public GradientChecker(float stepsize = 1e-2f, float threshold = 1e-3f, int seed = 1701, float kink = 0f, float kinkRange = -1f)
    {
        Stepsize = stepsize;
        Threshold = threshold;
        Seed = seed;
        Kink = kink;
        KinkRange = kinkRange;
    }

    public float Stepsize { get; }
    public float Threshold { get; }
    public int Seed { get; }
    public float Kink { get; }
    public float KinkRange { get; }
    public GradientObjective Objective { get; init; } = GradientObjective.RandomProjection;

    /// <summary>Also check the layer's learnable blobs (default true).</summary>
    public bool CheckParameters { get; init; } = true;

    /// <summary>Sets the layer up, then checks every bottom (or only <paramref name="checkBottom"/>; -1 = all) and every parameter blob.</summary>
    public void CheckGradient(Layer layer, IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top, int checkBottom = -1)
    {
        layer.SetUp(bottom, top);
        CheckGradientSingle(layer, bottom, top, checkBottom, topId: -1, topDataId: -1, elementwise: false);
    }

    /// <summary>Caffe's exhaustive check: one objective per top element (E = y_j), every element of every top.</summary>
    public void CheckGradientExhaustive(Layer layer, IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top, int checkBottom = -1)
    {
        layer.SetUp(bottom, top);
        for (int t = 0; t < top.Count; t++)
        {
            for (int j = 0; j < top[t].Count; j++)
            {
                CheckGradientSingle(layer, bottom, top, checkBottom, t, j, elementwise: false);
            }
        }
    }

    /// <summary>For neuron layers: y_i depends only on x_i, so E = y_i is checked against x_i alone, for every i.</summary>
    public void CheckGradientElementwise(Layer layer, IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        layer.SetUp(bottom, top);
        for (int t = 0; t < top.Count; t++)
        {
            for (int j = 0; j < top[t].Count; j++)
            {
                CheckGradientSingle(layer, bottom, top, checkBottom: -1, t, j, elementwise: true);
            }
        }
    }

    private void CheckGradientSingle(Layer layer, IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top,
        int checkBottom, int topId, int topDataId, bool elementwise)
    {
        // The blobs to check, with a label for messages.
        var blobs = new List<(Blob Blob, string Label)>();
        var propagateDown = new bool[bottom.Count];
        if (CheckParameters && !elementwise)
        {
            for (int i = 0; i < layer.Blobs.Count; i++)
            {
                blobs.Add((layer.Blobs[i], $"param #{i}"));
            }
        }
        for (int i = 0; i < bottom.Count; i++)
        {
            if (checkBottom < 0 || checkBottom == i)
            {
                blobs.Add((bottom[i], $"bottom #{i}"));
                propagateDown[i] = true;
            }
        }

        // Analytic gradient: forward, set dE/dy, backward, copy the diffs.
        foreach (var p in layer.Blobs)
        {
            p.Diff.Clear();
        }
        Rng.Seed(Seed);
        layer.Forward(bottom, top);
        float[][] projection = MakeProjection(top);
        SetObjectiveDiff(top, projection, topId, topDataId);
        Rng.Seed(Seed);
        layer.Backward(top, propagateDown, bottom);
        var analytic = blobs.Select(b => b.Blob.Diff.ToArray()).ToList();

        var mismatches = new List<GradientMismatch>();
        for (int b = 0; b < blobs.Count; b++)
        {
            var blob = blobs[b].Blob;
            for (int i = 0; i < blob.Count; i++)
            {
                if (elementwise && i != topDataId)
                {
                    continue;
                }
                float x = blob.Data[i];
                if (KinkRange >= 0 && MathF.Abs(x - Kink) <= KinkRange)
                {
                    continue;
                }
                blob.Data[i] = x + Stepsize;
                Rng.Seed(Seed);
                double plus = Evaluate(layer, bottom, top, projection, topId, topDataId);
                blob.Data[i] = x - Stepsize;
                Rng.Seed(Seed);
                double minus = Evaluate(layer, bottom, top, projection, topId, topDataId);
                blob.Data[i] = x;
                double numeric = (plus - minus) / (2.0 * Stepsize);
                double a = analytic[b][i];
                double scale = Math.Max(Math.Max(Math.Abs(a), Math.Abs(numeric)), 1.0);
                if (!(Math.Abs(a - numeric) <= Threshold * scale))
                {
                    mismatches.Add(new GradientMismatch(blobs[b].Label, i, a, numeric));
                }
            }
        }
        if (mismatches.Count > 0)
        {
            var sb = new StringBuilder();
            sb.Append("Layer '").Append(layer.Name).Append("' (type ").Append(layer.Type).Append("): ")
              .Append(mismatches.Count).Append(" gradient mismatch(es)");
            if (topId >= 0)
            {
                sb.Append(" for objective top #").Append(topId).Append('[').Append(topDataId).Append(']');
            }
            foreach (var m in mismatches.Take(10))
            {
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\n  {m.Blob}[{m.Index}]: analytic {m.Analytic:G6} vs numeric {m.Numeric:G6}");
            }
            throw new GradientCheckException(sb.ToString(), mismatches);
        }
    }

    private float[][] MakeProjection(IReadOnlyList<Blob> top)
    {
        var random = new Random(Seed);
        var result = new float[top.Count][];
        for (int t = 0; t < top.Count; t++)
        {
            result[t] = new float[top[t].Count];
            for (int i = 0; i < result[t].Length; i++)
            {
                result[t][i] = (float)(random.NextDouble() * 2 - 1);
            }
        }
        return result;
    }

    // dE/dy for the chosen objective.
    private void SetObjectiveDiff(IReadOnlyList<Blob> top, float[][] projection, int topId, int topDataId)
    {
        for (int t = 0; t < top.Count; t++)
        {
            var diff = top[t].Diff;
            if (topId >= 0)
            {
                diff.Clear();
                if (t == topId)
                {
                    diff[topDataId] = 1;
                }
            }
            else if (Objective == GradientObjective.RandomProjection)
            {
                projection[t].CopyTo(diff);
            }
            else
            {
                top[t].Data.CopyTo(diff);
            }
        }
    }

    private double Evaluate(Layer layer, IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top, float[][] projection, int topId, int topDataId)
    {
        layer.Forward(bottom, top);
        if (topId >= 0)
        {
            return top[topId].Data[topDataId];
        }
        double e = 0;
        for (int t = 0; t < top.Count; t++)
        {
            var data = top[t].Data;
            for (int i = 0; i < data.Length; i++)
            {
                e += Objective == GradientObjective.RandomProjection ? (double)projection[t][i] * data[i] : 0.5 * (double)data[i] * data[i];
            }
        }
        return e;
    }
}
