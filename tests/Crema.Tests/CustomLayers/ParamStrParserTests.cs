using Crema.CustomLayers;

namespace Crema.Tests.CustomLayers;

public class ParamStrParserTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("smooth=1", "smooth=1")]
    [InlineData("a=1, b=2;c=x  d = 4", "a=1|b=2|c=x|d=4")]
    [InlineData("{'num': 3, \"phase\": 'train'}", "num=3|phase=train")]
    [InlineData("path: '/tmp/a b.txt'", "path=/tmp/a b.txt")]
    public void Parse_AcceptsKeyValueAndDictForms(string text, string expected)
    {
        var parsed = ParamStrParser.Parse(text);
        Assert.Equal(expected, string.Join("|", parsed.Select(kv => $"{kv.Key}={kv.Value}")));
    }

    [Theory]
    [InlineData("smooth", "expected '=' or ':' after 'smooth'")]
    [InlineData("a=1 a=2", "key 'a' given twice")]
    [InlineData("a='open", "unterminated quote")]
    public void Parse_RejectsMalformedText(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ParamStrParser.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
