using Flamewright.Server.Configuration;
using System.Globalization;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;
using Flamewright.Server.Analysis;
using Flamewright.Server.Storage;
using Flamewright.Server.Tasks;
using GraphQL;

namespace Flamewright.Server.Query;

/// <summary>Resolvers of the <c>Mutation</c> type.</summary>
[GraphQLMetadata("Mutation")]
internal sealed class MutationResolvers(TaskService tasks, Dashboards dashboards)
{
    [GraphQLMetadata("addTemplate")]
    public Task<TemplateChangeOutput> AddTemplateAsync(IResolveFieldContext context) =>
        dashboards.AddAsync(context.GetArgument<DashboardSettingInput>("setting").Configuration, context.CancellationToken);

    [GraphQLMetadata("changeTemplate")]
    public Task<TemplateChangeOutput> ChangeTemplateAsync(IResolveFieldContext context)
    {
        DashboardSettingInput setting = context.GetArgument<DashboardSettingInput>("setting");
        return dashboards.ChangeAsync(setting.Id, setting.Configuration, context.CancellationToken);
    }

    [GraphQLMetadata("disableTemplate")]
    public Task<TemplateChangeOutput> DisableTemplateAsync(IResolveFieldContext context) =>
        dashboards.DisableAsync(context.GetArgument<string>("id"), context.CancellationToken);

    [GraphQLMetadata("createPprofTask")]
    public async Task<TaskCreationOutput> CreatePprofTaskAsync(IResolveFieldContext context)
    {
        TaskCreationInput input = context.GetArgument<TaskCreationInput>("pprofTaskCreationRequest");
        PprofEvent? e = Enums.Parse<PprofEvent>(input.Events);
        TaskCreationResult result = await tasks.CreateAsync(
            new TaskCreationRequest(input.ServiceId, input.ServiceInstanceIds, e, input.Duration, input.DumpPeriod), context.CancellationToken).ConfigureAwait(false);
        return new TaskCreationOutput(result.Code.ToString(), result.ErrorReason, result.Task?.Id);
    }
}

/// <summary>Resolvers of the <c>Query</c> type.</summary>
[GraphQLMetadata("Query")]
internal sealed partial class QueryResolvers(
    IProfilingStore store, TaskService tasks, AnalysisService analysis, Dashboards dashboards, TimeProvider time, ServerOptions options)
{
    /// <summary>Tasks listed when a request names no limit.</summary>
    public const int DefaultTaskListLimit = 100;

    /// <summary>Rows of <c>queryPprofTop</c> when the request names no limit: as many as <c>flamewright analyze</c> prints.</summary>
    public const int DefaultTopRows = TopText.DefaultRows;

    /// <summary>Groups of <c>queryPprofStackGroups</c> when the request names no limit.</summary>
    public const int DefaultStackGroups = 50;

    [GraphQLMetadata("queryPprofTaskList")]
    public async Task<TaskListOutput> QueryPprofTaskListAsync(IResolveFieldContext context)
    {
        TaskListInput input = context.GetArgument<TaskListInput>("request");
        (long from, long to) = (0L, long.MaxValue);
        if (input.QueryDuration is not null)
        {
            try
            {
                (from, to) = SkyWalkingDuration.ToRange(input.QueryDuration, time.LocalTimeZone);
            }
            catch (FormatException e)
            {
                return new TaskListOutput(e.Message, null);
            }
        }

        int limit = Math.Clamp(input.Limit ?? DefaultTaskListLimit, 1, options.MaxListItems);
        IReadOnlyList<ProfilingTask> found = await store.ListTasksAsync(input.ServiceId, from, to, limit, context.CancellationToken).ConfigureAwait(false);
        return new TaskListOutput(null, [.. found.Select(ToOutput)]);
    }

    [GraphQLMetadata("queryPprofTaskProgress")]
    public async Task<TaskProgressOutput> QueryPprofTaskProgressAsync(IResolveFieldContext context)
    {
        string taskId = context.GetArgument<string>("taskId");
        TaskProgress progress = await tasks.ProgressAsync(taskId, context.CancellationToken).ConfigureAwait(false)
            ?? throw new ExecutionError($"unknown task '{taskId}'");
        return new TaskProgressOutput(
            [.. progress.Logs.Select(l => new TaskLogOutput(l.TaskId, l.InstanceId, l.InstanceName, l.Operation.ToString(), l.OperationTime, l.Message))],
            [.. progress.ErrorInstanceIds],
            [.. progress.SuccessInstanceIds],
            [.. progress.Instances.Select(i => new InstanceProgressOutput(i.InstanceId, i.InstanceName, i.State.ToString().ToUpperInvariant(), i.Reason, i.Since))]);
    }

    [GraphQLMetadata("queryPprofAnalyze")]
    public async Task<AnalyzationOutput> QueryPprofAnalyzeAsync(IResolveFieldContext context)
    {
        AnalysisRequest request = ToRequest(context.GetArgument<AnalyzationInput>("request"));
        int maxElements = options.MaxAnalysisElements;
        return await Refusals(async () =>
        {
            // As the reference does, instances without an upload are left out rather than refused: the UI sends
            // every instance of the task.
            TreeResult? result = await analysis.TreeAsync(request, strict: false, MatchBudgetOf(context), context.CancellationToken).ConfigureAwait(false);
            if (result is null)
            {
                return new AnalyzationOutput(new StackTreeOutput([new StackElementOutput("0", "-1", FlameTree.RootName, 0, 0)]), null, 0);
            }

            (IReadOnlyList<StackElement> shown, int omitted) = SkyWalkingTree.Elements(result.Tree, maxElements);
            var elements = shown.Select(e => new StackElementOutput(e.Id, e.ParentId, e.CodeSignature, e.Total, e.Self)).ToList();
            return new AnalyzationOutput(new StackTreeOutput(elements), ToOutput(result.SampleType), omitted);
        }).ConfigureAwait(false);
    }

    [GraphQLMetadata("queryPprofSampleTypes")]
    public async Task<IReadOnlyList<SampleTypeOutput>> QueryPprofSampleTypesAsync(IResolveFieldContext context)
    {
        string taskId = context.GetArgument<string>("taskId");
        try
        {
            // Answered from the stored summary when it can say which type is the default: no decode, no turn.
            if (await analysis.SampleTypesFromSummaryAsync(taskId, context.CancellationToken).ConfigureAwait(false) is { } known)
            {
                return [.. known.Select(ToOutput)];
            }
        }
        catch (AnalysisException e)
        {
            throw new ExecutionError(e.Message);
        }

        return await Guard(async () =>
        {
            SelectedProfiles selection = await analysis.LoadAsync(taskId, null, requireEvery: false, context.CancellationToken).ConfigureAwait(false);
            if (selection.Profiles.Count == 0)
            {
                return (IReadOnlyList<SampleTypeOutput>)[];
            }

            Profile first = selection.Profiles[0];
            int chosen = AnalysisService.ChosenIndex(selection, AnalysisService.OptionsFor(selection, new AnalysisRequest(taskId)));
            return [.. Enumerable.Range(0, first.SampleTypes.Length).Select(i => new SampleTypeOutput(i, first.SampleTypes[i].Type, first.SampleTypes[i].Unit, i == chosen))];
        }, context.CancellationToken).ConfigureAwait(false);
    }

    [GraphQLMetadata("queryPprofUploads")]
    public async Task<IReadOnlyList<UploadOutput>> QueryPprofUploadsAsync(IResolveFieldContext context)
    {
        string taskId = context.GetArgument<string>("taskId");
        IReadOnlyList<UploadInfo> uploads = await store.ListUploadsAsync(taskId, context.CancellationToken).ConfigureAwait(false);
        return [.. uploads.Select(u => new UploadOutput(u.InstanceId, u.InstanceName, u.UploadedAt, u.CompressedBytes, u.DecompressedBytes, u.SampleCount))];
    }

    [GraphQLMetadata("queryPprofTop")]
    public async Task<TopTableOutput> QueryPprofTopAsync(IResolveFieldContext context)
    {
        AnalysisRequest request = ToRequest(context.GetArgument<AnalyzationInput>("request"));
        // 0 asks for every row; every answer stops at MaxListItems rows all the same.
        int asked = context.GetArgument<int?>("limit") ?? DefaultTopRows;
        int limit = asked > 0 ? Math.Min(asked, options.MaxListItems) : options.MaxListItems;
        int offset = Math.Max(0, context.GetArgument<int?>("offset") ?? 0);
        string orderBy = context.GetArgument<string?>("orderBy") ?? "FLAT";
        bool ascending = context.GetArgument<bool?>("ascending") ?? orderBy == "NAME";
        string? function = context.GetArgument<string?>("function");
        return await Refusals(async () =>
        {
            TopResult result = await analysis.TopAsync(request, MatchBudgetOf(context), context.CancellationToken).ConfigureAwait(false);
            TopTable top = result.Table;
            IReadOnlyList<TopEntry> entries = string.IsNullOrEmpty(function) ? top.Entries : top.EntriesOf(function);
            IEnumerable<TopEntry> ordered = Ordered(entries, orderBy);
            // Values come largest first and names from A: the other way round is the list reversed.
            IEnumerable<TopEntry> rows = (ascending == (orderBy == "NAME") ? ordered : ordered.Reverse()).Skip(offset).Take(limit);
            return new TopTableOutput(ToOutput(result.SampleType), top.AbsoluteTotal,
                [.. rows.Select(r => new TopRowOutput(r.Name, r.Flat, top.Percent(r.Flat), r.Cum, top.Percent(r.Cum)))], entries.Count);
        }).ConfigureAwait(false);
    }

    [GraphQLMetadata("queryPprofStackGroups")]
    public async Task<StackGroupsOutput> QueryPprofStackGroupsAsync(IResolveFieldContext context)
    {
        AnalysisRequest request = ToRequest(context.GetArgument<AnalyzationInput>("request"));
        // 0 asks for every group; every answer stops at MaxListItems groups all the same.
        int asked = context.GetArgument<int?>("limit") ?? DefaultStackGroups;
        int limit = asked > 0 ? Math.Min(asked, options.MaxListItems) : options.MaxListItems;
        return await Refusals(async () =>
        {
            StackGroupsResult result = await analysis.StackGroupsAsync(request, MatchBudgetOf(context), context.CancellationToken).ConfigureAwait(false);
            StackGroups groups = result.Groups;
            return new StackGroupsOutput(ToOutput(result.SampleType), groups.Total, groups.GroupCount,
                [.. groups.Groups.Take(limit).Select(g => new StackGroupOutput(g.Value, g.Frames, [.. g.Labels.Select(l => new LabelOutput(l.Key, l.Value))]))]);
        }).ConfigureAwait(false);
    }

    [GraphQLMetadata("queryPprofLabels")]
    public async Task<LabelTableOutput> QueryPprofLabelsAsync(IResolveFieldContext context)
    {
        AnalysisRequest request = ToRequest(context.GetArgument<AnalyzationInput>("request"));
        return await Refusals(async () =>
        {
            LabelsResult result = await analysis.LabelsAsync(request, MatchBudgetOf(context), context.CancellationToken).ConfigureAwait(false);
            // A key holds at most MaxListItems values, its heaviest; its total stays the whole key's.
            return new LabelTableOutput(ToOutput(result.SampleType), result.Labels.Total,
                [.. result.Labels.Keys.Select(k => new LabelKeyOutput(k.Key, k.Total, [.. k.Values.Take(options.MaxListItems).Select(v => new LabelValueOutput(v.Value, v.Total))], k.Numeric))]);
        }).ConfigureAwait(false);
    }

    [GraphQLMetadata("queryPprofFlameView")]
    public async Task<FlameViewOutput> QueryPprofFlameViewAsync(IResolveFieldContext context)
    {
        AnalysisRequest request = ToRequest(context.GetArgument<AnalyzationInput>("request"));
        string[] zoom = context.GetArgument<string[]?>("zoom") ?? [];
        int width = context.GetArgument<int>("width");
        string? search = context.GetArgument<string?>("search");
        long? narrowerThan = context.GetArgument<long?>("narrowerThan");
        if (width < 1 || width > options.MaxViewWidthPixels)
        {
            throw new ExecutionError($"width must be between 1 and {options.MaxViewWidthPixels} pixels (MaxViewWidthPixels)");
        }

        return await Refusals(async () =>
        {
            ViewResult? result = await analysis.ViewAsync(
                request, zoom, width, string.IsNullOrEmpty(search) ? null : AnalysisService.Run(() => FramePattern.Compile("search", search)), narrowerThan,
                MatchBudgetOf(context), context.CancellationToken, readAhead: !context.UserContext.ContainsKey(GraphQLEndpoint.WarmUpKey)).ConfigureAwait(false);
            if (result is null)
            {
                return new FlameViewOutput(null, 0, 0, 0, [new ViewAncestorOutput(0, FlameTree.RootName, 0)], new ViewFrameColumnsOutput([0], [-1], [0], [0], [0], []),
                    new NarrowerColumnsOutput([], [], []), null, [FlameTree.RootName], [""]);
            }

            return ToOutput(result.View, ToOutput(result.SampleType), searched: !string.IsNullOrEmpty(search));
        }).ConfigureAwait(false);
    }

    /// <summary>A view as GraphQL answers it; <paramref name="searched"/>: a search was asked for, so the matched total is sent.</summary>
    private static FlameViewOutput ToOutput(FlameView view, SampleTypeOutput sampleType, bool searched)
    {
        // Each distinct name once: a view repeats names (recursion, the same function under many callers), and a
        // client that reads nameIndex instead of name receives each once.
        var names = new Pprof.StringTable();
        var files = new List<string>();
        IReadOnlyList<ViewFrame> frames = view.Frames;
        var node = new int[frames.Count];
        var parent = new int[frames.Count];
        var nameIndex = new int[frames.Count];
        var total = new long[frames.Count];
        var self = new long[frames.Count];
        var matched = new List<int>();
        for (int i = 0; i < frames.Count; i++)
        {
            ViewFrame frame = frames[i];
            node[i] = frame.Node;
            parent[i] = frame.Parent;
            nameIndex[i] = names.Index(frame.Name);
            if (nameIndex[i] == files.Count)
            {
                files.Add(frame.File);
            }

            total[i] = frame.Total;
            self[i] = frame.Self;
            if (frame.Matched)
            {
                matched.Add(i);
            }
        }

        IReadOnlyList<NarrowerFrames> narrower = view.Narrower;
        var blocks = new NarrowerColumnsOutput(new int[narrower.Count], new int[narrower.Count], new long[narrower.Count]);
        for (int i = 0; i < narrower.Count; i++)
        {
            (blocks.Parent[i], blocks.Count[i], blocks.Total[i]) = (narrower[i].Parent, narrower[i].Count, narrower[i].Total);
        }

        return new FlameViewOutput(
            sampleType,
            view.TreeTotal,
            view.Span,
            view.MinimumTotal,
            [.. view.Ancestors.Select(a => new ViewAncestorOutput(a.Node, a.Name, a.Total))],
            new ViewFrameColumnsOutput(node, parent, nameIndex, total, self, [.. matched]),
            blocks,
            searched ? view.MatchedTotal : null,
            names.Strings,
            files);
    }

    [GraphQLMetadata("queryPprofSandwich")]
    public async Task<SandwichOutput> QueryPprofSandwichAsync(IResolveFieldContext context)
    {
        AnalysisRequest request = ToRequest(context.GetArgument<AnalyzationInput>("request"));
        string function = context.GetArgument<string>("function");
        int width = context.GetArgument<int>("width");
        if (width < 1 || width > options.MaxViewWidthPixels)
        {
            throw new ExecutionError($"width must be between 1 and {options.MaxViewWidthPixels} pixels (MaxViewWidthPixels)");
        }

        // Each graph opens at the function, the root's only child.
        string[] callersZoom = context.GetArgument<string[]?>("callersZoom") is { Length: > 0 } c ? c : [function];
        string[] calleesZoom = context.GetArgument<string[]?>("calleesZoom") is { Length: > 0 } d ? d : [function];
        return await Refusals(async () =>
        {
            SandwichResult result = await analysis.SandwichAsync(request, function, MatchBudgetOf(context), context.CancellationToken).ConfigureAwait(false);
            Sandwich sandwich = result.Sandwich;
            SampleTypeOutput type = ToOutput(result.SampleType);
            FlameView callers = AnalysisService.Run(() => FlameView.Build(sandwich.CallersTree, callersZoom, width, narrowerThan: context.GetArgument<long?>("callersNarrowerThan")));
            FlameView callees = AnalysisService.Run(() => FlameView.Build(sandwich.CalleesTree, calleesZoom, width, narrowerThan: context.GetArgument<long?>("calleesNarrowerThan")));
            return new SandwichOutput(type, sandwich.Function, sandwich.Flat, sandwich.Cum, sandwich.AbsoluteTotal,
                [.. sandwich.Callers.Take(options.MaxListItems).Select(e => new CallEdgeOutput(e.Name, e.Value))],
                [.. sandwich.Callees.Take(options.MaxListItems).Select(e => new CallEdgeOutput(e.Name, e.Value))],
                ToOutput(callers, type, searched: false), ToOutput(callees, type, searched: false));
        }).ConfigureAwait(false);
    }

    [GraphQLMetadata("queryPprofDiff")]
    public async Task<DiffOutput> QueryPprofDiffAsync(IResolveFieldContext context)
    {
        AnalysisRequest baseRequest = ToRequest(context.GetArgument<AnalyzationInput>("base"));
        AnalysisRequest targetRequest = ToRequest(context.GetArgument<AnalyzationInput>("target"));
        int maxElements = options.MaxAnalysisElements;
        return await Guard(async () =>
        {
            SelectedProfiles baseSelection = await analysis.LoadNonEmptyAsync(baseRequest, context.CancellationToken).ConfigureAwait(false);
            SelectedProfiles targetSelection = await analysis.LoadNonEmptyAsync(targetRequest, context.CancellationToken).ConfigureAwait(false);
            FlameOptions options = AnalysisService.BoundedOptionsFor(targetSelection, targetRequest, MatchBudgetOf(context), context.CancellationToken);
            FlameDiff diff = AnalysisService.Run(() => FlameDiff.Build(baseSelection.Profiles, targetSelection.Profiles, options));
            // The heaviest nodes of either side, with their parents, renumbered in pre-order.
            int[] kept = HeaviestNodes.Select(
                diff.Count, diff.ParentOf, i => HeaviestNodes.Heavier(diff.BaseTotalOf(i), diff.TargetTotalOf(i)), maxElements);
            int[] parents = HeaviestNodes.RenumberedParents(kept, diff.ParentOf);
            var elements = new List<DiffElementOutput>(kept.Length);
            for (int i = 0; i < kept.Length; i++)
            {
                int node = kept[i];
                elements.Add(new DiffElementOutput(
                    i.ToString(CultureInfo.InvariantCulture), parents[i].ToString(CultureInfo.InvariantCulture),
                    diff.NameOf(node), diff.BaseTotalOf(node), diff.BaseSelfOf(node), diff.TargetTotalOf(node), diff.TargetSelfOf(node)));
            }

            return new DiffOutput(ToOutput(AnalysisService.Describe(targetSelection, options)), elements, diff.Count - kept.Length);
        }, context.CancellationToken).ConfigureAwait(false);
    }

    internal static AnalysisRequest ToRequest(AnalyzationInput input) => new(
        input.TaskId,
        input.InstanceIds,
        string.IsNullOrEmpty(input.SampleType) ? null : input.SampleType,
        Enums.Parse<FrameGranularity>(input.Granularity) ?? FrameGranularity.Function,
        string.IsNullOrEmpty(input.Focus) ? null : input.Focus,
        string.IsNullOrEmpty(input.Ignore) ? null : input.Ignore,
        string.IsNullOrEmpty(input.TagFocus) ? null : input.TagFocus,
        string.IsNullOrEmpty(input.TagIgnore) ? null : input.TagIgnore,
        string.IsNullOrEmpty(input.TagSplit) ? null : input.TagSplit);

    /// <summary>The request's pattern-matching budget, which the endpoint puts in the user context; a new one otherwise.</summary>
    private MatchBudget MatchBudgetOf(IResolveFieldContext context) =>
        context.UserContext.TryGetValue(GraphQLEndpoint.MatchBudgetKey, out object? budget) && budget is MatchBudget shared ? shared : analysis.NewMatchBudget();

    /// <summary>
    /// Runs an analysis whose every step may build (decoding, a diff) in one of the server's analysis turns; its
    /// one-line refusals become GraphQL errors.
    /// </summary>
    private Task<T> Guard<T>(Func<Task<T>> resolve, CancellationToken cancellationToken) =>
        Refusals(() => analysis.InTurnAsync(resolve, cancellationToken));

    /// <summary>
    /// Runs an analysis that may be answered from the cache or a kept first look: only the tree it builds, if it must,
    /// takes an analysis turn. Its one-line refusals become GraphQL errors.
    /// </summary>
    private static async Task<T> Refusals<T>(Func<Task<T>> resolve)
    {
        try
        {
            return await resolve().ConfigureAwait(false);
        }
        catch (AnalysisException e)
        {
            throw new ExecutionError(e.Message);
        }
    }

    private static SampleTypeOutput ToOutput(SampleTypeInfo type) => new(type.Index, type.Type, type.Unit, type.IsDefault);

    /// <summary>Top-table rows by flat (pprof's order, the table's own) or cum, largest first, or by name from A.</summary>
    private static IEnumerable<TopEntry> Ordered(IReadOnlyList<TopEntry> entries, string orderBy) => orderBy switch
    {
        "CUM" => entries.OrderByDescending(e => HeaviestNodes.Magnitude(e.Cum)).ThenBy(e => e.Name, StringComparer.Ordinal),
        "NAME" => entries.OrderBy(e => e.Name, StringComparer.Ordinal),
        _ => entries,
    };

    private static TaskOutput ToOutput(ProfilingTask t) =>
        new(t.Id, t.ServiceId, t.InstanceIds, t.CreateTime, t.Event.ToString(), t.Duration, t.DumpPeriod, t.DispatchUntil);

}

/// <summary>Enum arguments arrive as names or as values, depending on how GraphQL parsed them.</summary>
internal static class Enums
{
    public static T? Parse<T>(object? value)
        where T : struct, Enum => value switch
        {
            null => null,
            T typed => typed,
            string name when Enum.TryParse(name, ignoreCase: true, out T parsed) => parsed,
            _ => throw new ExecutionError($"'{value}' is not a {typeof(T).Name}"),
        };
}
