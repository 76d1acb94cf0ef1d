namespace Crema.Nets;

public sealed partial class Net
{
    // Top blobs are allocated lazily on first use, so their memory is planned here, after each layer's set-up, and
    // refused before Forward could touch it.
    private long _plannedTopBytes;

    private int[][] BottomShapes(int layerId) => _bottoms[layerId].Select(b => b.Shape.ToArray()).ToArray();

    /// <summary>Checks made once a layer is set up: in-place use kept the blob's shape, and the net still fits in memory.</summary>
    private void AfterSetUp(int layerId, int[][] bottomShapesBefore)
    {
        var layer = _layers[layerId];
        for (int b = 0; b < _bottoms[layerId].Count; b++)
        {
            var blob = _bottoms[layerId][b];
            if (_tops[layerId].Contains(blob) && !blob.Shape.SequenceEqual(bottomShapesBefore[b]))
            {
                throw new CremaException(
                    $"Layer '{layer.Name}' (type {layer.Type}): used in place on blob '{blob.Name}', but it changes the shape from ({string.Join(",", bottomShapesBefore[b])}) to ({string.Join(",", blob.Shape)}); give the top its own name");
            }
        }
        CheckMemory(layerId);
    }

    private void CheckMemory(int layerId)
    {
        var layer = _layers[layerId];
        foreach (var top in _tops[layerId])
        {
            if (!_bottoms[layerId].Contains(top))
            {
                _plannedTopBytes += (long)top.Count * sizeof(float);
            }
        }
        long live = FloatBuffer.LiveBytes;
        long limit = MemoryGuard.LimitBytes;
        if (_plannedTopBytes > limit - live)
        {
            string tops = string.Join(", ", _tops[layerId].Select(t => $"'{t.Name}' {t.ShapeString()}"));
            throw new MemoryLimitException(
                $"Layer '{layer.Name}' (type {layer.Type}): the net's blobs need {MemoryGuard.Size(_plannedTopBytes + live)} up to this layer (tops {tops}), more than the {MemoryGuard.Size(limit)} available");
        }
    }
}
