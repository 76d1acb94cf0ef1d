using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using Op = Crema.Proto.ReductionParameter.Types.ReductionOp;

namespace Crema.Tests.Layers;

public class ReductionLayerTests
{
    private static ReductionLayer Make(Op op, int axis, float coeff) =>
        new(new LayerParameter { Name = "reduce", Type = "Reduction", ReductionParam = new ReductionParameter { Operation = op, Axis = axis, Coeff = coeff } });

    public static TheoryData<Op, int, float> Cases()
    {
        var data = new TheoryData<Op, int, float>();
        foreach (var op in new[] { Op.Sum, Op.Asum, Op.Sumsq, Op.Mean })
        {
            data.Add(op, 0, 1f);
            data.Add(op, 1, 2.3f);
            data.Add(op, -1, -0.5f);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesReference(Op op, int axis, float coeff)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        var top = new Blob();
        var layer = Make(op, axis, coeff);
        layer.SetUp([bottom], [top]);
        layer.Forward([bottom], [top]);
        int a = axis < 0 ? axis + 4 : axis;
        Assert.Equal(bottom.Shape.Take(a), top.Shape);
        int num = bottom.CountRange(0, a), dim = bottom.CountFrom(a);
        var expected = new float[num];
        for (int n = 0; n < num; n++)
        {
            double s = 0;
            for (int k = 0; k < dim; k++)
            {
                double x = bottom.Data[n * dim + k];
                s += op switch { Op.Asum => Math.Abs(x), Op.Sumsq => x * x, _ => x };
            }
            expected[n] = (float)(coeff * (op == Op.Mean ? s / dim : s));
        }
        TestBlobs.AssertClose(expected, top.Data, 1e-4f);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesNumericGradient(Op op, int axis, float coeff)
    {
        var bottom = TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5);
        // ASUM has a kink at 0.
        new GradientChecker(1e-2f, 1e-3f, kink: 0f, kinkRange: op == Op.Asum ? 0.02f : -1f)
            .CheckGradient(Make(op, axis, coeff), [bottom], [new Blob()]);
    }

    [Fact]
    public void SetUp_AxisOutOfRange_NamesAxis()
    {
        var e = Assert.Throws<CremaException>(() => Make(Op.Sum, 4, 1).SetUp([new Blob(2, 3, 4, 5)], [new Blob()]));
        Assert.Contains("'reduce'", e.Message);
        Assert.Contains("axis 4", e.Message);
    }
}
