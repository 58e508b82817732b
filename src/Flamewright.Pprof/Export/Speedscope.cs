using System.Text.Json;
using Flamewright.Pprof.Analysis;

namespace Flamewright.Pprof.Export;

/// <summary>
/// speedscope's file format (https://www.speedscope.app/file-format-schema.json): one "sampled" profile whose
/// samples are the tree's distinct stacks (root first) weighted by their self value. Stacks whose self value is
/// zero or negative are left out: speedscope draws widths and cannot show negative weight.
/// </summary>
public static class Speedscope
{
    public static void Write(FlameTree tree, Stream output, string name)
    {
        ArgumentNullException.ThrowIfNull(tree);
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        var frameIds = new StringTable();
        var frameOf = new int[tree.Count];
        for (int node = 1; node < tree.Count; node++)
        {
            frameOf[node] = frameIds.Index(tree.NameOf(node));
        }

        json.WriteStartObject();
        json.WriteString("$schema", "https://www.speedscope.app/file-format-schema.json");
        json.WriteString("exporter", "flamewright");
        json.WriteString("name", name);
        json.WriteNumber("activeProfileIndex", 0);
        json.WritePropertyName("shared");
        json.WriteStartObject();
        json.WritePropertyName("frames");
        json.WriteStartArray();
        foreach (string frame in frameIds.Strings)
        {
            json.WriteStartObject();
            json.WriteString("name", frame);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();

        json.WritePropertyName("profiles");
        json.WriteStartArray();
        json.WriteStartObject();
        json.WriteString("type", "sampled");
        json.WriteString("name", $"{name} {tree.SampleType}");
        json.WriteString("unit", Unit(tree.SampleType.Unit));
        json.WriteNumber("startValue", 0);
        long positive = 0;
        for (int node = 1; node < tree.Count; node++)
        {
            positive += Math.Max(tree.SelfOf(node), 0);
        }

        json.WriteNumber("endValue", positive);
        json.WritePropertyName("samples");
        json.WriteStartArray();
        tree.ForEachPath((node, path) =>
        {
            if (tree.SelfOf(node) > 0)
            {
                json.WriteStartArray();
                foreach (int step in path)
                {
                    json.WriteNumberValue(frameOf[step]);
                }

                json.WriteEndArray();
            }

            JsonExport.FlushWhenFull(json);
        });

        json.WriteEndArray();
        json.WritePropertyName("weights");
        json.WriteStartArray();
        for (int node = 1; node < tree.Count; node++)
        {
            if (tree.SelfOf(node) > 0)
            {
                json.WriteNumberValue(tree.SelfOf(node));
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>speedscope knows a fixed set of units; pprof's map onto them or onto "none".</summary>
    private static string Unit(string pprofUnit) => pprofUnit switch
    {
        "nanoseconds" => "nanoseconds",
        "microseconds" => "microseconds",
        "milliseconds" => "milliseconds",
        "seconds" => "seconds",
        "bytes" => "bytes",
        _ => "none",
    };
}
