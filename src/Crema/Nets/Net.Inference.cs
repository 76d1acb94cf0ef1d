using System.Globalization;
using Crema.Layers;
using Crema.Proto;

namespace Crema.Nets;

public sealed partial class Net
{
    /// <summary>True once <see cref="OptimizeForInference"/> has run: Forward uses folded/fused layers and Backward throws.</summary>
    public bool OptimizedForInference { get; private set; }

    /// <summary>
    /// Rewrites how a TEST net computes Forward, not what it computes: a BatchNorm (global statistics) and/or a Scale that
    /// run in place on a Convolution's top are folded into private copies of the convolution's weights and bias, and an
    /// in-place ReLU (any negative_slope) after a Convolution or an Eltwise SUM is applied in the same pass that writes it.
    /// The folded and fused layers are then skipped. Only in-place chains are touched, and only when no other layer reads
    /// the blob in between, so every blob holds after Forward exactly what the unoptimised net gives (up to float rounding).
    /// The learnable blobs are never modified (Params, Save and ToProto give the originals); the folded copies are computed
    /// from them now, so call this again after changing weights (CopyTrainedLayersFrom, editing Params). Afterwards the
    /// net has no Backward. A partial Forward(start, end) that stops between a Convolution and a layer fused into it
    /// leaves the fused result in the shared blob. Each folded convolution holds its own weight copy (memory: its weights once more).
    /// With <see cref="InferenceBlobs.OutputsOnly"/>, residual sums are fused into the convolutions feeding them as well,
    /// and those convolutions' own tops are then left unwritten (see <see cref="InferenceBlobs"/>).
    /// </summary>
    /// <param name="blobs">Which blobs must keep the unoptimised net's values.</param>
    /// <exception cref="CremaException">The net was not built for the TEST phase.</exception>
    public void OptimizeForInference(InferenceBlobs blobs = InferenceBlobs.KeepAll)
    {
        if (Phase != Phase.Test)
        {
            throw new CremaException($"Net '{Name}': OptimizeForInference needs a TEST-phase net (this one is {Phase}); training changes the weights it would fold");
        }
        foreach (var layer in _layers)
        {
            (layer as IInferenceFusionTarget)?.ClearInferenceFusion();
            (layer as IConcatInference)?.CopyEveryBottom();
            layer.FusedIntoEarlierLayer = false;
            layer.InferenceFrozen = true;
            layer.InferenceGeneration++;
        }
        OptimizedForInference = true;

        // "<folded or fused type> into <target type>" → count, in order of first occurrence, for the one summary line.
        var counts = new OrderedDictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < _layers.Count; i++)
        {
            if (_layers[i] is not IInferenceFusionTarget target || _layers[i].FusedIntoEarlierLayer || _tops[i].Count != 1 || _layers[i].LossWeight(0) != 0)
            {
                continue;
            }
            var blob = _tops[i][0];
            int channels = target.FoldableChannels;
            double[]? scale = null, shift = null;
            var absorbed = new List<int>();
            int activation = -1;
            // Walk the layers that next touch the top: in-place affine maps first, then at most one activation.
            for (int j = NextLayerUsing(blob, i); j >= 0; j = NextLayerUsing(blob, j))
            {
                if (!RunsInPlaceOn(j, blob))
                {
                    break;
                }
                var layer = _layers[j];
                if (layer is IChannelAffine affine && channels > 0 && affine.TryGetChannelAffine(_bottoms[j], out var a, out var b) && a.Length == channels)
                {
                    Compose(ref scale, ref shift, a, b);
                    absorbed.Add(j);
                }
                else if (layer is ILeakyRelu && target.CanFuseActivation)
                {
                    activation = j;
                    break;
                }
                else
                {
                    break;
                }
            }
            if (scale != null)
            {
                target.FoldChannelAffine(scale, shift!);
            }
            if (activation >= 0)
            {
                target.FuseActivation(((ILeakyRelu)_layers[activation]).NegativeSlope);
                absorbed.Add(activation);
            }
            foreach (int j in absorbed)
            {
                _layers[j].FusedIntoEarlierLayer = true;
                string key = $"{_layers[j].Type} into {_layers[i].Type}";
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }
        if (blobs == InferenceBlobs.OutputsOnly)
        {
            FuseResidualSums(counts);
            FuseConcats(counts);
        }
        int skipped = counts.Values.Sum();
        string what = skipped == 0 ? "nothing to fold or fuse" : string.Join(", ", counts.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Value} {kv.Key}")));
        Log.Info($"Optimized net \"{Name}\" for inference: {what}; {skipped} of {_layers.Count} layers skipped in Forward");
    }

    // y = a₂·(a₁·x + b₁) + b₂ = (a₂a₁)·x + (a₂b₁ + b₂), in double.
    private static void Compose(ref double[]? scale, ref double[]? shift, double[] a, double[] b)
    {
        if (scale == null || shift == null)
        {
            (scale, shift) = ((double[])a.Clone(), (double[])b.Clone());
            return;
        }
        for (int c = 0; c < scale.Length; c++)
        {
            scale[c] *= a[c];
            shift[c] = (a[c] * shift[c]) + b[c];
        }
    }

    // The first layer after `after` with `blob` among its bottoms or tops; -1 if none.
    private int NextLayerUsing(Blob blob, int after)
    {
        for (int j = after + 1; j < _layers.Count; j++)
        {
            if (_bottoms[j].Contains(blob) || _tops[j].Contains(blob))
            {
                return j;
            }
        }
        return -1;
    }

    private bool RunsInPlaceOn(int j, Blob blob) =>
        _bottoms[j].Count == 1 && _tops[j].Count == 1 && ReferenceEquals(_bottoms[j][0], blob) && ReferenceEquals(_tops[j][0], blob)
        && _layers[j].LossWeight(0) == 0 && !_layers[j].FusedIntoEarlierLayer;

    private void ThrowIfOptimizedForInference()
    {
        if (OptimizedForInference)
        {
            throw new CremaException($"Net '{Name}' was optimized for inference (OptimizeForInference folded and skipped layers): it has no Backward; build a new Net to compute gradients");
        }
    }
}
