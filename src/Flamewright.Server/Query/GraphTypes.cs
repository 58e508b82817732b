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

internal sealed record FlameViewOutput(
    SampleTypeOutput? SampleType, long Total, long Span, long MinTotal, IReadOnlyList<ViewAncestorOutput> Ancestors, IReadOnlyList<ViewFrameOutput> Frames,
    IReadOnlyList<NarrowerFramesOutput> Narrower, long? MatchedTotal, IReadOnlyList<string> Names, IReadOnlyList<string> Files);

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
