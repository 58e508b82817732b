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
/// engine. Two caches keep what was computed: decoded profiles by upload (<see cref="ServerOptions.AnalysisCacheMegabytes"/>),
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
    private static readonly TimeSpan CacheIdleTime = TimeSpan.FromMinutes(30);

    private readonly IProfilingStore _store;
    private readonly PprofLimits _limits;
    private readonly MemoryCache _cache;
    private readonly Turns _turns;
    private readonly ServerOptions _options;
    private readonly MemoryCache _results;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _resultKeysByTask = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<object>>> _building = new(StringComparer.Ordinal);

    private readonly ILogger<AnalysisService> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _disposed;
    private readonly SemaphoreSlim _digestWrites;

    public AnalysisService(IProfilingStore store, ServerOptions options, ILogger<AnalysisService>? logger = null)
    {
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<AnalysisService>.Instance;
        _store = store;
        _options = options;
        _turns = new Turns(options.MaxConcurrentAnalyses);
        _digestWrites = new SemaphoreSlim(options.MaxConcurrentAnalyses);
        _limits = new PprofLimits { MaxDecompressedBytes = options.MaxDecompressedBytes };
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.AnalysisCacheMegabytes * 1024L * 1024 });
        _results = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.AnalysisResultCacheMegabytes * 1024L * 1024 });
    }

    /// <summary>
    /// One of <see cref="ServerOptions.MaxConcurrentAnalyses"/> turns, held until the result is disposed: callers
    /// hold it from loading the profiles to building their answer, which is what takes the memory.
    /// </summary>
    /// <exception cref="AnalysisException">No turn came free within <see cref="ServerOptions.AnalysisQueueSeconds"/> (<see cref="AnalysisException.Busy"/>).</exception>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken) =>
        await _turns.TryTakeAsync(TimeSpan.FromSeconds(_options.AnalysisQueueSeconds), cancellationToken).ConfigureAwait(false)
        ?? throw new AnalysisException(
            $"the server was running {_options.MaxConcurrentAnalyses} analyses (MaxConcurrentAnalyses) for all of {_options.AnalysisQueueSeconds} s; try again shortly")
        { Busy = true };

    /// <summary>The task and the decoded profiles of the selected instances that uploaded one.</summary>
    /// <exception cref="AnalysisException">Unknown task, or an instance named that uploaded nothing.</exception>
    public async Task<SelectedProfiles> LoadAsync(string taskId, IReadOnlyList<string>? instanceIds, bool requireEvery, CancellationToken cancellationToken)
    {
        (ProfilingTask task, IReadOnlyList<UploadInfo> chosen, _) = await SelectAsync(taskId, instanceIds, requireEvery, cancellationToken).ConfigureAwait(false);
        return new SelectedProfiles(task, chosen, await DecodeAllAsync(chosen, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The task and the uploads of the selected instances (all, when none is named), read from the store without decoding any.</summary>
    /// <exception cref="AnalysisException">Unknown task, or (<paramref name="requireEvery"/>) an instance named that uploaded nothing.</exception>
    /// <returns>The task, the chosen uploads, and whether they are every upload of the task.</returns>
    private async Task<(ProfilingTask Task, IReadOnlyList<UploadInfo> Uploads, bool Whole)> SelectAsync(
        string taskId, IReadOnlyList<string>? instanceIds, bool requireEvery, CancellationToken cancellationToken)
    {
        ProfilingTask task = await _store.FindTaskAsync(taskId, cancellationToken).ConfigureAwait(false)
            ?? throw new AnalysisException($"unknown task '{taskId}'");
        IReadOnlyList<UploadInfo> uploads = await _store.ListUploadsAsync(taskId, cancellationToken).ConfigureAwait(false);
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

        return new FlameOptions { SampleType = sampleType, Granularity = request.Granularity, Focus = request.Focus, Ignore = request.Ignore };
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

        return await CachedAsync("tree", task, uploads, request, async () =>
        {
            string? viewKey = whole && IsDefaultView(request, task) && _options.MaxStoredViewMegabytes > 0
                ? ViewKey(ResultKey("tree", task, uploads, request))
                : null;
            if (viewKey is not null && await KeptViewAsync(task, uploads, viewKey, cancellationToken).ConfigureAwait(false) is TreeResult kept)
            {
                return (kept, kept.Tree.ApproximateBytes);
            }

            var selection = new SelectedProfiles(task, uploads, await DecodeAllAsync(uploads, cancellationToken).ConfigureAwait(false));
            FlameOptions options = BoundedOptionsFor(selection, request, budget, cancellationToken);
            FlameTree tree = Run(() => FlameTreeBuilder.Build(selection.Profiles, options));
            if (viewKey is not null)
            {
                await KeepViewAsync(task, uploads, viewKey, tree).ConfigureAwait(false);
            }

            return (new TreeResult(tree, Describe(selection, options)), tree.ApproximateBytes);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The task's default view: no instance left out, the event's sample type (named or not), functions, no patterns.
    /// Its tree is kept in storage (<see cref="ServerOptions.MaxStoredViewMegabytes"/>), so that the first look after a
    /// restart, or on another node, reads it instead of building it.
    /// </summary>
    private static bool IsDefaultView(AnalysisRequest request, ProfilingTask task) =>
        request.Granularity == FrameGranularity.Function && string.IsNullOrEmpty(request.Focus) && string.IsNullOrEmpty(request.Ignore)
        && (request.SampleType is null || request.SampleType == task.Event.NaturalSampleType());

    /// <summary>A kept view's key: a hash of its result key, which names the uploads (and their times) it was built from.</summary>
    private static string ViewKey(string resultKey) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(resultKey)));

    /// <summary>
    /// The default view kept in storage for these uploads, or <c>null</c> (none kept, or one that does not read, which
    /// is logged and built again). Its sample type is described from the uploads' stored summary.
    /// </summary>
    private async Task<TreeResult?> KeptViewAsync(ProfilingTask task, IReadOnlyList<UploadInfo> uploads, string viewKey, CancellationToken cancellationToken)
    {
        List<(string Type, string Unit)>? types = SummarySampleTypes(uploads[0]);
        byte[]? kept = types is null ? null : await _store.ReadViewAsync(task.Id, viewKey, cancellationToken).ConfigureAwait(false);
        if (kept is null)
        {
            return null;
        }

        try
        {
            FlameTree tree = TreeDigest.Read(kept);
            int index = types!.FindIndex(t => t.Type == tree.SampleType.Type && t.Unit == tree.SampleType.Unit);
            return index < 0 ? null : new TreeResult(tree, new SampleTypeInfo(index, tree.SampleType.Type, tree.SampleType.Unit, IsDefault: true));
        }
        catch (DigestException e)
        {
            LogViewUnreadable(_logger, task.Id, new Hosting.LogText(e.Message));
            return null;
        }
    }

    /// <summary>Keeps a default view's tree in storage, unless it is larger than allowed; a failure is logged and costs the next node a build.</summary>
    private async Task KeepViewAsync(ProfilingTask task, IReadOnlyList<UploadInfo> uploads, string viewKey, FlameTree tree)
    {
        try
        {
            byte[] view = TreeDigest.Write(tree);
            if (view.Length > _options.MaxStoredViewMegabytes * 1024L * 1024)
            {
                LogViewTooLarge(_logger, task.Id, view.Length, _options.MaxStoredViewMegabytes);
                return;
            }

            await _store.SaveViewAsync(task.Id, viewKey, view, uploads.Count, uploads.Max(u => u.UploadedAt), CancellationToken.None).ConfigureAwait(false);
            LogViewKept(_logger, task.Id, view.Length);
        }
#pragma warning disable CA1031 // The tree is built and will be answered; keeping it is an extra.
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogViewNotKept(_logger, task.Id, new Hosting.LogText(e.Message));
        }
    }

    [LoggerMessage(EventId = 506, Level = LogLevel.Information, Message = "Task {TaskId}: default view kept in storage ({Bytes} bytes)")]
    private static partial void LogViewKept(ILogger logger, string taskId, int bytes);

    [LoggerMessage(EventId = 507, Level = LogLevel.Information, Message = "Task {TaskId}: default view of {Bytes} bytes not kept in storage, over MaxStoredViewMegabytes ({Megabytes})")]
    private static partial void LogViewTooLarge(ILogger logger, string taskId, int bytes, int megabytes);

    [LoggerMessage(EventId = 508, Level = LogLevel.Warning, Message = "Task {TaskId}: the default view could not be kept in storage: {Reason}")]
    private static partial void LogViewNotKept(ILogger logger, string taskId, Hosting.LogText reason);

    [LoggerMessage(EventId = 509, Level = LogLevel.Warning, Message = "Task {TaskId}: the default view kept in storage cannot be read ({Reason}); building it again")]
    private static partial void LogViewUnreadable(ILogger logger, string taskId, Hosting.LogText reason);

    /// <summary>
    /// The top table of the selection (every instance named must have uploaded), read off the selection's tree (cached,
    /// or built and cached, so that the graph and the table of one look cost one build) and cached as the tree is.
    /// </summary>
    public async Task<TopResult> TopAsync(AnalysisRequest request, MatchBudget budget, CancellationToken cancellationToken)
    {
        (ProfilingTask task, IReadOnlyList<UploadInfo> uploads, _) = await SelectAsync(request.TaskId, request.InstanceIds, requireEvery: true, cancellationToken).ConfigureAwait(false);
        if (uploads.Count == 0)
        {
            throw NothingUploaded(request.TaskId);
        }

        return await CachedAsync("top", task, uploads, request, async () =>
        {
            TreeResult tree = (await TreeAsync(request, strict: true, budget, cancellationToken).ConfigureAwait(false))!;
            TopTable top = TopTable.Build(tree.Tree);
            // A row holds its name (shared with the tree's frames), two values and an object's overhead.
            return (new TopResult(top, tree.SampleType), 64L * (top.Entries.Count + 1));
        }, cancellationToken).ConfigureAwait(false);
    }

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
            using IDisposable? turn = await _turns.TryTakeAsync(TimeSpan.Zero, stopping).ConfigureAwait(false);
            if (turn is null)
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
    private static List<(string Type, string Unit)>? SummarySampleTypes(UploadInfo upload)
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
                    _resultKeysByTask.GetOrAdd(task.Id, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal)).TryAdd(key, 0);
                    _results.Set(key, result, new MemoryCacheEntryOptions { Size = Math.Max(1, bytes), SlidingExpiration = CacheIdleTime });
                    return result;
                }
                finally
                {
                    _building.TryRemove(key, out _);
                }
            });
            Lazy<Task<object>> shared = _building.GetOrAdd(key, mine);
            try
            {
                return (T)await shared.Value.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (shared != mine && !cancellationToken.IsCancellationRequested)
            {
                // The request that was building it left; this one still wants the result.
            }
        }
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
            .Append('\n').Append(request.Ignore?.Length).Append(':').Append(request.Ignore).ToString();
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
        _stopping.Dispose();
        _cache.Dispose();
        _results.Dispose();
        _turns.Dispose();
        // Not disposed: a digest write in the background may still release it; it holds no unmanaged handle unless
        // waited on with a timeout, which it never is.
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Task {TaskId}: default view ready in {Milliseconds:F0} ms")]
    private static partial void LogPrecomputed(ILogger logger, string taskId, double milliseconds);

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Task {TaskId}: default view not computed ahead, every analysis turn was taken")]
    private static partial void LogPrecomputeSkipped(ILogger logger, string taskId);

    [LoggerMessage(EventId = 502, Level = LogLevel.Warning, Message = "Task {TaskId}: the default view could not be computed ahead: {Reason}")]
    private static partial void LogPrecomputeFailed(ILogger logger, string taskId, Hosting.LogText reason);

    private static AnalysisException NothingUploaded(string taskId) =>
        new($"no profile has been uploaded for task '{taskId}' yet");

    private static string KeyOf(UploadInfo upload) => $"{upload.TaskId}\n{upload.InstanceId}\n{upload.UploadedAt}";

    private void Cache(UploadInfo upload, Profile profile) =>
        // Weighed by what decoding allocated for it, which bounds what it holds: twice the decompressed size, the
        // earlier guess, undercounted profiles of many stacks (the load benchmark kept 0.9 GiB under a 512 MiB cache).
        _cache.Set(KeyOf(upload), profile, new MemoryCacheEntryOptions { Size = Math.Max(1, profile.DecodedBytes), SlidingExpiration = CacheIdleTime });

    /// <summary>The uploads' profiles, in their order; cache misses decode in parallel.</summary>
    private async Task<Profile[]> DecodeAllAsync(IReadOnlyList<UploadInfo> uploads, CancellationToken cancellationToken)
    {
        var profiles = new Profile[uploads.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, uploads.Count), cancellationToken, async (i, ct) =>
            profiles[i] = await DecodeAsync(uploads[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
        return profiles;
    }

    /// <summary>
    /// An upload's profile, from the cache or from its digest (docs/digest.md). An upload without a usable digest (stored
    /// before digests, or with <see cref="ServerOptions.DigestOnReceive"/> off, or one that fails its checksum or is of
    /// another format version) is decoded from its profile instead, and the digest made from it is stored for next time.
    /// </summary>
    private async Task<Profile> DecodeAsync(UploadInfo upload, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(KeyOf(upload), out Profile? cached) && cached is not null)
        {
            return cached;
        }

        StoredDigest? stored = await _store.ReadDigestAsync(upload.TaskId, upload.InstanceId, cancellationToken).ConfigureAwait(false);
        if (stored is { Digest: byte[] digest } && stored.UploadedAt == upload.UploadedAt)
        {
            try
            {
                Profile read = ProfileDigest.Read(digest);
                Cache(upload, read);
                return read;
            }
            catch (DigestException e)
            {
                LogDigestUnreadable(_logger, upload.TaskId, new Hosting.LogText(upload.InstanceName), new Hosting.LogText(e.Message));
            }
        }

        byte[] bytes = await _store.ReadUploadAsync(upload.TaskId, upload.InstanceId, cancellationToken).ConfigureAwait(false)
            ?? throw new AnalysisException($"the profile of instance '{upload.InstanceName}' was removed while being read");
        Profile profile = Run(() => ProfileReader.Read(bytes, _limits));
        Cache(upload, profile);
        if (stored is not null && stored.UploadedAt == upload.UploadedAt && _digestWrites.Wait(0, CancellationToken.None))
        {
            // In the background: the analysis has its profile, and under load the write waits behind the uploads'. At
            // most MaxConcurrentAnalyses at once; an upload skipped now gets its digest from a later analysis.
            _ = Task.Run(async () =>
            {
                try
                {
                    await StoreDigestAsync(upload, profile).ConfigureAwait(false);
                }
                finally
                {
                    _digestWrites.Release();
                }
            }, CancellationToken.None);
        }

        return profile;
    }

    /// <summary>Makes and stores the digest of an upload that had none it could use; a failure is logged, and the next analysis tries again.</summary>
    private async Task StoreDigestAsync(UploadInfo upload, Profile profile)
    {
        try
        {
            byte[] digest = ProfileDigest.Write(profile);
            // Not cancelled with the request: the digest is made, keeping it costs one write.
            await _store.SaveDigestAsync(upload.TaskId, upload.InstanceId, upload.UploadedAt, digest, CancellationToken.None).ConfigureAwait(false);
            LogDigestStored(_logger, upload.TaskId, new Hosting.LogText(upload.InstanceName), digest.Length);
        }
#pragma warning disable CA1031 // The analysis has its profile; a digest that cannot be made or kept only costs the next one a decode.
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogDigestFailed(_logger, upload.TaskId, new Hosting.LogText(upload.InstanceName), new Hosting.LogText(e.Message));
        }
    }

    [LoggerMessage(EventId = 503, Level = LogLevel.Warning, Message = "Task {TaskId}: the digest of {Instance} cannot be read ({Reason}); decoding the profile and making the digest again")]
    private static partial void LogDigestUnreadable(ILogger logger, string taskId, Hosting.LogText instance, Hosting.LogText reason);

    [LoggerMessage(EventId = 504, Level = LogLevel.Information, Message = "Task {TaskId}: digest of {Instance} made from its profile and stored ({Bytes} bytes)")]
    private static partial void LogDigestStored(ILogger logger, string taskId, Hosting.LogText instance, int bytes);

    [LoggerMessage(EventId = 505, Level = LogLevel.Warning, Message = "Task {TaskId}: the digest of {Instance} could not be made or stored: {Reason}")]
    private static partial void LogDigestFailed(ILogger logger, string taskId, Hosting.LogText instance, Hosting.LogText reason);
}

/// <summary>The sample type that weighs a result: its index, type and unit, and whether it is the one used when none is asked for.</summary>
public sealed record SampleTypeInfo(int Index, string Type, string Unit, bool IsDefault);

/// <summary>A selection's merged flame tree and the sample type that weighs it.</summary>
public sealed record TreeResult(FlameTree Tree, SampleTypeInfo SampleType);

/// <summary>A selection's top table and the sample type that weighs it.</summary>
public sealed record TopResult(TopTable Table, SampleTypeInfo SampleType);

/// <summary>A task with the uploads chosen for an analysis and their decoded profiles, in the same order.</summary>
public sealed record SelectedProfiles(ProfilingTask Task, IReadOnlyList<UploadInfo> Uploads, IReadOnlyList<Profile> Profiles);
