using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Crema.Proto.TextFormat;

// Scalar values (numbers, strings, bools, enums) of the text-format reader, with protobuf's range and syntax rules.
public static partial class PrototxtParser
{
    private sealed partial class Reader
    {
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
    }
}
