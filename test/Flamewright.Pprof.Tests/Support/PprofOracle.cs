using System.Globalization;
using System.Text.RegularExpressions;

namespace Flamewright.Pprof.Tests.Support;

/// <summary>Reads what <c>go tool pprof -top</c> and <c>-traces</c> printed (testdata/profiles/*.top.txt, *.traces.txt).</summary>
internal static partial class PprofOracle
{
    /// <param name="Total">"of T total": the sum of |value| over all samples, before focus and ignore.</param>
    /// <param name="Shown">"accounting for X": the sum of the listed functions' flat values.</param>
    /// <param name="Functions">Every listed function's flat and cum.</param>
    /// <param name="ActiveFilters">The lines under "Active filters:", trimmed (<c>focus=main\.mix</c>).</param>
    public sealed record Top(
        long Total, long Shown, IReadOnlyDictionary<string, (long Flat, long Cum)> Functions, IReadOnlyList<string> ActiveFilters);

    public static Top ReadTop(string profile, int sampleIndex) =>
        ReadTopFile(Path.Combine(TestData.Profiles, $"{profile}.{sampleIndex}.top.txt"));

    public static Top ReadTopFile(string path)
    {
        string[] lines = File.ReadAllLines(path);
        long total = -1, shown = 0;
        var functions = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        var filters = new List<string>();
        bool inFilters = false, rows = false;
        foreach (string line in lines)
        {
            Match showing = ShowingLine().Match(line);
            if (showing.Success)
            {
                shown = Value(showing.Groups[1].Value);
                total = Value(showing.Groups[2].Value);
                inFilters = false;
                continue;
            }

            if (line == "Active filters:")
            {
                inFilters = true;
                continue;
            }

            if (inFilters)
            {
                filters.Add(line.Trim());
                continue;
            }

            if (line.TrimStart().StartsWith("flat  flat%", StringComparison.Ordinal))
            {
                rows = true;
                continue;
            }

            if (!rows)
            {
                continue;
            }

            Match row = TopRow().Match(line);
            if (!row.Success)
            {
                throw new FormatException("unexpected -top row: " + line);
            }

            functions.Add(StripInlineMarker(row.Groups[3].Value), (Value(row.Groups[1].Value), Value(row.Groups[2].Value)));
        }

        if (total < 0)
        {
            throw new FormatException($"no 'Showing nodes' line in {path}");
        }

        return new Top(total, shown, functions, filters);
    }

    /// <summary>pprof's traces folded root first and summed per stack, zero stacks dropped, sorted: folded stacks.</summary>
    public static IReadOnlyList<string> ReadTracesFolded(string profile, int sampleIndex) =>
        Summed(ReadTraces(profile, sampleIndex).Select(t => (Enumerable.Reverse(t.Frames).Aggregate((a, b) => a + ";" + b), t.Value)))
            .Select(kv => kv.Key + " " + kv.Value.ToString(CultureInfo.InvariantCulture))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// pprof's traces summed per stack and label set, zero sums dropped, each as "value | labels | frames leaf first"
    /// (labels "key:  value", sorted; frames joined by ";"), sorted: what our stack groups must equal.
    /// </summary>
    public static IReadOnlyList<string> ReadTraceGroups(string profile, int sampleIndex) =>
        Summed(ReadTraces(profile, sampleIndex).Select(t => (string.Join(", ", t.Labels.Order(StringComparer.Ordinal)) + " | " + string.Join(';', t.Frames), t.Value)))
            .Select(kv => kv.Value.ToString(CultureInfo.InvariantCulture) + " | " + kv.Key)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>One key of <c>go tool pprof -tags</c>: its total and each value's (values in pprof's order).</summary>
    public sealed record TagKey(string Key, long Total, IReadOnlyList<(string Value, long Total)> Values);

    /// <summary>What <c>go tool pprof -tags</c> printed (exact numbers: the oracles are made with an exact -unit).</summary>
    public static IReadOnlyList<TagKey> ReadTags(string profile, int sampleIndex)
    {
        var keys = new List<TagKey>();
        foreach (string line in File.ReadAllLines(Path.Combine(TestData.Profiles, $"{profile}.{sampleIndex}.tags.txt")))
        {
            Match key = TagKeyLine().Match(line);
            Match value = TagValueLine().Match(line);
            if (key.Success)
            {
                keys.Add(new TagKey(key.Groups[1].Value, TagNumber(key.Groups[2].Value), new List<(string, long)>()));
            }
            else if (value.Success && keys.Count > 0)
            {
                ((List<(string, long)>)keys[^1].Values).Add((value.Groups[2].Value, TagNumber(value.Groups[1].Value)));
            }
            else if (line.Trim().Length > 0)
            {
                throw new FormatException("unexpected -tags line: " + line);
            }
        }

        return keys;
    }

    /// <summary>"890000000.0ns", "-970437.0B", "89.0": a whole number, printed with one decimal and the -unit.</summary>
    private static long TagNumber(string text) =>
        (long)double.Parse(text.TrimEnd('n', 's', 'B'), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^ (\S+): Total (\S+)$")]
    private static partial Regex TagKeyLine();

    [GeneratedRegex(@"^\s+(-?[0-9.]+(?:ns|B)?)(?: \(\s*[0-9.]+%\))?: (.*)$")]
    private static partial Regex TagValueLine();

    private static IEnumerable<KeyValuePair<string, long>> Summed(IEnumerable<(string Key, long Value)> traces)
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach ((string key, long value) in traces)
        {
            sums[key] = sums.GetValueOrDefault(key) + value;
        }

        return sums.Where(kv => kv.Value != 0);
    }

    /// <summary>Every trace pprof printed with frames: its value, its label lines ("key:  value") and its frames, leaf first.</summary>
    private static List<(long Value, List<string> Labels, List<string> Frames)> ReadTraces(string profile, int sampleIndex)
    {
        string[] lines = File.ReadAllLines(Path.Combine(TestData.Profiles, $"{profile}.{sampleIndex}.traces.txt"));
        var traces = new List<(long, List<string>, List<string>)>();
        var labels = new List<string>();
        var frames = new List<string>();
        long value = 0;
        bool inTrace = false;

        void Flush()
        {
            if (inTrace && frames.Count > 0)
            {
                traces.Add((value, [.. labels], [.. frames]));
            }

            labels.Clear();
            frames.Clear();
        }

        foreach (string line in lines)
        {
            if (line.StartsWith("-----------+", StringComparison.Ordinal))
            {
                Flush();
                inTrace = true;
                continue;
            }

            if (!inTrace)
            {
                continue;
            }

            Match first = TraceFirstFrame().Match(line);
            if (first.Success && frames.Count == 0)
            {
                value = Value(first.Groups[1].Value);
                frames.Add(StripInlineMarker(first.Groups[2].Value));
            }
            else if (frames.Count > 0 && line.StartsWith("             ", StringComparison.Ordinal))
            {
                frames.Add(StripInlineMarker(line[13..]));
            }
            else if (TraceLabel().IsMatch(line) && frames.Count == 0)
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                labels.Add(line[..colon].Trim() + ":  " + line[(colon + 3)..]);
            }
            else
            {
                throw new FormatException("unexpected -traces line: " + line);
            }
        }

        Flush();
        return traces;
    }

    /// <summary>One function of <c>-peek</c>: its flat and cum, and the values of its callers and callees (names without "(inline)").</summary>
    public sealed record PeekEntry(long Flat, long Cum, IReadOnlyDictionary<string, long> Callers, IReadOnlyDictionary<string, long> Callees);

    /// <summary>What <c>go tool pprof -peek .</c> printed: every function with its direct callers and callees.</summary>
    public static IReadOnlyDictionary<string, PeekEntry> ReadPeek(string profile, int sampleIndex)
    {
        var entries = new Dictionary<string, PeekEntry>(StringComparer.Ordinal);
        string? name = null;
        long flat = 0, cum = 0;
        var callers = new Dictionary<string, long>(StringComparer.Ordinal);
        var callees = new Dictionary<string, long>(StringComparer.Ordinal);
        void Flush()
        {
            if (name is not null)
            {
                entries.Add(name, new PeekEntry(flat, cum, new Dictionary<string, long>(callers), new Dictionary<string, long>(callees)));
            }

            (name, callers, callees) = (null, new Dictionary<string, long>(StringComparer.Ordinal), new Dictionary<string, long>(StringComparer.Ordinal));
        }

        bool body = false;
        foreach (string line in File.ReadAllLines(Path.Combine(TestData.Profiles, $"{profile}.{sampleIndex}.peek.txt")))
        {
            if (line.StartsWith("-----", StringComparison.Ordinal))
            {
                Flush();
                body = true;
                continue;
            }

            if (!body || line.TrimStart().StartsWith("flat  flat%", StringComparison.Ordinal))
            {
                continue;
            }

            if (PeekEdge().Match(line) is { Success: true } edge)
            {
                (name is null ? callers : callees).Add(StripInlineMarker(edge.Groups[2].Value), Value(edge.Groups[1].Value));
            }
            else if (PeekNode().Match(line) is { Success: true } node)
            {
                (name, flat, cum) = (node.Groups[3].Value, Value(node.Groups[1].Value), Value(node.Groups[2].Value));
            }
            else
            {
                throw new FormatException("unexpected -peek line: " + line);
            }
        }

        Flush();
        return entries;
    }

    private static string StripInlineMarker(string name)
    {
        foreach (string marker in new[] { " (partial-inline)", " (inline)" })
        {
            if (name.EndsWith(marker, StringComparison.Ordinal))
            {
                return name[..^marker.Length];
            }
        }

        return name;
    }

    private static long Value(string text) =>
        long.Parse(text.TrimEnd('n', 's', 'B'), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^Showing nodes accounting for (-?\d+(?:ns|B)?), \S+ of (-?\d+)(?:ns|B)? total$")]
    private static partial Regex ShowingLine();

    [GeneratedRegex(@"^\s*(-?\d+(?:ns|B)?)\s+\S+\s+\S+\s+(-?\d+(?:ns|B)?)\s+\S+  (.+)$")]
    private static partial Regex TopRow();

    [GeneratedRegex(@"^\s*(-?\d+(?:ns|B)?)   (.+)$")]
    private static partial Regex TraceFirstFrame();

    [GeneratedRegex(@"^ {20,}(-?\d+(?:ns|B)?) +\S+% \|   (.+)$")]
    private static partial Regex PeekEdge();

    [GeneratedRegex(@"^\s*(-?\d+(?:ns|B)?) +\S+% +\S+% +(-?\d+(?:ns|B)?) +\S+% +\| (.+)$")]
    private static partial Regex PeekNode();

    [GeneratedRegex(@"^\s*\S+:  ")]
    private static partial Regex TraceLabel();
}
