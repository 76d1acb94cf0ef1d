using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// The unit of computation, with Caffe's lifecycle: <see cref="SetUp"/> (arity check, <see cref="LayerSetUp"/>, <see cref="Reshape"/>,
/// loss weights) once; then <see cref="Forward"/> (which calls <see cref="Reshape"/> first, as Caffe does) and <see cref="Backward"/>.
/// Subclasses implement <see cref="LayerSetUp"/>, <see cref="Reshape"/>, <see cref="ForwardCore"/> and <see cref="BackwardCore"/>.
/// Dispose frees the learnable blobs (the Net disposes its layers); a layer owning more (threads, files, scratch blobs)
/// overrides <see cref="Dispose(bool)"/>.
/// </summary>
public abstract class Layer : IDisposable
{
    private float[] _lossWeights = [];
    private readonly bool _userCode;

    protected Layer(LayerParameter param)
    {
        Param = param ?? throw new ArgumentNullException(nameof(param));
        Phase = param.Phase;
        _userCode = UserLayerException.IsUserType(GetType());
        foreach (var proto in param.Blobs)
        {
            var blob = new Blob();
            blob.FromProto(proto);
            Blobs.Add(blob);
        }
    }

    public LayerParameter Param { get; }

    public string Name => Param.Name;

    /// <summary>The prototxt type name this instance was created for.</summary>
    public string Type => Param.Type;

    public Phase Phase { get; set; }

    /// <summary>
    /// True once <c>Net.OptimizeForInference</c> has run on this layer's net: its weights are frozen and no Backward will
    /// run, so the layer may cache values derived from its weights (folded, transformed or packed copies). Never set in TRAIN.
    /// </summary>
    public bool InferenceFrozen { get; internal set; }

    /// <summary>Bumped by every <c>Net.OptimizeForInference</c>: caches derived from the weights while frozen are rebuilt after it.</summary>
    internal int InferenceGeneration { get; set; }

    /// <summary>
    /// True when <c>Net.OptimizeForInference</c> folded or fused this in-place layer into an earlier one, which already
    /// writes this layer's result into the shared blob: <see cref="Forward"/> then does nothing and returns 0.
    /// </summary>
    public bool FusedIntoEarlierLayer { get; internal set; }

    /// <summary>Learnable parameter blobs (weights, biases, …), saved in .caffemodel files in this order.</summary>
    public List<Blob> Blobs { get; } = [];

    /// <summary>Per learnable blob: whether Backward should compute its gradient (set by the Net from lr_mult).</summary>
    public List<bool> ParamPropagateDown { get; } = [];

    public virtual BlobCount BottomCount => BlobCount.Any;

    public virtual BlobCount TopCount => BlobCount.Any;

    /// <summary>True when a layer needs as many tops as bottoms (e.g. Split-like or neuron layers applied to several blobs).</summary>
    public virtual bool EqualBottomTopCount => false;

    /// <summary>When true the Net creates anonymous tops up to <see cref="TopCount"/>.Min if the prototxt names fewer.</summary>
    public virtual bool AutoTopBlobs => false;

    /// <summary>Whether force_backward may make this layer backpropagate into bottom <paramref name="bottomIndex"/> (false for labels).</summary>
    public virtual bool AllowForceBackward(int bottomIndex) => true;

    /// <summary>Loss weight of top <paramref name="topIndex"/> when the prototxt gives none: 1 for top 0 of loss layers, else 0.</summary>
    protected virtual float DefaultLossWeight(int topIndex) => 0f;

    public float LossWeight(int topIndex) => topIndex < _lossWeights.Length ? _lossWeights[topIndex] : 0f;

    public void SetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        CheckBlobCounts(bottom, top);
        try
        {
            LayerSetUp(bottom, top);
            Reshape(bottom, top);
        }
        catch (Exception e) when (_userCode && UserLayerException.ShouldWrap(e))
        {
            throw UserLayerException.Wrap(this, "SetUp", e);
        }
        SetLossWeights(top);
    }

    /// <summary>One-time set-up: read parameters, validate, create <see cref="Blobs"/>.</summary>
    public virtual void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    /// <summary>Sizes tops and scratch buffers from the bottoms. Called before every forward, so it must be cheap when nothing changed.</summary>
    public abstract void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top);

    /// <summary>Reshapes, computes the tops, and returns this layer's weighted contribution to the loss.</summary>
    public float Forward(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (FusedIntoEarlierLayer)
        {
            return 0;
        }
        try
        {
            Reshape(bottom, top);
            ForwardCore(bottom, top);
        }
        catch (Exception e) when (_userCode && UserLayerException.ShouldWrap(e))
        {
            throw UserLayerException.Wrap(this, "Forward", e);
        }
        float loss = 0;
        for (int i = 0; i < top.Count && i < _lossWeights.Length; i++)
        {
            if (_lossWeights[i] != 0)
            {
                // The top's diff holds the loss weight, so loss = Σ data·diff and Backward reads the weight from it, as in Caffe.
                // NOTE: refilled every pass because a Reshape that grows the top reallocates its diff.
                top[i].Diff.Fill(_lossWeights[i]);
                loss += System.Numerics.Tensors.TensorPrimitives.Dot((ReadOnlySpan<float>)top[i].Data, top[i].Diff);
            }
        }
        return loss;
    }

    /// <summary>Computes bottom diffs from top diffs (for bottoms where <paramref name="propagateDown"/> is true) and accumulates parameter diffs.</summary>
    public void Backward(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        try
        {
            BackwardCore(top, propagateDown, bottom);
        }
        catch (Exception e) when (_userCode && UserLayerException.ShouldWrap(e))
        {
            throw UserLayerException.Wrap(this, "Backward", e);
        }
    }

    protected abstract void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top);

    /// <summary>Default: a layer with no gradient refuses to be asked for one.</summary>
    protected virtual void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        for (int i = 0; i < propagateDown.Count; i++)
        {
            if (propagateDown[i])
            {
                throw new CremaException($"Layer '{Name}' (type {Type}) cannot backpropagate to bottom #{i} ('{bottom[i].Name}')");
            }
        }
    }

    /// <summary>Whether Backward should accumulate the gradient of learnable blob <paramref name="index"/>.</summary>
    protected bool ShouldComputeParamGradient(int index) => index >= ParamPropagateDown.Count || ParamPropagateDown[index];

    /// <summary>Throws a <see cref="CremaException"/> naming this layer.</summary>
    protected CremaException Error(string message) => new($"Layer '{Name}' (type {Type}): {message}");

    protected void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw Error(message);
        }
    }

    /// <summary>As <see cref="Check(bool, string)"/>, but an interpolated message is only built when the check fails (no allocation in Reshape).</summary>
    protected void Check(bool condition, [System.Runtime.CompilerServices.InterpolatedStringHandlerArgument(nameof(condition))] ref CheckMessage message)
    {
        if (!condition)
        {
            throw Error(message.ToStringAndClear());
        }
    }

    private void CheckBlobCounts(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (!BottomCount.Accepts(bottom.Count))
        {
            throw Error($"takes {BottomCount} bottom blob(s), got {bottom.Count}");
        }
        if (!TopCount.Accepts(top.Count))
        {
            throw Error($"produces {TopCount} top blob(s), got {top.Count}");
        }
        if (EqualBottomTopCount && bottom.Count != top.Count)
        {
            throw Error($"needs as many tops as bottoms, got {bottom.Count} bottom(s) and {top.Count} top(s)");
        }
    }

    private void SetLossWeights(IReadOnlyList<Blob> top)
    {
        if (Param.LossWeight.Count > 0 && Param.LossWeight.Count != top.Count)
        {
            throw Error($"has {Param.LossWeight.Count} loss_weight value(s) but {top.Count} top(s); give one per top or none");
        }
        _lossWeights = new float[top.Count];
        for (int i = 0; i < top.Count; i++)
        {
            _lossWeights[i] = Param.LossWeight.Count > 0 ? Param.LossWeight[i] : DefaultLossWeight(i);
            if (_lossWeights[i] != 0)
            {
                top[i].Diff.Fill(_lossWeights[i]);
            }
        }
    }

    /// <summary>
    /// LayerSetUp's learnable blobs, weights then (when <paramref name="biasShape"/> is given) bias: adopts the blobs loaded
    /// with the layer, each of which must have the expected shape (Caffe's legacy 4-D forms that differ only by leading 1s,
    /// e.g. a bias (1, 1, 1, N), are reshaped), or creates them and fills them. <paramref name="context"/> ends shape errors.
    /// </summary>
    protected void AdoptOrCreateWeights(int[] weightShape, FillerParameter? weightFiller, int[]? biasShape, FillerParameter? biasFiller, string context = "")
    {
        ArgumentNullException.ThrowIfNull(weightShape);
        if (Blobs.Count > 0)
        {
            Check(Blobs.Count == (biasShape != null ? 2 : 1),
                biasShape != null ? "expected 2 learnable blobs (weights, bias)" : "expected 1 learnable blob (weights; bias_term is false)");
            AdoptLoadedShape(Blobs[0], weightShape, "weight", context);
            if (biasShape != null)
            {
                AdoptLoadedShape(Blobs[1], biasShape, "bias", context);
            }
            return;
        }
        Blobs.Add(new Blob(weightShape));
        Fillers.Filler.Fill(Blobs[0], weightFiller);
        if (biasShape != null)
        {
            Blobs.Add(new Blob(biasShape));
            Fillers.Filler.Fill(Blobs[1], biasFiller);
        }
    }

    private void AdoptLoadedShape(Blob blob, int[] expected, string what, string context)
    {
        var actual = blob.Shape.SkipWhile(d => d == 1).ToArray();
        if (!actual.AsSpan().SequenceEqual(expected.AsSpan(expected.TakeWhile(d => d == 1).Count())))
        {
            throw Error($"{what} shape ({string.Join(", ", blob.Shape)}) does not match the expected ({string.Join(", ", expected)}){context}");
        }
        blob.Reshape(expected);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees what the layer owns; overrides call the base last. Blobs shared with other layers stay alive in those.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var blob in Blobs)
            {
                blob.Dispose();
            }
        }
    }
}
