using PureHDF;
using Crema.Proto;

namespace Crema.Nets;

public sealed partial class Net
{
    /// <summary>Copies weights from a .caffemodel (binary NetParameter; V1 files are upgraded) or a .caffemodel.h5 into same-named layers.</summary>
    public void CopyTrainedLayersFrom(string path)
    {
        if (path.EndsWith(".h5", StringComparison.OrdinalIgnoreCase))
        {
            CopyTrainedLayersFromHdf5(path);
            return;
        }
        CopyTrainedLayersFrom(WeightFiles.Read(path), path);
    }

    // Caffe's HDF5 layout: /data/<layer name>/<param index>; a shared param is stored only under its owner.
    private void CopyTrainedLayersFromHdf5(string path)
    {
        using var file = Hdf5Snapshot.Open(path, "weights file (.caffemodel.h5)");
        try
        {
            if (!file.LinkExists("data"))
            {
                throw new CremaException($"{path}: not a Caffe HDF5 weights file: it has no group 'data'");
            }
            var data = file.Group("data");
            foreach (string layerName in Hdf5Snapshot.ChildNames(data))
            {
                if (!_layerIndex.TryGetValue(layerName, out int target))
                {
                    Log.Info($"Ignoring source layer {layerName}");
                    continue;
                }
                var group = data.Group(layerName);
                var blobs = _layers[target].Blobs;
                int stored = Hdf5Snapshot.ChildNames(group).Count;
                Log.Info($"Copying source layer {layerName} Type:{_layers[target].Type} #blobs={stored}");
                if (stored > blobs.Count)
                {
                    throw new CremaException($"{path}: incompatible number of blobs for layer '{layerName}': file has {stored}, net has {blobs.Count}");
                }
                for (int j = 0; j < blobs.Count; j++)
                {
                    string name = j.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    if (!group.LinkExists(name))
                    {
                        if (IsSharedParam(target, j))
                        {
                            continue;
                        }
                        throw new CremaException($"{path}: incompatible number of blobs for layer '{layerName}': param {j} is missing from the file");
                    }
                    Hdf5Snapshot.ReadBlob(group, name, blobs[j], $"{path}: cannot copy param {j} weights from layer '{layerName}'");
                }
            }
        }
        catch (Exception e) when (e is not CremaException)
        {
            throw new CremaException($"{path}: cannot read HDF5 weights: {e.Message}", e);
        }
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
                int[] shape;
                try
                {
                    shape = Crema.Blob.ProtoShape(proto);
                }
                catch (ArgumentException e)
                {
                    throw new CremaException($"{source}: layer '{sourceLayer.Name}' param {j}: {e.Message}", e);
                }
                if (!shape.SequenceEqual(blobs[j].Shape))
                {
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

    /// <summary>Writes the weights as Caffe's .caffemodel.h5: group data (and diff) with one subgroup per layer, datasets "0", "1", … per param.</summary>
    public void SaveHdf5(string path, bool writeDiff = false)
    {
        var file = new H5File { ["data"] = ParamGroup(diff: false) };
        if (writeDiff)
        {
            file["diff"] = ParamGroup(diff: true);
        }
        Hdf5Snapshot.WriteAtomic(file, path);
    }

    private H5Group ParamGroup(bool diff)
    {
        var group = new H5Group();
        for (int layerId = 0; layerId < _layers.Count; layerId++)
        {
            var layerGroup = new H5Group();
            var blobs = _layers[layerId].Blobs;
            for (int j = 0; j < blobs.Count; j++)
            {
                if (IsSharedParam(layerId, j))
                {
                    continue; // shared: saved once, under its owner
                }
                layerGroup[j.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Hdf5Snapshot.BlobDataset(blobs[j], diff);
            }
            group[_layers[layerId].Name] = layerGroup;
        }
        return group;
    }
}
