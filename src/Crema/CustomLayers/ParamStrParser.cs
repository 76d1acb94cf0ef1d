namespace Crema.CustomLayers;

/// <summary>
/// Reads a <c>param_str</c> as key/value pairs. Accepts <c>smooth=1, axis=2</c> (separators: comma, semicolon, whitespace),
/// and the Python-dict / JSON form Caffe's Python layers often use: <c>{'smooth': 1, "axis": 2}</c>. Values are strings;
/// quotes around keys and values are dropped. Nested structures are not supported (parse <c>ParamStr</c> yourself for those).
/// </summary>
public static class ParamStrParser
{
    public static IReadOnlyDictionary<string, string> Parse(string? text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        string s = (text ?? "").Trim();
        if (s.StartsWith('{') && s.EndsWith('}'))
        {
            s = s[1..^1];
        }
        int i = 0;
        while (true)
        {
            SkipSeparators(s, ref i);
            if (i >= s.Length)
            {
                return result;
            }
            string key = ReadToken(s, ref i, isKey: true);
            SkipSpaces(s, ref i);
            if (i >= s.Length || (s[i] != '=' && s[i] != ':'))
            {
                throw new FormatException($"expected '=' or ':' after '{key}' at character {i + 1}");
            }
            i++;
            SkipSpaces(s, ref i);
            string value = ReadToken(s, ref i, isKey: false);
            if (key.Length == 0)
            {
                throw new FormatException($"empty key before character {i + 1}");
            }
            if (!result.TryAdd(key, value))
            {
                throw new FormatException($"key '{key}' given twice");
            }
        }
    }

    private static string ReadToken(string s, ref int i, bool isKey)
    {
        if (i < s.Length && (s[i] == '\'' || s[i] == '"'))
        {
            char quote = s[i];
            int end = s.IndexOf(quote, i + 1);
            if (end < 0)
            {
                throw new FormatException($"unterminated quote starting at character {i + 1}");
            }
            string quoted = s[(i + 1)..end];
            i = end + 1;
            return quoted;
        }
        int start = i;
        while (i < s.Length && !char.IsWhiteSpace(s[i]) && s[i] != ',' && s[i] != ';' && !(isKey && (s[i] == '=' || s[i] == ':')))
        {
            i++;
        }
        return s[start..i];
    }

    private static void SkipSpaces(string s, ref int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i]))
        {
            i++;
        }
    }

    private static void SkipSeparators(string s, ref int i)
    {
        while (i < s.Length && (char.IsWhiteSpace(s[i]) || s[i] == ',' || s[i] == ';'))
        {
            i++;
        }
    }
}
