using System.Diagnostics;
using System.Reflection;

namespace Crema.Cli;

/// <summary>Turns any exception into the one line `crema: error: …` prints: user errors as they are, anything else with its type and where in Crema it happened.</summary>
internal static class ErrorReport
{
    public static string Describe(Exception e)
    {
        e = Unwrap(e);
        string message = OneLine(e.Message);
        return e switch
        {
            CremaException or IOException or UnauthorizedAccessException or FormatException or NotSupportedException
                or InvalidOperationException => message,
            // A bare ArgumentException ("The value cannot be an empty string. (Parameter 'path')") says what but not where.
            ArgumentException => $"{message} (in {Where(e)})",
            OutOfMemoryException or InsufficientExecutionStackException => $"{e.GetType().Name} in {Where(e)}: {message} (the net or input is too large for this machine)",
            _ => $"internal error: {e.GetType().Name} in {Where(e)}: {message} (CREMA_DEBUG=1 shows the stack trace)",
        };
    }

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: 1 } a:
                    e = a.InnerExceptions[0];
                    break;
                case TargetInvocationException { InnerException: { } inner }:
                    e = inner;
                    break;
                case TypeInitializationException { InnerException: { } inner }:
                    e = inner;
                    break;
                default:
                    return e;
            }
        }
    }

    internal static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>The innermost Crema method on the stack, e.g. `Solver.Restore`; the thrower itself when none is ours.</summary>
    private static string Where(Exception e)
    {
        var frames = new StackTrace(e, fNeedFileInfo: false).GetFrames();
        foreach (var frame in frames)
        {
            var method = frame.GetMethod();
            string? ns = method?.DeclaringType?.Namespace;
            if (method != null && ns != null && ns.StartsWith("Crema", StringComparison.Ordinal))
            {
                return Readable(method);
            }
        }
        var site = e.TargetSite;
        return site == null ? "crema" : Readable(site);
    }

    // A lambda's frame is `<>c.<Outer>b__0` in a nested compiler type: report it as Type.Outer.
    private static string Readable(MethodBase method)
    {
        var type = method.DeclaringType;
        while (type is { DeclaringType: not null } && type.Name.StartsWith('<'))
        {
            type = type.DeclaringType;
        }
        string name = method.Name;
        if (name.StartsWith('<') && name.IndexOf('>', StringComparison.Ordinal) is > 1 and var close)
        {
            name = name[1..close];
        }
        return $"{type?.Name}.{name}";
    }
}
