using System.Globalization;
using Flamewright.Pprof.Model;
using Ref = Flamewright.Pprof.Tests.Reference;

namespace Flamewright.Pprof.Tests.Decoding;

/// <summary>
/// A profile's meaning as lines of text, with every id resolved to what it refers to: two profiles that differ
/// only in ids, field order or encoding give the same lines. Built from our model or the generated classes.
/// </summary>
internal static class ProfileContent
{
    public static List<string> Of(Profile p)
    {
        var lines = new List<string>
        {
            "sample_types: " + string.Join(", ", p.SampleTypes.ToArray().Select(t => t.Type + "/" + t.Unit)),
            "period_type: " + (p.PeriodType is { } pt ? pt.Type + "/" + pt.Unit : "none"),
            Scalars(p.Period, p.TimeNanos, p.DurationNanos, p.DropFrames, p.KeepFrames, p.DefaultSampleType, p.DocUrl),
            "comments: " + string.Join(" | ", p.Comments.ToArray()),
        };

        Mapping[] mappings = p.Mappings.ToArray();
        Function[] functions = p.Functions.ToArray();
        Line[] allLines = p.Lines.ToArray();
        string MappingOf(int index) => index < 0 ? "-" : Mapping(mappings[index]);
        string FunctionOf(int index) => index < 0 ? "-" : Function(functions[index]);
        string LocationOf(Location l) => Location(
            l.Address,
            MappingOf(l.MappingIndex),
            l.IsFolded,
            allLines.AsSpan(l.FirstLine, l.LineCount).ToArray().Select(line => Line(FunctionOf(line.FunctionIndex), line.LineNumber, line.Column)));

        string[] locations = [.. p.Locations.ToArray().Select(LocationOf)];
        lines.AddRange(Sorted("mapping", mappings.Select(Mapping)));
        lines.AddRange(Sorted("function", functions.Select(Function)));
        lines.AddRange(Sorted("location", locations));
        for (int i = 0; i < p.SampleCount; i++)
        {
            Sample s = p.GetSample(i);
            lines.Add(SampleLine(
                i,
                s.Values.ToArray(),
                s.Labels.ToArray().Select(l => l.Str is not null ? Label(l.Key, l.Str) : Label(l.Key, l.Num, l.NumUnit ?? "")),
                s.LocationIndexes.ToArray().Select(index => locations[index])));
        }

        return lines;
    }

    public static List<string> Of(Ref.Profile p)
    {
        var strings = p.StringTable;
        var lines = new List<string>
        {
            "sample_types: " + string.Join(", ", p.SampleType.Select(t => strings[(int)t.Type] + "/" + strings[(int)t.Unit])),
            "period_type: " + (p.PeriodType is { } pt ? strings[(int)pt.Type] + "/" + strings[(int)pt.Unit] : "none"),
            Scalars(p.Period, p.TimeNanos, p.DurationNanos, strings[(int)p.DropFrames], strings[(int)p.KeepFrames], strings[(int)p.DefaultSampleType], strings[(int)p.DocUrl]),
            "comments: " + string.Join(" | ", p.Comment.Select(c => strings[(int)c])),
        };

        var mappings = p.Mapping.ToDictionary(m => m.Id, m => Mapping(new Mapping(
            m.Id, m.MemoryStart, m.MemoryLimit, m.FileOffset, strings[(int)m.Filename], strings[(int)m.BuildId],
            m.HasFunctions, m.HasFilenames, m.HasLineNumbers, m.HasInlineFrames)));
        var functions = p.Function.ToDictionary(f => f.Id, f => Function(new Function(
            f.Id, strings[(int)f.Name], strings[(int)f.SystemName], strings[(int)f.Filename], f.StartLine)));
        var locations = p.Location.ToDictionary(l => l.Id, l => Location(
            l.Address,
            l.MappingId == 0 ? "-" : mappings[l.MappingId],
            l.IsFolded,
            l.Line.Select(line => Line(line.FunctionId == 0 ? "-" : functions[line.FunctionId], line.Line_, line.Column))));

        lines.AddRange(Sorted("mapping", mappings.Values));
        lines.AddRange(Sorted("function", functions.Values));
        lines.AddRange(Sorted("location", locations.Values));
        for (int i = 0; i < p.Sample.Count; i++)
        {
            Ref.Sample s = p.Sample[i];
            lines.Add(SampleLine(
                i,
                s.Value,
                s.Label.Select(l => l.Str != 0 ? Label(strings[(int)l.Key], strings[(int)l.Str]) : Label(strings[(int)l.Key], l.Num, strings[(int)l.NumUnit])),
                s.LocationId.Select(id => locations[id])));
        }

        return lines;
    }

    private static string Scalars(long period, long time, long duration, string drop, string keep, string defaultType, string docUrl) =>
        string.Create(CultureInfo.InvariantCulture, $"period={period} time={time} duration={duration} drop={drop} keep={keep} default={defaultType} doc_url={docUrl}");

    private static string Mapping(Mapping m) => string.Create(
        CultureInfo.InvariantCulture,
        $"[{m.MemoryStart:x}-{m.MemoryLimit:x} +{m.FileOffset:x} {m.FileName} {m.BuildId} {m.HasFunctions} {m.HasFileNames} {m.HasLineNumbers} {m.HasInlineFrames}]");

    private static string Function(Function f) =>
        string.Create(CultureInfo.InvariantCulture, $"{f.Name} ({f.SystemName}) {f.FileName}:{f.StartLine}");

    private static string Line(string function, long line, long column) =>
        string.Create(CultureInfo.InvariantCulture, $"{function} @{line}:{column}");

    private static string Location(ulong address, string mapping, bool folded, IEnumerable<string> lines) =>
        string.Create(CultureInfo.InvariantCulture, $"0x{address:x} {mapping}{(folded ? " folded" : "")} {{{string.Join("; ", lines)}}}");

    private static string Label(string key, string str) => key + "=" + str;

    private static string Label(string key, long num, string unit) =>
        string.Create(CultureInfo.InvariantCulture, $"{key}=#{num}{unit}");

    private static string SampleLine(int index, IEnumerable<long> values, IEnumerable<string> labels, IEnumerable<string> stack) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"sample {index}: [{string.Join(" ", values)}] labels [{string.Join(", ", labels)}] stack [{string.Join(" <- ", stack)}]");

    private static IEnumerable<string> Sorted(string what, IEnumerable<string> items) =>
        items.Order(StringComparer.Ordinal).Select(item => what + ": " + item);
}
