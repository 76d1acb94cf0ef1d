namespace Crema.Layers;

/// <summary>
/// Shape rules shared by the Scale and Bias layers: an operand p covers bottom[0]'s axes [axis, axis + p.NumAxes), so x is
/// viewed as (outer, dim, inner) with dim = p.Count. A scalar operand (0 axes) broadcasts over everything.
/// Methods return null on success, or the message the layer should throw.
/// </summary>
internal static class AxisOperand
{
    /// <summary>Shape of a learned operand: bottom.shape[axis : axis + numAxes], numAxes = −1 meaning "to the last axis".</summary>
    public static string? TryLearnedShape(Blob bottom, int axis, int numAxes, out int[] shape)
    {
        shape = [];
        if (axis < -bottom.NumAxes || axis >= bottom.NumAxes)
        {
            return $"axis {axis} out of range for bottom[0] with {bottom.NumAxes} axes";
        }
        if (numAxes < -1)
        {
            return $"num_axes {numAxes} must be >= 0, or -1 to extend to the last axis of bottom[0]";
        }
        int start = bottom.CanonicalAxis(axis);
        int end = numAxes == -1 ? bottom.NumAxes : start + numAxes;
        if (end > bottom.NumAxes)
        {
            return $"axis {axis} + num_axes {numAxes} exceeds the {bottom.NumAxes} axes of bottom[0]";
        }
        shape = new int[end - start];
        for (int i = start; i < end; i++)
        {
            shape[i - start] = bottom.ShapeAt(i);
        }
        return null;
    }

    /// <summary>Views <paramref name="bottom"/> as (outer, dim, inner) around <paramref name="operand"/>; allocation-free on success.</summary>
    public static string? TryResolve(Blob bottom, Blob operand, int axis, string operandName, out int outer, out int dim, out int inner)
    {
        outer = dim = inner = 0;
        int start = 0;
        if (operand.NumAxes > 0)
        {
            if (axis < -bottom.NumAxes || axis >= bottom.NumAxes)
            {
                return $"axis {axis} out of range for bottom[0] with {bottom.NumAxes} axes";
            }
            start = bottom.CanonicalAxis(axis);
        }
        if (bottom.NumAxes < start + operand.NumAxes)
        {
            return $"{operandName} has {operand.NumAxes} axes; from axis {start} bottom[0] ({bottom.ShapeString()}) has only {bottom.NumAxes - start}";
        }
        for (int i = 0; i < operand.NumAxes; i++)
        {
            if (bottom.ShapeAt(start + i) != operand.ShapeAt(i))
            {
                return $"{operandName} shape ({operand.ShapeString()}) does not match bottom[0] ({bottom.ShapeString()}) at axis {start + i}: {operand.ShapeAt(i)} vs {bottom.ShapeAt(start + i)}";
            }
        }
        outer = bottom.CountRange(0, start);
        dim = operand.Count;
        inner = bottom.CountFrom(start + operand.NumAxes);
        return null;
    }
}
