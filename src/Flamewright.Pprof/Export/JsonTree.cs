using System.Text.Json;
using Flamewright.Pprof.Analysis;

namespace Flamewright.Pprof.Export;

/// <summary>
/// The tree as nested JSON:
/// <c>{"sampleType":{"type":"cpu","unit":"nanoseconds"},"granularity":"function","total":N,
/// "root":{"name":"root","total":N,"self":N,"children":[...]}}</c>. Written iteratively, so stacks
/// thousands of frames deep neither overflow the call stack nor hit a writer depth limit.
/// </summary>
public static class JsonTree
{
    public static void Write(FlameTree tree, Stream output)
    {
        ArgumentNullException.ThrowIfNull(tree);
        // Each level of the tree nests two JSON levels; MaxDepth is enforced even when validation is skipped.
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true, Indented = false, MaxDepth = int.MaxValue });
        json.WriteStartObject();
        JsonExport.WriteSampleTypeAndGranularity(json, tree.SampleType, tree.Granularity);
        json.WriteNumber("total", tree.Total);
        json.WritePropertyName("root");
        var open = new Stack<int>(); // nodes whose "children" array is still open
        for (int node = 0; node < tree.Count; node++)
        {
            while (open.Count > 0 && node >= tree.SubtreeEnd(open.Peek()))
            {
                open.Pop();
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteStartObject();
            json.WriteString("name", tree.NameOf(node));
            json.WriteNumber("total", tree.TotalOf(node));
            json.WriteNumber("self", tree.SelfOf(node));
            json.WritePropertyName("children");
            json.WriteStartArray();
            open.Push(node);
            JsonExport.FlushWhenFull(json);
        }

        while (open.Count > 0)
        {
            open.Pop();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }
}
