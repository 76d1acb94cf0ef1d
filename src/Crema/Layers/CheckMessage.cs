using System.Runtime.CompilerServices;

namespace Crema.Layers;

/// <summary>Builds a <see cref="Layer"/> check's interpolated message only when the condition is false.</summary>
[InterpolatedStringHandler]
public ref struct CheckMessage
{
    private DefaultInterpolatedStringHandler _inner;
    private readonly bool _active;

    public CheckMessage(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
    {
        _active = !condition;
        shouldAppend = _active;
        _inner = _active ? new DefaultInterpolatedStringHandler(literalLength, formattedCount, System.Globalization.CultureInfo.InvariantCulture) : default;
    }

    public void AppendLiteral(string value) => _inner.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);

    public void AppendFormatted<T>(T value, string? format) => _inner.AppendFormatted(value, format);

    public void AppendFormatted(string? value) => _inner.AppendFormatted(value);

    public string ToStringAndClear() => _active ? _inner.ToStringAndClear() : "";
}
