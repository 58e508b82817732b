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

    public static FlameOptions Default { get; } = new();
}
