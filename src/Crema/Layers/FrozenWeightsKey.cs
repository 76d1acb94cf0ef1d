namespace Crema.Layers;

/// <summary>
/// Identifies the weights a frozen layer derived a cache from (packed or transformed copies): their address, length, the
/// layer's freeze generation (bumped by every Net.OptimizeForInference, the documented way to apply edited weights) and 16
/// sampled values, since a managed copy can move and a new one could land where an old one was.
/// </summary>
internal sealed class FrozenWeightsKey
{
    private const int SampleCount = 16;
    private readonly float[] _samples = new float[SampleCount];
    private unsafe float* _source;
    private int _length = -1;
    private int _generation;

    /// <summary>True when <paramref name="weights"/> are, as far as can be told, those last passed to <see cref="Capture"/>.</summary>
    public unsafe bool Matches(ReadOnlySpan<float> weights, int generation)
    {
        fixed (float* p = weights)
        {
            if (p != _source || weights.Length != _length || generation != _generation)
            {
                return false;
            }
        }
        for (int i = 0; i < SampleCount && weights.Length > 0; i++)
        {
            if (BitConverter.SingleToInt32Bits(weights[SampleIndex(i, weights.Length)]) != BitConverter.SingleToInt32Bits(_samples[i]))
            {
                return false;
            }
        }
        return true;
    }

    public unsafe void Capture(ReadOnlySpan<float> weights, int generation)
    {
        fixed (float* p = weights)
        {
            _source = p;
        }
        _length = weights.Length;
        _generation = generation;
        for (int i = 0; i < SampleCount && weights.Length > 0; i++)
        {
            _samples[i] = weights[SampleIndex(i, weights.Length)];
        }
    }

    private static int SampleIndex(int i, int length) => (int)((long)length * ((2 * i) + 1) / (2 * SampleCount));
}
