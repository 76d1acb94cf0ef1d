
namespace Crema.Nets;

/// <summary>The <c>debug_info: true</c> lines, in Caffe's words: mean |data| and |diff| per top, bottom and parameter.</summary>
public sealed partial class Net
{
    private void ForwardDebugInfo(int layerId)
    {
        var layer = _layers[layerId];
        foreach (var top in _tops[layerId])
        {
            Log.Info($"    [Forward] Layer {layer.Name}, top blob {top.Name} data: {Log.Num(MeanAbs(top.Data))}");
        }
        for (int p = 0; p < layer.Blobs.Count; p++)
        {
            Log.Info($"    [Forward] Layer {layer.Name}, param blob {p} data: {Log.Num(MeanAbs(layer.Blobs[p].Data))}");
        }
    }

    private void BackwardDebugInfo(int layerId)
    {
        var layer = _layers[layerId];
        for (int b = 0; b < _bottoms[layerId].Count; b++)
        {
            if (_bottomNeedBackward[layerId][b])
            {
                var bottom = _bottoms[layerId][b];
                Log.Info($"    [Backward] Layer {layer.Name}, bottom blob {bottom.Name} diff: {Log.Num(MeanAbs(bottom.Diff))}");
            }
        }
        for (int p = 0; p < layer.Blobs.Count; p++)
        {
            if (layer.ParamPropagateDown.Count > p && layer.ParamPropagateDown[p])
            {
                Log.Info($"    [Backward] Layer {layer.Name}, param blob {p} diff: {Log.Num(MeanAbs(layer.Blobs[p].Diff))}");
            }
        }
    }

    internal void UpdateDebugInfo()
    {
        foreach (var (blob, _, layerId, index, owner) in _params)
        {
            if (owner < 0)
            {
                Log.Info($"    [Update] Layer {_layers[layerId].Name}, param {index} data: {Log.Num(MeanAbs(blob.Data))}; diff: {Log.Num(MeanAbs(blob.Diff))}");
            }
            else
            {
                Log.Info($"    [Update] Layer {_layers[layerId].Name}, param blob {index} (owned by \"{_params[owner].Name}\") diff: {Log.Num(MeanAbs(blob.Diff))}");
            }
        }
    }

    private static double MeanAbs(ReadOnlySpan<float> values) =>
        values.Length == 0 ? 0 : System.Numerics.Tensors.TensorPrimitives.SumOfMagnitudes(values) / values.Length;
}
