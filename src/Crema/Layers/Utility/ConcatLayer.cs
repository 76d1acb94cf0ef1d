using Crema.Kernels;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>Joins the bottoms along <c>concat_param.axis</c> (or legacy concat_dim); all other dimensions must match.</summary>
[LayerType("Concat")]
public sealed class ConcatLayer : Layer, IConcatInference
{
    // Bottoms whose producers write their part of the top themselves (Net.OptimizeForInference, OutputsOnly).
    private bool[] _leftToProducer = [];

    private int _axis;
    private int _outer;
    private int _inner;
    private int[] _topShape = [];

    private readonly ForwardWork _forward;

    public ConcatLayer(LayerParameter param) : base(param) => _forward = new ForwardWork(this);

    public override BlobCount BottomCount => BlobCount.AtLeast(1);

    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var p = Param.ConcatParam;
        Check(p == null || !(p.HasAxis && p.HasConcatDim), "give either axis or concat_dim, not both");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var first = bottom[0];
        var p = Param.ConcatParam;
        int requested = p != null && p.HasConcatDim ? (int)p.ConcatDim : p?.Axis ?? 1;
        if (requested < -first.NumAxes || requested >= first.NumAxes)
        {
            throw Error($"axis {requested} out of range for bottom shape ({string.Join(", ", first.Shape)})");
        }
        _axis = first.CanonicalAxis(requested);
        if (_topShape.Length != first.NumAxes)
        {
            _topShape = new int[first.NumAxes];
        }
        for (int i = 0; i < _topShape.Length; i++)
        {
            _topShape[i] = first.Shape[i];
        }
        for (int b = 1; b < bottom.Count; b++)
        {
            var x = bottom[b];
            bool same = x.NumAxes == first.NumAxes;
            for (int i = 0; same && i < first.NumAxes; i++)
            {
                same = i == _axis || x.Shape[i] == first.Shape[i];
            }
            if (!same)
            {
                throw Error($"bottom #{b} shape ({string.Join(", ", x.Shape)}) must match bottom #0 shape ({string.Join(", ", first.Shape)}) on every axis but {_axis}");
            }
            _topShape[_axis] += x.Shape[_axis];
        }
        _outer = first.CountRange(0, _axis);
        _inner = first.CountFrom(_axis + 1);
        top[0].Reshape(_topShape);
        if (bottom.Count == 1)
        {
            top[0].ShareData(first);
            top[0].ShareDiff(first);
        }
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        if (bottom.Count == 1)
        {
            return;
        }
        // A pure copy, bound by memory bandwidth: two threads move ~30 % more than one (SqueezeNet b10: 27.5 M floats).
        _forward.Bottom = bottom;
        _forward.Top = top[0];
        WorkerPool.Run(WorkerPool.PartsFor(top[0].Count, 1 << 16), _forward);
        _forward.Bottom = null;
        _forward.Top = null;
    }

    // Part p of P copies the top's elements [t0, t1) (equal slices, 64-float aligned), from whichever bottoms they come.
    private void CopyInto(IReadOnlyList<Blob> bottom, Blob top, int t0, int t1)
    {
        var y = top.Data;
        int topRow = _topShape[_axis] * _inner;
        int offset = 0;
        for (int b = 0; b < bottom.Count; b++)
        {
            int row = bottom[b].Shape[_axis] * _inner;
            if (b < _leftToProducer.Length && _leftToProducer[b])
            {
                offset += row;
                continue;
            }
            var src = bottom[b].Data;
            for (int o = 0; o < _outer; o++)
            {
                int start = (o * topRow) + offset;
                int from = Math.Max(start, t0), to = Math.Min(start + row, t1);
                if (from < to)
                {
                    src.Slice((o * row) + from - start, to - from).CopyTo(y.Slice(from, to - from));
                }
            }
            offset += row;
        }
    }

    int IConcatInference.ConcatAxis => _axis;

    void IConcatInference.LeaveBottomToProducer(int index)
    {
        if (_leftToProducer.Length <= index)
        {
            Array.Resize(ref _leftToProducer, index + 1);
        }
        _leftToProducer[index] = true;
    }

    void IConcatInference.CopyEveryBottom() => _leftToProducer = [];

    private sealed class ForwardWork(ConcatLayer layer) : IPartitionedWork
    {
        public IReadOnlyList<Blob>? Bottom;
        public Blob? Top;

        public void RunPart(int part, int parts)
        {
            var (t0, t1) = WorkerPool.SliceAligned(Top!.Count, part, parts);
            layer.CopyInto(Bottom!, Top, t0, t1);
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (bottom.Count == 1)
        {
            return;
        }
        ReadOnlySpan<float> dy = top[0].Diff;
        int topRow = _topShape[_axis] * _inner;
        int offset = 0;
        for (int b = 0; b < bottom.Count; b++)
        {
            int row = bottom[b].Shape[_axis] * _inner;
            if (propagateDown[b])
            {
                var dx = bottom[b].Diff;
                for (int o = 0; o < _outer; o++)
                {
                    dy.Slice(o * topRow + offset, row).CopyTo(dx.Slice(o * row, row));
                }
            }
            offset += row;
        }
    }
}
