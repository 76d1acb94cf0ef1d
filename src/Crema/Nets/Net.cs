using System.Diagnostics;
using Crema.Layers;
using Crema.Proto;

namespace Crema.Nets;

/// <summary>
/// A directed acyclic graph of layers built from a <see cref="NetParameter"/> for one <see cref="NetState"/> (phase, level,
/// stages), as Caffe's Net: include/exclude filtering, automatic Split layers, in-place layers, shared parameters, and
/// Caffe's analysis of which layers and bottoms need backward.
/// </summary>
public sealed partial class Net : IDisposable
{
    private readonly List<Layer> _layers = [];
    private readonly List<List<Blob>> _bottoms = [];
    private readonly List<List<Blob>> _tops = [];
    private readonly List<List<int>> _bottomIds = [];
    private readonly List<List<int>> _topIds = [];
    private readonly List<bool[]> _bottomNeedBackward = [];
    private readonly List<bool> _layerNeedBackward = [];
    private readonly List<Blob> _blobs = [];
    private readonly List<bool> _blobNeedBackward = [];
    private readonly Dictionary<string, int> _blobIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _layerIndex = new(StringComparer.Ordinal);
    // Every layer's parameter blobs in net order (shared ones too, pointing at their owner), and the owners alone,
    // which the solver updates.
    private readonly List<ParamSlot> _params = [];
    private readonly Dictionary<string, int> _paramNameIndex = new(StringComparer.Ordinal);
    private readonly List<LearnableParam> _learnables = [];
    // Flat views of _learnables for the solvers' per-parameter loops, built once at the end of Init.
    private Blob[] _learnableBlobs = [];
    private float[] _lrMults = [];
    private float[] _decayMults = [];
    private readonly List<Blob> _outputs = [];
    private readonly List<Blob> _inputs = [];
    private readonly string? _baseDirectory;
    private readonly Dictionary<Blob, float> _blobLossWeights = [];

    /// <summary>
    /// Builds the net for <paramref name="state"/>. <paramref name="baseDirectory"/> resolves relative paths of custom layer
    /// sources; by default the folder of the prototxt <paramref name="param"/> was read from, else the current folder.
    /// </summary>
    public Net(NetParameter param, NetState state, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(param);
        _baseDirectory = baseDirectory ?? ProtoFiles.SourceFolderOf(param);
        State = state.Clone();
        Init(param);
    }

    public Net(NetParameter param, Phase phase, string? baseDirectory = null, int level = 0, IEnumerable<string>? stages = null)
        : this(param, MakeState(phase, level, stages), baseDirectory)
    {
    }

    public static NetState MakeState(Phase phase, int level = 0, IEnumerable<string>? stages = null)
    {
        var state = new NetState { Phase = phase, Level = level };
        if (stages != null)
        {
            state.Stage.AddRange(stages);
        }
        return state;
    }

    public string Name { get; private set; } = "";

    public NetState State { get; }

    public Phase Phase => State.Phase;

    /// <summary>The parameter the net was built from, after filtering and split insertion.</summary>
    public NetParameter Parameter { get; private set; } = new();

    public bool DebugInfo { get; set; }

    public IReadOnlyList<Layer> Layers => _layers;

    public IReadOnlyList<string> LayerNames => _layers.Select(l => l.Name).ToArray();

    /// <summary>Every blob by name (tops of all layers, including in-place and split copies).</summary>
    public IReadOnlyDictionary<string, Blob> Blobs => _blobIndex.ToDictionary(kv => kv.Key, kv => _blobs[kv.Value], StringComparer.Ordinal);

    public IReadOnlyList<string> BlobNames => _blobs.Select(b => b.Name).ToArray();

    /// <summary>The learnable blobs of each layer, by layer name (pycaffe's net.params).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<Blob>> Params =>
        _layers.Where(l => l.Blobs.Count > 0).ToDictionary(l => l.Name, l => (IReadOnlyList<Blob>)l.Blobs, StringComparer.Ordinal);

    /// <summary>The parameters the solver updates, with their lr / decay multipliers: shared parameters appear once (their owner).</summary>
    public IReadOnlyList<LearnableParam> Learnables => _learnables;

    /// <summary>The blobs of <see cref="Learnables"/>, in the same order.</summary>
    public IReadOnlyList<Blob> LearnableParams => _learnableBlobs;

    public IReadOnlyList<float> ParamLrMults => _lrMults;

    public IReadOnlyList<float> ParamDecayMults => _decayMults;

    /// <summary>Display names of the learnable parameters ("conv1 #0" or the shared param name).</summary>
    public IReadOnlyList<string> LearnableParamNames { get; private set; } = [];

    /// <summary>Tops of Input layers: the blobs a user fills before Forward.</summary>
    public IReadOnlyList<Blob> InputBlobs => _inputs;

    /// <summary>Blobs produced and never consumed (losses, accuracies, predictions).</summary>
    public IReadOnlyList<Blob> OutputBlobs => _outputs;

    public IReadOnlyList<Blob> BottomsOf(int layer) => _bottoms[layer];

    public IReadOnlyList<Blob> TopsOf(int layer) => _tops[layer];

    public bool LayerNeedsBackward(int layer) => _layerNeedBackward[layer];

    public IReadOnlyList<bool> BottomNeedsBackward(int layer) => _bottomNeedBackward[layer];

    /// <summary>The loss weight the producing layer gives <paramref name="blob"/> (0 for non-loss blobs).</summary>
    public float BlobLossWeight(Blob blob) => _blobLossWeights.GetValueOrDefault(blob);

    public bool HasBlob(string name) => _blobIndex.ContainsKey(name);

    public Blob Blob(string name) => _blobIndex.TryGetValue(name, out int i)
        ? _blobs[i]
        : throw new CremaException($"Net '{Name}': unknown blob '{name}' (blobs: {string.Join(", ", BlobNames)})");

    public bool HasLayer(string name) => _layerIndex.ContainsKey(name);

    public Layer Layer(string name) => _layers[LayerIndex(name)];

    public int LayerIndex(string name) => _layerIndex.TryGetValue(name, out int i)
        ? i
        : throw new CremaException($"Net '{Name}': unknown layer '{name}' (layers: {string.Join(", ", LayerNames)})");

    private void Init(NetParameter input)
    {
        var filtered = NetStateRules.Filter(input, State);
        var param = SplitInserter.Insert(filtered);
        Parameter = param;
        Name = param.Name;
        DebugInfo = param.DebugInfo;
        Log.Info($"Initializing net from parameters: name \"{param.Name}\", phase {State.Phase}, {param.Layer.Count} layers");

        var available = new List<string>();
        for (int layerId = 0; layerId < param.Layer.Count; layerId++)
        {
            var lp = param.Layer[layerId];
            if (!lp.HasPhase)
            {
                lp.Phase = State.Phase;
            }
            if (_layerIndex.ContainsKey(lp.Name))
            {
                // Caffe accepts repeated names (mnist_autoencoder has two "loss" layers); lookups find the last one.
                Log.Warning($"Layer name '{lp.Name}' is used more than once; lookups by name find the last one");
            }
            if (lp.PropagateDown.Count != 0 && lp.PropagateDown.Count != lp.Bottom.Count)
            {
                throw new CremaException($"Layer '{lp.Name}': propagate_down has {lp.PropagateDown.Count} value(s) but the layer has {lp.Bottom.Count} bottom(s)");
            }
            var layer = LayerRegistry.Create(lp, _baseDirectory);
            layer.Phase = State.Phase;
            _layers.Add(layer);
            _layerIndex[lp.Name] = layerId;
            _bottoms.Add([]);
            _tops.Add([]);
            _bottomIds.Add([]);
            _topIds.Add([]);

            bool needBackward = false;
            var bottomNeed = new bool[lp.Bottom.Count];
            for (int b = 0; b < lp.Bottom.Count; b++)
            {
                string name = lp.Bottom[b];
                if (!_blobIndex.TryGetValue(name, out int blobId))
                {
                    throw new CremaException($"Layer '{lp.Name}' (type {lp.Type}): unknown bottom blob '{name}' (bottom #{b})");
                }
                _bottoms[layerId].Add(_blobs[blobId]);
                _bottomIds[layerId].Add(blobId);
                available.Remove(name);
                bool need = _blobNeedBackward[blobId];
                if (lp.PropagateDown.Count > 0)
                {
                    need = lp.PropagateDown[b];
                }
                bottomNeed[b] = need;
                needBackward |= _blobNeedBackward[blobId];
            }
            _bottomNeedBackward.Add(bottomNeed);

            for (int t = 0; t < lp.Top.Count; t++)
            {
                AppendTop(lp, layerId, t, lp.Top[t], available);
            }
            if (layer.AutoTopBlobs)
            {
                for (int t = lp.Top.Count; t < layer.TopCount.Min; t++)
                {
                    AppendTop(lp, layerId, t, null, available);
                }
            }

            var shapesBefore = BottomShapes(layerId);
            try
            {
                layer.SetUp(_bottoms[layerId], _tops[layerId]);
            }
            catch (CremaException e) when (e is not MemoryLimitException && e.Message.Contains($"'{lp.Name}'", StringComparison.Ordinal))
            {
                throw;
            }
            catch (Exception e) when (e is CremaException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or OverflowException or NotSupportedException)
            {
                throw new CremaException($"Layer '{lp.Name}' (type {lp.Type}): {e.Message}", e);
            }
            AfterSetUp(layerId, shapesBefore);
            if (layer is IInputLayer)
            {
                _inputs.AddRange(_tops[layerId]);
            }
            for (int t = 0; t < _tops[layerId].Count; t++)
            {
                var top = _tops[layerId][t];
                Log.Info($"Setting up {lp.Name}");
                Log.Info($"Top shape: {top.ShapeString()}");
                if (layer.LossWeight(t) != 0)
                {
                    _blobLossWeights[top] = layer.LossWeight(t);
                    Log.Info($"    with loss weight {Log.Num(layer.LossWeight(t))}");
                }
            }

            int numParams = layer.Blobs.Count;
            if (lp.Param.Count > numParams)
            {
                throw new CremaException($"Layer '{lp.Name}' (type {lp.Type}): {lp.Param.Count} param specs given but the layer has {numParams} learnable blob(s)");
            }
            layer.ParamPropagateDown.Clear();
            for (int p = 0; p < numParams; p++)
            {
                var spec = p < lp.Param.Count ? lp.Param[p] : new ParamSpec();
                bool paramNeed = spec.LrMult != 0;
                needBackward |= paramNeed;
                layer.ParamPropagateDown.Add(paramNeed);
            }
            for (int p = 0; p < numParams; p++)
            {
                AppendParam(lp, layerId, p);
            }
            _layerNeedBackward.Add(needBackward);
            if (needBackward)
            {
                foreach (int topId in _topIds[layerId])
                {
                    _blobNeedBackward[topId] = true;
                }
            }
        }

        AnalyzeBackward(param);
        foreach (string name in available)
        {
            _outputs.Add(_blobs[_blobIndex[name]]);
            Log.Info($"This network produces output {name}");
        }
        _learnableBlobs = _learnables.Select(p => p.Blob).ToArray();
        _lrMults = _learnables.Select(p => p.LrMult).ToArray();
        _decayMults = _learnables.Select(p => p.DecayMult).ToArray();
        LearnableParamNames = _learnableBlobs.Select(p => p.Name).ToArray();
        Log.Info("Network initialization done.");
    }

    private void AppendTop(LayerParameter lp, int layerId, int topId, string? name, List<string> available)
    {
        name ??= $"(automatic top {topId} of {lp.Name})";
        if (topId < lp.Bottom.Count && lp.Bottom[topId] == name)
        {
            // In place: the top is the bottom blob itself.
            int blobId = _blobIndex[name];
            _tops[layerId].Add(_blobs[blobId]);
            _topIds[layerId].Add(blobId);
        }
        else if (_blobIndex.ContainsKey(name))
        {
            throw new CremaException($"Layer '{lp.Name}' (type {lp.Type}): top blob '{name}' is produced by multiple sources (only in-place use as the same-index bottom is allowed)");
        }
        else
        {
            var blob = new Blob { Name = name };
            int blobId = _blobs.Count;
            _blobs.Add(blob);
            _blobNeedBackward.Add(false);
            _blobIndex[name] = blobId;
            _tops[layerId].Add(blob);
            _topIds[layerId].Add(blobId);
        }
        if (!available.Contains(name))
        {
            available.Add(name);
        }
    }

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

    /// <summary>Runs layers <paramref name="start"/>..<paramref name="end"/> (inclusive) forward; returns their summed loss.</summary>
    public float ForwardFromTo(int start, int end)
    {
        if (start < 0 || end >= _layers.Count || start > end + 1)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"layer range [{start}, {end}] outside [0, {_layers.Count - 1}]");
        }
        float loss = 0;
        for (int i = start; i <= end; i++)
        {
            loss += _layers[i].Forward(_bottoms[i], _tops[i]);
            if (DebugInfo)
            {
                ForwardDebugInfo(i);
            }
        }
        return loss;
    }

    /// <summary>The whole net forward; returns the total weighted loss.</summary>
    public float Forward() => ForwardFromTo(0, _layers.Count - 1);

    /// <summary>Forward from layer <paramref name="start"/> to layer <paramref name="end"/> by name (pycaffe's net.forward(start=, end=)).</summary>
    public float Forward(string? start = null, string? end = null) =>
        ForwardFromTo(start == null ? 0 : LayerIndex(start), end == null ? _layers.Count - 1 : LayerIndex(end));

    public void BackwardFromTo(int start, int end)
    {
        if (end < 0 || start >= _layers.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"layer range [{end}, {start}] outside [0, {_layers.Count - 1}]");
        }
        for (int i = start; i >= end; i--)
        {
            if (_layerNeedBackward[i])
            {
                _layers[i].Backward(_tops[i], _bottomNeedBackward[i], _bottoms[i]);
                if (DebugInfo)
                {
                    BackwardDebugInfo(i);
                }
            }
        }
    }

    public void Backward()
    {
        BackwardFromTo(_layers.Count - 1, 0);
        if (DebugInfo)
        {
            double asumData = 0, asumDiff = 0, sumsqData = 0, sumsqDiff = 0;
            foreach (var p in _learnableBlobs)
            {
                asumData += p.AsumData();
                asumDiff += p.AsumDiff();
                sumsqData += p.SumSquareData();
                sumsqDiff += p.SumSquareDiff();
            }
            Log.Info($"    [Backward] All net params (data, diff): L1 norm = ({Log.Num(asumData)}, {Log.Num(asumDiff)}); L2 norm = ({Log.Num(Math.Sqrt(sumsqData))}, {Log.Num(Math.Sqrt(sumsqDiff))})");
        }
    }

    public float ForwardBackward()
    {
        float loss = Forward();
        Backward();
        return loss;
    }

    /// <summary>Zeroes the gradients of all learnable parameters.</summary>
    public void ClearParamDiffs()
    {
        foreach (var p in _learnableBlobs)
        {
            Kernels.SolverKernels.Clear(p.Diff);
        }
    }

    /// <summary>data -= diff for every owned parameter (the solver has already scaled diff by the learning rate).</summary>
    public void Update()
    {
        foreach (var p in _learnableBlobs)
        {
            p.Update();
        }
    }

    /// <summary>Frees the layers (and their learnable blobs) and every blob of the net; shared memory is freed once, by its last holder.</summary>
    public void Dispose()
    {
        foreach (var layer in _layers)
        {
            layer.Dispose();
        }
        foreach (var blob in _blobs)
        {
            blob.Dispose();
        }
    }

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

    internal static long Now() => Stopwatch.GetTimestamp();

    // One layer's parameter blob: where it sits, the name it had when set up, and the net index of its owner (-1: owns itself).
    private readonly record struct ParamSlot(Blob Blob, string Name, int Layer, int Index, int Owner);
}
