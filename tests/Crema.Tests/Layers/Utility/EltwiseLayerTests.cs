using Crema.Layers;
using Crema.Proto;
using Crema.Testing;
using Op = Crema.Proto.EltwiseParameter.Types.EltwiseOp;

namespace Crema.Tests.Layers;

public class EltwiseLayerTests
{
    private static EltwiseLayer Make(Op op, float[]? coeff = null, bool stable = true)
    {
        var p = new EltwiseParameter { Operation = op, StableProdGrad = stable };
        if (coeff != null)
        {
            p.Coeff.AddRange(coeff);
        }
        return new(new LayerParameter { Name = "elt", Type = "Eltwise", EltwiseParam = p });
    }

    private static Blob[] Bottoms() =>
        [TestBlobs.Gaussian(1701, 1f, 2, 3, 4, 5), TestBlobs.Gaussian(1702, 1f, 2, 3, 4, 5), TestBlobs.Gaussian(1703, 1f, 2, 3, 4, 5)];

    [Theory]
    [InlineData(Op.Prod, null)]
    [InlineData(Op.Sum, null)]
    [InlineData(Op.Sum, new[] { 1f, -0.5f, 2f })]
    [InlineData(Op.Max, null)]
    public void Forward_MatchesReference(Op op, float[]? coeff)
    {
        var b = Bottoms();
        var top = new Blob();
        var layer = Make(op, coeff);
        layer.SetUp(b, [top]);
        layer.Forward(b, [top]);
        var expected = new float[top.Count];
        for (int i = 0; i < expected.Length; i++)
        {
            float x0 = b[0].Data[i], x1 = b[1].Data[i], x2 = b[2].Data[i];
            expected[i] = op switch
            {
                Op.Prod => x0 * x1 * x2,
                Op.Sum => coeff == null ? x0 + x1 + x2 : coeff[0] * x0 + coeff[1] * x1 + coeff[2] * x2,
                _ => Math.Max(x0, Math.Max(x1, x2)),
            };
        }
        TestBlobs.AssertClose(expected, top.Data, 1e-5f);
    }

    [Theory]
    [InlineData(Op.Prod, null, true)]
    [InlineData(Op.Prod, null, false)]
    [InlineData(Op.Sum, null, true)]
    [InlineData(Op.Sum, new[] { 1f, -0.5f, 2f }, true)]
    [InlineData(Op.Max, null, true)]
    public void Backward_MatchesNumericGradient(Op op, float[]? coeff, bool stable)
    {
        // Step 1e-3 for MAX keeps perturbations from swapping the winner (the Gaussian inputs differ by more).
        var checker = op == Op.Max ? new GradientChecker(1e-3f, 1e-2f) : new GradientChecker(1e-2f, 1e-3f);
        checker.CheckGradient(Make(op, coeff, stable), Bottoms(), [new Blob()]);
    }

    [Fact]
    public void Backward_Max_RoutesGradientToTheWinnerOnly()
    {
        var a = TestBlobs.FromValues([3], 1, 5, 2);
        var b = TestBlobs.FromValues([3], 4, 0, 2);
        var top = new Blob();
        var layer = Make(Op.Max);
        layer.SetUp([a, b], [top]);
        layer.Forward([a, b], [top]);
        top.Diff.Fill(1);
        layer.Backward([top], [true, true], [a, b]);
        Assert.Equal(new[] { 0f, 1f, 1f }, a.Diff.ToArray());
        Assert.Equal(new[] { 1f, 0f, 0f }, b.Diff.ToArray());
    }

    [Fact]
    public void SetUp_CoeffForProd_IsRejected()
    {
        var e = Assert.Throws<CremaException>(() => Make(Op.Prod, [1f, 2f]).SetUp([new Blob(2), new Blob(2)], [new Blob()]));
        Assert.Contains("'elt'", e.Message);
        Assert.Contains("coeff", e.Message);
    }

    [Fact]
    public void SetUp_CoeffCountMismatch_NamesCounts()
    {
        var e = Assert.Throws<CremaException>(() => Make(Op.Sum, [1f]).SetUp([new Blob(2), new Blob(2)], [new Blob()]));
        Assert.Contains("1 coeff value(s) for 2 bottoms", e.Message);
    }

    [Fact]
    public void SetUp_ShapeMismatch_NamesShapes()
    {
        var e = Assert.Throws<CremaException>(() => Make(Op.Sum).SetUp([new Blob(2, 3), new Blob(3, 2)], [new Blob()]));
        Assert.Contains("'elt'", e.Message);
        Assert.Contains("(3, 2)", e.Message);
    }
}
