namespace Crema.Nets;

// pycaffe's conveniences on caffe.Net (python/caffe/pycaffe.py): forward/backward with named arrays, forward_all and
// forward_backward_all over any number of items, backward by layer name, reshape, and the input/output blob names.
public sealed partial class Net
{
    /// <summary>Names of the blobs a user fills before a forward: the tops of Input layers (pycaffe's <c>net.inputs</c>).</summary>
    public IReadOnlyList<string> Inputs => _inputs.Select(b => b.Name).ToArray();

    /// <summary>Names of the blobs no layer consumes: losses, accuracies, predictions (pycaffe's <c>net.outputs</c>).</summary>
    public IReadOnlyList<string> Outputs => _outputs.Select(b => b.Name).ToArray();

    /// <summary>
    /// Reshapes every layer from its bottoms, first to last (Caffe's <c>Net::Reshape</c>): call it after changing the shape
    /// of an input blob so that every blob above it gets its new shape before you read them.
    /// </summary>
    public void Reshape()
    {
        for (int i = 0; i < _layers.Count; i++)
        {
            _layers[i].Reshape(_bottoms[i], _tops[i]);
        }
    }

    /// <summary>
    /// Copies <paramref name="inputs"/> into the input blobs (each array holds exactly one batch: the blob's element
    /// count), runs the whole net forward and returns copies of the net's outputs plus the blobs named in
    /// <paramref name="outputs"/>, by name (pycaffe's <c>net.forward(blobs=[...], **inputs)</c>).
    /// </summary>
    /// <exception cref="CremaException">A name is not an input blob, or an array is not one batch long.</exception>
    public IReadOnlyDictionary<string, float[]> Forward(IReadOnlyDictionary<string, float[]> inputs, IReadOnlyList<string>? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (var (name, values) in inputs)
        {
            var blob = InputBlob(name);
            if (values.Length != blob.Count)
            {
                throw new CremaException(
                    $"Net '{Name}': input '{name}' has {values.Length} values but the blob {blob.ShapeString()} holds one batch of {blob.Count} (use ForwardAll for other counts)");
            }
            values.CopyTo(blob.Data);
        }
        Forward();
        return CopyBlobs(Outputs.Concat(outputs ?? []).Distinct(StringComparer.Ordinal), diff: false);
    }

    /// <summary>
    /// Like <see cref="Forward(IReadOnlyDictionary{string, float[]}, IReadOnlyList{string})"/> with blobs as inputs: an input blob whose
    /// shape differs from the given one is reshaped to it, and the whole net with it, before the forward pass.
    /// </summary>
    public IReadOnlyDictionary<string, float[]> Forward(IReadOnlyDictionary<string, Blob> inputs, IReadOnlyList<string>? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        bool reshaped = false;
        var arrays = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, source) in inputs)
        {
            var blob = InputBlob(name);
            if (!blob.Shape.SequenceEqual(source.Shape))
            {
                blob.ReshapeLike(source);
                reshaped = true;
            }
            arrays[name] = source.Data.ToArray();
        }
        if (reshaped)
        {
            Reshape();
        }
        return Forward(arrays, outputs);
    }

    /// <summary>
    /// Runs the net backward from layer <paramref name="start"/> down to layer <paramref name="end"/> (both by name,
    /// inclusive; defaults: the last and the first layer), as pycaffe's <c>net.backward(start=, end=)</c>.
    /// </summary>
    public void Backward(string? start = null, string? end = null) =>
        BackwardFromTo(start == null ? _layers.Count - 1 : LayerIndex(start), end == null ? 0 : LayerIndex(end));

    /// <summary>
    /// Sets the diffs of the output blobs named in <paramref name="outputDiffs"/> (one batch each), runs the whole net
    /// backward and returns copies of the diffs of the input blobs plus the blobs named in <paramref name="diffs"/>
    /// (pycaffe's <c>net.backward(diffs=[...], **top_diffs)</c>).
    /// </summary>
    public IReadOnlyDictionary<string, float[]> Backward(IReadOnlyDictionary<string, float[]> outputDiffs, IReadOnlyList<string>? diffs = null)
    {
        ArgumentNullException.ThrowIfNull(outputDiffs);
        foreach (var (name, values) in outputDiffs)
        {
            var blob = OutputBlob(name);
            if (values.Length != blob.Count)
            {
                throw new CremaException($"Net '{Name}': diff for output '{name}' has {values.Length} values but the blob {blob.ShapeString()} holds {blob.Count}");
            }
            values.CopyTo(blob.Diff);
        }
        Backward();
        return CopyBlobs(Inputs.Concat(diffs ?? []).Distinct(StringComparer.Ordinal), diff: true);
    }

    /// <summary>
    /// Forwards any number of items through the net in batches of the input blobs' batch size (pycaffe's
    /// <c>net.forward_all</c>). Each input array holds N items of the input blob's per-item size; a last partial batch is
    /// padded with zeros and the padding's outputs are cut. Returns, by name, N items of every net output whose first axis
    /// is the batch, plus the blobs named in <paramref name="outputs"/>.
    /// </summary>
    /// <exception cref="CremaException">Inputs disagree on N, a length is not a whole number of items, or a requested blob's first axis is not the batch.</exception>
    public IReadOnlyDictionary<string, float[]> ForwardAll(IReadOnlyDictionary<string, float[]> inputs, IReadOnlyList<string>? outputs = null) =>
        RunAll(inputs, null, outputs ?? [], [], backward: false).Outputs;

    /// <summary>
    /// Forward and backward over any number of items in batches (pycaffe's <c>net.forward_backward_all</c>):
    /// <paramref name="inputs"/> as in <see cref="ForwardAll"/>, <paramref name="outputDiffs"/> (optional) N items of top
    /// diffs for outputs. Returns the outputs (as ForwardAll) and the diffs of the input blobs plus those named in
    /// <paramref name="diffs"/>, N items each.
    /// </summary>
    public (IReadOnlyDictionary<string, float[]> Outputs, IReadOnlyDictionary<string, float[]> Diffs) ForwardBackwardAll(
        IReadOnlyDictionary<string, float[]> inputs,
        IReadOnlyDictionary<string, float[]>? outputDiffs = null,
        IReadOnlyList<string>? outputs = null,
        IReadOnlyList<string>? diffs = null)
    {
        var result = RunAll(inputs, outputDiffs, outputs ?? [], diffs ?? [], backward: true);
        return (result.Outputs, result.Diffs);
    }

    private (Dictionary<string, float[]> Outputs, Dictionary<string, float[]> Diffs) RunAll(
        IReadOnlyDictionary<string, float[]> inputs,
        IReadOnlyDictionary<string, float[]>? outputDiffs,
        IReadOnlyList<string> outputs,
        IReadOnlyList<string> diffs,
        bool backward)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var feeds = new List<(Blob Blob, float[] Values, bool Diff)>();
        foreach (var (name, values) in inputs)
        {
            feeds.Add((InputBlob(name), values, false));
        }
        foreach (var (name, values) in outputDiffs ?? new Dictionary<string, float[]>())
        {
            feeds.Add((OutputBlob(name), values, true));
        }
        if (feeds.Count == 0)
        {
            throw new CremaException($"Net '{Name}': ForwardAll needs at least one input (inputs: {string.Join(", ", Inputs)})");
        }
        int batch = feeds[0].Blob.ShapeAt(0);
        int items = -1;
        foreach (var (blob, values, _) in feeds)
        {
            if (blob.NumAxes == 0 || blob.ShapeAt(0) != batch)
            {
                throw new CremaException($"Net '{Name}': blob '{blob.Name}' {blob.ShapeString()} does not have the batch size {batch} as its first axis");
            }
            int per = blob.Count / batch;
            if (per == 0 || values.Length % per != 0)
            {
                throw new CremaException($"Net '{Name}': '{blob.Name}' has {values.Length} values, not a whole number of items of {per}");
            }
            int n = values.Length / per;
            if (items >= 0 && n != items)
            {
                throw new CremaException($"Net '{Name}': inputs disagree on the item count ({items} vs {n} for '{blob.Name}')");
            }
            items = n;
        }

        var outNames = BatchedNames(Outputs.Concat(outputs), outputs, batch);
        var diffNames = backward ? BatchedNames(Inputs.Concat(diffs), diffs, batch) : [];
        var outResult = outNames.ToDictionary(n => n, n => new float[items * (Blob(n).Count / batch)], StringComparer.Ordinal);
        var diffResult = diffNames.ToDictionary(n => n, n => new float[items * (Blob(n).Count / batch)], StringComparer.Ordinal);
        for (int start = 0; start < items; start += batch)
        {
            int real = Math.Min(batch, items - start);
            foreach (var (blob, values, isDiff) in feeds)
            {
                // Items [start, start + real) into the batch; the rest of a last partial batch is zero padding.
                int per = blob.Count / batch;
                var target = isDiff ? blob.Diff : blob.Data;
                values.AsSpan(start * per, real * per).CopyTo(target);
                target[(real * per)..].Clear();
            }
            if (backward)
            {
                ForwardThenBackwardKeepingDiffs(feeds);
            }
            else
            {
                Forward();
            }
            CopyItems(outResult, start, real, batch, diff: false);
            CopyItems(diffResult, start, real, batch, diff: true);
        }
        return (outResult, diffResult);
    }

    // Forward overwrites loss tops' diffs with their loss weights; user-given top diffs are set again after it.
    private void ForwardThenBackwardKeepingDiffs(List<(Blob Blob, float[] Values, bool Diff)> feeds)
    {
        var given = feeds.Where(f => f.Diff).Select(f => (f.Blob, Saved: f.Blob.Diff.ToArray())).ToList();
        Forward();
        foreach (var (blob, saved) in given)
        {
            saved.CopyTo(blob.Diff);
        }
        Backward();
    }

    private void CopyItems(Dictionary<string, float[]> result, int start, int real, int batch, bool diff)
    {
        foreach (var (name, values) in result)
        {
            var blob = Blob(name);
            int per = blob.Count / batch;
            var source = diff ? blob.Diff : blob.Data;
            source[..(real * per)].CopyTo(values.AsSpan(start * per));
        }
    }

    // Net outputs whose first axis is not the batch (a scalar loss) are left out; a blob the caller asked for must be batched.
    private List<string> BatchedNames(IEnumerable<string> names, IReadOnlyList<string> requested, int batch)
    {
        var result = new List<string>();
        foreach (string name in names.Distinct(StringComparer.Ordinal))
        {
            var blob = Blob(name);
            bool batched = blob.NumAxes > 0 && blob.ShapeAt(0) == batch;
            if (batched)
            {
                result.Add(name);
            }
            else if (requested.Contains(name))
            {
                throw new CremaException($"Net '{Name}': blob '{name}' {blob.ShapeString()} does not have the batch size {batch} as its first axis, so it cannot be gathered per item");
            }
        }
        return result;
    }

    private Dictionary<string, float[]> CopyBlobs(IEnumerable<string> names, bool diff) =>
        names.ToDictionary(n => n, n => diff ? Blob(n).Diff.ToArray() : Blob(n).Data.ToArray(), StringComparer.Ordinal);

    private Blob InputBlob(string name) => _inputs.FirstOrDefault(b => b.Name == name)
        ?? throw new CremaException($"Net '{Name}': '{name}' is not an input blob (inputs: {string.Join(", ", Inputs)})");

    private Blob OutputBlob(string name) => _outputs.FirstOrDefault(b => b.Name == name)
        ?? throw new CremaException($"Net '{Name}': '{name}' is not an output blob (outputs: {string.Join(", ", Outputs)})");
}
