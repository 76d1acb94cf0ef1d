namespace Crema;

/// <summary>A user-facing error: bad prototxt, bad weights file, bad layer parameters. The message names the file, line, layer or blob at fault.</summary>
public class CremaException : Exception
{
    public CremaException() { }

    public CremaException(string message) : base(message) { }

    public CremaException(string message, Exception inner) : base(message, inner) { }
}
