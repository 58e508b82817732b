using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;
using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using Flamewright.Server.Storage;
using Flamewright.Server.Tasks;
using Microsoft.Extensions.Caching.Memory;

namespace Flamewright.Server.Analysis;

/// <summary>
/// Turns a task's stored uploads into flame trees, top tables, diffs and merged profiles with the pprof
/// engine. Decoded profiles are cached by upload (an upload replaced by a newer one has a new key), bounded
/// by <see cref="ServerOptions.AnalysisCacheMegabytes"/>; cache misses decode in parallel.
/// </summary>
public sealed class AnalysisService : IDisposable
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

    public AnalysisService(IProfilingStore store, ServerOptions options)
    {
        _store = store;
        _options = options;
        _turns = new Turns(options.MaxConcurrentAnalyses);
        _limits = new PprofLimits { MaxDecompressedBytes = options.MaxDecompressedBytes };
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.AnalysisCacheMegabytes * 1024L * 1024 });
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

        var profiles = new Profile[chosen.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, chosen.Count), cancellationToken, async (i, ct) =>
            profiles[i] = await DecodeAsync(chosen[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
        return new SelectedProfiles(task, chosen, profiles);
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

    /// <summary>The merged flame tree of the selection; a selection with no upload gives an empty tree.</summary>
    public async Task<FlameTree?> TreeAsync(AnalysisRequest request, bool requireUploads, CancellationToken cancellationToken)
    {
        SelectedProfiles selection = await LoadAsync(request.TaskId, request.InstanceIds, requireUploads, cancellationToken).ConfigureAwait(false);
        if (selection.Profiles.Count == 0)
        {
            return requireUploads ? throw NothingUploaded(request.TaskId) : null;
        }

        return Run(() => FlameTreeBuilder.Build(selection.Profiles, BoundedOptionsFor(selection, request, NewMatchBudget(), cancellationToken)));
    }

    /// <summary>The top table of the selection.</summary>
    public async Task<TopTable> TopAsync(AnalysisRequest request, CancellationToken cancellationToken)
    {
        SelectedProfiles selection = await LoadNonEmptyAsync(request, cancellationToken).ConfigureAwait(false);
        return Run(() => TopTable.Build(selection.Profiles, BoundedOptionsFor(selection, request, NewMatchBudget(), cancellationToken)));
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
        _cache.Dispose();
        _turns.Dispose();
    }

    private static AnalysisException NothingUploaded(string taskId) =>
        new($"no profile has been uploaded for task '{taskId}' yet");

    private static string KeyOf(UploadInfo upload) => $"{upload.TaskId}\n{upload.InstanceId}\n{upload.UploadedAt}";

    private void Cache(UploadInfo upload, Profile profile) =>
        // Weighed by what decoding allocated for it, which bounds what it holds: twice the decompressed size, the
        // earlier guess, undercounted profiles of many stacks (the load benchmark kept 0.9 GiB under a 512 MiB cache).
        _cache.Set(KeyOf(upload), profile, new MemoryCacheEntryOptions { Size = Math.Max(1, profile.DecodedBytes), SlidingExpiration = CacheIdleTime });

    private async Task<Profile> DecodeAsync(UploadInfo upload, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(KeyOf(upload), out Profile? cached) && cached is not null)
        {
            return cached;
        }

        byte[] bytes = await _store.ReadUploadAsync(upload.TaskId, upload.InstanceId, cancellationToken).ConfigureAwait(false)
            ?? throw new AnalysisException($"the profile of instance '{upload.InstanceName}' was removed while being read");
        Profile profile = Run(() => ProfileReader.Read(bytes, _limits));
        Cache(upload, profile);
        return profile;
    }
}

/// <summary>A task with the uploads chosen for an analysis and their decoded profiles, in the same order.</summary>
public sealed record SelectedProfiles(ProfilingTask Task, IReadOnlyList<UploadInfo> Uploads, IReadOnlyList<Profile> Profiles);
