using Flamewright.Agent.Tasks;
using Flamewright.Protocol.Common;
using Flamewright.Protocol.Management;
using Flamewright.Protocol.Pprof;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Flamewright.Agent.Protocol;

/// <summary>How an upload ended.</summary>
public enum UploadOutcome
{
    /// <summary>The server stored the profile (or, for an error report, logged it).</summary>
    Accepted,

    /// <summary>The server refused it for good (too large, unknown task, not ours): retrying cannot help.</summary>
    Refused,

    /// <summary>No server could be reached or the stream broke: worth another attempt.</summary>
    Unreachable,
}

/// <summary>
/// The SkyWalking agent protocol, spoken as the Go agent speaks it (docs/server.md, "A task's life"), over
/// one or more servers: a call that cannot reach the current server moves to the next one in the list.
/// The token, when set, goes on every call.
/// </summary>
public sealed partial class AgentClient : IDisposable
{
    private readonly AgentOptions _options;
    private readonly ILogger _logger;
    private readonly GrpcChannel[] _channels;
    private int _current;

    public AgentClient(AgentOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _channels = [.. options.Servers.Select(s => AgentOptions.TryParseServer(s, out Uri address)
            ? GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxSendMessageSize = options.ChunkBytes + 64 * 1024 })
            : throw new ArgumentException($"'{s}' is not a host:port address", nameof(options)))];
    }

    /// <summary>The server calls go to now.</summary>
    public string CurrentServer => _options.Servers[Volatile.Read(ref _current) % _channels.Length];

    /// <summary>Set when a call failed over to another server, so that the agent registers there again.</summary>
    public event Action? FailedOver;

    public Task RegisterAsync(IReadOnlyList<KeyValuePair<string, string>> properties, CancellationToken cancellationToken) =>
        CallAsync(async channel =>
        {
            var request = new InstanceProperties { Service = _options.Service, ServiceInstance = _options.Instance, Layer = "GENERAL" };
            foreach ((string key, string value) in properties)
            {
                request.Properties.Add(new KeyStringValuePair { Key = key, Value = value });
            }

            await new ManagementService.ManagementServiceClient(channel).reportInstancePropertiesAsync(request, Headers(), Deadline(), cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public Task KeepAliveAsync(CancellationToken cancellationToken) =>
        CallAsync(async channel =>
        {
            await new ManagementService.ManagementServiceClient(channel).keepAliveAsync(
                new InstancePingPkg { Service = _options.Service, ServiceInstance = _options.Instance, Layer = "GENERAL" }, Headers(), Deadline(), cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>One poll: the next task created after <paramref name="lastCommandTime"/>, or <c>null</c>.</summary>
    public Task<PprofCommand?> PollAsync(long lastCommandTime, CancellationToken cancellationToken) =>
        CallAsync(async channel =>
        {
            Commands commands = await new PprofTask.PprofTaskClient(channel).getPprofTaskCommandsAsync(
                new PprofTaskCommandQuery { Service = _options.Service, ServiceInstance = _options.Instance, LastCommandTime = lastCommandTime },
                Headers(), Deadline(), cancellationToken).ConfigureAwait(false);
            return commands.Commands_.Select(PprofCommand.From).FirstOrDefault(c => c is not null);
        }, cancellationToken);

    /// <summary>Uploads a profile: metadata, the one response, 1 MiB chunks, half-close, read to the end.</summary>
    public Task<UploadOutcome> UploadProfileAsync(string taskId, byte[] profile, CancellationToken cancellationToken) =>
        UploadAsync(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile, null, cancellationToken);

    /// <summary>Reports that a task failed, with the reason (which the Go agent 0.7 leaves out).</summary>
    public Task<UploadOutcome> UploadErrorAsync(string taskId, string reason, CancellationToken cancellationToken) =>
        UploadAsync(taskId, PprofProfilingStatus.PprofExecutionTaskError, [], reason, cancellationToken);

    private async Task<UploadOutcome> UploadAsync(string taskId, PprofProfilingStatus type, byte[] content, string? error, CancellationToken cancellationToken)
    {
        GrpcChannel channel = _channels[Volatile.Read(ref _current) % _channels.Length];
        try
        {
            using AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call = new PprofTask.PprofTaskClient(channel).collect(
                Headers(), DateTime.UtcNow + _options.UploadTimeout, cancellationToken);
            var metadata = new PprofData
            {
                Metadata = new PprofMetaData
                {
                    Service = _options.Service, ServiceInstance = _options.Instance, TaskId = taskId, Type = type, ContentSize = content.Length,
                },
            };
            if (error is not null)
            {
                metadata.ErrorMessage = error;
            }

            await call.RequestStream.WriteAsync(metadata, cancellationToken).ConfigureAwait(false);
            if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                return UploadOutcome.Unreachable;
            }

            PprofProfilingStatus status = call.ResponseStream.Current.Status;
            if (type == PprofProfilingStatus.PprofProfilingSuccess && status == PprofProfilingStatus.PprofProfilingSuccess)
            {
                for (int offset = 0; offset < content.Length; offset += _options.ChunkBytes)
                {
                    int length = Math.Min(_options.ChunkBytes, content.Length - offset);
                    await call.RequestStream.WriteAsync(new PprofData { Content = ByteString.CopyFrom(content, offset, length) }, cancellationToken).ConfigureAwait(false);
                }
            }

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
            }

            if (type == PprofProfilingStatus.PprofProfilingSuccess && status != PprofProfilingStatus.PprofProfilingSuccess)
            {
                LogUploadRefused(_logger, taskId, status.ToString());
                return UploadOutcome.Refused;
            }

            return UploadOutcome.Accepted;
        }
        catch (RpcException e) when (IsTransient(e.StatusCode) && !cancellationToken.IsCancellationRequested)
        {
            LogServerUnreachable(_logger, CurrentServer, e.Status.Detail);
            FailOver();
            return UploadOutcome.Unreachable;
        }
        catch (IOException e) when (!cancellationToken.IsCancellationRequested)
        {
            LogServerUnreachable(_logger, CurrentServer, e.Message);
            FailOver();
            return UploadOutcome.Unreachable;
        }
        catch (RpcException e)
        {
            LogUploadRefused(_logger, taskId, $"{e.StatusCode}: {e.Status.Detail}");
            return UploadOutcome.Refused;
        }
    }

    /// <summary>Runs a call on the current server; on a transport failure moves to the next server and throws.</summary>
    private async Task<T> CallAsync<T>(Func<GrpcChannel, Task<T>> call, CancellationToken cancellationToken)
    {
        GrpcChannel channel = _channels[Volatile.Read(ref _current) % _channels.Length];
        try
        {
            return await call(channel).ConfigureAwait(false);
        }
        catch (RpcException e) when (IsTransient(e.StatusCode) && !cancellationToken.IsCancellationRequested)
        {
            LogServerUnreachable(_logger, CurrentServer, e.Status.Detail);
            FailOver();
            throw;
        }
    }

    private void FailOver()
    {
        if (_channels.Length > 1)
        {
            Interlocked.Increment(ref _current);
        }

        FailedOver?.Invoke();
    }

    /// <summary>Failures of the connection or of the server's process, not answers about the request.</summary>
    private static bool IsTransient(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled;

    private Metadata Headers() => string.IsNullOrEmpty(_options.Token) ? [] : new Metadata { { "authentication", _options.Token } };

    private DateTime Deadline() => DateTime.UtcNow + _options.CallTimeout;

    public void Dispose()
    {
        foreach (GrpcChannel channel in _channels)
        {
            channel.Dispose();
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Server {Server} unreachable: {Reason}")]
    private static partial void LogServerUnreachable(ILogger logger, string server, string reason);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Task {TaskId}: the server refused the upload: {Reason}")]
    private static partial void LogUploadRefused(ILogger logger, string taskId, string reason);
}
