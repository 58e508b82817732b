#pragma warning disable CA1819, CA2227 // Input and output shapes of the GraphQL schema: plain properties, as the binder wants.
namespace Flamewright.Server.Query;

// Inputs, filled from GraphQL arguments by name.

internal sealed class DurationInput
{
    public string Start { get; set; } = "";

    public string End { get; set; } = "";

    public string Step { get; set; } = "";

    public bool? ColdStage { get; set; }
}

internal sealed class TaskCreationInput
{
    public string? ServiceId { get; set; }

    public List<string>? ServiceInstanceIds { get; set; }

    public int? Duration { get; set; }

    public object? Events { get; set; }

    public int? DumpPeriod { get; set; }
}

internal sealed class TaskListInput
{
    public string ServiceId { get; set; } = "";

    public DurationInput? QueryDuration { get; set; }

    public int? Limit { get; set; }
}

internal sealed class AnalyzationInput
{
    public string TaskId { get; set; } = "";

    public List<string> InstanceIds { get; set; } = [];

    public string? SampleType { get; set; }

    public object? Granularity { get; set; }

    public string? Focus { get; set; }

    public string? Ignore { get; set; }

    public string? TagFocus { get; set; }

    public string? TagIgnore { get; set; }

    public string? TagSplit { get; set; }
}

// Outputs: property names match the schema's field names.

internal sealed record TaskCreationOutput(string Code, string? ErrorReason, string? Id);

internal sealed record TaskOutput(
    string Id, string ServiceId, IReadOnlyList<string> ServiceInstanceIds, long CreateTime, string Events, int? Duration, int? DumpPeriod, long DispatchUntil);

internal sealed record TaskListOutput(string? ErrorReason, IReadOnlyList<TaskOutput>? Tasks);

internal sealed record TaskLogOutput(string Id, string InstanceId, string InstanceName, string OperationType, long OperationTime, string? Message);

internal sealed record InstanceProgressOutput(string InstanceId, string InstanceName, string State, string? Reason, long? Since);

internal sealed record TaskProgressOutput(
    IReadOnlyList<TaskLogOutput> Logs, IReadOnlyList<string> ErrorInstanceIds, IReadOnlyList<string> SuccessInstanceIds, IReadOnlyList<InstanceProgressOutput> Instances);

internal sealed record StackElementOutput(string Id, string ParentId, string CodeSignature, long Total, long Self);

internal sealed record StackTreeOutput(IReadOnlyList<StackElementOutput> Elements);

internal sealed record SampleTypeOutput(int Index, string Type, string Unit, bool IsDefault);

internal sealed record AnalyzationOutput(StackTreeOutput? Tree, SampleTypeOutput? SampleType, int OmittedElements);

internal sealed record UploadOutput(string InstanceId, string InstanceName, long UploadTime, long CompressedBytes, long DecompressedBytes, long SampleCount);

internal sealed record TopRowOutput(string Name, long Flat, double FlatPercent, long Cum, double CumPercent);

internal sealed record TopTableOutput(SampleTypeOutput SampleType, long Total, IReadOnlyList<TopRowOutput> Rows, int RowCount);

internal sealed record LabelOutput(string Key, string Value);

internal sealed record LabelValueOutput(string Value, long Total);

internal sealed record LabelKeyOutput(string Key, long Total, IReadOnlyList<LabelValueOutput> Values, bool Numeric);

internal sealed record LabelTableOutput(SampleTypeOutput SampleType, long Total, IReadOnlyList<LabelKeyOutput> Keys);

internal sealed record StackGroupOutput(long Value, IReadOnlyList<string> Frames, IReadOnlyList<LabelOutput> Labels);

internal sealed record StackGroupsOutput(SampleTypeOutput SampleType, long Total, int GroupCount, IReadOnlyList<StackGroupOutput> Groups);

/// <summary>
/// A view as GraphQL answers it. Its frames are held as columns (<see cref="FrameColumns"/>), which is what the page asks
/// for: a list of numbers is a fraction of the bytes and of the executer's work of a list of objects with a field each.
/// <see cref="Frames"/> and <see cref="Narrower"/>, one object per frame, are made from the columns only when asked for.
/// </summary>
internal sealed class FlameViewOutput
{
    private readonly Lazy<IReadOnlyList<ViewFrameOutput>> _frames;
    private readonly Lazy<IReadOnlyList<NarrowerFramesOutput>> _narrower;

    public FlameViewOutput(
        SampleTypeOutput? sampleType, long total, long span, long minTotal, IReadOnlyList<ViewAncestorOutput> ancestors, ViewFrameColumnsOutput frameColumns,
        NarrowerColumnsOutput narrowerColumns, long? matchedTotal, IReadOnlyList<string> names, IReadOnlyList<string> files)
    {
        SampleType = sampleType;
        Total = total;
        Span = span;
        MinTotal = minTotal;
        Ancestors = ancestors;
        FrameColumns = frameColumns;
        NarrowerColumns = narrowerColumns;
        MatchedTotal = matchedTotal;
        Names = names;
        Files = files;
        _frames = new Lazy<IReadOnlyList<ViewFrameOutput>>(() => frameColumns.ToFrames(names));
        _narrower = new Lazy<IReadOnlyList<NarrowerFramesOutput>>(narrowerColumns.ToBlocks);
    }

    public SampleTypeOutput? SampleType { get; }

    public long Total { get; }

    public long Span { get; }

    public long MinTotal { get; }

    public IReadOnlyList<ViewAncestorOutput> Ancestors { get; }

    public ViewFrameColumnsOutput FrameColumns { get; }

    public NarrowerColumnsOutput NarrowerColumns { get; }

    public IReadOnlyList<ViewFrameOutput> Frames => _frames.Value;

    public IReadOnlyList<NarrowerFramesOutput> Narrower => _narrower.Value;

    public long? MatchedTotal { get; }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<string> Files { get; }
}

/// <summary>A view's frames in pre-order as columns: entry i of each belongs to frame i; <see cref="Matched"/> lists the positions of matching frames.</summary>
internal sealed record ViewFrameColumnsOutput(int[] Node, int[] Parent, int[] NameIndex, long[] Total, long[] Self, int[] Matched)
{
    /// <summary>The same frames as one object each, their depth counted from their parents (which come first, in pre-order).</summary>
    public IReadOnlyList<ViewFrameOutput> ToFrames(IReadOnlyList<string> names)
    {
        var depths = new int[Node.Length];
        var matched = new HashSet<int>(Matched);
        var frames = new ViewFrameOutput[Node.Length];
        for (int i = 0; i < frames.Length; i++)
        {
            depths[i] = Parent[i] < 0 ? 0 : depths[Parent[i]] + 1;
            frames[i] = new ViewFrameOutput(Node[i], Parent[i], depths[i], names[NameIndex[i]], Total[i], Self[i], matched.Contains(i), NameIndex[i]);
        }

        return frames;
    }
}

/// <summary>A view's blocks of narrower frames as columns: entry i of each belongs to block i.</summary>
internal sealed record NarrowerColumnsOutput(int[] Parent, int[] Count, long[] Total)
{
    public IReadOnlyList<NarrowerFramesOutput> ToBlocks()
    {
        var blocks = new NarrowerFramesOutput[Parent.Length];
        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i] = new NarrowerFramesOutput(Parent[i], Count[i], Total[i]);
        }

        return blocks;
    }
}

internal sealed record ViewAncestorOutput(int Node, string Name, long Total);

internal sealed record ViewFrameOutput(int Node, int Parent, int Depth, string Name, long Total, long Self, bool Matched, int NameIndex);

internal sealed record NarrowerFramesOutput(int Parent, int Count, long Total);

internal sealed record CallEdgeOutput(string Name, long Value);

internal sealed record SandwichOutput(
    SampleTypeOutput SampleType, string Function, long Flat, long Cum, long Total, IReadOnlyList<CallEdgeOutput> Callers, IReadOnlyList<CallEdgeOutput> Callees,
    FlameViewOutput CallersView, FlameViewOutput CalleesView);

internal sealed record DiffElementOutput(string Id, string ParentId, string CodeSignature, long BaseTotal, long BaseSelf, long TargetTotal, long TargetSelf);

internal sealed record DiffOutput(SampleTypeOutput SampleType, IReadOnlyList<DiffElementOutput> Elements, int OmittedElements);

internal sealed record ServiceOutput(string Id, string Name, string Group, string ShortName, IReadOnlyList<string> Layers, bool Normal);

internal sealed record AttributeOutput(string Name, string Value);

internal sealed record InstanceOutput(string Id, string Name, IReadOnlyList<AttributeOutput> Attributes, string Language, string InstanceUUID, string Layer, long LastSeen);

internal sealed record TimeInfoOutput(string Timezone, long CurrentTimestamp);

internal sealed record RecordsTtlOutput(
    int Normal, int Trace, int ZipkinTrace, int Log, int BrowserErrorLog, int ColdNormal, int ColdTrace, int ColdZipkinTrace, int ColdLog, int ColdBrowserErrorLog);

internal sealed record MetricsTtlOutput(int Metadata, int Minute, int Hour, int Day, int ColdMinute, int ColdHour, int ColdDay);

internal sealed record DashboardOutput(string Id, string Configuration);

internal sealed record TemplateChangeOutput(string Id, bool Status, string? Message);

internal sealed record MenuItemOutput(
    string Title, string? Icon, string Layer, bool Activate, IReadOnlyList<MenuItemOutput> SubItems, string? Description, string? DocumentLink, string? I18nKey);

internal sealed class DashboardSettingInput
{
    public string Id { get; set; } = "";

    public string Configuration { get; set; } = "";
}
