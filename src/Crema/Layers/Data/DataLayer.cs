using Crema.Data;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Reads Caffe Datum records (raw, or encoded JPEG/PNG) from an LMDB or LevelDB in key order, wrapping around at the end, transformed
/// into data (N, C, H, W) and label (N); batches are prefetched on a background thread.
/// </summary>
[LayerType("Data")]
public sealed partial class DataLayer : PrefetchingDataLayer
{
    private IDbCursor? _cursor;

    public DataLayer(LayerParameter param) : base(param) { }

    private DataParameter DataParam => Param.DataParam ?? new DataParameter();

    /// <summary>transform_param, overridden by the deprecated data_param scale/mean_file/crop_size/mirror when set (as Caffe's upgrade does).</summary>
    protected override TransformationParameter TransformParam
    {
        get
        {
            var d = DataParam;
            var t = WithLegacyTransform(d.HasScale ? d.Scale : null, d.HasMeanFile ? d.MeanFile : null,
                d.HasCropSize ? d.CropSize : null, d.HasMirror ? d.Mirror : null);
            if (d.ForceEncodedColor)
            {
                // Encoded gray images are decoded to 3 channels, so that a database mixing gray and colour batches alike.
                t.ForceColor = true;
            }
            return t;
        }
    }

    protected override void DataLayerSetUp(IReadOnlyList<Blob> top)
    {
        var p = DataParam;
        Check(p.HasSource && p.Source.Length > 0, "data_param.source is required");
        Check(p.BatchSize > 0, $"data_param.batch_size must be positive, got {p.BatchSize}");
        OpenSource(p);
        var cursor = _cursor!;
        if (p.RandSkip > 0)
        {
            // Older Caffe skipped a random number of records so that parallel solvers start at different places.
            int skip = Rng.NextInt((int)p.RandSkip);
            for (int i = 0; i < skip; i++)
            {
                cursor.Advance();
            }
        }
        StartShard();

        var shape = Transformer.InferShape(DecodeCurrent());
        shape[0] = (int)p.BatchSize;
        top[0].Reshape(shape);
        if (OutputLabels)
        {
            top[1].Reshape((int)p.BatchSize);
        }
    }

    private void OpenSource(DataParameter p)
    {
        string source = p.Source;
        bool looksLmdb = File.Exists(Path.Combine(source, "data.mdb"));
        // NOTE: backend defaults to LEVELDB in caffe.proto; an unspecified backend over an LMDB directory is read as LMDB.
        var backend = p.Backend == DataParameter.Types.DB.Leveldb && (p.HasBackend || !looksLmdb) ? DbBackend.LevelDb : DbBackend.Lmdb;
        try
        {
            _cursor = KeyValueDb.OpenCursor(source, backend);
        }
        catch (CremaException e)
        {
            throw Error(e.Message);
        }
        Check(_cursor.IsValid, $"{(backend == DbBackend.LevelDb ? "LevelDB" : "LMDB")} '{source}' is empty");
    }

    private Datum ParseCurrent()
    {
        try
        {
            return Datum.Parser.ParseFrom(_cursor!.Value);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw Error($"record '{_cursor!.KeyString}' in '{DataParam.Source}' is not a Datum: {e.Message}");
        }
    }

    // Encoded records (convert_imageset -encoded) are decoded once here; the transformer then sees raw pixels.
    private Datum DecodeCurrent()
    {
        var datum = ParseCurrent();
        try
        {
            return Transformer.Decode(datum);
        }
        catch (CremaException e)
        {
            throw Error($"record '{_cursor!.KeyString}' in '{DataParam.Source}': {e.Message}");
        }
    }

    protected override void LoadBatch(Batch batch)
    {
        int batchSize = (int)DataParam.BatchSize;
        var cursor = _cursor!;
        (int C, int H, int W) first = default;
        for (int item = 0; item < batchSize; item++)
        {
            var datum = DecodeCurrent();
            if (item > 0 && (datum.Channels, datum.Height, datum.Width) != first)
            {
                throw Error($"record '{cursor.KeyString}' is {datum.Channels}×{datum.Height}×{datum.Width} but the batch started with {first.C}×{first.H}×{first.W}; records in a batch must share a shape");
            }
            if (item == 0)
            {
                first = (datum.Channels, datum.Height, datum.Width);
                // Each batch takes the shape of its first datum, so databases of varying image size work with batch_size 1.
                var shape = Transformer.InferShape(datum);
                shape[0] = batchSize;
                batch.Data.Reshape(shape);
                if (OutputLabels)
                {
                    batch.Label.Reshape(batchSize);
                }
            }
            int itemSize = batch.Data.Count / batchSize;
            Transformer.Transform(datum, batch.Data.Data.Slice(item * itemSize, itemSize));
            if (OutputLabels)
            {
                batch.Label.Data[item] = datum.Label;
            }
            cursor.Advance();
        }
        SkipOtherShards();
    }

    protected override void DisposeSource()
    {
        _cursor?.Dispose();
    }
}
