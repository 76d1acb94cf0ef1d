using System.Diagnostics;
using System.Reflection;

namespace Crema.Layers;

/// <summary>
/// Turns an exception escaping a user layer (a class outside Crema's assembly, e.g. a Python-type layer compiled from a
/// .cs file) into one line naming the layer, its source file and the user's line:
/// <c>Layer 'py' (smooth_l1.cs, type Python): Forward threw IndexOutOfRangeException: … at smooth_l1.cs:55</c>.
/// The original exception stays as InnerException (the CLI prints its trace with CREMA_DEBUG=1).
/// </summary>
public sealed class UserLayerException : CremaException
{
    public UserLayerException() { }

    public UserLayerException(string message) : base(message) { }

    public UserLayerException(string message, Exception inner) : base(message, inner) { }

    internal static bool IsUserType(Type type) => type.Assembly != typeof(Layer).Assembly;

    /// <summary>Whether <paramref name="e"/> from a user layer needs wrapping: Crema's own errors already name the layer.</summary>
    internal static bool ShouldWrap(Exception e) => e is not CremaException;

    internal static UserLayerException Wrap(Layer layer, string stage, Exception e)
    {
        var assembly = layer.GetType().Assembly;
        string? file = null;
        int line = 0;
        foreach (var frame in new StackTrace(e, fNeedFileInfo: true).GetFrames())
        {
            var method = frame.GetMethod();
            if (method?.DeclaringType?.Assembly != assembly)
            {
                continue;
            }
            stage = StageOf(method) ?? stage;
            if (file == null && frame.GetFileName() is { } name && frame.GetFileLineNumber() > 0)
            {
                (file, line) = (Path.GetFileName(name), frame.GetFileLineNumber());
            }
        }
        string source = file ?? (assembly.GetName().Name + ".dll");
        string at = file == null ? "" : $" at {file}:{line}";
        string message = string.Join(' ', e.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return new UserLayerException($"Layer '{layer.Name}' ({source}, type {layer.Type}): {stage} threw {e.GetType().Name}: {message}{at}", e);
    }

    // The outermost user frame tells which part of the lifecycle failed (the wrapper's stage covers helpers).
    private static string? StageOf(MethodBase method) => method.Name switch
    {
        "LayerSetUp" => "SetUp",
        "Reshape" => "Reshape",
        "ForwardCore" => "Forward",
        "BackwardCore" => "Backward",
        _ => null,
    };
}
