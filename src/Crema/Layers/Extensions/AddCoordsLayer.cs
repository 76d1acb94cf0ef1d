using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// CoordConv's AddCoords (Liu et al. 2018): y = concat(x, xx, yy[, rr]) along channels, xx[h, w] = 2w/(W−1) − 1,
/// yy[h, w] = 2h/(H−1) − 1 (0 for a size-1 axis), rr = sqrt(xx² + yy²) (not renormalised, as Uber's reference). (N, C, H, W) → (N, C+2|3, H, W).
/// </summary>
[LayerType("AddCoords")]
public sealed class AddCoordsLayer(LayerParameter param) : Layer(param)
{
    private bool _withR;
    private int _extra;

    public override BlobCount BottomCount => BlobCount.Exactly(1);
    public override BlobCount TopCount => BlobCount.Exactly(1);

    public override void LayerSetUp(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        _withR = Param.AddCoordsParam?.WithR ?? false;
        _extra = _withR ? 3 : 2;
    }

    public override void Reshape(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var b = bottom[0];
        Check(b.NumAxes == 4, $"bottom must be (N, C, H, W), got {b.ShapeString()}");
        Check(!ReferenceEquals(b, top[0]), "cannot run in place: the top has more channels than the bottom");
        top[0].Reshape(stackalloc int[] { b.ShapeAt(0), b.ShapeAt(1) + _extra, b.ShapeAt(2), b.ShapeAt(3) });
    }

    protected override void ForwardCore(IReadOnlyList<Blob> bottom, IReadOnlyList<Blob> top)
    {
        var b = bottom[0];
        int num = b.ShapeAt(0), height = b.ShapeAt(2), width = b.ShapeAt(3);
        int plane = height * width;
        int bottomDim = b.ShapeAt(1) * plane;
        int topDim = bottomDim + _extra * plane;
        ReadOnlySpan<float> x = b.Data;
        var y = top[0].Data;
        for (int n = 0; n < num; n++)
        {
            var image = y.Slice(n * topDim, topDim);
            x.Slice(n * bottomDim, bottomDim).CopyTo(image);
            FillCoordinates(image.Slice(bottomDim, _extra * plane), height, width, _withR);
        }
    }

    protected override void BackwardCore(IReadOnlyList<Blob> top, IReadOnlyList<bool> propagateDown, IReadOnlyList<Blob> bottom)
    {
        if (!propagateDown[0])
        {
            return;
        }
        var b = bottom[0];
        int plane = b.ShapeAt(2) * b.ShapeAt(3);
        int bottomDim = b.ShapeAt(1) * plane;
        int topDim = bottomDim + _extra * plane;
        ReadOnlySpan<float> dy = top[0].Diff;
        var dx = b.Diff;
        // The coordinate channels are constants: only the original channels' gradient flows back.
        for (int n = 0; n < b.ShapeAt(0); n++)
        {
            dy.Slice(n * topDim, bottomDim).CopyTo(dx.Slice(n * bottomDim, bottomDim));
        }
    }

    // coords: (2|3, H, W) = xx, yy[, rr]
    private static void FillCoordinates(Span<float> coords, int height, int width, bool withR)
    {
        int plane = height * width;
        for (int h = 0; h < height; h++)
        {
            float yy = Normalized(h, height);
            for (int w = 0; w < width; w++)
            {
                float xx = Normalized(w, width);
                int i = h * width + w;
                coords[i] = xx;
                coords[plane + i] = yy;
                if (withR)
                {
                    coords[2 * plane + i] = MathF.Sqrt(xx * xx + yy * yy);
                }
            }
        }
    }

    private static float Normalized(int index, int size) => size == 1 ? 0f : 2f * index / (size - 1) - 1f;
}
