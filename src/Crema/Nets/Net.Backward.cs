using Crema.Proto;

namespace Crema.Nets;

public sealed partial class Net
{
    // Caffe's backward pass over the graph: a layer needs backward only if it contributes to a loss and some
    // bottom or parameter of it wants a gradient; force_backward overrides.
    private void AnalyzeBackward(NetParameter param)
    {
        var underLoss = new HashSet<string>(StringComparer.Ordinal);
        var skipBackprop = new HashSet<string>(StringComparer.Ordinal);
        for (int layerId = _layers.Count - 1; layerId >= 0; layerId--)
        {
            bool contributesLoss = false;
            bool skipPropagateDown = true;
            for (int t = 0; t < _tops[layerId].Count; t++)
            {
                string name = _blobs[_topIds[layerId][t]].Name;
                if (_layers[layerId].LossWeight(t) != 0 || underLoss.Contains(name))
                {
                    contributesLoss = true;
                }
                if (!skipBackprop.Contains(name))
                {
                    skipPropagateDown = false;
                }
                if (contributesLoss && !skipPropagateDown)
                {
                    break;
                }
            }
            if (_layerNeedBackward[layerId] && skipPropagateDown)
            {
                _layerNeedBackward[layerId] = false;
                Array.Fill(_bottomNeedBackward[layerId], false);
            }
            if (!contributesLoss)
            {
                _layerNeedBackward[layerId] = false;
            }
            Log.Info($"{_layers[layerId].Name} {(_layerNeedBackward[layerId] ? "needs" : "does not need")} backward computation.");
            for (int b = 0; b < _bottoms[layerId].Count; b++)
            {
                string name = _blobs[_bottomIds[layerId][b]].Name;
                if (contributesLoss)
                {
                    underLoss.Add(name);
                }
                else
                {
                    _bottomNeedBackward[layerId][b] = false;
                }
                if (!_bottomNeedBackward[layerId][b])
                {
                    skipBackprop.Add(name);
                }
            }
        }
        if (param.ForceBackward)
        {
            for (int layerId = 0; layerId < _layers.Count; layerId++)
            {
                _layerNeedBackward[layerId] = true;
                for (int b = 0; b < _bottomNeedBackward[layerId].Length; b++)
                {
                    _bottomNeedBackward[layerId][b] |= _layers[layerId].AllowForceBackward(b);
                    _blobNeedBackward[_bottomIds[layerId][b]] |= _bottomNeedBackward[layerId][b];
                }
                for (int p = 0; p < _layers[layerId].ParamPropagateDown.Count; p++)
                {
                    _layers[layerId].ParamPropagateDown[p] = true;
                }
            }
        }
    }
}
