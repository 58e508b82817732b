using Flamewright.Pprof;
using Flamewright.Pprof.Digest;
using Flamewright.Pprof.Model;
using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using Flamewright.Server.Storage;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Analysis;

/// <summary>
/// The profile of each upload, as analyses read it: from a cache (<see cref="ServerOptions.AnalysisCacheMegabytes"/>),
/// else from the upload's digest (docs/digest.md), else decoded from the stored profile, whose digest is then made and
/// stored in the background so that the next read, on any node, is from the digest.
/// </summary>
internal sealed partial class UploadProfiles : IDisposable
{
    private readonly IProfilingStore _store;
    private readonly ILogger _logger;
    private readonly PprofLimits _limits;
    private readonly MemoryCache _cache;
    private readonly SemaphoreSlim _digestWrites;
    private readonly int _backgroundNiceness;
    private readonly BackgroundWork _background;

    public UploadProfiles(IProfilingStore store, ServerOptions options, BackgroundWork background, ILogger logger)
    {
        _background = background;
        _store = store;
        _logger = logger;
        _limits = new PprofLimits { MaxDecompressedBytes = options.MaxDecompressedBytes };
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.AnalysisCacheMegabytes * 1024L * 1024 });
        _digestWrites = new SemaphoreSlim(options.MaxConcurrentAnalyses);
        _backgroundNiceness = options.BackgroundNiceness;
    }

    /// <summary>The uploads' profiles, in their order; cache misses are read in parallel.</summary>
    public Task<Profile[]> ReadAllAsync(IReadOnlyList<UploadInfo> uploads, CancellationToken cancellationToken) =>
        ReadEachAsync(uploads, (upload, digest) =>
        {
            Profile read = ProfileDigest.Read(digest);
            Cache(upload, read);
            return read;
        }, profile => profile, cancellationToken);

    /// <summary>
    /// The uploads' stacks for a first look made without the tree (<see cref="Pprof.Analysis.StackView"/>), in their
    /// order: a digest is read for its stacks only (a fraction of a profile's time and memory, and not cached: the
    /// profile, if the tree is built later, is read then); a cached or decoded profile serves as it is.
    /// </summary>
    public Task<Pprof.Analysis.StackInput[]> ReadStacksAsync(IReadOnlyList<UploadInfo> uploads, CancellationToken cancellationToken) =>
        ReadEachAsync(uploads, (_, digest) => new Pprof.Analysis.StackInput(ProfileDigest.ReadStacks(digest)), profile => new Pprof.Analysis.StackInput(profile), cancellationToken);

    /// <summary>
    /// Each upload read, in parallel, from the cache (<paramref name="ofProfile"/> of the cached profile), else from its
    /// digest (<paramref name="fromDigest"/>). An upload without a usable digest (not made yet, stored before digests, or
    /// one that fails its checksum or is of another format version) is decoded from its profile instead, and the digest
    /// made from it is stored for next time.
    /// </summary>
    private async Task<T[]> ReadEachAsync<T>(
        IReadOnlyList<UploadInfo> uploads, Func<UploadInfo, byte[], T> fromDigest, Func<Profile, T> ofProfile, CancellationToken cancellationToken)
    {
        var read = new T[uploads.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, uploads.Count), cancellationToken, async (i, ct) =>
            read[i] = await ReadAsync(uploads[i], fromDigest, ofProfile, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return read;
    }

    private async Task<T> ReadAsync<T>(UploadInfo upload, Func<UploadInfo, byte[], T> fromDigest, Func<Profile, T> ofProfile, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(KeyOf(upload), out Profile? cached) && cached is not null)
        {
            return ofProfile(cached);
        }

        StoredDigest? stored = await _store.ReadDigestAsync(upload.TaskId, upload.InstanceId, cancellationToken).ConfigureAwait(false);
        if (stored is { Digest: byte[] digest } && stored.UploadedAt == upload.UploadedAt)
        {
            try
            {
                return await CpuWork.RunAsync(() => fromDigest(upload, digest)).ConfigureAwait(false);
            }
            catch (DigestException e)
            {
                LogDigestUnreadable(_logger, upload.TaskId, new LogText(upload.InstanceName), new LogText(e.Message));
            }
        }

        return ofProfile(await DecodeAsync(upload, stored, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// An upload's profile decoded from its stored bytes and cached; its digest, when it had none it could use, is made
    /// and stored in the background.
    /// </summary>
    private async Task<Profile> DecodeAsync(UploadInfo upload, StoredDigest? stored, CancellationToken cancellationToken)
    {
        byte[] bytes = await _store.ReadUploadAsync(upload.TaskId, upload.InstanceId, cancellationToken).ConfigureAwait(false)
            ?? throw new AnalysisException($"the profile of instance '{upload.InstanceName}' was removed while being read");
        Profile profile = await CpuWork.RunAsync(() => AnalysisService.Run(() => ProfileReader.Read(bytes, _limits))).ConfigureAwait(false);
        Cache(upload, profile);
        if (stored is not null && stored.UploadedAt == upload.UploadedAt && _digestWrites.Wait(0, CancellationToken.None))
        {
            // In the background: the analysis has its profile, and under load the write waits behind the uploads'. At
            // most MaxConcurrentAnalyses at once; an upload skipped now gets its digest from a later analysis.
            _background.Start(async () =>
            {
                try
                {
                    await StoreDigestAsync(upload, profile).ConfigureAwait(false);
                }
                finally
                {
                    _digestWrites.Release();
                }
            });
        }

        return profile;
    }

    /// <summary>Makes and stores the digest of an upload that had none it could use; a failure is logged, and the next analysis tries again.</summary>
    private async Task StoreDigestAsync(UploadInfo upload, Profile profile)
    {
        try
        {
            // Nobody waits for it: it yields the CPU to analyses (BackgroundNiceness).
            byte[] digest = await CpuWork.RunNicedAsync(_backgroundNiceness, () => ProfileDigest.Write(profile)).ConfigureAwait(false);
            // Not cancelled with the request: the digest is made, keeping it costs one write.
            await _store.SaveDigestAsync(upload.TaskId, upload.InstanceId, upload.UploadedAt, digest, CancellationToken.None).ConfigureAwait(false);
            LogDigestStored(_logger, upload.TaskId, new LogText(upload.InstanceName), digest.Length);
        }
#pragma warning disable CA1031 // The analysis has its profile; a digest that cannot be made or kept only costs the next one a decode.
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogDigestFailed(_logger, upload.TaskId, new LogText(upload.InstanceName), new LogText(e.Message));
        }
    }

    /// <summary>An upload's cache key: it names the upload time, so an upload sent again is a new entry.</summary>
    private static string KeyOf(UploadInfo upload) => $"{upload.TaskId}\n{upload.InstanceId}\n{upload.UploadedAt}";

    private void Cache(UploadInfo upload, Profile profile) =>
        // Weighed by what decoding allocated for it, which bounds what it holds: twice the decompressed size, the
        // earlier guess, undercounted profiles of many stacks (the load benchmark kept 0.9 GiB under a 512 MiB cache).
        _cache.Set(KeyOf(upload), profile, new MemoryCacheEntryOptions { Size = Math.Max(1, profile.HeldBytes), SlidingExpiration = AnalysisService.CacheIdleTime });

    /// <summary>
    /// Frees the cache. The digest-write semaphore is left alone: a write in the background may still release it, and
    /// it holds no handle unless waited on with a timeout, which it never is.
    /// </summary>
    public void Dispose() => _cache.Dispose();

    /// <summary>Drops every profile kept: an analysis that found no memory left tries again without them.</summary>
    public void Clear() => _cache.Compact(1.0);

    [LoggerMessage(EventId = 503, Level = LogLevel.Warning, Message = "Task {TaskId}: the digest of {Instance} cannot be read ({Reason}); decoding the profile and making the digest again")]
    private static partial void LogDigestUnreadable(ILogger logger, string taskId, LogText instance, LogText reason);

    [LoggerMessage(EventId = 504, Level = LogLevel.Information, Message = "Task {TaskId}: digest of {Instance} made from its profile and stored ({Bytes} bytes)")]
    private static partial void LogDigestStored(ILogger logger, string taskId, LogText instance, int bytes);

    [LoggerMessage(EventId = 505, Level = LogLevel.Warning, Message = "Task {TaskId}: the digest of {Instance} could not be made or stored: {Reason}")]
    private static partial void LogDigestFailed(ILogger logger, string taskId, LogText instance, LogText reason);
}
