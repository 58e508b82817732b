namespace Flamewright.Pprof.Analysis;

/// <summary>How samples become a flame graph.</summary>
public sealed record FlameOptions
{
    /// <summary>
    /// The sample type whose values weigh the graph, by name (<c>inuse_space</c>) or index (<c>3</c>);
    /// <c>null</c> takes the profile's default as <c>go tool pprof</c> does.
    /// </summary>
    public string? SampleType { get; init; }

    public FrameGranularity Granularity { get; init; } = FrameGranularity.Function;

    /// <summary>
    /// Keeps only the samples with a frame that matches this regular expression, as <c>go tool pprof -focus</c>
    /// does, to look at the callers and callees of one function or package; <c>null</c> or empty keeps all.
    /// </summary>
    /// <remarks>
    /// Matched as pprof's <c>-focus</c> is (<c>Profile.FilterSamplesByName</c>), not against the names the tree
    /// shows: a location matches when the function name or the source file name of one of its lines matches, or
    /// the path of its binary does. Hence <c>main\.go$</c> or <c>/vendor/</c> select by file; a pattern selects
    /// the same samples at either <see cref="Granularity"/> (<c>name file:line</c> is only how a line graph shows a
    /// frame, and pprof matches no line numbers either); <c>[libfoo.so]</c> frames are selected by <c>libfoo</c>,
    /// and a pattern that matches the program's own path selects every sample. Once a pattern is set, samples
    /// without locations are dropped, as pprof drops them. The pattern is a .NET regular expression, culture
    /// invariant, which reads the patterns written for names as Go's RE2 does; an invalid one is refused with a
    /// <see cref="PprofFormatException"/>. The tree's total and <see cref="TopTable.Total"/> are sums over the
    /// kept samples, while <see cref="TopTable.AbsoluteTotal"/> stays the whole profile's, so that percentages
    /// are shares of the profile, as pprof prints them.
    /// </remarks>
    public string? Focus { get; init; }

    /// <summary>
    /// Drops the samples with a frame that matches this regular expression, as <c>go tool pprof -ignore</c> does,
    /// to take a known cost (the garbage collector, a profiler's own work) out of the picture; <c>null</c> or
    /// empty drops none. Matched as <see cref="Focus"/> is; with both set, a sample is kept when a frame matches
    /// <see cref="Focus"/> and none matches <see cref="Ignore"/>.
    /// </summary>
    public string? Ignore { get; init; }

    /// <summary>
    /// Keeps only the samples whose labels match, as <c>go tool pprof -tagfocus</c> does: <c>key=regex</c> (a string
    /// value of the key matches; several expressions separated by commas, any of them), <c>regex</c> alone (matched
    /// against <c>key:value</c> of every string label; with commas, each expression must match one), or a range of
    /// numbers for numeric labels (<c>bytes=64kb:</c>, <c>:1mb</c>, <c>10ms:50ms</c>, <c>4096</c>), each number scaled
    /// to the label's unit. <c>null</c> or empty keeps all. Rules and examples: docs/analyze.md, "Label filters".
    /// </summary>
    public string? TagFocus { get; init; }

    /// <summary>Drops the samples whose labels match, as <c>go tool pprof -tagignore</c> does; written as <see cref="TagFocus"/>.</summary>
    public string? TagIgnore { get; init; }

    /// <summary>
    /// Splits the graph by the values of this label key, as <c>go tool pprof -tagroot</c> does: every stack starts
    /// with a frame <c>key=value</c> (the sample's values of the key, joined by commas), or <c>(no key)</c> for the
    /// samples without it, so that the root's children are the values, each with its share. <c>null</c> or empty
    /// splits nothing. Trees, top tables and diffs are split; label tables and stack groups are not.
    /// </summary>
    public string? TagSplit { get; init; }

    /// <summary>
    /// Ends the analysis with <see cref="OperationCanceledException"/> once its caller no longer wants it (a server
    /// request whose client left): checked between names while patterns are matched and every few thousand stacks.
    /// </summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>
    /// How long <see cref="Focus"/> and <see cref="Ignore"/> may spend matching names, shared with every analysis
    /// given the same budget; <c>null</c> for no bound but the per-name one. Once it is spent, the analysis fails
    /// with a <see cref="PprofFormatException"/> that says so.
    /// </summary>
    public MatchBudget? MatchBudget { get; init; }

    /// <summary>Default for <see cref="MaxStackFrames"/>.</summary>
    /// <remarks>
    /// Go cuts stacks at 64 or 128 locations, and a location inlines a handful of calls at most, so real stacks
    /// have hundreds of frames. A crafted location with thousands of inlined lines, repeated in a stack, would
    /// otherwise expand a few bytes of input into millions of frames.
    /// </remarks>
    public const int DefaultMaxStackFrames = 1 << 16;

    /// <summary>Default for <see cref="MaxFrames"/>: 2^31 frames, tens of seconds of work at worst.</summary>
    public const long DefaultMaxFrames = 1L << 31;

    /// <summary>Default for <see cref="MaxNodes"/>: 32 Mi nodes, about 1.5 GiB while a tree is built.</summary>
    /// <remarks>The largest benchmark profile (28 MiB of gzip, 2 M distinct stacks) makes 11.9 M nodes.</remarks>
    public const int DefaultMaxNodes = 1 << 25;

    /// <summary>The most frames one stack may expand to (locations times their inlined lines).</summary>
    public int MaxStackFrames { get; init; } = DefaultMaxStackFrames;

    /// <summary>The most frames all stacks together may expand to: bounds the work of one analysis.</summary>
    public long MaxFrames { get; init; } = DefaultMaxFrames;

    /// <summary>The most nodes a flame tree may have: bounds its memory.</summary>
    public int MaxNodes { get; init; } = DefaultMaxNodes;

    public static FlameOptions Default { get; } = new();

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxStackFrames, 1, nameof(MaxStackFrames));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrames, 1, nameof(MaxFrames));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxNodes, 1, nameof(MaxNodes));
    }
}
