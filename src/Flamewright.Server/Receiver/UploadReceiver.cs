using System.Collections.Concurrent;
using System.IO.Compression;
using Flamewright.Pprof;
using Flamewright.Pprof.Digest;
using Flamewright.Pprof.Model;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Analysis;
using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using Flamewright.Server.Storage;
using Flamewright.Server.Tasks;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Receiver;

/// <summary>
/// One <c>collect</c> stream: metadata first, exactly one response, then the content, then half-close.
/// A profile is stored, and EXECUTION_FINISHED written, only once every declared byte arrived and parsed;
/// every other ending stores nothing but, where the user should see it, an error log with its reason.
/// The messages, answers and refusals: docs/protocol.md, "Uploading: collect".
/// </summary>
internal sealed partial class UploadReceiver(
    IProfilingStore store, AnalysisService analysis, ServerOptions options, TimeProvider time, ILogger<UploadReceiver> logger) : IDisposable
{
    /// <summary>Name of the folder under the data directory that holds uploads in temporary-file mode.</summary>
    public const string TemporaryFolder = "uploads.tmp";

    /// <summary>What follows an error text cut at <see cref="ServerOptions.MaxErrorMessageLength"/>.</summary>
    public const string TruncationMarker = "…(truncated)";

    /// <summary>
    /// Longest task id this server makes: a time in milliseconds, '_', and the Base64 of a service name of
    /// <see cref="AgentNames.MaxLength"/> characters (at most 3 UTF-8 bytes each) with ".1". A longer one names no
    /// task, and is refused without being looked up or echoed.
    /// </summary>
    public const int MaxTaskIdLength = 20 + 1 + (AgentNames.MaxLength * 3 + 2) / 3 * 4 + 2;

    private readonly PprofLimits _limits = new() { MaxDecompressedBytes = options.MaxDecompressedBytes };

    /// <summary>The upload each task and instance is receiving: a newer one replaces it (see <see cref="ReplaceOlderAsync"/>).</summary>
    private readonly ConcurrentDictionary<(string TaskId, string InstanceId), Attempt> _receiving = new();

    public string TemporaryDirectory { get; } = Path.Combine(Path.GetFullPath(options.DataDir), TemporaryFolder);

    /// <summary>What the streams in progress hold.</summary>
    public UploadLoad Load { get; } = new(options.MaxConcurrentUploads, options.MaxUploadMemoryBytes);

    /// <summary>The turns to parse an upload: <see cref="ServerOptions.MaxConcurrentParses"/>.</summary>
    private readonly Turns _parses = new(options.MaxConcurrentParses);

    public async Task ReceiveAsync(IAsyncStreamReader<PprofData> requests, IServerStreamWriter<PprofCollectionResponse> responses, ServerCallContext context)
    {
        using IDisposable open = Load.OpenStream();
        using var attempt = new Attempt(
            TimeSpan.FromSeconds(options.UploadTimeoutSeconds), TimeSpan.FromSeconds(options.UploadIdleTimeoutSeconds), context.CancellationToken);
        try
        {
            await ReceiveCoreAsync(requests, responses, attempt).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && ServerStopped(attempt, context) is { } stop)
        {
            throw await StoppedAsync(attempt, stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The agent went away mid-stream: nothing was stored, and there is nobody left to answer.
            LogUploadAbandoned(logger, new LogText(e.Message));
            await LogCutShortAsync(attempt, "the upload stream ended abruptly").ConfigureAwait(false);
            throw new RpcException(new Status(StatusCode.Cancelled, "the upload stream ended abruptly; nothing was stored"));
        }
        catch (RpcException e)
        {
            await LogCutShortAsync(attempt, e is UploadRefusedException refused ? refused.Reason : e.Status.Detail).ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (attempt.Key is { } key)
            {
                _receiving.TryRemove(new KeyValuePair<(string, string), Attempt>(key, attempt));
            }

            attempt.End();
        }
    }

    public void Dispose() => _parses.Dispose();

    /// <summary>
    /// Whether the server ended the stream, and why. A replaced stream counts as replaced even when its agent hung
    /// up at the same moment: the newer upload owns the outcome and its log, so the older one must not log too.
    /// </summary>
    private static Stop? ServerStopped(Attempt attempt, ServerCallContext context) =>
        attempt.Stopped is Stop.Replaced ? Stop.Replaced
        : context.CancellationToken.IsCancellationRequested ? null
        : attempt.Stopped;

    /// <summary>The server's own reasons to end a stream: each says why, and the instance's log says so where the user should see it.</summary>
    private async Task<RpcException> StoppedAsync(Attempt attempt, Stop stop)
    {
        switch (stop)
        {
            case Stop.Replaced:
                // The newer upload of the same instance reports the outcome; this one leaves no log of its own.
                LogUploadReplaced(logger, attempt.Upload!.Task.Id, new LogText(attempt.Upload.InstanceName));
                return new RpcException(new Status(StatusCode.Aborted, "a newer upload of this task by this instance replaced this one; nothing was stored"));
            case Stop.Idle:
                string idle = $"the agent sent nothing for {options.UploadIdleTimeoutSeconds} s";
                LogUploadAbandoned(logger, new LogText(idle));
                await LogCutShortAsync(attempt, idle).ConfigureAwait(false);
                return new RpcException(new Status(StatusCode.DeadlineExceeded, idle + "; nothing was stored"));
            default:
                string slow = $"the upload took longer than {options.UploadTimeoutSeconds} s";
                LogUploadAbandoned(logger, new LogText("timed out"));
                await LogCutShortAsync(attempt, slow).ConfigureAwait(false);
                return new RpcException(new Status(StatusCode.DeadlineExceeded, slow));
        }
    }

    /// <summary>
    /// An upload of a known task and instance that broke off without a result of its own (a disconnect, a
    /// timeout, a byte count that does not match) is logged as failed: otherwise the user would see the instance
    /// notified forever, since the Go agent does not retry.
    /// </summary>
    private async Task LogCutShortAsync(Attempt attempt, string reason)
    {
        if (attempt.Upload is not null && !attempt.Logged)
        {
            await LogErrorAsync(attempt, TaskLogOperation.EXECUTION_TASK_ERROR, $"the upload failed: {reason}; nothing was stored").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The steps of one <c>collect</c> stream, in order (docs/protocol.md, "Uploading: collect"): read the metadata and
    /// find the task; answer the agent's own outcomes (an error, oversize); check the declared size; take the place of
    /// an older stream of the same instance; wait for a receiving slot and answer success; buffer the content; parse
    /// it (and make its digest); store it.
    /// </summary>
    private async Task ReceiveCoreAsync(IAsyncStreamReader<PprofData> requests, IServerStreamWriter<PprofCollectionResponse> responses, Attempt attempt)
    {
        CancellationToken cancellation = attempt.Token;
        if (await ReadMetadataAsync(requests, attempt).ConfigureAwait(false) is not { } first)
        {
            return;
        }

        PprofMetaData metadata = first.Metadata;
        Upload upload = attempt.Upload!;
        if (await AnsweredAgentOutcomeAsync(requests, responses, attempt, first).ConfigureAwait(false)
            || await RefusedDeclaredSizeAsync(responses, attempt, metadata.ContentSize).ConfigureAwait(false))
        {
            return;
        }

        await ReplaceOlderAsync(attempt, upload, cancellation).ConfigureAwait(false);
        // The agent sends nothing before the answer to its metadata, so an upload waiting its turn costs a stream, not memory.
        long reserved = options.MemoryParser ? metadata.ContentSize : 0;
        using IDisposable slot = await Load.StartReceivingAsync(reserved, TimeSpan.FromSeconds(options.UploadQueueSeconds), cancellation).ConfigureAwait(false)
            ?? throw Refuse(StatusCode.ResourceExhausted,
                $"the server was receiving {options.MaxConcurrentUploads} uploads or {options.MaxUploadMemoryMegabytes} MiB already (MaxConcurrentUploads, MaxUploadMemoryMegabytes) for {options.UploadQueueSeconds} s", nothingStored: true);
        await Respond(responses, PprofProfilingStatus.PprofProfilingSuccess, cancellation).ConfigureAwait(false);
        using UploadBuffer buffer = options.MemoryParser ? UploadBuffer.InMemory(Load) : UploadBuffer.InTemporaryFile(TemporaryDirectory, Load);
        if (!await BufferContentAsync(requests, attempt, buffer, metadata.ContentSize).ConfigureAwait(false))
        {
            return;
        }

        (byte[] bytes, (int Samples, string Types) summary, byte[]? digest) = await ParseAsync(attempt, upload, buffer).ConfigureAwait(false);
        await StoreAsync(upload, bytes, summary, digest).ConfigureAwait(false);
        attempt.Logged = true;
    }

    /// <summary>The first message, which must be metadata naming a task of this instance; <c>null</c> when the stream ended at once.</summary>
    private async Task<PprofData?> ReadMetadataAsync(IAsyncStreamReader<PprofData> requests, Attempt attempt)
    {
        if (!await attempt.NextAsync(requests).ConfigureAwait(false))
        {
            return null;
        }

        PprofData first = requests.Current;
        if (first.Metadata is null)
        {
            throw Refuse(StatusCode.InvalidArgument, "the first message of collect must carry metadata");
        }

        attempt.Upload = await IdentifyAsync(first.Metadata, attempt.Token).ConfigureAwait(false);
        if (first.ResultCase == PprofData.ResultOneofCase.Content)
        {
            // Taking these bytes as the first chunk would be a guess; dropping them silently would store a profile
            // without its start. The Go agent never does this.
            throw Refuse(StatusCode.InvalidArgument, "the metadata message carried content: content goes in the messages after the server's answer");
        }

        return first;
    }

    /// <summary>An agent that reports its own failure or an oversize profile is answered and logged; true when it was.</summary>
    private async Task<bool> AnsweredAgentOutcomeAsync(
        IAsyncStreamReader<PprofData> requests, IServerStreamWriter<PprofCollectionResponse> responses, Attempt attempt, PprofData first)
    {
        CancellationToken cancellation = attempt.Token;
        switch (first.Metadata.Type)
        {
            case PprofProfilingStatus.PprofExecutionTaskError:
                await Respond(responses, PprofProfilingStatus.PprofExecutionTaskError, cancellation).ConfigureAwait(false);
                string? reason = first.ResultCase == PprofData.ResultOneofCase.ErrorMessage ? first.ErrorMessage : null;
                reason ??= await ReadErrorMessageAsync(requests, cancellation).ConfigureAwait(false);
                await LogErrorAsync(attempt, TaskLogOperation.EXECUTION_TASK_ERROR,
                    string.IsNullOrWhiteSpace(reason) ? "the agent reported an error without a reason" : Truncate(reason)).ConfigureAwait(false);
                return true;
            case PprofProfilingStatus.PprofTerminatedByOversize:
                await Respond(responses, PprofProfilingStatus.PprofTerminatedByOversize, cancellation).ConfigureAwait(false);
                await LogErrorAsync(attempt, TaskLogOperation.PPROF_UPLOAD_FILE_TOO_LARGE_ERROR, "the agent found the profile larger than the upload limit").ConfigureAwait(false);
                return true;
            case PprofProfilingStatus.PprofProfilingSuccess:
                return false;
            default:
                throw Refuse(StatusCode.InvalidArgument, $"unknown metadata type {(int)first.Metadata.Type}");
        }
    }

    /// <summary>A declared size over the limit, or none at all, is answered and logged; true when it was.</summary>
    private async Task<bool> RefusedDeclaredSizeAsync(IServerStreamWriter<PprofCollectionResponse> responses, Attempt attempt, int declared)
    {
        CancellationToken cancellation = attempt.Token;
        if (declared > options.MaxUploadBytes)
        {
            await Respond(responses, PprofProfilingStatus.PprofTerminatedByOversize, cancellation).ConfigureAwait(false);
            await LogErrorAsync(attempt, TaskLogOperation.PPROF_UPLOAD_FILE_TOO_LARGE_ERROR,
                $"the agent declared {declared} bytes, more than the limit of {options.MaxUploadBytes} bytes").ConfigureAwait(false);
            return true;
        }

        if (declared <= 0)
        {
            await Respond(responses, PprofProfilingStatus.PprofExecutionTaskError, cancellation).ConfigureAwait(false);
            await LogErrorAsync(attempt, TaskLogOperation.EXECUTION_TASK_ERROR, $"the agent declared an empty profile (contentSize {declared})").ConfigureAwait(false);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Reads the content into <paramref name="buffer"/>, within the limit and the declared size, to the end of the
    /// stream; false when the agent sent an error text instead (logged).
    /// </summary>
    private async Task<bool> BufferContentAsync(IAsyncStreamReader<PprofData> requests, Attempt attempt, UploadBuffer buffer, long declared)
    {
        CancellationToken cancellation = attempt.Token;
        while (await attempt.NextAsync(requests).ConfigureAwait(false))
        {
            PprofData message = requests.Current;
            if (message.Metadata is not null)
            {
                throw Refuse(StatusCode.InvalidArgument, "metadata was sent twice in one collect stream");
            }

            if (message.ResultCase == PprofData.ResultOneofCase.ErrorMessage)
            {
                await LogErrorAsync(attempt, TaskLogOperation.EXECUTION_TASK_ERROR, Truncate(message.ErrorMessage)).ConfigureAwait(false);
                return false;
            }

            int length = message.Content.Length;
            if (buffer.Length + length > options.MaxUploadBytes)
            {
                await LogErrorAsync(attempt, TaskLogOperation.PPROF_UPLOAD_FILE_TOO_LARGE_ERROR,
                    $"the agent sent more than the limit of {options.MaxUploadBytes} bytes").ConfigureAwait(false);
                throw Refuse(StatusCode.ResourceExhausted, $"the profile is larger than the limit of {options.MaxUploadBytes} bytes", nothingStored: true);
            }

            if (buffer.Length + length > declared)
            {
                throw Refuse(StatusCode.InvalidArgument, $"the agent sent more than the {declared} bytes it declared", nothingStored: true);
            }

            await buffer.WriteAsync(message.Content.Memory, cancellation).ConfigureAwait(false);
        }

        if (buffer.Length < declared)
        {
            throw Refuse(StatusCode.InvalidArgument, $"the stream ended after {buffer.Length} of the {declared} bytes declared", nothingStored: true);
        }

        return true;
    }

    /// <summary>Parses the buffered profile in a parse turn (and makes its digest when it should); a profile that does not parse is logged and refused.</summary>
    private async Task<(byte[] Bytes, (int Samples, string Types) Summary, byte[]? Digest)> ParseAsync(Attempt attempt, Upload upload, UploadBuffer buffer)
    {
        // One of MaxConcurrentParses turns covers the profile's bytes as one array and its decoded model: only the
        // bytes and a summary outlive it.
        CancellationToken cancellation = attempt.Token;
        byte[] bytes;
        byte[]? digest;
        (int Samples, string Types) summary;
        using (await _parses.TakeAsync(cancellation).ConfigureAwait(false))
        {
            Profile profile;
            try
            {
                bytes = await buffer.ToArrayAsync(cancellation).ConfigureAwait(false);
                profile = await ReadProfileAsync(bytes).ConfigureAwait(false);
                summary = (profile.SampleCount, string.Join(",", profile.SampleTypes.ToArray().Select(t => $"{t.Type}/{t.Unit}")));
            }
            catch (PprofFormatException e)
            {
                await LogErrorAsync(attempt, TaskLogOperation.EXECUTION_TASK_ERROR, $"the uploaded profile does not parse: {e.Message}").ConfigureAwait(false);
                throw Refuse(StatusCode.InvalidArgument, $"the profile does not parse: {e.Message}");
            }
            catch (OutOfMemoryException)
            {
                // The profile, inflated and decoded, did not fit under the heap's limit even with the caches emptied: the
                // agent is told and the instance's log says so; what it sent is dropped (docs/deployment.md, "Memory").
                throw Refuse(StatusCode.ResourceExhausted,
                    "the server had no memory left to parse the profile under its heap's limit (ManagedHeapLimitMegabytes)", nothingStored: true);
            }

            digest = DigestsOnReceipt(profile) ? await CpuWork.RunNicedAsync(options.BackgroundNiceness, () => Digest(upload, profile)).ConfigureAwait(false) : null;
        }

        return (bytes, summary, digest);
    }

    /// <summary>
    /// Decodes an uploaded profile (niced); one that finds no memory left under the heap's limit is decoded once more
    /// after the analysis caches were emptied, as an analysis would be.
    /// </summary>
    /// <exception cref="OutOfMemoryException">No room even then.</exception>
    private Task<Profile> ReadProfileAsync(byte[] bytes) =>
        analysis.OnceMoreWithoutCachesAsync(
            () => CpuWork.RunNicedAsync(options.BackgroundNiceness, () => ProfileReader.Read(bytes, _limits)), () => LogParseOutOfMemory(logger, bytes.Length));

    /// <summary>
    /// One upload per task and instance at a time: a newer one ends the one in progress and waits until it is gone.
    /// A Go agent uploads each task once, so a second stream is the agent again after a restart (its old stream
    /// may not have broken off yet), a twin with the same instance name, or a hostile client; the newest wins, as
    /// it would in storage. Without this, every stream a client opens and drops for one instance would hold a
    /// buffer and a slot of <see cref="ServerOptions.MaxConcurrentUploads"/>, and leave an error log behind.
    /// </summary>
    private async Task ReplaceOlderAsync(Attempt attempt, Upload upload, CancellationToken cancellation)
    {
        attempt.Key = (upload.Task.Id, upload.InstanceId);
        Attempt? older = null;
        _receiving.AddOrUpdate(attempt.Key.Value, attempt, (_, previous) =>
        {
            older = previous;
            return attempt;
        });
        if (older is not null)
        {
            older.Replace();
            await older.Ended.WaitAsync(cancellation).ConfigureAwait(false);
        }
    }

    private async Task<Upload> IdentifyAsync(PprofMetaData metadata, CancellationToken cancellation)
    {
        AgentNames.Check(metadata.Service, metadata.ServiceInstance);
        if (string.IsNullOrEmpty(metadata.TaskId))
        {
            throw Refuse(StatusCode.InvalidArgument, "the metadata names no task");
        }

        if (metadata.TaskId.Length > MaxTaskIdLength)
        {
            throw Refuse(StatusCode.InvalidArgument, $"the task id is {metadata.TaskId.Length} characters long; no task id is longer than {MaxTaskIdLength}");
        }

        ProfilingTask task = await store.FindTaskAsync(metadata.TaskId, cancellation).ConfigureAwait(false)
            ?? throw Refuse(StatusCode.NotFound, $"unknown task '{metadata.TaskId}' (it may have expired)");
        string serviceId = SkyWalkingIds.ServiceId(metadata.Service);
        if (task.ServiceId != serviceId)
        {
            throw Refuse(StatusCode.PermissionDenied, $"task '{task.Id}' belongs to another service than '{metadata.Service}'");
        }

        string instanceId = SkyWalkingIds.InstanceId(serviceId, metadata.ServiceInstance);
        if (!task.InstanceIds.Contains(instanceId))
        {
            throw Refuse(StatusCode.PermissionDenied, $"instance '{metadata.ServiceInstance}' is not one of task '{task.Id}''s instances");
        }

        return new Upload(task, instanceId, metadata.ServiceInstance);
    }

    /// <summary>
    /// An agent may send its error text in a message after the metadata. Wait a little for it, but write the
    /// error log whatever happens: an agent that hangs up or stays silent still failed.
    /// </summary>
    private async Task<string?> ReadErrorMessageAsync(IAsyncStreamReader<PprofData> requests, CancellationToken cancellation)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        wait.CancelAfter(TimeSpan.FromSeconds(options.ErrorMessageWaitSeconds));
        try
        {
            // A handful of messages at most: an error report has nothing else to say.
            for (int i = 0; i < 8 && await requests.MoveNext(wait.Token).ConfigureAwait(false); i++)
            {
                if (requests.Current.ResultCase == PprofData.ResultOneofCase.ErrorMessage)
                {
                    return requests.Current.ErrorMessage;
                }
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
        {
            // gRPC refused the message whole, before reading it: all that is known is that there was one.
            return $"the agent sent an error text larger than {options.MaxAgentMessageBytes} bytes (MaxAgentMessageBytes); it was not read";
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or RpcException)
        {
        }

        return null;
    }

    /// <summary>
    /// Whether the profile's digest is made while it is parsed: with <see cref="ServerOptions.DigestOnReceive"/>, or for
    /// a profile of <see cref="ServerOptions.DigestOnReceiveStacks"/> stacks or more.
    /// </summary>
    private bool DigestsOnReceipt(Profile profile) =>
        options.DigestOnReceive || (options.DigestOnReceiveStacks > 0 && profile.StackCount >= options.DigestOnReceiveStacks);

    /// <summary>
    /// The digest the analyses will read (docs/digest.md), made while the profile is parsed anyway; <c>null</c> when it
    /// cannot be made, which loses nothing: the upload is stored all the same and the analyses make it from the profile.
    /// </summary>
    private byte[]? Digest(Upload upload, Profile profile)
    {
        try
        {
            return ProfileDigest.Write(profile);
        }
#pragma warning disable CA1031 // Whatever fails here (a limit, a bug), the upload must still be stored.
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogDigestFailed(logger, upload.Task.Id, new LogText(upload.InstanceName), new LogText(e.Message));
            return null;
        }
    }

    private async Task StoreAsync(Upload upload, byte[] bytes, (int Samples, string Types) summary, byte[]? digest)
    {
        // Profiles are kept gzip-compressed, as agents send them; a plain one is compressed here.
        byte[] compressed = ProfileReader.IsGzip(bytes) ? bytes : Compress(bytes);
        long now = Now();
        var stored = new StoredUpload(
            upload.Task.Id, upload.InstanceId, upload.InstanceName, now, DecompressedLength(bytes), summary.Samples, summary.Types, compressed, digest);
        var finished = new TaskLog(upload.Task.Id, upload.InstanceId, upload.InstanceName, TaskLogOperation.EXECUTION_FINISHED, now, null);
        // Not cancellable: once every byte arrived and parsed, an agent that hangs up must not undo the store.
        // The decoded profile is not kept for the analyses to come: measured, keeping every upload's model made
        // ingest a third slower (the cache churns fresh memory) for the sake of the first query only.
        await store.SaveUploadAsync(stored, finished, CancellationToken.None).ConfigureAwait(false);
        // Results of this task's selections are keyed by the uploads they used, so none would be served again; this
        // frees their memory now rather than when they expire.
        analysis.UploadStored(upload.Task.Id);
        LogUploadStored(logger, upload.Task.Id, new LogText(upload.InstanceName), compressed.Length);
        if (options.PrecomputeDefaultView
            && (await store.ListUploadsAsync(upload.Task.Id, CancellationToken.None).ConfigureAwait(false)).Count >= upload.Task.InstanceIds.Count)
        {
            // The last expected upload: the task's default view is built once no upload is being received, so that
            // the person who opens the task finds it ready and the burst of uploads it ends does not wait for it.
            _ = Task.Run(() => PrecomputeWhenQuietAsync(upload.Task.Id), CancellationToken.None);
        }
    }

    /// <summary>
    /// Builds the task's default view once the server has received no upload for <see cref="QuietPeriod"/> (this one
    /// included), waiting at most <see cref="ServerOptions.PrecomputeWaitSeconds"/>; past that, the first look builds it.
    /// Uploads come in bursts (every instance of a task ends its profiling at the same moment), and a moment without
    /// one between two uploads of a burst is not the end of it.
    /// </summary>
    private async Task PrecomputeWhenQuietAsync(string taskId)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var quiet = System.Diagnostics.Stopwatch.StartNew();
        while (options.PrecomputeWaitSeconds > 0 && quiet.Elapsed < QuietPeriod)
        {
            if (Load.Receiving > 0)
            {
                quiet.Restart();
            }

            if (waited.Elapsed.TotalSeconds >= options.PrecomputeWaitSeconds)
            {
                LogPrecomputeNotQuiet(logger, taskId, options.PrecomputeWaitSeconds);
                return;
            }

            await Task.Delay(QuietCheck).ConfigureAwait(false);
        }

        await analysis.PrecomputeDefaultViewAsync(taskId).ConfigureAwait(false);
    }

    /// <summary>How long the server must receive no upload before a finished task's default view is built.</summary>
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(2);

    /// <summary>How often a default view waiting for quiet looks again.</summary>
    private static readonly TimeSpan QuietCheck = TimeSpan.FromMilliseconds(100);

    /// <summary>The size of the profile.proto inside: gzip's trailer holds it (modulo 2^32, far above the parse limit).</summary>
    private static long DecompressedLength(byte[] bytes) =>
        ProfileReader.IsGzip(bytes) && bytes.Length >= 18
            ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4))
            : bytes.Length;

    private static byte[] Compress(byte[] bytes)
    {
        using var output = new MemoryStream(bytes.Length / 4 + 64);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    private async Task LogErrorAsync(Attempt attempt, TaskLogOperation operation, string reason)
    {
        Upload upload = attempt.Upload!;
        attempt.Logged = true;
        await store.AppendLogAsync(new TaskLog(upload.Task.Id, upload.InstanceId, upload.InstanceName, operation, Now(), reason), CancellationToken.None).ConfigureAwait(false);
        LogUploadFailed(logger, upload.Task.Id, new LogText(upload.InstanceName), operation, new LogText(reason));
    }

    private static Task Respond(IServerStreamWriter<PprofCollectionResponse> responses, PprofProfilingStatus status, CancellationToken cancellation) =>
        responses.WriteAsync(new PprofCollectionResponse { Status = status }, cancellation);

    /// <param name="nothingStored">The agent is told "nothing was stored" too: it had sent, or was about to send, its bytes.</param>
    private UploadRefusedException Refuse(StatusCode code, string reason, bool nothingStored = false)
    {
        var refused = new UploadRefusedException(code, reason, nothingStored);
        LogUploadRefused(logger, code, new LogText(refused.Status.Detail));
        return refused;
    }

    /// <summary>An upload refused, with its reason apart from what the agent reads (the gRPC status).</summary>
    private sealed class UploadRefusedException(StatusCode code, string reason, bool nothingStored)
        : RpcException(new Status(code, nothingStored ? reason + "; nothing was stored" : reason))
    {
        public string Reason { get; } = reason;
    }

    /// <summary>
    /// The agent's text cut to <see cref="ServerOptions.MaxErrorMessageLength"/> characters and marked, never
    /// between the two halves of a surrogate pair: a lone half is not text, and PostgreSQL refuses it.
    /// </summary>
    private string Truncate(string text)
    {
        int keep = options.MaxErrorMessageLength;
        if (text.Length <= keep)
        {
            return text;
        }

        if (char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }

        return string.Concat(text.AsSpan(0, keep), TruncationMarker);
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private sealed record Upload(ProfilingTask Task, string InstanceId, string InstanceName);

    /// <summary>Why the server itself ended a stream.</summary>
    private enum Stop
    {
        Replaced,
        Idle,
        Deadline,
    }

    /// <summary>
    /// What one collect stream got to (which upload it is, whether its outcome is logged) and the ways the server
    /// may end it: the whole-upload deadline, the idle timer (armed only while waiting for a message), and a
    /// newer upload of the same task and instance.
    /// </summary>
    private sealed class Attempt : IDisposable
    {
        private readonly CancellationTokenSource _deadline;
        private readonly CancellationTokenSource _idle = new();
        private readonly CancellationTokenSource _replaced = new();
        private readonly CancellationTokenSource _any;
        private readonly TimeSpan _idleTimeout;
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Attempt(TimeSpan timeout, TimeSpan idleTimeout, CancellationToken aborted)
        {
            _deadline = new CancellationTokenSource(timeout);
            _idleTimeout = idleTimeout;
            _any = CancellationTokenSource.CreateLinkedTokenSource(aborted, _deadline.Token, _idle.Token, _replaced.Token);
        }

        public Upload? Upload { get; set; }

        public bool Logged { get; set; }

        /// <summary>The task and instance this upload receives for, once it got past its metadata.</summary>
        public (string TaskId, string InstanceId)? Key { get; set; }

        /// <summary>Fires when the agent goes away or the server ends the stream.</summary>
        public CancellationToken Token => _any.Token;

        /// <summary>Completes once the stream is over and holds nothing any more.</summary>
        public Task Ended => _ended.Task;

        /// <summary>Why the server ended the stream, or <c>null</c> when it did not.</summary>
        public Stop? Stopped =>
            _replaced.IsCancellationRequested ? Stop.Replaced
            : _idle.IsCancellationRequested ? Stop.Idle
            : _deadline.IsCancellationRequested ? Stop.Deadline
            : null;

        /// <summary>The next message, if the agent sends one within the idle timeout.</summary>
        public async Task<bool> NextAsync(IAsyncStreamReader<PprofData> requests)
        {
            _idle.CancelAfter(_idleTimeout);
            bool next = await requests.MoveNext(Token).ConfigureAwait(false);
            _idle.CancelAfter(Timeout.InfiniteTimeSpan);
            return next;
        }

        public void Replace()
        {
            try
            {
                _replaced.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It ended on its own between being found and being replaced.
            }
        }

        public void End() => _ended.TrySetResult();

        public void Dispose()
        {
            _any.Dispose();
            _replaced.Dispose();
            _idle.Dispose();
            _deadline.Dispose();
        }
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Task {TaskId}: profile of {Instance} stored ({Bytes} bytes)")]
    private static partial void LogUploadStored(ILogger logger, string taskId, LogText instance, int bytes);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Task {TaskId}: {Instance} failed with {Operation}: {Reason}")]
    private static partial void LogUploadFailed(ILogger logger, string taskId, LogText instance, TaskLogOperation operation, LogText reason);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Upload refused ({Code}): {Reason}")]
    private static partial void LogUploadRefused(ILogger logger, StatusCode code, LogText reason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Upload abandoned: {Reason}")]
    private static partial void LogUploadAbandoned(ILogger logger, LogText reason);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Task {TaskId}: no digest was made of the profile of {Instance}, stored without one (analyses will make it from the profile): {Reason}")]
    private static partial void LogDigestFailed(ILogger logger, string taskId, LogText instance, LogText reason);

    [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "Task {TaskId}: default view not computed ahead, uploads kept arriving for {Seconds} s (PrecomputeWaitSeconds); the first look builds it")]
    private static partial void LogPrecomputeNotQuiet(ILogger logger, string taskId, int seconds);

    [LoggerMessage(EventId = 207, Level = LogLevel.Warning, Message = "Parsing an upload of {Bytes} bytes found no memory left under the heap's limit (ManagedHeapLimitMegabytes); emptying the analysis caches and trying once more")]
    private static partial void LogParseOutOfMemory(ILogger logger, int bytes);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Task {TaskId}: the upload of {Instance} in progress was replaced by a newer one")]
    private static partial void LogUploadReplaced(ILogger logger, string taskId, LogText instance);
}
