using System.Text;

namespace Crema.Proto.TextFormat;

/// <summary>An error in a prototxt file, located by 1-based line and column.</summary>
public sealed class PrototxtException : CremaException
{
    public PrototxtException(string fileName, int line, int column, string reason)
        : base($"{fileName}:{line}:{column}: {reason}")
    {
        FileName = fileName;
        Line = line;
        Column = column;
        Reason = reason;
    }

    public string FileName { get; }

    public int Line { get; }

    public int Column { get; }

    /// <summary>The message without the file:line:column prefix.</summary>
    public string Reason { get; }
}

internal enum TokenKind
{
    Identifier,
    Integer,
    Float,
    String,
    Symbol,
    End,
}

/// <summary>One lexical token. For strings, <see cref="Bytes"/> holds the unescaped content.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Line, int Column, byte[]? Bytes = null)
{
    public bool Is(char symbol) => Kind == TokenKind.Symbol && Text.Length == 1 && Text[0] == symbol;

    public string Describe() => Kind switch
    {
        TokenKind.End => "end of file",
        TokenKind.String => $"string \"{Text}\"",
        TokenKind.Symbol => $"'{Text}'",
        _ => $"'{Text}'",
    };
}

/// <summary>Splits protobuf text format into tokens: identifiers, numbers, quoted strings, symbols; skips '#' comments.</summary>
internal sealed class PrototxtTokenizer
{
    private readonly string _text;
    private readonly string _fileName;
    private int _pos;
    private int _line = 1;
    private int _column = 1;

    public PrototxtTokenizer(string text, string fileName)
    {
        _text = text;
        _fileName = fileName;
        Current = ReadToken();
    }

    public Token Current { get; private set; }

    public Token Next()
    {
        var token = Current;
        Current = ReadToken();
        return token;
    }

    public PrototxtException Error(int line, int column, string reason) => new(_fileName, line, column, reason);

    private char Peek(int ahead = 0) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

    private void Advance()
    {
        if (_text[_pos] == '\n')
        {
            _line++;
            _column = 1;
        }
        else
        {
            _column++;
        }
        _pos++;
    }

    private void SkipWhitespaceAndComments()
    {
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c == '#')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                    Advance();
            }
            else if (char.IsWhiteSpace(c) || c == '\uFEFF')
            {
                Advance();
            }
            else
            {
                return;
            }
        }
    }

    private Token ReadToken()
    {
        SkipWhitespaceAndComments();
        int line = _line, column = _column;
        if (_pos >= _text.Length)
            return new Token(TokenKind.End, "", line, column);

        char c = _text[_pos];
        int start = _pos;
        if (char.IsAsciiLetter(c) || c == '_')
        {
            while (char.IsAsciiLetterOrDigit(Peek()) || Peek() == '_')
                Advance();
            return new Token(TokenKind.Identifier, _text[start.._pos], line, column);
        }
        if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(Peek(1))))
            return ReadNumber(line, column);
        if (c is '"' or '\'')
            return ReadString(line, column);
        Advance();
        return new Token(TokenKind.Symbol, c.ToString(), line, column);
    }

    private Token ReadNumber(int line, int column)
    {
        int start = _pos;
        bool isFloat = false;
        if (Peek() == '0' && (Peek(1) == 'x' || Peek(1) == 'X'))
        {
            Advance();
            Advance();
            if (!char.IsAsciiHexDigit(Peek()))
                throw Error(line, column, "Expected hex digits after '0x'");
            while (char.IsAsciiHexDigit(Peek()))
                Advance();
        }
        else
        {
            while (char.IsAsciiDigit(Peek()))
                Advance();
            if (Peek() == '.')
            {
                isFloat = true;
                Advance();
                while (char.IsAsciiDigit(Peek()))
                    Advance();
            }
            if (Peek() is 'e' or 'E')
            {
                isFloat = true;
                Advance();
                if (Peek() is '+' or '-')
                    Advance();
                if (!char.IsAsciiDigit(Peek()))
                    throw Error(line, column, $"Malformed number '{_text[start.._pos]}': exponent has no digits");
                while (char.IsAsciiDigit(Peek()))
                    Advance();
            }
            if (Peek() is 'f' or 'F')
            {
                isFloat = true;
                Advance();
            }
        }
        if (char.IsAsciiLetterOrDigit(Peek()) || Peek() == '_' || Peek() == '.')
        {
            while (char.IsAsciiLetterOrDigit(Peek()) || Peek() is '_' or '.')
                Advance();
            throw Error(line, column, $"Malformed number '{_text[start.._pos]}'");
        }
        return new Token(isFloat ? TokenKind.Float : TokenKind.Integer, _text[start.._pos], line, column);
    }

    private Token ReadString(int line, int column)
    {
        char quote = _text[_pos];
        int start = _pos;
        Advance();
        var bytes = new List<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        while (true)
        {
            if (_pos >= _text.Length || _text[_pos] == '\n')
                throw Error(line, column, "Unterminated string (missing closing " + quote + ")");
            char c = _text[_pos];
            if (c == quote)
            {
                Advance();
                break;
            }
            if (c != '\\')
            {
                int n;
                if (char.IsHighSurrogate(c) && _pos + 1 < _text.Length)
                {
                    n = Encoding.UTF8.GetBytes(_text.AsSpan(_pos, 2), utf8);
                    Advance();
                }
                else
                {
                    n = Encoding.UTF8.GetBytes(_text.AsSpan(_pos, 1), utf8);
                }
                Advance();
                for (int i = 0; i < n; i++)
                    bytes.Add(utf8[i]);
                continue;
            }
            int escLine = _line, escColumn = _column;
            Advance();
            if (_pos >= _text.Length)
                throw Error(line, column, "Unterminated string (missing closing " + quote + ")");
            char e = _text[_pos];
            Advance();
            switch (e)
            {
                case 'n': bytes.Add((byte)'\n'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case 'a': bytes.Add(7); break;
                case 'b': bytes.Add(8); break;
                case 'f': bytes.Add(12); break;
                case 'v': bytes.Add(11); break;
                case '\\': bytes.Add((byte)'\\'); break;
                case '\'': bytes.Add((byte)'\''); break;
                case '"': bytes.Add((byte)'"'); break;
                case '?': bytes.Add((byte)'?'); break;
                case 'x' or 'X':
                    {
                        int value = 0, digits = 0;
                        while (digits < 2 && char.IsAsciiHexDigit(Peek()))
                        {
                            value = value * 16 + Convert.ToInt32(Peek().ToString(), 16);
                            Advance();
                            digits++;
                        }
                        if (digits == 0)
                            throw Error(escLine, escColumn, "Invalid escape '\\x' in string: expected hex digits");
                        bytes.Add((byte)value);
                        break;
                    }
                case >= '0' and <= '7':
                    {
                        int value = e - '0', digits = 1;
                        while (digits < 3 && Peek() is >= '0' and <= '7')
                        {
                            value = value * 8 + (Peek() - '0');
                            Advance();
                            digits++;
                        }
                        if (value > 255)
                            throw Error(escLine, escColumn, $"Octal escape '\\{Convert.ToString(value, 8)}' is larger than a byte");
                        bytes.Add((byte)value);
                        break;
                    }
                default:
                    throw Error(escLine, escColumn, $"Invalid escape sequence '\\{e}' in string");
            }
        }
        var content = bytes.ToArray();
        return new Token(TokenKind.String, _text[(start + 1)..(_pos - 1)], line, column, content);
    }
}
