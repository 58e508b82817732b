using System.Text.Json;
using Flamewright.Pprof.Analysis;

namespace Flamewright.Pprof.Export;

/// <summary>
/// A <see cref="FlameDiff"/> as flat JSON, one object per node in pre-order (a parent before its children, the
/// root first with id 0 and parentId -1), so that a viewer rebuilds the tree in one pass without deep nesting:
/// <c>{"sampleType":{"type":"cpu","unit":"nanoseconds"},"granularity":"function","baseTotal":N,"targetTotal":N,
/// "nodes":[{"id":0,"parentId":-1,"name":"root","baseTotal":N,"baseSelf":N,"targetTotal":N,"targetSelf":N},...]}</c>.
/// </summary>
public static class JsonDiff
{
    public static void Write(FlameDiff diff, Stream output)
    {
        ArgumentNullException.ThrowIfNull(diff);
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        JsonExport.WriteSampleTypeAndGranularity(json, diff.SampleType, diff.Granularity);
        json.WriteNumber("baseTotal", diff.BaseTotal);
        json.WriteNumber("targetTotal", diff.TargetTotal);
        json.WritePropertyName("nodes");
        json.WriteStartArray();
        for (int node = 0; node < diff.Count; node++)
        {
            json.WriteStartObject();
            json.WriteNumber("id", node);
            json.WriteNumber("parentId", diff.ParentOf(node));
            json.WriteString("name", diff.NameOf(node));
            json.WriteNumber("baseTotal", diff.BaseTotalOf(node));
            json.WriteNumber("baseSelf", diff.BaseSelfOf(node));
            json.WriteNumber("targetTotal", diff.TargetTotalOf(node));
            json.WriteNumber("targetSelf", diff.TargetSelfOf(node));
            json.WriteEndObject();
            JsonExport.FlushWhenFull(json);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
