using System.Text.Json;
using System.Text.Json.Nodes;
using GraphQLParser.AST;

namespace Flamewright.Testing;

/// <summary>
/// Checks a GraphQL answer against the schema the server itself reports by introspection: every field is one
/// the type declares, non-null fields are not null, lists are arrays, <c>String</c> and <c>ID</c> are JSON
/// strings, <c>Int</c> and <c>Long</c> are integral JSON numbers, enums are one of their names. This is what
/// a typed client (the SkyWalking UI, swctl) relies on, so every answer the tests read goes through it.
/// </summary>
internal sealed class SchemaConformance
{
    /// <summary>What the checker needs to know about the schema, as GraphQL introspection gives it.</summary>
    public const string IntrospectionQuery = """
        { __schema {
            queryType { name } mutationType { name }
            types { name kind enumValues { name } inputFields { name type { ...Ref } }
                    fields(includeDeprecated: true) { name args { name type { ...Ref } } type { ...Ref } } } } }
        fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
        """;

    private readonly Dictionary<string, JsonNode> _types;
    private readonly string _queryType;
    private readonly string? _mutationType;

    public SchemaConformance(JsonNode schema)
    {
        _types = schema["types"]!.AsArray().ToDictionary(t => (string)t!["name"]!, t => t!);
        _queryType = (string)schema["queryType"]!["name"]!;
        _mutationType = (string?)schema["mutationType"]?["name"];
    }

    /// <summary>The named type's introspection entry (kind, fields, enum values).</summary>
    public JsonNode Type(string name) =>
        _types.TryGetValue(name, out JsonNode? type) ? type : throw new InvalidOperationException($"the schema has no type {name}");

    /// <summary>A field as SDL writes it, with its arguments: <c>listServices(layer: String!): [Service!]!</c>.</summary>
    public string Signature(string typeName, string fieldName)
    {
        JsonNode field = Field(typeName, fieldName);
        JsonArray args = field["args"]!.AsArray();
        string arguments = args.Count == 0 ? "" : "(" + string.Join(", ", args.Select(a => $"{(string)a!["name"]!}: {Write(a["type"]!)}")) + ")";
        return $"{fieldName}{arguments}: {Write(field["type"]!)}";
    }

    /// <summary>An input type's fields as SDL writes them: <c>serviceId: ID!</c>.</summary>
    public IReadOnlyList<string> InputFields(string typeName) =>
        [.. Type(typeName)["inputFields"]!.AsArray().Select(f => $"{(string)f!["name"]!}: {Write(f["type"]!)}")];

    /// <summary>An enum's names, in order.</summary>
    public IReadOnlyList<string> EnumValues(string typeName) =>
        [.. Type(typeName)["enumValues"]!.AsArray().Select(v => (string)v!["name"]!)];

    /// <summary>Fails with the path of the first value that does not match the schema.</summary>
    public void Check(string document, JsonNode data)
    {
        bool mutation = document.TrimStart().StartsWith("mutation", StringComparison.Ordinal);
        string root = mutation ? _mutationType ?? throw new InvalidOperationException("the schema has no mutation type") : _queryType;
        GraphQLSelectionSet? selection = GraphQLParser.Parser.Parse(document).Definitions.OfType<GraphQLOperationDefinition>().FirstOrDefault()?.SelectionSet;
        CheckObject(data, root, "data", selection);
    }

    /// <summary>
    /// Checks an object's fields; <paramref name="selection"/> is what the document asked of it, to know the field behind an
    /// alias (without it, keys are taken as field names).
    /// </summary>
    private void CheckObject(JsonNode node, string typeName, string path, GraphQLSelectionSet? selection)
    {
        if (node is not JsonObject fields)
        {
            throw Mismatch(path, $"an object of type {typeName}", node);
        }

        Dictionary<string, GraphQLField> asked = selection?.Selections.OfType<GraphQLField>()
            .GroupBy(f => (f.Alias?.Name ?? f.Name).StringValue).ToDictionary(g => g.Key, g => g.First()) ?? [];
        foreach ((string key, JsonNode? value) in fields)
        {
            GraphQLField? field = asked.GetValueOrDefault(key);
            string name = field?.Name.StringValue ?? key;
            if (name == "__typename")
            {
                continue;
            }

            CheckValue(value, Field(typeName, name, path)["type"]!, $"{path}.{key}", field?.SelectionSet);
        }
    }

    private void CheckValue(JsonNode? value, JsonNode type, string path, GraphQLSelectionSet? selection)
    {
        string kind = (string)type["kind"]!;
        if (kind == "NON_NULL")
        {
            if (value is null)
            {
                throw Mismatch(path, Write(type), value);
            }

            CheckValue(value, type["ofType"]!, path, selection);
            return;
        }

        if (value is null)
        {
            return;
        }

        string? name = (string?)type["name"];
        switch (kind)
        {
            case "LIST":
                if (value is not JsonArray items)
                {
                    throw Mismatch(path, Write(type), value);
                }

                for (int i = 0; i < items.Count; i++)
                {
                    CheckValue(items[i], type["ofType"]!, $"{path}[{i}]", selection);
                }

                break;
            case "OBJECT":
                CheckObject(value, name!, path, selection);
                break;
            case "ENUM":
                IReadOnlyList<string> names = EnumValues(name!);
                if (value.GetValueKind() != JsonValueKind.String || !names.Contains((string)value!))
                {
                    throw Mismatch(path, $"one of {name}'s names ({string.Join(", ", names)})", value);
                }

                break;
            case "SCALAR":
                if (!ScalarMatches(name!, value))
                {
                    throw Mismatch(path, name!, value);
                }

                break;
            default:
                throw new InvalidOperationException($"{path}: the checker does not know kind {kind}");
        }
    }

    private static bool ScalarMatches(string scalar, JsonNode value)
    {
        JsonValueKind kind = value.GetValueKind();
        return scalar switch
        {
            "String" or "ID" => kind == JsonValueKind.String,
            "Int" => kind == JsonValueKind.Number && value.AsValue().TryGetValue(out int _),
            "Long" => kind == JsonValueKind.Number && value.AsValue().TryGetValue(out long _),
            "Float" => kind == JsonValueKind.Number,
            "Boolean" => kind is JsonValueKind.True or JsonValueKind.False,
            _ => throw new InvalidOperationException($"the checker does not know scalar {scalar}"),
        };
    }

    private JsonNode Field(string typeName, string fieldName, string? path = null) =>
        Type(typeName)["fields"]?.AsArray().FirstOrDefault(f => (string)f!["name"]! == fieldName)
        ?? throw new ExpectationException($"{path ?? typeName}.{fieldName}: {typeName} has no field {fieldName} (aliases are not supported here)");

    private static string Write(JsonNode type) => (string)type["kind"]! switch
    {
        "NON_NULL" => Write(type["ofType"]!) + "!",
        "LIST" => "[" + Write(type["ofType"]!) + "]",
        _ => (string)type["name"]!,
    };

    private static ExpectationException Mismatch(string path, string expected, JsonNode? actual) =>
        new($"{path}: expected {expected}, got {actual?.ToJsonString() ?? "null"}");
}
