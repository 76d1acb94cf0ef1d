using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Crema.Proto.TextFormat;

/// <summary>
/// Reads protobuf text format (.prototxt) into any generated message, driven by its descriptor.
/// As protobuf's C++ parser (Caffe's): a non-repeated field, scalar or message, given twice in one message is an error.
/// </summary>
public static partial class PrototxtParser
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

    private sealed partial class Reader(PrototxtTokenizer tokens)
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
