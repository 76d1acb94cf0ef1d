using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Exposes the im2col unrolling as a layer: (…, C, spatial…) → (…, C·Πkernel, out spatial…), with the convolution's
/// kernel/pad/stride/dilation rules; rows are channel-major, then kernel offset (row-major).
/// </summary>
[LayerType("Im2col")]
public sealed class Im2colLayer(LayerParameter param) : Layer(param)
{
    private ConvolutionGeometry _geometry = null!;
    private int[] _inSpatial = [];
    private int[] _outSpatial = [];
    private int[] _topShape = [];
    private int _channels;
    private int _num;
    private int _bottomDim;
    private int _topDim;

    public override BlobCount BottomCount => BlobCount.Exactly(1);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        _geometry = new ConvolutionGeometry(Param.ConvolutionParam ?? new ConvolutionParameter(), bottom[0], Error);
        _inSpatial = new int[_geometry.NumSpatialAxes];
        _outSpatial = new int[_geometry.NumSpatialAxes];
        _topShape = new int[bottom[0].NumAxes];
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var g = _geometry;
        var b = bottom[0];
        if (b.NumAxes != _topShape.Length)
        {
            throw Error($"bottom has {b.NumAxes} axes, the layer was set up for {_topShape.Length}; the number of axes may not change");
        }
        _channels = b.ShapeAt(g.ChannelAxis);
        for (int i = 0; i < _inSpatial.Length; i++)
        {
            _inSpatial[i] = b.ShapeAt(g.FirstSpatialAxis + i);
        }
        g.ConvolutionOutput(_inSpatial, _outSpatial);
        for (int i = 0; i < g.ChannelAxis; i++)
        {
            _topShape[i] = b.ShapeAt(i);
        }
        _topShape[g.ChannelAxis] = _channels * g.KernelCount;
        _outSpatial.CopyTo(_topShape, g.FirstSpatialAxis);
        top[0].Reshape(_topShape);
        _num = b.CountRange(0, g.ChannelAxis);
        _bottomDim = b.CountFrom(g.ChannelAxis);
        _topDim = top[0].CountFrom(g.ChannelAxis);
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var x = bottom[0].Data;
        var y = top[0].Data;
        for (int n = 0; n < _num; n++)
        {
            _geometry.Im2ColInto(x.Slice(n * _bottomDim, _bottomDim), _channels, _inSpatial, _outSpatial, y.Slice(n * _topDim, _topDim));
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
        for (int n = 0; n < _num; n++)
        {
            _geometry.Col2ImInto(dy.Slice(n * _topDim, _topDim), _channels, _inSpatial, _outSpatial, dx.Slice(n * _bottomDim, _bottomDim));
        }
    }
}
