using Crema.Data;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Serves arrays held in memory (pycaffe's set_input_arrays): each Forward hands out the next batch_size items of
/// data (N, C, H, W) and label (N), cycling through the n items given to <see cref="Reset"/>.
/// </summary>
[LayerType("MemoryData")]
public sealed class MemoryDataLayer : Layer
{
    private float[]? _data;
    private float[]? _labels;
    private int _n;
    private int _pos;
    private int _channels, _height, _width;

    public MemoryDataLayer(LayerParameter param) : base(param) { }

    public override BlobCount BottomCount => BlobCount.Exactly(0);

    public override BlobCount TopCount => BlobCount.Exactly(2);

    public int BatchSize { get; private set; }

    /// <summary>Items per sample: channels × height × width.</summary>
    public int ItemSize => _channels * _height * _width;

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.MemoryDataParam ?? new MemoryDataParameter();
        BatchSize = (int)p.BatchSize;
        (_channels, _height, _width) = ((int)p.Channels, (int)p.Height, (int)p.Width);
        Check(BatchSize > 0 && _channels > 0 && _height > 0 && _width > 0,
            $"batch_size, channels, height and width must be specified and positive in memory_data_param, got {BatchSize}, {_channels}, {_height}, {_width}");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        top[0].Reshape(BatchSize, _channels, _height, _width);
        top[1].Reshape(BatchSize);
    }

    /// <summary>
    /// Serves <paramref name="n"/> items from <paramref name="data"/> (n × C × H × W, row-major) and <paramref name="labels"/> (n).
    /// The arrays are used in place, not copied, and not transformed; n must be a multiple of batch_size.
    /// </summary>
    public void Reset(float[] data, float[] labels, int n)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(labels);
        Check(BatchSize > 0, "call SetUp before Reset");
        Check(n > 0 && n % BatchSize == 0, $"n ({n}) must be a positive multiple of batch_size ({BatchSize})");
        Check((long)n * ItemSize <= data.Length, $"data holds {data.Length} values, {n} items of {_channels}×{_height}×{_width} need {(long)n * ItemSize}");
        Check(n <= labels.Length, $"labels hold {labels.Length} values, {n} items need {n}");
        (_data, _labels, _n, _pos) = (data, labels, n, 0);
    }

    /// <summary>Transforms datums with transform_param (Caffe's AddDatumVector) and serves them; their transformed shape must be C×H×W.</summary>
    public void AddDatums(IReadOnlyList<Datum> datums)
    {
        Check(datums.Count > 0 && datums.Count % BatchSize == 0, $"the number of datums ({datums.Count}) must be a positive multiple of batch_size ({BatchSize})");
        var transformer = new DataTransformer(Param.TransformParam, Phase);
        var data = new float[datums.Count * ItemSize];
        var labels = new float[datums.Count];
        for (int i = 0; i < datums.Count; i++)
        {
            var shape = transformer.InferShape(datums[i]);
            Check(shape[1] == _channels && shape[2] == _height && shape[3] == _width,
                $"datum {i} transforms to {shape[1]}×{shape[2]}×{shape[3]}, the layer serves {_channels}×{_height}×{_width}");
            transformer.Transform(datums[i], data.AsSpan(i * ItemSize, ItemSize));
            labels[i] = datums[i].Label;
        }
        Reset(data, labels, datums.Count);
    }

    /// <summary>Changes the batch size (pycaffe's set_batch_size); the data already given must still divide into batches.</summary>
    public void SetBatchSize(int batchSize)
    {
        Check(batchSize > 0, $"batch size must be positive, got {batchSize}");
        Check(_data == null || _n % batchSize == 0, $"the {_n} items given to Reset do not divide into batches of {batchSize}");
        BatchSize = batchSize;
        _pos = 0;
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (_data == null || _labels == null)
        {
            throw Error("has no data: call Reset (or AddDatums) before Forward");
        }
        int size = ItemSize;
        _data.AsSpan(_pos * size, BatchSize * size).CopyTo(top[0].Data);
        _labels.AsSpan(_pos, BatchSize).CopyTo(top[1].Data);
        _pos = (_pos + BatchSize) % _n;
    }
}
