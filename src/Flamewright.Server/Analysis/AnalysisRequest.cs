using Flamewright.Pprof.Analysis;

namespace Flamewright.Server.Analysis;

/// <summary>Which uploads of a task to analyse, and how.</summary>
/// <param name="InstanceIds">Instances whose profiles merge; <c>null</c> or empty takes every instance that uploaded one.</param>
/// <param name="SampleType">By name or index; <c>null</c> takes the task event's natural sample type.</param>
/// <param name="Focus">Keep only samples with a frame matching this regular expression.</param>
/// <param name="Ignore">Drop samples with a frame matching this regular expression.</param>
/// <param name="TagFocus">Keep only samples whose labels match (<see cref="FlameOptions.TagFocus"/>).</param>
/// <param name="TagIgnore">Drop samples whose labels match (<see cref="FlameOptions.TagIgnore"/>).</param>
/// <param name="TagSplit">Split the graph by this label key (<see cref="FlameOptions.TagSplit"/>).</param>
public sealed record AnalysisRequest(
    string TaskId,
    IReadOnlyList<string>? InstanceIds = null,
    string? SampleType = null,
    FrameGranularity Granularity = FrameGranularity.Function,
    string? Focus = null,
    string? Ignore = null,
    string? TagFocus = null,
    string? TagIgnore = null,
    string? TagSplit = null)
{
    /// <summary>Whether the request keeps every sample and splits nothing: no pattern, no label filter, no split.</summary>
    public bool IsUnfiltered =>
        string.IsNullOrEmpty(Focus) && string.IsNullOrEmpty(Ignore)
        && string.IsNullOrEmpty(TagFocus) && string.IsNullOrEmpty(TagIgnore) && string.IsNullOrEmpty(TagSplit);
}

/// <summary>A request that cannot be answered: unknown task, nothing uploaded, bad sample type or regex. One line.</summary>
public sealed class AnalysisException : Exception
{
    /// <summary>Refused because the server was busy with other analyses, not because of the request: try again.</summary>
    public bool Busy { get; init; }

    /// <summary>The request names a task the server does not have (or no longer has).</summary>
    public bool UnknownTask { get; init; }

    public AnalysisException(string message)
        : base(message)
    {
    }

    public AnalysisException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public AnalysisException()
    {
    }
}
