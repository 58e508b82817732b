using System.Globalization;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>Hand-built profiles for exact expectations, and a readable rendering of flame trees.</summary>
internal static class Stacks
{
    public static readonly ValueType Samples = new("samples", "count");
    public static readonly ValueType Cpu = new("cpu", "nanoseconds");
    public static readonly ValueType AllocSpace = new("alloc_space", "bytes");
    public static readonly ValueType InuseSpace = new("inuse_space", "bytes");

    /// <summary>A profile like Go's CPU profile: samples/count, cpu/nanoseconds.</summary>
    public static ProfileBuilder CpuBuilder() => new([Samples, Cpu]) { PeriodType = Cpu, Period = 10_000_000 };

    /// <summary>A builder with one sample type.</summary>
    public static ProfileBuilder Single(ValueType type) => new([type]);

    /// <summary>
    /// Adds one sample whose stack is <paramref name="rootFirst"/> (<c>main;f;g</c>, one location per function,
    /// line 0); an empty string is a sample without locations.
    /// </summary>
    public static ProfileBuilder Add(this ProfileBuilder builder, string rootFirst, params long[] values)
    {
        string[] names = rootFirst.Length == 0 ? [] : rootFirst.Split(';');
        var leafFirst = new int[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            leafFirst[names.Length - 1 - i] = builder.Location((names[i], 0));
        }

        builder.AddSample(leafFirst, values);
        return builder;
    }

    /// <summary>One location whose lines are <paramref name="innermostFirst"/> (function name, line number).</summary>
    public static int Location(this ProfileBuilder builder, params (string Function, long Line)[] innermostFirst)
    {
        var lines = new Line[innermostFirst.Length];
        for (int i = 0; i < lines.Length; i++)
        {
            lines[i] = new Line(builder.AddFunction(innermostFirst[i].Function), innermostFirst[i].Line, 0);
        }

        return builder.AddLocation(lines);
    }

    /// <summary>Every node as <c>indent name total/self</c>, in node order.</summary>
    public static string[] Render(FlameTree tree)
    {
        var lines = new string[tree.Count];
        for (int node = 0; node < tree.Count; node++)
        {
            lines[node] = string.Create(CultureInfo.InvariantCulture,
                $"{new string(' ', 2 * tree.DepthOf(node))}{tree.NameOf(node)} {tree.TotalOf(node)}/{tree.SelfOf(node)}");
        }

        return lines;
    }

    public static FlameTree Tree(Profile profile, string? sampleType = null, FrameGranularity granularity = FrameGranularity.Function) =>
        FlameTreeBuilder.Build(profile, new FlameOptions { SampleType = sampleType, Granularity = granularity });

    public static TopTable Top(Profile profile, string? sampleType = null, FrameGranularity granularity = FrameGranularity.Function) =>
        TopTable.Build(profile, new FlameOptions { SampleType = sampleType, Granularity = granularity });

    /// <summary>The top table's rows as <c>name flat cum</c>, in table order.</summary>
    public static string[] Rows(TopTable table) =>
        table.Entries.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Name} {e.Flat} {e.Cum}")).ToArray();
}
