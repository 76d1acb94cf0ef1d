using System.Collections;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Crema.Proto.TextFormat;

/// <summary>
/// Reads protobuf text format (.prototxt) into any generated message, driven by its descriptor.
/// As protobuf's C++ parser (Caffe's): a non-repeated field, scalar or message, given twice in one message is an error.
/// </summary>
public static class PrototxtParser
{
    public static T Parse<T>(string text, string fileName = "<text>") where T : IMessage<T>, new()
    {
        var message = new T();
        Merge(message, text, fileName);
        return message;
    }

    public static void Merge(IMessage message, string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(text);
        var reader = new Reader(new PrototxtTokenizer(text, fileName ?? "<text>"));
        reader.ParseFields(message, null);
    }

    private sealed class Reader(PrototxtTokenizer tokens)
    {
        private const int MaxDepth = 100;
        private int _depth;
        private readonly HashSet<(IMessage, int)> _seen = new(SeenComparer.Instance);

        private sealed class SeenComparer : IEqualityComparer<(IMessage Message, int Field)>
        {
            public static readonly SeenComparer Instance = new();

            public bool Equals((IMessage Message, int Field) x, (IMessage Message, int Field) y) =>
                ReferenceEquals(x.Message, y.Message) && x.Field == y.Field;

            public int GetHashCode((IMessage Message, int Field) obj) =>
                HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Message), obj.Field);
        }

        /// <summary>Parses fields until <paramref name="block"/> (or end of file when null) and consumes the closer.</summary>
        public void ParseFields(IMessage message, (char Close, Token Open, FieldDescriptor Field, MessageDescriptor Parent)? block)
        {
            var descriptor = message.Descriptor;
            while (true)
            {
                var token = tokens.Current;
                if (block is { } b)
                {
                    if (token.Kind == TokenKind.End)
                        throw tokens.Error(b.Open.Line, b.Open.Column,
                            $"Unterminated block: '{b.Open.Text}' is never closed (reached end of file){Context(b.Field, b.Parent)}");
                    if (token.Is(b.Close))
                    {
                        tokens.Next();
                        return;
                    }
                    if (token.Is('}') || token.Is('>'))
                        throw tokens.Error(token.Line, token.Column,
                            $"Expected '{b.Close}' to close the block opened at {b.Open.Line}:{b.Open.Column}, got {token.Describe()}{Context(b.Field, b.Parent)}");
                }
                else if (token.Kind == TokenKind.End)
                {
                    return;
                }
                ParseField(message, descriptor);
                if (tokens.Current.Is(';') || tokens.Current.Is(','))
                    tokens.Next();
            }
        }

        private void ParseField(IMessage message, MessageDescriptor descriptor)
        {
            var nameToken = tokens.Next();
            if (nameToken.Kind != TokenKind.Identifier)
                throw tokens.Error(nameToken.Line, nameToken.Column,
                    $"Expected a field name, got {nameToken.Describe()} (in message {descriptor.FullName})");
            var field = descriptor.FindFieldByName(nameToken.Text);
            if (field is null)
                throw tokens.Error(nameToken.Line, nameToken.Column, UnknownFieldMessage(nameToken.Text, descriptor));
            // As protobuf's C++ text parser (what Caffe uses): `type: "ReLU" type: "Sigmoid"` is an error, not "last wins".
            if (!field.IsRepeated && !_seen.Add((message, field.FieldNumber)))
                throw tokens.Error(nameToken.Line, nameToken.Column,
                    $"Non-repeated field '{field.Name}' is specified multiple times (in message {descriptor.FullName})");

            if (field.FieldType is FieldType.Message or FieldType.Group)
            {
                bool hadColon = false;
                if (tokens.Current.Is(':'))
                {
                    tokens.Next();
                    hadColon = true;
                }
                if (hadColon && tokens.Current.Is('['))
                {
                    ParseList(field, descriptor, () => ParseMessageValue(message, field, descriptor));
                    return;
                }
                ParseMessageValue(message, field, descriptor);
                return;
            }

            var colon = tokens.Next();
            if (!colon.Is(':'))
                throw tokens.Error(colon.Line, colon.Column, $"Expected ':' after field name, got {colon.Describe()}{Context(field, descriptor)}");
            if (tokens.Current.Is('['))
            {
                ParseList(field, descriptor, () => Store(message, field, ParseScalar(field, descriptor)));
                return;
            }
            Store(message, field, ParseScalar(field, descriptor));
        }

        private void ParseList(FieldDescriptor field, MessageDescriptor descriptor, Action parseElement)
        {
            var open = tokens.Next();
            if (!field.IsRepeated)
                throw tokens.Error(open.Line, open.Column, $"A list '[...]' is only allowed for repeated fields{Context(field, descriptor)}");
            if (tokens.Current.Is(']'))
            {
                tokens.Next();
                return;
            }
            while (true)
            {
                if (tokens.Current.Kind == TokenKind.End)
                    throw tokens.Error(open.Line, open.Column, $"Unterminated list: '[' is never closed (reached end of file){Context(field, descriptor)}");
                parseElement();
                var sep = tokens.Next();
                if (sep.Is(']'))
                    return;
                if (!sep.Is(','))
                    throw tokens.Error(sep.Line, sep.Column, $"Expected ',' or ']' in list, got {sep.Describe()}{Context(field, descriptor)}");
            }
        }

        private void ParseMessageValue(IMessage message, FieldDescriptor field, MessageDescriptor descriptor)
        {
            var open = tokens.Next();
            char close;
            if (open.Is('{'))
                close = '}';
            else if (open.Is('<'))
                close = '>';
            else
                throw tokens.Error(open.Line, open.Column, $"Expected '{{' to start message, got {open.Describe()}{Context(field, descriptor)}");

            IMessage child;
            if (field.IsRepeated)
            {
                child = NewMessage(field);
                ((IList)field.Accessor.GetValue(message)).Add(child);
            }
            else
            {
                // proto2: a second block for the same optional message merges into the first.
                child = (IMessage?)field.Accessor.GetValue(message) ?? NewMessage(field);
                field.Accessor.SetValue(message, child);
            }
            if (++_depth > MaxDepth)
                throw tokens.Error(open.Line, open.Column, $"Messages nested deeper than {MaxDepth} levels{Context(field, descriptor)}");
            ParseFields(child, (close, open, field, descriptor));
            _depth--;
        }

        private static IMessage NewMessage(FieldDescriptor field) =>
            (IMessage)Activator.CreateInstance(field.MessageType.ClrType)!;

        private static void Store(IMessage message, FieldDescriptor field, object value)
        {
            if (field.IsRepeated)
                ((IList)field.Accessor.GetValue(message)).Add(value);
            else
                field.Accessor.SetValue(message, value);
        }

        private object ParseScalar(FieldDescriptor field, MessageDescriptor descriptor)
        {
            switch (field.FieldType)
            {
                case FieldType.String:
                    return Encoding.UTF8.GetString(ParseStringBytes(field, descriptor));
                case FieldType.Bytes:
                    return ByteString.CopyFrom(ParseStringBytes(field, descriptor));
                case FieldType.Bool:
                    return ParseBool(field, descriptor);
                case FieldType.Enum:
                    return ParseEnum(field, descriptor);
                case FieldType.Float:
                case FieldType.Double:
                    {
                        double d = ParseFloating(field, descriptor);
                        return field.FieldType == FieldType.Float ? (object)(float)d : d;
                    }
                default:
                    return ParseIntegerField(field, descriptor);
            }
        }

        private byte[] ParseStringBytes(FieldDescriptor field, MessageDescriptor descriptor)
        {
            var token = tokens.Next();
            if (token.Kind != TokenKind.String)
                throw tokens.Error(token.Line, token.Column, $"Expected a quoted string, got {token.Describe()}{Context(field, descriptor)}");
            if (tokens.Current.Kind != TokenKind.String)
                return token.Bytes!;
            // Adjacent literals concatenate, as in C: "ab" 'cd' == "abcd".
            var all = new List<byte>(token.Bytes!);
            while (tokens.Current.Kind == TokenKind.String)
                all.AddRange(tokens.Next().Bytes!);
            return all.ToArray();
        }

        private bool ParseBool(FieldDescriptor field, MessageDescriptor descriptor)
        {
            var token = tokens.Next();
            switch (token.Text)
            {
                case "true" or "True" or "t":
                    if (token.Kind == TokenKind.Identifier)
                        return true;
                    break;
                case "false" or "False" or "f":
                    if (token.Kind == TokenKind.Identifier)
                        return false;
                    break;
                case "1" or "0":
                    if (token.Kind == TokenKind.Integer)
                        return token.Text == "1";
                    break;
            }
            throw tokens.Error(token.Line, token.Column, $"Expected a bool (true/false), got {token.Describe()}{Context(field, descriptor)}");
        }

        private object ParseEnum(FieldDescriptor field, MessageDescriptor descriptor)
        {
            var enumType = field.EnumType;
            var token = tokens.Next();
            EnumValueDescriptor? value;
            if (token.Kind == TokenKind.Identifier)
            {
                value = enumType.FindValueByName(token.Text);
                if (value is null)
                    throw tokens.Error(token.Line, token.Column,
                        $"Unknown value '{token.Text}' for enum {enumType.FullName}; valid values: {string.Join(", ", enumType.Values.Select(v => v.Name))}{Context(field, descriptor)}");
            }
            else if (token.Kind == TokenKind.Integer || token.Is('-'))
            {
                bool negative = token.Is('-');
                var digits = negative ? tokens.Next() : token;
                if (digits.Kind != TokenKind.Integer)
                    throw tokens.Error(digits.Line, digits.Column, $"Expected an enum value, got {digits.Describe()}{Context(field, descriptor)}");
                ulong magnitude = ParseUnsigned(digits, field, descriptor);
                long number = negative ? -(long)magnitude : (long)magnitude;
                value = number is >= int.MinValue and <= int.MaxValue ? enumType.FindValueByNumber((int)number) : null;
                if (value is null)
                    throw tokens.Error(token.Line, token.Column,
                        $"Unknown value {number} for enum {enumType.FullName}; valid values: {string.Join(", ", enumType.Values.Select(v => $"{v.Name} = {v.Number}"))}{Context(field, descriptor)}");
            }
            else
            {
                throw tokens.Error(token.Line, token.Column,
                    $"Expected an enum value ({string.Join(", ", enumType.Values.Select(v => v.Name))}), got {token.Describe()}{Context(field, descriptor)}");
            }
            return Enum.ToObject(enumType.ClrType, value.Number);
        }

        private double ParseFloating(FieldDescriptor field, MessageDescriptor descriptor)
        {
            var first = tokens.Next();
            bool negative = first.Is('-');
            var token = negative ? tokens.Next() : first;
            double magnitude;
            switch (token.Kind)
            {
                case TokenKind.Float:
                    {
                        var text = token.Text.TrimEnd('f', 'F');
                        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out magnitude))
                            throw tokens.Error(token.Line, token.Column, $"Malformed number '{token.Text}'{Context(field, descriptor)}");
                        break;
                    }
                case TokenKind.Integer:
                    magnitude = token.Text.Length > 1 && token.Text[0] == '0' && char.IsAsciiDigit(token.Text[1])
                        ? ParseUnsigned(token, field, descriptor)
                        : ParseIntegerAsDouble(token, field, descriptor);
                    break;
                case TokenKind.Identifier:
                    switch (token.Text.ToUpperInvariant())
                    {
                        case "INF" or "INFINITY":
                            magnitude = double.PositiveInfinity;
                            break;
                        case "NAN":
                            magnitude = double.NaN;
                            break;
                        default:
                            throw tokens.Error(token.Line, token.Column, $"Expected a number, got {token.Describe()}{Context(field, descriptor)}");
                    }
                    break;
                default:
                    throw tokens.Error(token.Line, token.Column, $"Expected a number, got {token.Describe()}{Context(field, descriptor)}");
            }
            return negative ? -magnitude : magnitude;
        }

        private double ParseIntegerAsDouble(Token token, FieldDescriptor field, MessageDescriptor descriptor)
        {
            if (token.Text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                return ParseUnsigned(token, field, descriptor);
            // Decimal integers of any length are fine for a float field.
            return double.Parse(token.Text, NumberStyles.Integer, CultureInfo.InvariantCulture);
        }

        private object ParseIntegerField(FieldDescriptor field, MessageDescriptor descriptor)
        {
            var first = tokens.Next();
            bool negative = first.Is('-');
            var token = negative ? tokens.Next() : first;
            if (token.Kind == TokenKind.Float)
                throw tokens.Error(token.Line, token.Column, $"Expected an integer, got '{(negative ? "-" : "")}{token.Text}'{Context(field, descriptor)}");
            if (token.Kind != TokenKind.Integer)
                throw tokens.Error(token.Line, token.Column, $"Expected an integer, got {token.Describe()}{Context(field, descriptor)}");
            ulong magnitude = ParseUnsigned(token, field, descriptor);
            string shown = (negative ? "-" : "") + token.Text;
            (bool signed, long min, ulong max) = field.FieldType switch
            {
                FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => (true, int.MinValue, (ulong)int.MaxValue),
                FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => (true, long.MinValue, (ulong)long.MaxValue),
                FieldType.UInt32 or FieldType.Fixed32 => (false, 0L, uint.MaxValue),
                _ => (false, 0L, ulong.MaxValue),
            };
            bool inRange = negative
                ? signed && magnitude <= (ulong)(-(min + 1)) + 1
                : magnitude <= max;
            if (!inRange)
                throw tokens.Error(first.Line, first.Column,
                    $"Integer {shown} is out of range for {field.FieldType.ToString().ToLowerInvariant()} (allowed {min} to {max}){Context(field, descriptor)}");
            return field.FieldType switch
            {
                FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => negative ? (int)(-(long)magnitude) : (int)magnitude,
                FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => negative ? (long)(0UL - magnitude) : (long)magnitude,
                FieldType.UInt32 or FieldType.Fixed32 => (uint)magnitude,
                _ => (object)magnitude,
            };
        }

        /// <summary>Decimal, 0x hex or 0-prefixed octal, as protobuf's tokenizer reads them.</summary>
        private ulong ParseUnsigned(Token token, FieldDescriptor field, MessageDescriptor descriptor)
        {
            string text = token.Text;
            int radix = 10;
            string digits = text;
            if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                radix = 16;
                digits = text[2..];
            }
            else if (text.Length > 1 && text[0] == '0')
            {
                radix = 8;
                digits = text[1..];
            }
            ulong value = 0;
            foreach (char c in digits)
            {
                int d = char.IsAsciiDigit(c) ? c - '0' : char.ToLowerInvariant(c) - 'a' + 10;
                if (d >= radix)
                    throw tokens.Error(token.Line, token.Column, $"Malformed integer '{text}'{Context(field, descriptor)}");
                if (value > (ulong.MaxValue - (ulong)d) / (ulong)radix)
                    throw tokens.Error(token.Line, token.Column, $"Integer {text} is out of range{Context(field, descriptor)}");
                value = value * (ulong)radix + (ulong)d;
            }
            return value;
        }

        private static string Context(FieldDescriptor field, MessageDescriptor descriptor) =>
            $" (field '{field.Name}' in message {descriptor.FullName})";

        private static string UnknownFieldMessage(string name, MessageDescriptor descriptor)
        {
            string? best = null;
            int bestDistance = 3;
            foreach (var candidate in descriptor.Fields.InDeclarationOrder())
            {
                int d = EditDistance(name, candidate.Name);
                if (d < bestDistance)
                {
                    bestDistance = d;
                    best = candidate.Name;
                }
            }
            var hint = best is null ? "" : $"; did you mean '{best}'?";
            return $"Unknown field '{name}' in message {descriptor.FullName}{hint}";
        }

        internal static int EditDistance(string a, string b)
        {
            var previous = new int[b.Length + 1];
            var current = new int[b.Length + 1];
            for (int j = 0; j <= b.Length; j++)
                previous[j] = j;
            for (int i = 1; i <= a.Length; i++)
            {
                current[0] = i;
                for (int j = 1; j <= b.Length; j++)
                {
                    int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                    current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                }
                (previous, current) = (current, previous);
            }
            return previous[b.Length];
        }
    }
}
