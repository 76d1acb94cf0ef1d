using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Spatial pyramid pooling: level l pools (N, C, H, W) into 2^l × 2^l bins (kernel = ceil(size / bins), padded evenly),
/// and the flattened levels are concatenated: top (N, C·Σ_l 4^l). With pyramid_height 1 it is global pooling, top (N, C, 1, 1).
/// </summary>
[LayerType("SPP")]
public sealed class SPPLayer(LayerParameter param) : Layer(param)
{
    private readonly List<PoolingLayer> _levels = [];
    private readonly List<Blob[]> _levelTops = [];
    private readonly Blob[] _bottomViewList = new Blob[1];
    private readonly Blob _bottomView = new();
    private readonly int[] _topShape = new int[2];
    private int _height = -1;
    private int _width = -1;

    public override BlobCount BottomCount => BlobCount.Exactly(1);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    private static readonly bool[] PropagateTrue = [true];

    private int PyramidHeight => checked((int)(Param.SppParam?.PyramidHeight ?? 0));

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        Check(Param.SppParam is { HasPyramidHeight: true } && PyramidHeight > 0, "spp_param.pyramid_height must be given and > 0");
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var b = bottom[0];
        if (b.NumAxes != 4)
        {
            throw Error($"bottom must have 4 axes (num, channels, height, width), got {b.NumAxes}");
        }
        if (b.Height != _height || b.Width != _width)
        {
            // The pyramid's kernels depend on the input size: rebuild the pooling layers when it changes.
            (_height, _width) = (b.Height, b.Width);
            DisposeLevels();
            for (int level = 0; level < PyramidHeight; level++)
            {
                var pooling = new PoolingLayer(LevelParam(level)) { Phase = Phase };
                _levels.Add(pooling);
#pragma warning disable CA2000 // owned by _levelTops, freed in DisposeLevels (the analyzer does not follow it into the array)
                _levelTops.Add([new Blob()]);
#pragma warning restore CA2000
                pooling.SetUp(bottom, _levelTops[^1]);
            }
        }
        int total = 0;
        for (int level = 0; level < _levels.Count; level++)
        {
            _levels[level].Reshape(bottom, _levelTops[level]);
            total += _levelTops[level][0].CountFrom(1);
        }
        if (PyramidHeight == 1)
        {
            top[0].ReshapeLike(_levelTops[0][0]);
        }
        else
        {
            (_topShape[0], _topShape[1]) = (b.Num, total);
            top[0].Reshape(_topShape);
        }
        // A blob sharing the bottom's data but with its own diff, so each level's backward can be summed.
        _bottomView.ReshapeLike(b);
        _bottomView.ShareData(b);
        _bottomViewList[0] = _bottomView;
    }

    private LayerParameter LevelParam(int level)
    {
        int bins = 1 << level;
        var p = new PoolingParameter { Pool = (PoolingParameter.Types.PoolMethod)(int)Param.SppParam.Pool };
        // kernel = ceil(size / bins); the remainder bins·kernel − size is split as padding, the larger half first.
        int kernelH = (_height + bins - 1) / bins, kernelW = (_width + bins - 1) / bins;
        (p.KernelH, p.KernelW) = ((uint)kernelH, (uint)kernelW);
        (p.StrideH, p.StrideW) = ((uint)kernelH, (uint)kernelW);
        (p.PadH, p.PadW) = ((uint)((kernelH * bins - _height + 1) / 2), (uint)((kernelW * bins - _width + 1) / 2));
        return new LayerParameter { Name = $"{Name}_level{level}", Type = "Pooling", PoolingParam = p, Phase = Phase };
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var y = top[0].Data;
        int num = bottom[0].Num;
        int rowLength = top[0].Count / Math.Max(num, 1);
        int column = 0;
        for (int level = 0; level < _levels.Count; level++)
        {
            var levelTop = _levelTops[level][0];
            _levels[level].Forward(bottom, _levelTops[level]);
            int length = levelTop.CountFrom(1);
            for (int n = 0; n < num; n++)
            {
                levelTop.Data.Slice(n * length, length).CopyTo(y.Slice(n * rowLength + column, length));
            }
            column += length;
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (!propagateDown[0])
        {
            return;
        }
        var dy = top[0].Diff;
        var dx = bottom[0].Diff;
        dx.Clear();
        int num = bottom[0].Num;
        int rowLength = top[0].Count / Math.Max(num, 1);
        int column = 0;
        for (int level = 0; level < _levels.Count; level++)
        {
            var levelTop = _levelTops[level][0];
            int length = levelTop.CountFrom(1);
            for (int n = 0; n < num; n++)
            {
                dy.Slice(n * rowLength + column, length).CopyTo(levelTop.Diff.Slice(n * length, length));
            }
            column += length;
            _levels[level].Backward(_levelTops[level], PropagateTrue, _bottomViewList);
            System.Numerics.Tensors.TensorPrimitives.Add(dx, _bottomView.Diff, dx);
        }
    }

    private void DisposeLevels()
    {
        foreach (var level in _levels)
        {
            level.Dispose();
        }
        foreach (var levelTop in _levelTops)
        {
            levelTop[0].Dispose();
        }
        _levels.Clear();
        _levelTops.Clear();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeLevels();
            _bottomView.Dispose();
        }
        base.Dispose(disposing);
    }
}
