using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Digest;
using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using Flamewright.Server.Storage;
using Flamewright.Server.Tasks;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Analysis;

/// <summary>
/// Default views kept in storage (docs/digest.md): a task's tree over every upload, the event's sample type, functions,
/// no patterns, built once and read by restarted servers and other nodes instead of being built again, and beside it
/// its first look, a small part of it that answers the first request of a page (<see cref="ServerOptions.MaxStoredViewMegabytes"/>).
/// </summary>
internal sealed partial class KeptViews(IProfilingStore store, ServerOptions options, ILogger logger)
{
    /// <summary>
    /// Whether views are kept at all and <paramref name="request"/> asks for the default view's sample type (the event's,
    /// named or not), functions and no patterns; whether it covers every upload of <paramref name="task"/> is the
    /// caller's to check.
    /// </summary>
    public bool Apply(ProfilingTask task, AnalysisRequest request) => options.MaxStoredViewMegabytes > 0 && IsDefaultView(task, request);

    /// <summary>Whether <paramref name="request"/> asks for the default view's sample type (the event's, named or not), functions and no patterns.</summary>
    public static bool IsDefaultView(ProfilingTask task, AnalysisRequest request) =>
        request.Granularity == FrameGranularity.Function && request.IsUnfiltered
        && (request.SampleType is null || request.SampleType == task.Event.NaturalSampleType());

    /// <summary>A kept view's key: a hash of its result key, which names the uploads (and their times) it was built from.</summary>
    public static string KeyOf(string resultKey) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(resultKey)));

    /// <summary>
    /// The default view kept in storage for these uploads, or <c>null</c> (none kept, or one that does not read, which
    /// is logged and built again). Its sample type is described from the uploads' stored summary.
    /// </summary>
    public async Task<TreeResult?> ReadAsync(ProfilingTask task, IReadOnlyList<UploadInfo> uploads, string viewKey, CancellationToken cancellationToken) =>
        await ReadKeptAsync(task, uploads, viewKey, bytes => TreeDigest.Read(bytes), tree => tree.SampleType, cancellationToken).ConfigureAwait(false)
            is ({ } tree, { } type, _) ? new TreeResult(tree, type) : null;

    /// <summary>
    /// The first look kept in storage beside the default view for these uploads (docs/digest.md), with its sample type,
    /// or <c>null</c>; <c>Stored</c> says whether one was kept at all, so that one that does not read (logged) is
    /// told from none: the caller reads the kept tree instead.
    /// </summary>
    public Task<(FirstLook? Look, SampleTypeInfo? SampleType, bool Stored)> ReadFirstLookAsync(
        ProfilingTask task, IReadOnlyList<UploadInfo> uploads, string viewKey, CancellationToken cancellationToken) =>
        ReadKeptAsync(task, uploads, FirstLookKey(viewKey), bytes => FirstLookDigest.Read(bytes), look => look.Top.SampleType, cancellationToken);

    /// <summary>
    /// What is kept under <paramref name="key"/>, read by <paramref name="read"/>, and its sample type as an index into
    /// the uploads' stored summary; nulls when nothing is kept, the summary cannot tell, or the bytes do not read
    /// (logged), and whether bytes were kept.
    /// </summary>
    private async Task<(T? Kept, SampleTypeInfo? SampleType, bool Stored)> ReadKeptAsync<T>(
        ProfilingTask task, IReadOnlyList<UploadInfo> uploads, string key, Func<byte[], T> read, Func<T, Pprof.Model.ValueType> sampleTypeOf,
        CancellationToken cancellationToken)
        where T : class
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        List<(string Type, string Unit)>? types = AnalysisService.SummarySampleTypes(uploads[0]);
        byte[]? bytes = types is null ? null : await store.ReadViewAsync(task.Id, key, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return (null, null, false);
        }

        try
        {
            T kept = read(bytes);
            AnalysisPhases.Add(AnalysisPhases.Read, started);
            Pprof.Model.ValueType type = sampleTypeOf(kept);
            int index = types!.FindIndex(t => t.Type == type.Type && t.Unit == type.Unit);
            return index < 0 ? (null, null, true) : (kept, new SampleTypeInfo(index, type.Type, type.Unit, IsDefault: true), true);
        }
        catch (DigestException e)
        {
            LogViewUnreadable(logger, task.Id, new LogText(e.Message));
            return (null, null, true);
        }
    }

    /// <summary>
    /// Keeps a default view in storage, unless it is larger than allowed: its tree, and its first look (the view at
    /// <see cref="ServerOptions.FirstLookWidthPixels"/> and the whole top table), which a fresh process answers a first
    /// look from without reading the tree. A failure is logged and costs the next node a build.
    /// </summary>
    public async Task KeepAsync(ProfilingTask task, IReadOnlyList<UploadInfo> uploads, string viewKey, FlameTree tree, TopTable top, CancellationToken stopping)
    {
        try
        {
            long newest = uploads.Max(u => u.UploadedAt);
            // Nobody waits for it: it yields the CPU to analyses (BackgroundNiceness).
            (byte[] look, byte[] view) = await Hosting.CpuWork.RunNicedAsync(options.BackgroundNiceness, () =>
                (FirstLookDigest.Write(new FirstLook(FlameView.Build(tree, [], options.FirstLookWidthPixels), top)), TreeDigest.Write(tree))).ConfigureAwait(false);
            if (view.Length + look.Length > options.MaxStoredViewMegabytes * 1024L * 1024)
            {
                LogViewTooLarge(logger, task.Id, view.Length + look.Length, options.MaxStoredViewMegabytes);
                return;
            }

            await store.SaveViewAsync(task.Id, viewKey, view, uploads.Count, newest, stopping).ConfigureAwait(false);
            await store.SaveViewAsync(task.Id, FirstLookKey(viewKey), look, uploads.Count, newest, stopping).ConfigureAwait(false);
            LogViewKept(logger, task.Id, view.Length, look.Length);
        }
#pragma warning disable CA1031 // The tree is built and will be answered; keeping it is an extra.
        catch (Exception e) when (e is not OperationCanceledException && !stopping.IsCancellationRequested)
#pragma warning restore CA1031
        {
            LogViewNotKept(logger, task.Id, new LogText(e.Message));
        }
    }

    /// <summary>The key of the first look kept beside the default view kept under <paramref name="viewKey"/>.</summary>
    private static string FirstLookKey(string viewKey) => viewKey + "/first-look";

    [LoggerMessage(EventId = 506, Level = LogLevel.Information, Message = "Task {TaskId}: default view kept in storage ({Bytes} bytes, its first look {LookBytes} bytes)")]
    private static partial void LogViewKept(ILogger logger, string taskId, int bytes, int lookBytes);

    [LoggerMessage(EventId = 507, Level = LogLevel.Information, Message = "Task {TaskId}: default view of {Bytes} bytes not kept in storage, over MaxStoredViewMegabytes ({Megabytes})")]
    private static partial void LogViewTooLarge(ILogger logger, string taskId, int bytes, int megabytes);

    [LoggerMessage(EventId = 508, Level = LogLevel.Warning, Message = "Task {TaskId}: the default view could not be kept in storage: {Reason}")]
    private static partial void LogViewNotKept(ILogger logger, string taskId, LogText reason);

    [LoggerMessage(EventId = 509, Level = LogLevel.Warning, Message = "Task {TaskId}: the default view kept in storage cannot be read ({Reason}); building it again")]
    private static partial void LogViewUnreadable(ILogger logger, string taskId, LogText reason);
}
