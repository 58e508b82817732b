using System.IO.Compression;
using Flamewright.Pprof;
using Flamewright.Pprof.Model;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Configuration;
using Flamewright.Server.Storage;
using Flamewright.Server.Tasks;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Receiver;

/// <summary>
/// One <c>collect</c> stream: metadata first, exactly one response, then the content, then half-close.
/// A profile is stored, and EXECUTION_FINISHED written, only once every declared byte arrived and parsed;
/// every other ending stores nothing but, where the user should see it, an error log with its reason.
/// </summary>
internal sealed partial class UploadReceiver(IProfilingStore store, ServerOptions options, TimeProvider time, ILogger<UploadReceiver> logger)
{
    /// <summary>Longest error text kept from an agent, in characters: a stack trace fits, a flood does not.</summary>
    public const int MaxErrorMessageLength = 4096;

    /// <summary>Name of the folder under the data directory that holds uploads in temporary-file mode.</summary>
    public const string TemporaryFolder = "uploads.tmp";

    /// <summary>How long an error report may take to follow its metadata with the error text.</summary>
    private static readonly TimeSpan ErrorMessageWait = TimeSpan.FromSeconds(5);

    private readonly PprofLimits _limits = new() { MaxDecompressedBytes = options.MaxDecompressedBytes };

    public string TemporaryDirectory { get; } = Path.Combine(Path.GetFullPath(options.DataDir), TemporaryFolder);

    public async Task ReceiveAsync(IAsyncStreamReader<PprofData> requests, IServerStreamWriter<PprofCollectionResponse> responses, ServerCallContext context)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(options.UploadTimeoutSeconds));
        CancellationToken cancellation = deadline.Token;
        var attempt = new Attempt();
        try
        {
            await ReceiveCoreAsync(requests, responses, attempt, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            LogUploadAbandoned(logger, "timed out");
            string reason = $"the upload took longer than {options.UploadTimeoutSeconds} s";
            await LogCutShortAsync(attempt, reason).ConfigureAwait(false);
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, reason));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The agent went away mid-stream: nothing was stored, and there is nobody left to answer.
            LogUploadAbandoned(logger, e.Message);
            await LogCutShortAsync(attempt, "the upload stream ended abruptly").ConfigureAwait(false);
            throw new RpcException(new Status(StatusCode.Cancelled, "the upload stream ended abruptly; nothing was stored"));
        }
        catch (RpcException e)
        {
            await LogCutShortAsync(attempt, e.Status.Detail).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// An upload of a known task and instance that broke off without a result of its own (a disconnect, a
    /// timeout, a byte count that does not match) is logged as failed: otherwise the user would see the instance
    /// notified forever, since the Go agent does not retry.
    /// </summary>
    private async Task LogCutShortAsync(Attempt attempt, string reason)
    {
        if (attempt.Upload is { } upload && !attempt.Logged)
        {
            string text = reason.EndsWith("nothing was stored", StringComparison.Ordinal) ? reason : reason + "; nothing was stored";
            await LogErrorAsync(attempt, TaskLogOperation.EXECUTION_TASK_ERROR, "the upload failed: " + text).ConfigureAwait(false);
        }
    }

    private async Task ReceiveCoreAsync(IAsyncStreamReader<PprofData> requests, IServerStreamWriter<PprofCollectionResponse> responses, Attempt attempt, CancellationToken cancellation)
    {
        if (!await requests.MoveNext(cancellation).ConfigureAwait(false))
        {
            return;
        }

        PprofData first = requests.Current;
        if (first.Metadata is null)
        {
            throw Refuse(StatusCode.InvalidArgument, "the first message of collect must carry metadata");
        }

        PprofMetaData metadata = first.Metadata;
        Upload upload = await IdentifyAsync(metadata, cancellation).ConfigureAwait(false);
        attempt.Upload = upload;
        switch (metadata.Type)
        {
            case PprofProfilingStatus.PprofExecutionTaskError:
                await Respond(responses, PprofProfilingStatus.PprofExecutionTaskError, cancellation).ConfigureAwait(false);
                string? reason = first.ResultCase == PprofData.ResultOneofCase.ErrorMessage ? first.ErrorMessage : null;
                reason ??= await ReadErrorMessageAsync(requests, cancellation).ConfigureAwait(false);
                await LogErrorAsync(attempt, TaskLogOperation.EXECUTION_TASK_ERROR,
                    string.IsNullOrWhiteSpace(reason) ? "the agent reported an error without a reason" : Truncate(reason)).ConfigureAwait(false);
                return;
            case PprofProfilingStatus.PprofTerminatedByOversize:
                await Respond(responses, PprofProfilingStatus.PprofTerminatedByOversize, cancellation).ConfigureAwait(false);
                await LogErrorAsync(attempt, TaskLogOperation.PPROF_UPLOAD_FILE_TOO_LARGE_ERROR, "the agent found the profile larger than the upload limit").ConfigureAwait(false);
                return;
            case PprofProfilingStatus.PprofProfilingSuccess:
                break;
            default:
                throw Refuse(StatusCode.InvalidArgument, $"unknown metadata type {(int)metadata.Type}");
        }

        if (metadata.ContentSize > options.MaxUploadBytes)
        {
            await Respond(responses, PprofProfilingStatus.PprofTerminatedByOversize, cancellation).ConfigureAwait(false);
            await LogErrorAsync(attempt, TaskLogOperation.PPROF_UPLOAD_FILE_TOO_LARGE_ERROR,
                $"the agent declared {metadata.ContentSize} bytes, more than the limit of {options.MaxUploadBytes} bytes").ConfigureAwait(false);
            return;
        }

        if (metadata.ContentSize <= 0)
        {
            await Respond(responses, PprofProfilingStatus.PprofExecutionTaskError, cancellation).ConfigureAwait(false);
            await LogErrorAsync(attempt, TaskLogOperation.EXECUTION_TASK_ERROR, $"the agent declared an empty profile (contentSize {metadata.ContentSize})").ConfigureAwait(false);
            return;
        }

        await Respond(responses, PprofProfilingStatus.PprofProfilingSuccess, cancellation).ConfigureAwait(false);
        using UploadBuffer buffer = options.MemoryParser ? UploadBuffer.InMemory() : UploadBuffer.InTemporaryFile(TemporaryDirectory);
        long declared = metadata.ContentSize;
        while (await requests.MoveNext(cancellation).ConfigureAwait(false))
        {
            PprofData message = requests.Current;
            if (message.Metadata is not null)
            {
                throw Refuse(StatusCode.InvalidArgument, "metadata was sent twice in one collect stream");
            }

            if (message.ResultCase == PprofData.ResultOneofCase.ErrorMessage)
            {
                await LogErrorAsync(attempt, TaskLogOperation.EXECUTION_TASK_ERROR, Truncate(message.ErrorMessage)).ConfigureAwait(false);
                return;
            }

            int length = message.Content.Length;
            if (buffer.Length + length > options.MaxUploadBytes)
            {
                await LogErrorAsync(attempt, TaskLogOperation.PPROF_UPLOAD_FILE_TOO_LARGE_ERROR,
                    $"the agent sent more than the limit of {options.MaxUploadBytes} bytes").ConfigureAwait(false);
                throw Refuse(StatusCode.ResourceExhausted, $"the profile is larger than the limit of {options.MaxUploadBytes} bytes; nothing was stored");
            }

            if (buffer.Length + length > declared)
            {
                throw Refuse(StatusCode.InvalidArgument, $"the agent sent more than the {declared} bytes it declared; nothing was stored");
            }

            await buffer.WriteAsync(message.Content.Memory, cancellation).ConfigureAwait(false);
        }

        if (buffer.Length < declared)
        {
            throw Refuse(StatusCode.InvalidArgument, $"the stream ended after {buffer.Length} of the {declared} bytes declared; nothing was stored");
        }

        byte[] bytes = await buffer.ToArrayAsync(cancellation).ConfigureAwait(false);
        Profile profile;
        try
        {
            profile = ProfileReader.Read(bytes, _limits);
        }
        catch (PprofFormatException e)
        {
            await LogErrorAsync(attempt, TaskLogOperation.EXECUTION_TASK_ERROR, $"the uploaded profile does not parse: {e.Message}").ConfigureAwait(false);
            throw Refuse(StatusCode.InvalidArgument, $"the profile does not parse: {e.Message}");
        }

        await StoreAsync(upload, bytes, profile).ConfigureAwait(false);
        attempt.Logged = true;
    }

    private async Task<Upload> IdentifyAsync(PprofMetaData metadata, CancellationToken cancellation)
    {
        AgentNames.Check(metadata.Service, metadata.ServiceInstance);
        if (string.IsNullOrEmpty(metadata.TaskId))
        {
            throw Refuse(StatusCode.InvalidArgument, "the metadata names no task");
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
    private static async Task<string?> ReadErrorMessageAsync(IAsyncStreamReader<PprofData> requests, CancellationToken cancellation)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        wait.CancelAfter(ErrorMessageWait);
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
        catch (Exception e) when (e is OperationCanceledException or IOException or RpcException)
        {
        }

        return null;
    }

    private async Task StoreAsync(Upload upload, byte[] bytes, Profile profile)
    {
        // Profiles are kept gzip-compressed, as agents send them; a plain one is compressed here.
        byte[] compressed = ProfileReader.IsGzip(bytes) ? bytes : Compress(bytes);
        long now = Now();
        var stored = new StoredUpload(
            upload.Task.Id, upload.InstanceId, upload.InstanceName, now, DecompressedLength(bytes), profile.SampleCount,
            string.Join(",", profile.SampleTypes.ToArray().Select(t => $"{t.Type}/{t.Unit}")), compressed);
        var finished = new TaskLog(upload.Task.Id, upload.InstanceId, upload.InstanceName, TaskLogOperation.EXECUTION_FINISHED, now, null);
        // Not cancellable: once every byte arrived and parsed, an agent that hangs up must not undo the store.
        // The decoded profile is not kept for the analyses to come: measured, keeping every upload's model made
        // ingest a third slower (the cache churns fresh memory) for the sake of the first query only.
        await store.SaveUploadAsync(stored, finished, CancellationToken.None).ConfigureAwait(false);
        LogUploadStored(logger, upload.Task.Id, upload.InstanceName, compressed.Length);
    }

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
        LogUploadFailed(logger, upload.Task.Id, upload.InstanceName, operation, reason);
    }

    private static Task Respond(IServerStreamWriter<PprofCollectionResponse> responses, PprofProfilingStatus status, CancellationToken cancellation) =>
        responses.WriteAsync(new PprofCollectionResponse { Status = status }, cancellation);

    private RpcException Refuse(StatusCode code, string message)
    {
        LogUploadRefused(logger, code, message);
        return new RpcException(new Status(code, message));
    }

    private static string Truncate(string text) => text.Length <= MaxErrorMessageLength ? text : text[..MaxErrorMessageLength] + " …";

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private sealed record Upload(ProfilingTask Task, string InstanceId, string InstanceName);

    /// <summary>What one collect stream got to: which upload it is, and whether its outcome is logged.</summary>
    private sealed class Attempt
    {
        public Upload? Upload { get; set; }

        public bool Logged { get; set; }
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Task {TaskId}: profile of {Instance} stored ({Bytes} bytes)")]
    private static partial void LogUploadStored(ILogger logger, string taskId, string instance, int bytes);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Task {TaskId}: {Instance} failed with {Operation}: {Reason}")]
    private static partial void LogUploadFailed(ILogger logger, string taskId, string instance, TaskLogOperation operation, string reason);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Upload refused ({Code}): {Reason}")]
    private static partial void LogUploadRefused(ILogger logger, StatusCode code, string reason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Upload abandoned: {Reason}")]
    private static partial void LogUploadAbandoned(ILogger logger, string reason);
}
