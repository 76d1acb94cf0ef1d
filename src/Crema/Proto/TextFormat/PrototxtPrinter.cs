using System.Collections;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Crema.Proto.TextFormat;

/// <summary>
/// Writes a message as protobuf text format in Caffe's style: two-space indent, fields in ascending field-number
/// order, only fields that are set, floats in their shortest form that reads back bit-exactly.
/// </summary>
public static class PrototxtPrinter
{
    public static string Print(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var sb = new StringBuilder();
        PrintFields(sb, message, 0);
        return sb.ToString();
    }

    private static void PrintFields(StringBuilder sb, IMessage message, int indent)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.IsRepeated)
            {
                foreach (var item in (IList)field.Accessor.GetValue(message))
                    PrintField(sb, field, item, indent);
            }
            else if (field.FieldType is FieldType.Message or FieldType.Group)
            {
                var value = field.Accessor.GetValue(message);
                if (value is not null)
                    PrintField(sb, field, value, indent);
            }
            else if (!field.HasPresence || field.Accessor.HasValue(message))
            {
                var value = field.Accessor.GetValue(message);
                // proto3-style fields without presence are printed only when non-default.
                if (field.HasPresence || !IsDefault(value))
                    PrintField(sb, field, value, indent);
            }
        }
    }

    private static bool IsDefault(object value) => value switch
    {
        string s => s.Length == 0,
        ByteString b => b.IsEmpty,
        bool b => !b,
        float f => f == 0 && !float.IsNegative(f),
        double d => d == 0 && !double.IsNegative(d),
        Enum e => Convert.ToInt64(e, CultureInfo.InvariantCulture) == 0,
        IConvertible c => Convert.ToDecimal(c, CultureInfo.InvariantCulture) == 0,
        _ => false,
    };

    private static void PrintField(StringBuilder sb, FieldDescriptor field, object value, int indent)
    {
        sb.Append(' ', indent * 2).Append(field.Name);
        if (value is IMessage child)
        {
            sb.Append(" {\n");
            PrintFields(sb, child, indent + 1);
            sb.Append(' ', indent * 2).Append("}\n");
            return;
        }
        sb.Append(": ");
        switch (field.FieldType)
        {
            case FieldType.String:
                AppendQuoted(sb, Encoding.UTF8.GetBytes((string)value), keepUtf8: true);
                break;
            case FieldType.Bytes:
                AppendQuoted(sb, ((ByteString)value).ToByteArray(), keepUtf8: false);
                break;
            case FieldType.Enum:
                {
                    int number = Convert.ToInt32(value, CultureInfo.InvariantCulture);
                    var enumValue = field.EnumType.FindValueByNumber(number);
                    sb.Append(enumValue is null ? number.ToString(CultureInfo.InvariantCulture) : enumValue.Name);
                    break;
                }
            case FieldType.Bool:
                sb.Append((bool)value ? "true" : "false");
                break;
            case FieldType.Float:
                sb.Append(FormatFloat((float)value));
                break;
            case FieldType.Double:
                sb.Append(FormatDouble((double)value));
                break;
            default:
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
        sb.Append('\n');
    }

    /// <summary>Shortest text that parses back to the same float; "inf", "-inf", "nan" as protobuf spells them.</summary>
    public static string FormatFloat(float value)
    {
        if (float.IsNaN(value))
            return "nan";
        if (float.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        return value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
    }

    public static string FormatDouble(double value)
    {
        if (double.IsNaN(value))
            return "nan";
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        return value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
    }

    /// <summary>Double-quoted with C escapes; control and (for bytes) non-ASCII bytes as 3-digit octal.</summary>
    private static void AppendQuoted(StringBuilder sb, byte[] bytes, bool keepUtf8)
    {
        sb.Append('"');
        int i = 0;
        while (i < bytes.Length)
        {
            byte b = bytes[i];
            switch (b)
            {
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\'': sb.Append("\\'"); break;
                case (byte)'\\': sb.Append("\\\\"); break;
                default:
                    if (b >= 0x20 && b < 0x7F)
                    {
                        sb.Append((char)b);
                    }
                    else if (b >= 0x80 && keepUtf8 && Utf8SequenceLength(bytes, i) is int n and > 0)
                    {
                        sb.Append(Encoding.UTF8.GetString(bytes, i, n));
                        i += n;
                        continue;
                    }
                    else
                    {
                        sb.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
                    }
                    break;
            }
            i++;
        }
        sb.Append('"');
    }

    private static int Utf8SequenceLength(byte[] bytes, int start)
    {
        byte lead = bytes[start];
        int n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
        if (n == 0 || start + n > bytes.Length)
            return 0;
        for (int k = 1; k < n; k++)
        {
            if ((bytes[start + k] & 0xC0) != 0x80)
                return 0;
        }
        return n;
    }
}
