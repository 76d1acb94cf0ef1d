using Crema.Layers;

namespace Crema.Nets;

// OptimizeForInference with InferenceBlobs.OutputsOnly: a residual sum y = act(x + r) is computed by the layer producing x
// (a convolution, adding r in its GEMM's epilogue while each tile is in cache), when nothing else reads x. ResNet-50 runs
// 16 such sums, each otherwise a pass reading two blobs and writing a third.
public sealed partial class Net
{
    private void FuseResidualSums(OrderedDictionary<string, int> counts)
    {
        for (int e = 0; e < _layers.Count; e++)
        {
            var layer = _layers[e];
            if (layer is not IResidualSum { IsUnitSumOfTwo: true } sum || layer.FusedIntoEarlierLayer || layer.LossWeight(0) != 0
                || _bottoms[e].Count != 2 || _tops[e].Count != 1)
            {
                continue;
            }
            // Either bottom may be the convolution's; try the later-computed one first (ResNet's main branch).
            for (int which = 1; which >= 0; which--)
            {
                Blob x = _bottoms[e][which], r = _bottoms[e][1 - which], y = _tops[e][0];
                int c = FusableProducer(x, r, y, e, l => l is IResidualFusionTarget { CanFuseResidual: true });
                if (c < 0)
                {
                    continue;
                }
                ((IResidualFusionTarget)_layers[c]).FuseResidual(r, y, sum.FusedActivationSlope);
                layer.FusedIntoEarlierLayer = true;
                string key = $"{layer.Type} into {_layers[c].Type}";
                counts[key] = counts.GetValueOrDefault(key) + 1;
                break;
            }
        }
    }

    // The layer c < e that can take over e's work on x (canTake: it can, as it stands), or -1. c writes x as its only top;
    // every layer in (c, e) touching x was fused into c; no layer after e reads x (it will stay unwritten) and x is no
    // output; no unfused layer in [c, e) writes r (so r, if any, is final when c runs) or touches y (written early now).
    private int FusableProducer(Blob x, Blob? r, Blob y, int e, Func<Layer, bool> canTake)
    {
        if (ReferenceEquals(x, r) || ReferenceEquals(x, y) || ReferenceEquals(r, y) || NextLayerUsing(x, e) >= 0 || _outputs.Contains(x))
        {
            return -1;
        }
        for (int j = e - 1; j >= 0; j--)
        {
            if (_layers[j].FusedIntoEarlierLayer)
            {
                continue;
            }
            if ((r != null && _tops[j].Contains(r)) || _tops[j].Contains(y) || _bottoms[j].Contains(y))
            {
                return -1;
            }
            if (_tops[j].Contains(x))
            {
                bool canFuse = _tops[j].Count == 1 && !_bottoms[j].Contains(x) && _layers[j].LossWeight(0) == 0 && canTake(_layers[j]);
                return canFuse ? j : -1;
            }
            if (_bottoms[j].Contains(x))
            {
                return -1;
            }
        }
        return -1;
    }

    // Concats along channels whose bottoms come from convolutions: each such convolution writes its images into its channel
    // range of the Concat's top; the Concat copies the other bottoms, or is skipped when none is left.
    private void FuseConcats(OrderedDictionary<string, int> counts)
    {
        for (int e = 0; e < _layers.Count; e++)
        {
            var layer = _layers[e];
            if (layer is not IConcatInference concat || layer.FusedIntoEarlierLayer || layer.LossWeight(0) != 0 || _bottoms[e].Count < 2
                || _tops[e].Count != 1 || concat.ConcatAxis != 1)
            {
                continue;
            }
            Blob y = _tops[e][0];
            int total = y.ShapeAt(1), offset = 0, left = 0;
            for (int i = 0; i < _bottoms[e].Count; i++)
            {
                Blob x = _bottoms[e][i];
                int channels = x.ShapeAt(1);
                bool once = _bottoms[e].Count(b => ReferenceEquals(b, x)) == 1;
                int c = once ? FusableProducer(x, null, y, e, l => l is IConcatFusionTarget { CanWriteIntoConcat: true }) : -1;
                if (c >= 0)
                {
                    ((IConcatFusionTarget)_layers[c]).WriteIntoConcat(y, offset, total);
                    concat.LeaveBottomToProducer(i);
                    left++;
                }
                offset += channels;
            }
            if (left == _bottoms[e].Count)
            {
                layer.FusedIntoEarlierLayer = true;
                counts["Concat into Convolution"] = counts.GetValueOrDefault("Concat into Convolution") + 1;
            }
        }
    }
}
