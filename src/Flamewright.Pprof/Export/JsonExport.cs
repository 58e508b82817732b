using System.Text.Json;
using Flamewright.Pprof.Analysis;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Export;

/// <summary>What the JSON exports write alike.</summary>
internal static class JsonExport
{
    /// <summary>
    /// A writer's buffer is flushed to the stream past 64 KiB: a large tree is hundreds of megabytes of JSON, which
    /// should reach the stream as it is written instead of piling up in the writer.
    /// </summary>
    private const int FlushThreshold = 1 << 16;

    /// <summary>Call after each element of a long array.</summary>
    public static void FlushWhenFull(Utf8JsonWriter json)
    {
        if (json.BytesPending > FlushThreshold)
        {
            json.Flush();
        }
    }

    /// <summary>Writes <c>"sampleType":{"type":"cpu","unit":"nanoseconds"},"granularity":"function"</c>.</summary>
    public static void WriteSampleTypeAndGranularity(Utf8JsonWriter json, ValueType sampleType, FrameGranularity granularity)
    {
        json.WritePropertyName("sampleType");
        json.WriteStartObject();
        json.WriteString("type", sampleType.Type);
        json.WriteString("unit", sampleType.Unit);
        json.WriteEndObject();
        json.WriteString("granularity", granularity == FrameGranularity.Line ? "line" : "function");
    }
}
