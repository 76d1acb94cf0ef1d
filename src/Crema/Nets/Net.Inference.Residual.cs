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
                int c = ResidualProducer(x, r, y, e);
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

    // The layer c < e that can compute e's y = act(x + r) in x's place, or -1. c writes x as its only top and can take a
    // residual; every layer in (c, e) touching x was fused into c; no layer after e reads x (it will stay unwritten) and x
    // is no output; no unfused layer in [c, e) writes r (so r is final when c runs) or touches y (written early now).
    private int ResidualProducer(Blob x, Blob r, Blob y, int e)
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
            if (_tops[j].Contains(r) || _tops[j].Contains(y) || _bottoms[j].Contains(y))
            {
                return -1;
            }
            if (_tops[j].Contains(x))
            {
                bool canFuse = _tops[j].Count == 1 && !_bottoms[j].Contains(x) && _layers[j].LossWeight(0) == 0
                    && _layers[j] is IResidualFusionTarget { CanFuseResidual: true };
                return canFuse ? j : -1;
            }
            if (_bottoms[j].Contains(x))
            {
                return -1;
            }
        }
        return -1;
    }
}
