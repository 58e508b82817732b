using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Digest;
using Flamewright.Pprof.Model;
using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using Flamewright.Server.Storage;
using Flamewright.Server.Tasks;
using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Analysis;

/// <summary>
/// Turns a task's stored uploads into flame trees, top tables, diffs and merged profiles with the pprof
/// engine. Two caches keep what was computed: profiles by upload (<see cref="UploadProfiles"/>, read from their digests),
/// and the merged trees and top tables of selections (<see cref="ServerOptions.AnalysisResultCacheMegabytes"/>), so
/// that asking again, or zooming, or reading the same task through GraphQL and REST, builds nothing. Both are keyed
/// by the uploads' identity (instance and upload time): an instance that uploads again gives a new key, on every
/// node, so a result is never served for uploads that changed; <see cref="Forget"/> frees a task's results at once.
/// </summary>
public sealed partial class AnalysisService : IDisposable
{
    /// <summary>
    /// How long a decoded profile stays cached without being used: long enough to cover a user exploring a task,
    /// short enough that yesterday's tasks do not hold memory that the size limit would otherwise keep.
    /// </summary>
    internal static readonly TimeSpan CacheIdleTime = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long after answering a first look from its kept digest the tree is read ahead: long enough for that answer to
    /// be written without competing with the read, short against the time a person looks at a graph before zooming.
    /// </summary>
    internal static readonly TimeSpan ReadAheadDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long no upload must have been stored before a tree is read ahead: a server receiving uploads spends its CPU
    /// and memory on them and on the first looks people wait for, and a zoom there builds the tree it needs.
    /// </summary>
    internal static readonly TimeSpan ReadAheadQuiet = TimeSpan.FromSeconds(2);

    /// <summary>How long stopping waits for background work: a kept view or a digest is a write of a few MiB.</summary>
    private static readonly TimeSpan BackgroundWorkWait = TimeSpan.FromSeconds(10);

    private readonly IProfilingStore _store;
    private readonly UploadProfiles _profiles;

    /// <summary>Writes and reads nobody waits for; <see cref="Dispose"/> lets them end (<see cref="BackgroundWorkWait"/>).</summary>
    private readonly Hosting.BackgroundWork _background = new();
    private readonly KeptViews _views;
    private readonly Turns _turns;
    private readonly Turns _keeping = new(1);
    private readonly ServerOptions _options;
    private readonly MemoryCache _results;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _resultKeysByTask = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<object>>> _building = new(StringComparer.Ordinal);

    private readonly ILogger<AnalysisService> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _disposed;
    private long _lastUploadStored; // when the last upload was stored (a Stopwatch timestamp; 0 for never)

    public AnalysisService(IProfilingStore store, ServerOptions options, ILogger<AnalysisService>? logger = null)
    {
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<AnalysisService>.Instance;
        _store = store;
        _options = options;
        _turns = new Turns(options.MaxConcurrentAnalyses);
        // Both log as this service: what they do is part of its analyses.
        _profiles = new UploadProfiles(store, options, _background, _logger);
        _views = new KeptViews(store, options, _logger);
        _results = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.AnalysisResultCacheMegabytes * 1024L * 1024 });
    }

    /// <summary>
    /// One of <see cref="ServerOptions.MaxConcurrentAnalyses"/> turns, held until the result is disposed: callers
    /// hold it from loading the profiles to building their answer, which is what takes the memory.
    /// </summary>
    /// <exception cref="AnalysisException">No turn came free within <see cref="ServerOptions.AnalysisQueueSeconds"/> (<see cref="AnalysisException.Busy"/>).</exception>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        IDisposable? turn = await _turns.TryTakeAsync(TimeSpan.FromSeconds(_options.AnalysisQueueSeconds), cancellationToken).ConfigureAwait(false);
        AnalysisPhases.Add(AnalysisPhases.Turn, started);
        return turn ?? throw new AnalysisException(
            $"the server was running {_options.MaxConcurrentAnalyses} analyses (MaxConcurrentAnalyses) for all of {_options.AnalysisQueueSeconds} s; try again shortly")
        { Busy = true };
    }

    /// <summary>
    /// Runs <paramref name="work"/> in an analysis turn (<see cref="EnterAsync"/>). Only work that builds takes one: an
    /// answer from the cache or from a kept first look does not wait for a turn. Work in a turn never waits for a build
    /// that another request started (which would wait for a turn in its turn): what it needs built, it gets first.
    /// </summary>
    /// <exception cref="AnalysisException">
    /// No turn came free, or the work found no memory left twice: once, then again after both caches were emptied
    /// (the managed heap is limited, <see cref="ServerOptions.ManagedHeapLimitMegabytes"/>).
    /// </exception>
    public async Task<T> InTurnAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        using IDisposable turn = await EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await OnceMoreWithoutCachesAsync(work, () => LogOutOfMemory(_logger)).ConfigureAwait(false);
        }
        catch (OutOfMemoryException e)
        {
            FreeCaches();
            throw new AnalysisException(
                $"the server has too little memory for this analysis, even with its caches emptied (ManagedHeapLimitMegabytes {_options.ManagedHeapLimitMegabytes}); "
                + "narrow the selection or raise the limit", e);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/>; when it finds no memory left under the heap's limit, says so (<paramref name="saying"/>),
    /// empties both caches and runs it once more: what the caches hold is the memory that can be given back, and what
    /// the first try allocated is garbage by then. For analyses and for the parses of uploads.
    /// </summary>
    /// <exception cref="OutOfMemoryException">No room the second time either.</exception>
    internal async Task<T> OnceMoreWithoutCachesAsync<T>(Func<Task<T>> work, Action saying)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (OutOfMemoryException)
        {
            saying();
            FreeCaches();
        }

        return await work().ConfigureAwait(false);
    }

    /// <summary>Empties both caches and collects at once, compacting.</summary>
    private void FreeCaches()
    {
        _results.Compact(1.0);
        _profiles.Clear();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>The task and the decoded profiles of the selected instances that uploaded one.</summary>
    /// <exception cref="AnalysisException">Unknown task, or an instance named that uploaded nothing.</exception>
    public async Task<SelectedProfiles> LoadAsync(string taskId, IReadOnlyList<string>? instanceIds, bool requireEvery, CancellationToken cancellationToken)
    {
        (ProfilingTask task, IReadOnlyList<UploadInfo> chosen, _) = await SelectAsync(taskId, instanceIds, requireEvery, cancellationToken).ConfigureAwait(false);
        return await ReadSelectionAsync(task, chosen, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The task and the uploads of the selected instances (all, when none is named), read from the store without decoding any.</summary>
    /// <exception cref="AnalysisException">Unknown task, or (<paramref name="requireEvery"/>) an instance named that uploaded nothing.</exception>
    /// <returns>The task, the chosen uploads, and whether they are every upload of the task.</returns>
    private async Task<(ProfilingTask Task, IReadOnlyList<UploadInfo> Uploads, bool Whole)> SelectAsync(
        string taskId, IReadOnlyList<string>? instanceIds, bool requireEvery, CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        ProfilingTask task = await _store.FindTaskAsync(taskId, cancellationToken).ConfigureAwait(false)
            ?? throw new AnalysisException($"unknown task '{taskId}'") { UnknownTask = true };
        IReadOnlyList<UploadInfo> uploads = await _store.ListUploadsAsync(taskId, cancellationToken).ConfigureAwait(false);
        AnalysisPhases.Add(AnalysisPhases.Store, started);
        List<UploadInfo> chosen;
        if (instanceIds is null || instanceIds.Count == 0)
        {
            chosen = [.. uploads];
        }
        else
        {
            var byInstance = uploads.ToDictionary(u => u.InstanceId, StringComparer.Ordinal);
            chosen = [];
            foreach (string id in instanceIds.Distinct(StringComparer.Ordinal))
            {
                if (byInstance.TryGetValue(id, out UploadInfo? upload))
                {
                    chosen.Add(upload);
                }
                else if (requireEvery)
                {
                    string name = SkyWalkingIds.SplitInstanceId(id)?.InstanceName ?? id;
                    throw new AnalysisException($"instance '{name}' has no uploaded profile for task '{taskId}'");
                }
            }
        }

        return (task, chosen, chosen.Count == uploads.Count);
    }

    /// <summary>The options for an analysis: the event's natural sample type unless another is asked for.</summary>
    public static FlameOptions OptionsFor(SelectedProfiles selection, AnalysisRequest request)
    {
        string? sampleType = request.SampleType;
        if (sampleType is null && selection.Profiles.Count > 0)
        {
            string natural = selection.Task.Event.NaturalSampleType();
            foreach (Pprof.Model.ValueType type in selection.Profiles[0].SampleTypes)
            {
                if (type.Type == natural)
                {
                    sampleType = natural;
                }
            }
        }

        return new FlameOptions
        {
            SampleType = sampleType, Granularity = request.Granularity, Focus = request.Focus, Ignore = request.Ignore,
            TagFocus = request.TagFocus, TagIgnore = request.TagIgnore, TagSplit = request.TagSplit,
        };
    }

    /// <summary>
    /// A request's budget for matching focus and ignore patterns: <see cref="ServerOptions.AnalysisFilterSeconds"/>,
    /// shared by all the analyses the request asks for.
    /// </summary>
    public MatchBudget NewMatchBudget() => new(TimeSpan.FromSeconds(_options.AnalysisFilterSeconds));

    /// <summary>
    /// <see cref="OptionsFor"/> bounded for a request: the analysis stops when <paramref name="cancellationToken"/>
    /// fires (the client left), and its patterns charge the request's <paramref name="budget"/>.
    /// </summary>
    public static FlameOptions BoundedOptionsFor(SelectedProfiles selection, AnalysisRequest request, MatchBudget budget, CancellationToken cancellationToken) =>
        OptionsFor(selection, request) with { Cancellation = cancellationToken, MatchBudget = budget };

    /// <summary>
    /// The merged flame tree of the selection and the sample type that weighs it, from the results cache or built
    /// and kept there. <paramref name="strict"/>: every instance named must have uploaded, and one at least;
    /// otherwise instances without an upload are left out and a selection with none gives <c>null</c>.
    /// </summary>
    public async Task<TreeResult?> TreeAsync(AnalysisRequest request, bool strict, MatchBudget budget, CancellationToken cancellationToken)
    {
        (ProfilingTask task, IReadOnlyList<UploadInfo> uploads, bool whole) = await SelectAsync(request.TaskId, request.InstanceIds, strict, cancellationToken).ConfigureAwait(false);
        if (uploads.Count == 0)
        {
            return strict ? throw NothingUploaded(request.TaskId) : null;
        }

        return await TreeOfAsync(task, uploads, whole, request, budget, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The merged tree of <paramref name="uploads"/> (<paramref name="whole"/>: every upload of the task) from the results
    /// cache, or from the default view kept in storage, or built (and, for the default view, kept).
    /// </summary>
    private Task<TreeResult> TreeOfAsync(
        ProfilingTask task, IReadOnlyList<UploadInfo> uploads, bool whole, AnalysisRequest request, MatchBudget budget, CancellationToken cancellationToken) =>
        CachedAsync("tree", task, uploads, request, () => InTurnAsync(async () =>
        {
            string? viewKey = whole && _views.Apply(task, request) ? ViewKeyOf(task, uploads, request) : null;
            // Kept only once every instance the task names has uploaded: a task still receiving would drop it at once.
            bool keep = viewKey is not null && uploads.Count >= task.InstanceIds.Count;
            if (viewKey is not null && await _views.ReadAsync(task, uploads, viewKey, cancellationToken).ConfigureAwait(false) is TreeResult kept)
            {
                return (kept, kept.Tree.ApproximateBytes);
            }

            SelectedProfiles selection = await ReadSelectionAsync(task, uploads, cancellationToken).ConfigureAwait(false);
            FlameOptions options = BoundedOptionsFor(selection, request, budget, cancellationToken);
            long building = System.Diagnostics.Stopwatch.GetTimestamp();
            FlameTree tree = await Hosting.CpuWork.RunAsync(() => Run(() => FlameTreeBuilder.Build(selection.Profiles, options))).ConfigureAwait(false);
            AnalysisPhases.Add(AnalysisPhases.Build, building);
            SampleTypeInfo sampleType = Describe(selection, options);
            if (keep)
            {
                KeepInBackground(task, uploads, request, viewKey!, new TreeResult(tree, sampleType));
            }

            return (new TreeResult(tree, sampleType), tree.ApproximateBytes);
        }, cancellationToken), cancellationToken);

    /// <summary>
    /// Keeps a default view in storage once it is built, after its caller has the tree: its top table (shared with a
    /// request for it, through the cache), then the tree and first-look digests; one view at a time, and none while
    /// another is being kept, so that keeping views never holds more than one view's memory and writes. Best effort; a
    /// server that stops meanwhile keeps nothing and says nothing.
    /// </summary>
    private void KeepInBackground(ProfilingTask task, IReadOnlyList<UploadInfo> uploads, AnalysisRequest request, string viewKey, TreeResult tree) =>
        _background.Start(async () =>
        {
            try
            {
                CancellationToken stopping = _stopping.Token;
                using IDisposable? keeping = await _keeping.TryTakeAsync(TimeSpan.Zero, stopping).ConfigureAwait(false);
                if (keeping is null)
                {
                    // Another view is being kept: this one is not queued (a queue would hold its tree), and a later
                    // build of it keeps it then.
                    return;
                }

                TopResult top = await CachedAsync("top", task, uploads, request, () => Task.FromResult(TopOf(tree)), stopping).ConfigureAwait(false);
                await _views.KeepAsync(task, uploads, viewKey, tree.Tree, top.Table, stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (_disposed && e is OperationCanceledException or ObjectDisposedException)
            {
            }
        });

    /// <summary>
    /// The view of the selection for a graph <paramref name="widthPixels"/> wide, under <paramref name="zoomPath"/>, with
    /// <paramref name="search"/> marked and only the frames below <paramref name="narrowerThan"/> (see
    /// <see cref="FlameView.Build"/>); <c>null</c> when no selected instance uploaded. A first look at a finished task
    /// (its default view, not zoomed, no search) that this process has not built or read yet is answered from the first
    /// look kept in storage, a small part of the tree; the tree is then read in the background (<paramref name="readAhead"/>),
    /// for the zooms that follow.
    /// </summary>
    public async Task<ViewResult?> ViewAsync(
        AnalysisRequest request, IReadOnlyList<string> zoomPath, int widthPixels, System.Text.RegularExpressions.Regex? search, long? narrowerThan,
        MatchBudget budget, CancellationToken cancellationToken, bool readAhead = true)
    {
        (ProfilingTask task, IReadOnlyList<UploadInfo> uploads, bool whole) = await SelectAsync(request.TaskId, request.InstanceIds, false, cancellationToken).ConfigureAwait(false);
        if (uploads.Count == 0)
        {
            return null;
        }

        if (zoomPath.Count == 0 && search is null && narrowerThan is null && widthPixels <= _options.FirstLookWidthPixels
            && await FirstLookInsteadOfTreeAsync(task, uploads, whole, request, widthPixels, budget, cancellationToken).ConfigureAwait(false) is { Look: { } look, SampleType: { } type }
            && widthPixels <= look.View.WidthPixels)
        {
            if (readAhead)
            {
                ReadTreeInBackground(task, uploads, request);
            }

            long narrowing = System.Diagnostics.Stopwatch.GetTimestamp();
            FlameView narrowed = look.View.Narrowed(widthPixels);
            AnalysisPhases.Add(AnalysisPhases.View, narrowing);
            return new ViewResult(narrowed, type);
        }

        TreeResult tree = await TreeOfAsync(task, uploads, whole, request, budget, cancellationToken).ConfigureAwait(false);
        long cutting = System.Diagnostics.Stopwatch.GetTimestamp();
        FlameView view = Run(() => FlameView.Build(tree.Tree, zoomPath, widthPixels, search: search, narrowerThan: narrowerThan));
        AnalysisPhases.Add(AnalysisPhases.View, cutting);
        return new ViewResult(view, tree.SampleType);
    }

    /// <summary>
    /// The first look at the default view of these uploads (cached): the one kept in storage, or else one made from the
    /// uploads' stacks without their tree (<see cref="StackView"/>) for a graph <paramref name="widthPixels"/> wide, for
    /// <see cref="ViewAsync"/> and <see cref="TopAsync"/>. Made for the width asked, not the widest a kept one serves: a
    /// graph of a typical width draws a tenth of the frames or less, and cutting them is most of the work.
    /// </summary>
    private Task<KeptFirstLook> FirstLookOfAsync(
        ProfilingTask task, IReadOnlyList<UploadInfo> uploads, AnalysisRequest request, int widthPixels, MatchBudget budget, CancellationToken cancellationToken) =>
        CachedAsync("first-look", task, uploads, request, async () =>
        {
            (FirstLook? look, SampleTypeInfo? type, bool stored) = _views.Apply(task, request)
                ? await _views.ReadFirstLookAsync(task, uploads, ViewKeyOf(task, uploads, request), cancellationToken).ConfigureAwait(false)
                : (null, null, false);
            if (stored && (look is null || type is null))
            {
                // Kept but unreadable: the tree kept beside it answers instead (or is built again).
                return (new KeptFirstLook(null, null), 64L);
            }

            if (look is null || type is null)
            {
                (look, type) = await InTurnAsync(async () =>
                {
                    StackInput[] inputs = await ReadStacksAsync(uploads, cancellationToken).ConfigureAwait(false);
                    var selection = new SelectedProfiles(task, uploads, [.. inputs.Select(i => i.Profile ?? i.Digest!.Names)]);
                    FlameOptions options = BoundedOptionsFor(selection, request, budget, cancellationToken);
                    long building = System.Diagnostics.Stopwatch.GetTimestamp();
                    FirstLook made = await Hosting.CpuWork.RunAsync(() => Run(() => StackView.Build(inputs, options, widthPixels))).ConfigureAwait(false);
                    AnalysisPhases.Add(AnalysisPhases.Build, building);
                    return (made, Describe(selection, options));
                }, cancellationToken).ConfigureAwait(false);
            }

            // A frame holds its name (shared), five numbers and an object's overhead.
            return (new KeptFirstLook(look, type), (look.View.Frames.Count * 96L) + TopBytes(look.Top));
        }, cancellationToken);

    /// <summary>
    /// The first look at a default view that this process has not built or read the tree of (with it, the tree answers);
    /// nulls otherwise.
    /// </summary>
    private async Task<KeptFirstLook> FirstLookInsteadOfTreeAsync(
        ProfilingTask task, IReadOnlyList<UploadInfo> uploads, bool whole, AnalysisRequest request, int widthPixels, MatchBudget budget,
        CancellationToken cancellationToken) =>
        whole && KeptViews.IsDefaultView(task, request) && !_results.TryGetValue(ResultKey("tree", task, uploads, request), out _)
            ? await FirstLookOfAsync(task, uploads, request, widthPixels, budget, cancellationToken).ConfigureAwait(false)
            : new KeptFirstLook(null, null);

    /// <summary>The key a default view of these uploads is kept under in storage.</summary>
    private static string ViewKeyOf(ProfilingTask task, IReadOnlyList<UploadInfo> uploads, AnalysisRequest request) =>
        KeptViews.KeyOf(ResultKey("tree", task, uploads, request));

    /// <summary>
    /// Reads (or builds) the selection's tree into the results cache, when no analysis is running, after a first look
    /// was answered without it: the zooms that follow find it there. Best effort, never thrown.
    /// </summary>
    private void ReadTreeInBackground(ProfilingTask task, IReadOnlyList<UploadInfo> uploads, AnalysisRequest request) =>
        _background.Start(async () =>
        {
            try
            {
                CancellationToken stopping = _stopping.Token;
                // After the first look's answer is written (it would compete for the CPU), before a person zooms; and
                // only when no analysis is running and no upload arrived lately: on a busy server a read-ahead would
                // hold a turn, and memory, that the analyses people are waiting for need (measured under the load
                // benchmark: benchmarks/README.md).
                await Task.Delay(ReadAheadDelay, stopping).ConfigureAwait(false);
                if (_turns.Free == _options.MaxConcurrentAnalyses
                    && System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref _lastUploadStored)) >= ReadAheadQuiet)
                {
                    await TreeOfAsync(task, uploads, whole: true, request, NewMatchBudget(), stopping).ConfigureAwait(false);
                }
            }
#pragma warning disable CA1031 // Reading ahead is an extra: a zoom that finds nothing reads or builds the tree itself.
            catch (Exception e)
#pragma warning restore CA1031
            {
                if (!_disposed)
                {
                    LogReadAheadFailed(_logger, task.Id, new Hosting.LogText(e.Message));
                }
            }
        });

    /// <summary>
    /// The top table of the selection (every instance named must have uploaded), read off the selection's tree (cached,
    /// or built and cached, so that the graph and the table of one look cost one build) and cached as the tree is.
    /// </summary>
    public async Task<TopResult> TopAsync(AnalysisRequest request, MatchBudget budget, CancellationToken cancellationToken)
    {
        (ProfilingTask task, IReadOnlyList<UploadInfo> uploads, bool whole) = await SelectAsync(request.TaskId, request.InstanceIds, requireEvery: true, cancellationToken).ConfigureAwait(false);
        if (uploads.Count == 0)
        {
            throw NothingUploaded(request.TaskId);
        }

        return await CachedAsync("top", task, uploads, request, async () =>
        {
            // A finished task's default view: its first look, kept in storage, holds the whole table.
            // Asked for alone (a page asks for its graph first, and this joins that), the look is made as wide as a kept one.
            if (await FirstLookInsteadOfTreeAsync(task, uploads, whole, request, _options.FirstLookWidthPixels, budget, cancellationToken).ConfigureAwait(false)
                is { Look: { } look, SampleType: { } type })
            {
                return (new TopResult(look.Top, type), TopBytes(look.Top));
            }

            TreeResult tree = await TreeOfAsync(task, uploads, whole, request, budget, cancellationToken).ConfigureAwait(false);
            return await Hosting.CpuWork.RunAsync(() => TopOf(tree)).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The selection's samples grouped by stack and labels, heaviest first (at most MaxListItems groups, with the count of
    /// all): for a goroutine task, how many goroutines wait where.
    /// </summary>
    public Task<StackGroupsResult> StackGroupsAsync(AnalysisRequest request, MatchBudget budget, CancellationToken cancellationToken) =>
        OfSamplesAsync("groups", request, budget, (profiles, options, sampleType) =>
        {
            StackGroups groups = StackGroups.Build(profiles, options, _options.MaxListItems);
            // Per group an object, its frame names (shared with the profiles) and labels: about 64 bytes and 8 per name.
            return (new StackGroupsResult(groups, sampleType), groups.Groups.Sum(g => 64L + (8L * (g.Frames.Count + (2 * g.Labels.Count)))));
        }, cancellationToken);

    /// <summary>The labels the selection's samples carry, each value with the value behind it.</summary>
    public Task<LabelsResult> LabelsAsync(AnalysisRequest request, MatchBudget budget, CancellationToken cancellationToken) =>
        OfSamplesAsync("labels", request, budget, (profiles, options, sampleType) =>
        {
            LabelTable labels = LabelTable.Build(profiles, options);
            return (new LabelsResult(labels, sampleType), 64L + labels.Keys.Sum(k => 64L + (48L * k.Values.Count)));
        }, cancellationToken);

    /// <summary>
    /// <paramref name="function"/> in its context (<see cref="Sandwich"/>): its callers and callees, and the two graphs of a
    /// sandwich view; cached per function as trees are.
    /// </summary>
    public Task<SandwichResult> SandwichAsync(AnalysisRequest request, string function, MatchBudget budget, CancellationToken cancellationToken) =>
        // The name is counted into the kind: no name can make the key of another result.
        OfSamplesAsync($"sandwich {function.Length}:{function}", request, budget, (profiles, options, sampleType) =>
        {
            Sandwich sandwich = Sandwich.Build(profiles, options, function);
            return (new SandwichResult(sandwich, sampleType), sandwich.CallersTree.ApproximateBytes + sandwich.CalleesTree.ApproximateBytes
                + (64L * (sandwich.Callers.Count + sandwich.Callees.Count)));
        }, cancellationToken);

    /// <summary>
    /// An analysis of the selection's samples rather than of its tree (every instance named must have uploaded): built
    /// in an analysis turn from the selection's profiles and weighed options, and cached as trees are.
    /// </summary>
    private async Task<T> OfSamplesAsync<T>(
        string kind, AnalysisRequest request, MatchBudget budget, Func<IReadOnlyList<Profile>, FlameOptions, SampleTypeInfo, (T Result, long Bytes)> build,
        CancellationToken cancellationToken)
        where T : class
    {
        (ProfilingTask task, IReadOnlyList<UploadInfo> uploads, _) = await SelectAsync(request.TaskId, request.InstanceIds, requireEvery: true, cancellationToken).ConfigureAwait(false);
        if (uploads.Count == 0)
        {
            throw NothingUploaded(request.TaskId);
        }

        return await CachedAsync(kind, task, uploads, request, () => InTurnAsync(async () =>
        {
            SelectedProfiles selection = await ReadSelectionAsync(task, uploads, cancellationToken).ConfigureAwait(false);
            FlameOptions options = BoundedOptionsFor(selection, request, budget, cancellationToken);
            long building = System.Diagnostics.Stopwatch.GetTimestamp();
            (T Result, long Bytes) built = await Hosting.CpuWork.RunAsync(() => Run(() => build(selection.Profiles, options, Describe(selection, options)))).ConfigureAwait(false);
            AnalysisPhases.Add(AnalysisPhases.Build, building);
            return built;
        }, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The top table read off a tree, and its weight in the cache.</summary>
    private static (TopResult Result, long Bytes) TopOf(TreeResult tree)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        TopTable top = TopTable.Build(tree.Tree);
        AnalysisPhases.Add(AnalysisPhases.Top, started);
        return (new TopResult(top, tree.SampleType), TopBytes(top));
    }

    /// <summary>The uploads' profiles (from the cache, their digests or their bytes), timed as the request's "read".</summary>
    private async Task<SelectedProfiles> ReadSelectionAsync(ProfilingTask task, IReadOnlyList<UploadInfo> uploads, CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        Profile[] profiles = await _profiles.ReadAllAsync(uploads, cancellationToken).ConfigureAwait(false);
        AnalysisPhases.Add(AnalysisPhases.Read, started);
        return new SelectedProfiles(task, uploads, profiles);
    }

    /// <summary>
    /// The uploads' stacks for a first look, timed as the request's "read": digests are read for their stacks only, since a
    /// first look needs no samples, labels or expanded stacks.
    /// </summary>
    private async Task<StackInput[]> ReadStacksAsync(IReadOnlyList<UploadInfo> uploads, CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        StackInput[] inputs = await _profiles.ReadStacksAsync(uploads, cancellationToken).ConfigureAwait(false);
        AnalysisPhases.Add(AnalysisPhases.Read, started);
        return inputs;
    }

    /// <summary>What a top table weighs in the cache: per row its name (shared with the tree's frames), two values and an object's overhead.</summary>
    private static long TopBytes(TopTable top) => 64L * (top.Entries.Count + 1);

    /// <summary>
    /// Builds the task's default view (every instance that uploaded, the event's sample type, functions) into the
    /// results cache, so that a person's first look is answered at once. Best effort: it runs only when an analysis
    /// turn is free at once, and a failure is logged, never thrown.
    /// </summary>
    /// <returns>Whether the view was built.</returns>
    public async Task<bool> PrecomputeDefaultViewAsync(string taskId)
    {
        try
        {
            CancellationToken stopping = _stopping.Token;
            // Only when a turn is free at once: a person's analysis comes first. The build takes the turn itself.
            if (_turns.Free == 0)
            {
                LogPrecomputeSkipped(_logger, taskId);
                return false;
            }

            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            var request = new AnalysisRequest(taskId);
            await TreeAsync(request, strict: false, NewMatchBudget(), stopping).ConfigureAwait(false);
            await TopAsync(request, NewMatchBudget(), stopping).ConfigureAwait(false);
            TimeSpan took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            LogPrecomputed(_logger, taskId, took.TotalMilliseconds);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && _disposed)
        {
            // The server stopped while the view was being built: nothing to report.
            return false;
        }
        catch (Exception e) when (e is AnalysisException or System.Data.Common.DbException or InvalidOperationException)
        {
            LogPrecomputeFailed(_logger, taskId, new Hosting.LogText(e.Message));
            return false;
        }
    }

    /// <summary>
    /// The sample types of a task's uploads, read from the summary stored with its first upload, without decoding
    /// anything or taking an analysis turn: the page asks for them before every look. <c>null</c> when the summary
    /// cannot say which one is the default (the event's sample type is missing, so pprof's own default, which only
    /// the profile holds, decides) or holds names it could not have written unambiguously.
    /// </summary>
    /// <exception cref="AnalysisException">Unknown task.</exception>
    public async Task<IReadOnlyList<SampleTypeInfo>?> SampleTypesFromSummaryAsync(string taskId, CancellationToken cancellationToken)
    {
        (ProfilingTask task, IReadOnlyList<UploadInfo> uploads, _) = await SelectAsync(taskId, null, requireEvery: false, cancellationToken).ConfigureAwait(false);
        if (uploads.Count == 0)
        {
            return [];
        }

        string natural = task.Event.NaturalSampleType();
        List<(string Type, string Unit)>? types = SummarySampleTypes(uploads[0]);
        int chosen = types?.FindIndex(t => t.Type == natural) ?? -1;
        return chosen < 0 ? null : [.. types!.Select((t, i) => new SampleTypeInfo(i, t.Type, t.Unit, i == chosen))];
    }

    /// <summary>
    /// The sample types in the summary stored with an upload (<c>type/unit,type/unit</c>), or <c>null</c> when one
    /// holds a character that could be a separator.
    /// </summary>
    internal static List<(string Type, string Unit)>? SummarySampleTypes(UploadInfo upload)
    {
        var types = new List<(string Type, string Unit)>();
        foreach (string entry in upload.SampleTypes.Split(','))
        {
            int slash = entry.LastIndexOf('/');
            if (slash <= 0 || !IsPlainName(entry.AsSpan(0, slash)) || !IsPlainName(entry.AsSpan(slash + 1)))
            {
                return null;
            }

            types.Add((entry[..slash], entry[(slash + 1)..]));
        }

        return types;
    }

    /// <summary>Letters, digits, '_', '.', '-': what Go's sample types and units are made of, and no separator of the summary.</summary>
    private static bool IsPlainName(ReadOnlySpan<char> name)
    {
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>How many trees and top tables the results cache holds.</summary>
    internal long CachedResults => _results.Count;

    /// <summary>
    /// An upload to the task was stored: its cached results are stale (<see cref="Forget"/>), and the server is receiving,
    /// so trees are not read ahead for a while (<see cref="ReadAheadQuiet"/>).
    /// </summary>
    public void UploadStored(string taskId)
    {
        Volatile.Write(ref _lastUploadStored, System.Diagnostics.Stopwatch.GetTimestamp());
        Forget(taskId);
    }

    /// <summary>Frees the cached results of a task's selections: an instance uploaded again, so they are stale.</summary>
    public void Forget(string taskId)
    {
        if (_resultKeysByTask.TryRemove(taskId, out ConcurrentDictionary<string, byte>? keys))
        {
            foreach (string key in keys.Keys)
            {
                _results.Remove(key);
            }
        }
    }

    /// <summary>
    /// The cached result of <paramref name="kind"/> for this selection, or <paramref name="build"/>'s, kept and weighed
    /// by the bytes it returns. Requests for the same result at the same time share one build (the page asks for a
    /// graph and a table at once, and both need the tree); one whose sharer was cancelled builds again for itself.
    /// </summary>
    private async Task<T> CachedAsync<T>(
        string kind, ProfilingTask task, IReadOnlyList<UploadInfo> uploads, AnalysisRequest request,
        Func<Task<(T Result, long Bytes)>> build, CancellationToken cancellationToken)
        where T : class
    {
        string key = ResultKey(kind, task, uploads, request);
        while (true)
        {
            if (_results.TryGetValue(key, out T? cached) && cached is not null)
            {
                return cached;
            }

            var mine = new Lazy<Task<object>>(async () =>
            {
                try
                {
                    (T result, long bytes) = await build().ConfigureAwait(false);
                    Remember(kind, task, uploads, request, result, bytes);
                    return result;
                }
                finally
                {
                    _building.TryRemove(key, out _);
                }
            });
            Lazy<Task<object>> shared = _building.GetOrAdd(key, mine);
            long waiting = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                return (T)await shared.Value.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (shared != mine && !cancellationToken.IsCancellationRequested)
            {
                // The request that was building it left; this one still wants the result.
            }
            finally
            {
                if (shared != mine)
                {
                    AnalysisPhases.Add(AnalysisPhases.Wait, waiting);
                }
            }
        }
    }

    /// <summary>Puts a result into the cache, weighed by <paramref name="bytes"/>, and notes it among its task's.</summary>
    private void Remember<T>(string kind, ProfilingTask task, IReadOnlyList<UploadInfo> uploads, AnalysisRequest request, T result, long bytes)
        where T : class
    {
        string key = ResultKey(kind, task, uploads, request);
        _resultKeysByTask.GetOrAdd(task.Id, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal)).TryAdd(key, 0);
        _results.Set(key, result, new MemoryCacheEntryOptions { Size = Math.Max(1, bytes), SlidingExpiration = CacheIdleTime });
    }

    /// <summary>
    /// What a result depends on: its kind, the uploads (instance and upload time, in a fixed order, since merging is
    /// order-free) and the request's sample type, granularity and patterns.
    /// </summary>
    private static string ResultKey(string kind, ProfilingTask task, IReadOnlyList<UploadInfo> uploads, AnalysisRequest request)
    {
        // Leaving the sample type out is asking for the event's natural one when the uploads have it: one entry serves
        // both (the UI names it, the default view computed after the last upload does not). A name the uploads lack
        // stays itself, so that it never shares the default's entry.
        string natural = task.Event.NaturalSampleType();
        string? sampleType = request.SampleType
            ?? (SummarySampleTypes(uploads[0])?.Exists(t => t.Type == natural) == true ? natural : null);

        var key = new System.Text.StringBuilder(kind).Append('\n').Append(uploads[0].TaskId);
        foreach (UploadInfo upload in uploads.OrderBy(u => u.InstanceId, StringComparer.Ordinal))
        {
            key.Append('\n').Append(upload.InstanceId).Append('@').Append(upload.UploadedAt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return key.Append("\n\n").Append(sampleType).Append('\n').Append(request.Granularity)
            .Append('\n').Append(request.Focus?.Length).Append(':').Append(request.Focus)
            .Append('\n').Append(request.Ignore?.Length).Append(':').Append(request.Ignore)
            .Append('\n').Append(request.TagFocus?.Length).Append(':').Append(request.TagFocus)
            .Append('\n').Append(request.TagIgnore?.Length).Append(':').Append(request.TagIgnore)
            .Append('\n').Append(request.TagSplit?.Length).Append(':').Append(request.TagSplit).ToString();
    }

    /// <summary>The sample type an analysis used: its index, and whether it is the one used when none is asked for.</summary>
    public static SampleTypeInfo Describe(SelectedProfiles selection, FlameOptions options)
    {
        int index = ChosenIndex(selection, options);
        int natural = ChosenIndex(selection, OptionsFor(selection, new AnalysisRequest(selection.Task.Id)));
        Pprof.Model.ValueType type = selection.Profiles[0].SampleTypes[index];
        return new SampleTypeInfo(index, type.Type, type.Unit, index == natural);
    }

    /// <summary>The index of the sample type <paramref name="options"/> asks for in the selection's first profile.</summary>
    public static int ChosenIndex(SelectedProfiles selection, FlameOptions options)
    {
        Profile first = selection.Profiles[0];
        string? name = options.SampleType;
        if (name is null)
        {
            return first.DefaultSampleTypeIndex;
        }

        for (int i = 0; i < first.SampleTypes.Length; i++)
        {
            if (first.SampleTypes[i].Type == name)
            {
                return i;
            }
        }

        return int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index) ? index : first.DefaultSampleTypeIndex;
    }

    /// <summary>The selection's profiles merged into one, as <c>go tool pprof</c> would merge them.</summary>
    public async Task<Profile> MergedAsync(AnalysisRequest request, CancellationToken cancellationToken)
    {
        SelectedProfiles selection = await LoadNonEmptyAsync(request, cancellationToken).ConfigureAwait(false);
        return selection.Profiles.Count == 1 ? selection.Profiles[0] : Run(() => ProfileMerger.Merge(selection.Profiles));
    }

    /// <summary>The selection, which must contain at least one upload.</summary>
    public async Task<SelectedProfiles> LoadNonEmptyAsync(AnalysisRequest request, CancellationToken cancellationToken)
    {
        SelectedProfiles selection = await LoadAsync(request.TaskId, request.InstanceIds, requireEvery: true, cancellationToken).ConfigureAwait(false);
        return selection.Profiles.Count == 0 ? throw NothingUploaded(request.TaskId) : selection;
    }

    /// <summary>Runs an engine call, turning its one exception type into this service's.</summary>
    public static T Run<T>(Func<T> analysis)
    {
        try
        {
            return analysis();
        }
        catch (PprofFormatException e)
        {
            throw new AnalysisException(e.Message, e);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _stopping.Cancel();
        // Before the storage closes: a write still running would land in a closed database or a removed directory.
        _background.Wait(BackgroundWorkWait);
        _stopping.Dispose();
        _profiles.Dispose();
        _results.Dispose();
        _turns.Dispose();
        _keeping.Dispose();
    }

    [LoggerMessage(EventId = 520, Level = LogLevel.Warning, Message = "An analysis found no memory left under the managed heap's limit (ManagedHeapLimitMegabytes); emptying the caches and trying once more")]
    private static partial void LogOutOfMemory(ILogger logger);

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Task {TaskId}: default view ready in {Milliseconds:F0} ms")]
    private static partial void LogPrecomputed(ILogger logger, string taskId, double milliseconds);

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Task {TaskId}: default view not computed ahead, every analysis turn was taken")]
    private static partial void LogPrecomputeSkipped(ILogger logger, string taskId);

    [LoggerMessage(EventId = 502, Level = LogLevel.Warning, Message = "Task {TaskId}: the default view could not be computed ahead: {Reason}")]
    private static partial void LogPrecomputeFailed(ILogger logger, string taskId, Hosting.LogText reason);

    [LoggerMessage(EventId = 510, Level = LogLevel.Warning, Message = "Task {TaskId}: the tree could not be read ahead after a first look: {Reason}")]
    private static partial void LogReadAheadFailed(ILogger logger, string taskId, Hosting.LogText reason);

    private static AnalysisException NothingUploaded(string taskId) =>
        new($"no profile has been uploaded for task '{taskId}' yet");
}

/// <summary>The sample type that weighs a result: its index, type and unit, and whether it is the one used when none is asked for.</summary>
public sealed record SampleTypeInfo(int Index, string Type, string Unit, bool IsDefault);

/// <summary>A selection's merged flame tree and the sample type that weighs it.</summary>
public sealed record TreeResult(FlameTree Tree, SampleTypeInfo SampleType);

/// <summary>A view of a selection's tree and the sample type that weighs it.</summary>
public sealed record ViewResult(FlameView View, SampleTypeInfo SampleType);

/// <summary>A default view's first look (kept in storage or made from the stacks), or nulls when it has none.</summary>
internal sealed record KeptFirstLook(FirstLook? Look, SampleTypeInfo? SampleType);

/// <summary>A selection's top table and the sample type that weighs it.</summary>
public sealed record TopResult(TopTable Table, SampleTypeInfo SampleType);

/// <summary>A label table and the sample type that weighs it.</summary>
public sealed record LabelsResult(LabelTable Labels, SampleTypeInfo SampleType);

/// <summary>A function's sandwich and the sample type that weighs it.</summary>
public sealed record SandwichResult(Sandwich Sandwich, SampleTypeInfo SampleType);

/// <summary>Stack groups and the sample type that weighs them.</summary>
public sealed record StackGroupsResult(StackGroups Groups, SampleTypeInfo SampleType);

/// <summary>A task with the uploads chosen for an analysis and their decoded profiles, in the same order.</summary>
public sealed record SelectedProfiles(ProfilingTask Task, IReadOnlyList<UploadInfo> Uploads, IReadOnlyList<Profile> Profiles);
