using Crema.Proto;

namespace Crema.Nets;

/// <summary>Learnable parameters: each layer's blobs, sharing by <c>param { name }</c>, and the owners the solver updates.</summary>
public sealed partial class Net
{
    /// <summary>The parameters the solver updates, with their lr / decay multipliers: shared parameters appear once (their owner).</summary>
    public IReadOnlyList<LearnableParam> Learnables => _learnables;

    /// <summary>The blobs of <see cref="Learnables"/>, in the same order.</summary>
    public IReadOnlyList<Blob> LearnableParams => _learnableBlobs;

    public IReadOnlyList<float> ParamLrMults => _lrMults;

    public IReadOnlyList<float> ParamDecayMults => _decayMults;

    /// <summary>Display names of the learnable parameters ("conv1 #0" or the shared param name).</summary>
    public IReadOnlyList<string> LearnableParamNames { get; private set; } = [];

    private void AppendParam(LayerParameter lp, int layerId, int paramId)
    {
        var layer = _layers[layerId];
        var blob = layer.Blobs[paramId];
        string paramName = paramId < lp.Param.Count ? lp.Param[paramId].Name : "";
        blob.Name = string.IsNullOrEmpty(paramName) ? $"{lp.Name} #{paramId}" : paramName;
        int netParamId = _params.Count;
        var spec = paramId < lp.Param.Count ? lp.Param[paramId] : null;
        if (string.IsNullOrEmpty(paramName) || !_paramNameIndex.TryGetValue(paramName, out int ownerNetId))
        {
            if (!string.IsNullOrEmpty(paramName))
            {
                _paramNameIndex[paramName] = netParamId;
            }
            _params.Add(new ParamSlot(blob, blob.Name, layerId, paramId, Owner: -1));
            _learnables.Add(new LearnableParam(blob)
            {
                LrMult = spec?.LrMult ?? 1f,
                DecayMult = spec?.DecayMult ?? 1f,
                HasLrMult = spec?.HasLrMult ?? false,
                HasDecayMult = spec?.HasDecayMult ?? false,
            });
            return;
        }
        // Shared parameter: this layer's blob becomes a view of the owner's data and diff.
        _params.Add(new ParamSlot(blob, blob.Name, layerId, paramId, ownerNetId));
        var owner = _params[ownerNetId].Blob;
        bool permissive = spec != null && spec.ShareMode == ParamSpec.Types.DimCheckMode.Permissive;
        if (permissive ? owner.Count != blob.Count : !owner.ShapeEquals(blob))
        {
            throw new CremaException(
                $"Layer '{lp.Name}': cannot share param '{paramName}' ({(permissive ? "count" : "shape")} mismatch): owner has shape {owner.ShapeString()}, this layer's blob #{paramId} has {blob.ShapeString()}");
        }
        blob.ShareData(owner);
        blob.ShareDiff(owner);
        var learnable = _learnables.Find(p => p.Blob == owner)!;
        if (spec != null && spec.HasLrMult)
        {
            if (learnable.HasLrMult && learnable.LrMult != spec.LrMult)
            {
                throw new CremaException($"Layer '{lp.Name}': shared param '{paramName}' has mismatched lr_mult ({spec.LrMult} vs {learnable.LrMult})");
            }
            learnable.LrMult = spec.LrMult;
            learnable.HasLrMult = true;
        }
        if (spec != null && spec.HasDecayMult)
        {
            if (learnable.HasDecayMult && learnable.DecayMult != spec.DecayMult)
            {
                throw new CremaException($"Layer '{lp.Name}': shared param '{paramName}' has mismatched decay_mult ({spec.DecayMult} vs {learnable.DecayMult})");
            }
            learnable.DecayMult = spec.DecayMult;
            learnable.HasDecayMult = true;
        }
    }

    /// <summary>Layer <paramref name="layer"/>'s parameter <paramref name="index"/> is a view of another layer's (shared by name).</summary>
    private bool IsSharedParam(int layer, int index) => _params.Exists(p => p.Layer == layer && p.Index == index && p.Owner >= 0);

    // One layer's parameter blob: where it sits, the name it had when set up, and the net index of its owner (-1: owns itself).
    private readonly record struct ParamSlot(Blob Blob, string Name, int Layer, int Index, int Owner);
}
