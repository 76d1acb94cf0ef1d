using System.Collections.Concurrent;
using Crema.Data;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Base of data layers that load batches on a background thread (Caffe's BasePrefetchingDataLayer): data_param.prefetch
/// batches cycle between a free and a full queue; Forward hands the oldest full batch to the tops and recycles the previous one.
/// Tops: data, and label when a second top is named. Dispose stops the thread.
/// </summary>
public abstract class PrefetchingDataLayer : Layer
{
    private readonly BlockingCollection<Batch> _free = new(new ConcurrentQueue<Batch>());
    private readonly BlockingCollection<Batch> _full = new(new ConcurrentQueue<Batch>());
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private int _threadSeed;
    private Batch? _current;
    private bool _disposed;

    protected PrefetchingDataLayer(LayerParameter param) : base(param) { }

    /// <summary>One prefetched batch: data (N, …) and labels (N).</summary>
    protected sealed class Batch : IDisposable
    {
        public Blob Data { get; } = new();
        public Blob Label { get; } = new();

        public void Dispose()
        {
            Data.Dispose();
            Label.Dispose();
        }

        /// <summary>Set on the marker batch queued after the last good one when loading failed.</summary>
        internal Exception? Failure { get; init; }
    }

    public override BlobCount BottomCount => BlobCount.Exactly(0);

    public override BlobCount TopCount => BlobCount.Between(1, 2);

    protected bool OutputLabels { get; private set; }

    /// <summary>Created in LayerSetUp from transform_param (merged with deprecated per-layer fields by <see cref="TransformParam"/>).</summary>
    protected DataTransformer Transformer { get; private set; } = null!;

    /// <summary>Number of batches loaded ahead (Caffe's PREFETCH_COUNT, data_param.prefetch).</summary>
    protected virtual int PrefetchCount => Param.DataParam is { } p ? (int)p.Prefetch : 4;

    /// <summary>The transformation to apply; layers with deprecated scale/mean_file/crop_size/mirror fields override this.</summary>
    protected virtual TransformationParameter TransformParam => Param.TransformParam ?? new TransformationParameter();

    /// <summary>transform_param with the deprecated per-layer scale/mean_file/crop_size/mirror fields laid over it where set (as Caffe's upgrade does).</summary>
    protected TransformationParameter WithLegacyTransform(float? scale, string? meanFile, uint? cropSize, bool? mirror)
    {
        var t = Param.TransformParam?.Clone() ?? new TransformationParameter();
        if (scale is { } s)
        {
            t.Scale = s;
        }
        if (meanFile != null)
        {
            t.MeanFile = meanFile;
        }
        if (cropSize is { } c)
        {
            t.CropSize = c;
        }
        if (mirror is { } m)
        {
            t.Mirror = m;
        }
        return t;
    }

    public sealed override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        OutputLabels = top.Count > 1;
        Transformer = new DataTransformer(TransformParam, Phase);
        DataLayerSetUp(top);
        Check(PrefetchCount > 0, $"prefetch must be positive, got {PrefetchCount}");
        for (int i = 0; i < PrefetchCount; i++)
        {
            var batch = new Batch();
            batch.Data.ReshapeLike(top[0]);
            if (OutputLabels)
            {
                batch.Label.ReshapeLike(top[1]);
            }
            _free.Add(batch);
        }
        // As Caffe's InternalThread: the worker's random stream is seeded from a draw of the creating thread's stream,
        // so crops and mirrors repeat run to run and no other thread's seeding can change them.
        _threadSeed = Rng.NextSeed();
        _thread = new Thread(PrefetchLoop) { IsBackground = true, Name = $"prefetch {Name}" };
        _thread.Start();
    }

    /// <summary>Opens the source, reads parameters and shapes the tops (data, and label if <see cref="OutputLabels"/>).</summary>
    protected abstract void DataLayerSetUp(IReadOnlyList<Blob> top);

    /// <summary>Fills <paramref name="batch"/> (reshaping it as needed); runs on the prefetch thread.</summary>
    protected abstract void LoadBatch(Batch batch);

    /// <summary>Tops are shaped by set-up and by each batch, as in Caffe.</summary>
    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top) { }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_current != null)
        {
            _free.Add(_current);
            _current = null;
        }
        var batch = _full.Take();
        if (batch.Failure is { } failure)
        {
            // Batches loaded before the failure were served first; keep the marker so later calls fail too instead of waiting.
            _full.Add(batch);
            throw failure as CremaException ?? Error($"loading data failed: {failure.Message}");
        }
        _current = batch;
        top[0].ReshapeLike(batch.Data);
        batch.Data.Data.CopyTo(top[0].Data);
        if (OutputLabels)
        {
            top[1].ReshapeLike(batch.Label);
            batch.Label.Data.CopyTo(top[1].Data);
        }
    }

    private void PrefetchLoop()
    {
        Rng.SeedThisThread(_threadSeed);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var batch = _free.Take(_stop.Token);
                LoadBatch(batch);
                _full.Add(batch);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            // Hand the error to Forward, which is waiting on the full queue.
            _full.Add(new Batch { Failure = e });
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed || !disposing)
        {
            base.Dispose(disposing);
            return;
        }
        _disposed = true;
        _stop.Cancel();
        _thread?.Join();
        DisposeSource();
        _current?.Dispose();
        foreach (var batch in _free.Concat(_full))
        {
            batch.Dispose();
        }
        _stop.Dispose();
        _free.Dispose();
        _full.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Releases the data source after the prefetch thread has stopped.</summary>
    protected virtual void DisposeSource() { }
}
