using System.Globalization;
using System.Numerics;
using Crema.CustomLayers;
using Crema.Proto;

namespace Crema.Layers;

/// <summary>
/// Optional base for user layers (the C# counterpart of Caffe's Python layer): <see cref="Layer"/> plus typed access to
/// <c>python_param.param_str</c>. A plain <see cref="Layer"/> subclass works too and can read <c>Param.PythonParam.ParamStr</c>.
/// </summary>
public abstract class CustomLayer : Layer
{
    private IReadOnlyDictionary<string, string>? _values;

    protected CustomLayer(LayerParameter param) : base(param) { }

    /// <summary><c>python_param.param_str</c> verbatim ("" when absent).</summary>
    public string ParamStr => Param.PythonParam?.ParamStr ?? "";

    /// <summary><see cref="ParamStr"/> read as <c>key=value</c> pairs (see <see cref="ParamStrParser"/> for the accepted forms).</summary>
    protected IReadOnlyDictionary<string, string> ParamValues
    {
        get
        {
            if (_values == null)
            {
                try
                {
                    _values = ParamStrParser.Parse(ParamStr);
                }
                catch (FormatException e)
                {
                    throw Error($"param_str \"{ParamStr}\": {e.Message}");
                }
            }
            return _values;
        }
    }

    /// <summary>Rejects keys other than <paramref name="allowed"/>, so a typo ("smoth=1") fails instead of being ignored.</summary>
    protected void CheckParamKeys(params string[] allowed)
    {
        var unknown = ParamValues.Keys.Where(k => !allowed.Contains(k, StringComparer.Ordinal)).ToArray();
        Check(unknown.Length == 0,
            $"param_str \"{ParamStr}\": unknown key(s) {string.Join(", ", unknown)} (known: {string.Join(", ", allowed)})");
    }

    protected string GetString(string key, string defaultValue) => ParamValues.TryGetValue(key, out var v) ? v : defaultValue;

    protected float GetFloat(string key, float defaultValue) => GetNumber(key, defaultValue, NumberStyles.Float, "a number");

    protected int GetInt(string key, int defaultValue) => GetNumber(key, defaultValue, NumberStyles.Integer, "an integer");

    private T GetNumber<T>(string key, T defaultValue, NumberStyles style, string what) where T : INumberBase<T>
    {
        if (!ParamValues.TryGetValue(key, out var text))
        {
            return defaultValue;
        }
        Check(T.TryParse(text, style, CultureInfo.InvariantCulture, out T? value), $"param_str \"{ParamStr}\": '{key}' must be {what}, got '{text}'");
        return value!;
    }

    protected bool GetBool(string key, bool defaultValue)
    {
        if (!ParamValues.TryGetValue(key, out var text))
        {
            return defaultValue;
        }
        return text.ToUpperInvariant() switch
        {
            "TRUE" or "1" or "YES" => true,
            "FALSE" or "0" or "NO" => false,
            _ => throw Error($"param_str \"{ParamStr}\": '{key}' must be true or false, got '{text}'"),
        };
    }
}
