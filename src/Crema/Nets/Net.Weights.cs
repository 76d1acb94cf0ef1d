using Crema.Proto;

namespace Crema.Nets;

public sealed partial class Net
{
    /// <summary>Copies weights from a .caffemodel (binary NetParameter; V1 files are upgraded) into same-named layers.</summary>
    public void CopyTrainedLayersFrom(string path)
    {
        NetParameter trained = path.EndsWith(".h5", StringComparison.OrdinalIgnoreCase)
            ? throw new CremaException($"{path}: HDF5 weights are not supported yet; use a .caffemodel")
            : WeightFiles.Read(path);
        CopyTrainedLayersFrom(trained, path);
    }

    /// <summary>Copies weights from <paramref name="trained"/>: layers are matched by name, shapes must agree, unknown layers are ignored (as Caffe).</summary>
    public void CopyTrainedLayersFrom(NetParameter trained, string source = "<weights>")
    {
        foreach (var sourceLayer in trained.Layer)
        {
            if (!_layerIndex.TryGetValue(sourceLayer.Name, out int target))
            {
                if (sourceLayer.Blobs.Count > 0)
                {
                    Log.Info($"Ignoring source layer {sourceLayer.Name}");
                }
                continue;
            }
            var blobs = _layers[target].Blobs;
            if (sourceLayer.Blobs.Count == 0 && blobs.Count > 0)
            {
                continue;
            }
            Log.Info($"Copying source layer {sourceLayer.Name} Type:{sourceLayer.Type} #blobs={sourceLayer.Blobs.Count}");
            if (blobs.Count != sourceLayer.Blobs.Count)
            {
                throw new CremaException($"{source}: incompatible number of blobs for layer '{sourceLayer.Name}': file has {sourceLayer.Blobs.Count}, net has {blobs.Count}");
            }
            for (int j = 0; j < blobs.Count; j++)
            {
                var proto = sourceLayer.Blobs[j];
                if (!blobs[j].ShapeEquals(proto))
                {
                    var shape = Crema.Blob.ProtoShape(proto);
                    if (!LegacyShapeMatches(shape, blobs[j]))
                    {
                        throw new CremaException(
                            $"{source}: cannot copy param {j} weights from layer '{sourceLayer.Name}'; shape mismatch. Source param shape is {string.Join(' ', shape)} ({shape.Aggregate(1L, (a, d) => a * d)}); target param shape is {blobs[j].ShapeString()}. To learn this layer's parameters from scratch rather than copying from a saved net, rename the layer.");
                    }
                }
                try
                {
                    blobs[j].FromProto(proto, reshape: false);
                }
                catch (ArgumentException e)
                {
                    throw new CremaException($"{source}: layer '{sourceLayer.Name}' param {j}: {e.Message}", e);
                }
            }
        }
    }

    private static bool LegacyShapeMatches(int[] shape, Blob blob)
    {
        // Caffe accepts a legacy (num, channels, height, width) blob whose 4-D padding equals the target's shape.
        if (shape.Length != 4 || blob.NumAxes > 4)
        {
            return false;
        }
        var padded = Enumerable.Repeat(1, 4 - blob.NumAxes).Concat(blob.Shape).ToArray();
        return padded.AsSpan().SequenceEqual(shape);
    }

    /// <summary>Makes this net's parameters the same memory as <paramref name="other"/>'s same-named layers (test nets share the train net's weights).</summary>
    public void ShareTrainedLayersWith(Net other)
    {
        foreach (var layer in other._layers)
        {
            if (!_layerIndex.TryGetValue(layer.Name, out int target))
            {
                continue;
            }
            var mine = _layers[target].Blobs;
            if (mine.Count != layer.Blobs.Count)
            {
                throw new CremaException($"Cannot share layer '{layer.Name}': {layer.Blobs.Count} blobs in the source net, {mine.Count} here");
            }
            for (int j = 0; j < mine.Count; j++)
            {
                if (!mine[j].ShapeEquals(layer.Blobs[j]))
                {
                    throw new CremaException($"Cannot share param {j} of layer '{layer.Name}': shapes {layer.Blobs[j].ShapeString()} and {mine[j].ShapeString()} differ");
                }
                mine[j].ShareData(layer.Blobs[j]);
            }
        }
    }

    /// <summary>The net as a NetParameter with every layer's learnable blobs (what a .caffemodel holds).</summary>
    public NetParameter ToProto(bool writeDiff = false)
    {
        var proto = new NetParameter { Name = Name };
        foreach (var layer in _layers)
        {
            var lp = layer.Param.Clone();
            lp.Blobs.Clear();
            foreach (var blob in layer.Blobs)
            {
                lp.Blobs.Add(blob.ToProto(writeDiff));
            }
            proto.Layer.Add(lp);
        }
        return proto;
    }

    /// <summary>Writes the weights as a binary .caffemodel (to a temporary file, then renamed).</summary>
    public void Save(string path, bool writeDiff = false) => WeightFiles.Write(ToProto(writeDiff), path);
}
