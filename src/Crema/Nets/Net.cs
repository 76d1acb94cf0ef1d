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
        ThrowIfOptimizedForInference();
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

    internal static long Now() => Stopwatch.GetTimestamp();
}
