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
