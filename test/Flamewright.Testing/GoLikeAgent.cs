using Flamewright.Agent.Tasks;
using Flamewright.Protocol.Common;
using Flamewright.Protocol.Management;
using Flamewright.Protocol.Pprof;
using Flamewright.Server.Tasks;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flamewright.Testing;

/// <summary>A task command as the agent parsed it.</summary>
internal sealed record ReceivedTask(string SerialNumber, string TaskId, string Events, int Duration, long CreateTime, int DumpPeriod, IReadOnlyList<string> ArgumentOrder);

/// <summary>
/// The one agent of the tests and the benchmarks: a gRPC client that behaves as the SkyWalking Go agent does (docs/protocol.md): registers,
/// keeps alive, polls with <c>lastCommandTime</c>, uploads metadata first, waits for the one response, then
/// sends 1 MiB chunks and half-closes. The token, when given, goes only on management calls, as the Go agent 0.7
/// sends it; <see cref="TokenOnPprofCalls"/> adds it there too.
/// </summary>
internal sealed class GoLikeAgent : IDisposable
{
    /// <summary>The Go agent's chunk size.</summary>
    public const int ChunkSize = 1024 * 1024;

    private readonly GrpcChannel _channel;
    private readonly string? _token;

    public GoLikeAgent(Uri server, string service, string instance, string? token = null)
    {
        _channel = GrpcChannel.ForAddress(server, new GrpcChannelOptions { MaxSendMessageSize = 64 * 1024 * 1024 });
        Service = service;
        Instance = instance;
        _token = token;
        Management = new ManagementService.ManagementServiceClient(_channel);
        Pprof = new PprofTask.PprofTaskClient(_channel);
    }

    public string Service { get; }

    public string Instance { get; }

    /// <summary>The service's id, as SkyWalking builds it.</summary>
    public string ServiceId => SkyWalkingIds.ServiceId(Service);

    /// <summary>The instance's id, as SkyWalking builds it.</summary>
    public string InstanceId => SkyWalkingIds.InstanceId(ServiceId, Instance);

    /// <summary>The <c>CreateTime</c> of the last task taken; 0 after start, as in the Go agent.</summary>
    public long LastCommandTime { get; set; }

    public bool TokenOnPprofCalls { get; set; }

    /// <summary>What a restarted Go agent remembers: nothing, so it asks again from <c>lastCommandTime</c> 0.</summary>
    public void Restart() => LastCommandTime = 0;

    public ManagementService.ManagementServiceClient Management { get; }

    public PprofTask.PprofTaskClient Pprof { get; }

    public async Task RegisterAsync(params (string Key, string Value)[] properties)
    {
        var request = new InstanceProperties { Service = Service, ServiceInstance = Instance, Layer = "GENERAL" };
        IEnumerable<(string Key, string Value)> all = properties.Length > 0 ? properties : [("language", "go"), ("hostname", "host-1"), ("Process No.", "4242")];
        foreach ((string key, string value) in all)
        {
            request.Properties.Add(new KeyStringValuePair { Key = key, Value = value });
        }

        await Management.reportInstancePropertiesAsync(request, ManagementHeaders());
    }

    public async Task KeepAliveAsync() =>
        await Management.keepAliveAsync(new InstancePingPkg { Service = Service, ServiceInstance = Instance, Layer = "GENERAL" }, ManagementHeaders());

    /// <summary>One poll; remembers the task's CreateTime as the Go agent does.</summary>
    public async Task<ReceivedTask?> PollAsync()
    {
        Commands commands = await Pprof.getPprofTaskCommandsAsync(
            new PprofTaskCommandQuery { Service = Service, ServiceInstance = Instance, LastCommandTime = LastCommandTime }, PprofHeaders());
        Expect.That(commands.Commands_.Count <= 1, "the server must send at most one task per poll");
        if (commands.Commands_.Count == 0)
        {
            return null;
        }

        // Read as the agent library reads it (Flamewright.Agent's PprofCommand): one reading of the command's arguments.
        Command command = commands.Commands_[0];
        PprofCommand read = PprofCommand.From(command)
            ?? throw new ExpectationException($"the command {command.Command_} is not a pprof task with a task id and events");
        var task = new ReceivedTask(read.SerialNumber, read.TaskId, read.Event, read.DurationMinutes, read.CreateTime, read.DumpPeriod,
            [.. command.Args.Select(a => a.Key)]);
        LastCommandTime = task.CreateTime;
        return task;
    }

    /// <summary>Uploads a profile the Go agent's way; returns the server's one response.</summary>
    public Task<PprofProfilingStatus> UploadAsync(string taskId, byte[] profile) => UploadAsync(taskId, profile, profile.Length);

    /// <summary>Uploads <paramref name="profile"/> while declaring <paramref name="declaredSize"/> bytes.</summary>
    public async Task<PprofProfilingStatus> UploadAsync(string taskId, byte[] profile, int declaredSize)
    {
        (AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call, PprofProfilingStatus answer) =
            await BeginUploadAsync(MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, declaredSize));
        using (call)
        {
            if (answer == PprofProfilingStatus.PprofProfilingSuccess)
            {
                for (int offset = 0; offset < profile.Length; offset += ChunkSize)
                {
                    int length = Math.Min(ChunkSize, profile.Length - offset);
                    // Wrapped, not copied: the bytes never change, and a load benchmark's agents share the cores with the server.
                    await WriteAsync(call, new PprofData { Content = UnsafeByteOperations.UnsafeWrap(profile.AsMemory(offset, length)) });
                }
            }

            await EndUploadAsync(call);
            return answer;
        }
    }

    /// <summary>
    /// Uploads a profile the Go agent's way and throws <see cref="UploadNotAcceptedException"/> unless the server
    /// accepted the metadata; returns once the server ended the stream with OK, which it does only once it stored the
    /// profile (any other status is thrown as the <see cref="RpcException"/> it is).
    /// </summary>
    public async Task UploadAcceptedAsync(string taskId, byte[] profile)
    {
        PprofProfilingStatus answer = await UploadAsync(taskId, profile);
        if (answer != PprofProfilingStatus.PprofProfilingSuccess)
        {
            throw new UploadNotAcceptedException(answer);
        }
    }

    /// <summary>Reports that profiling failed, with an error text (which the Go agent 0.7 leaves out: pass null).</summary>
    public async Task<PprofProfilingStatus> ReportErrorAsync(string taskId, string? message)
    {
        PprofData data = MetadataMessage(taskId, PprofProfilingStatus.PprofExecutionTaskError, 0);
        if (message is not null)
        {
            data.ErrorMessage = message;
        }

        (AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call, PprofProfilingStatus answer) = await BeginUploadAsync(data);
        using (call)
        {
            await EndUploadAsync(call);
            return answer;
        }
    }

    /// <summary>
    /// Sends the metadata and half of the profile, then drops the call as a killed agent would; runs
    /// <paramref name="whileOpen"/>, if given, after the half was sent and before the call is dropped.
    /// </summary>
    public async Task HangUpMidUploadAsync(string taskId, byte[] profile, Func<Task>? whileOpen = null)
    {
        using var hangUp = new CancellationTokenSource();
        (AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call, _) =
            await BeginUploadAsync(MetadataMessage(taskId, PprofProfilingStatus.PprofProfilingSuccess, profile.Length), hangUp.Token);
        using (call)
        {
            await call.RequestStream.WriteAsync(new PprofData { Content = ByteString.CopyFrom(profile, 0, profile.Length / 2) });
            if (whileOpen is not null)
            {
                await whileOpen();
            }

            await hangUp.CancelAsync();
        }
    }

    /// <summary>
    /// Opens <c>collect</c> as the Go agent does (60 s for the whole upload), sends <paramref name="first"/> and
    /// reads the server's one answer; the caller goes on with the call (and disposes it).
    /// </summary>
    public async Task<(AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> Call, PprofProfilingStatus Answer)> BeginUploadAsync(
        PprofData first, CancellationToken cancellationToken = default)
    {
        AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call = OpenCollect(cancellationToken);
        try
        {
            await WriteAsync(call, first, cancellationToken);
            Expect.That(await call.ResponseStream.MoveNext(cancellationToken), "the server must answer the metadata");
            return (call, call.ResponseStream.Current.Status);
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes one message. When the server has already ended the call (a refusal mid-stream), the write fails as
    /// Cancelled before the client has read the status the server sent; that status, which the Go agent reads on
    /// its next Recv, is what is thrown instead.
    /// </summary>
    public static async Task WriteAsync(AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call, PprofData message, CancellationToken cancellationToken = default)
    {
        try
        {
            await call.RequestStream.WriteAsync(message, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is RpcException { StatusCode: StatusCode.Cancelled } or InvalidOperationException)
        {
            try
            {
                while (await call.ResponseStream.MoveNext())
                {
                }
            }
            catch (RpcException sent) when (sent.StatusCode != StatusCode.Cancelled)
            {
                throw new RpcException(sent.Status, sent.Trailers);
            }
            catch (RpcException)
            {
            }

            throw;
        }
    }

    /// <summary>Half-closes and reads to the end: the call's final status tells whether the server took what was sent.</summary>
    public static async Task EndUploadAsync(AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call)
    {
        try
        {
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException { StatusCode: StatusCode.Cancelled } or InvalidOperationException)
        {
            // The server ended the call first; reading the response below throws the status it sent.
        }

        Expect.That(!await call.ResponseStream.MoveNext(), "the server must answer exactly once per stream");
    }

    /// <summary>A <c>collect</c> stream as the Go agent opens it (60 s for the whole upload), for tests that misbehave on it.</summary>
    public AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> OpenCollect(CancellationToken cancellationToken = default) =>
        Pprof.collect(PprofHeaders(), DateTime.UtcNow.AddSeconds(60), cancellationToken);

    /// <summary>The message that opens an upload: metadata only.</summary>
    public PprofData MetadataMessage(string taskId, PprofProfilingStatus type, int contentSize) => new() { Metadata = Metadata(taskId, type, contentSize) };

    public PprofMetaData Metadata(string taskId, PprofProfilingStatus type, int contentSize) =>
        new() { Service = Service, ServiceInstance = Instance, TaskId = taskId, Type = type, ContentSize = contentSize };

    public Metadata ManagementHeaders() => _token is null ? [] : new Metadata { { "authentication", _token } };

    public Metadata PprofHeaders() => TokenOnPprofCalls && _token is not null ? new Metadata { { "authentication", _token } } : [];

    public void Dispose() => _channel.Dispose();
}

/// <summary>The server answered an upload's metadata with something other than success: it will not take the profile.</summary>
internal sealed class UploadNotAcceptedException(PprofProfilingStatus answer)
    : Exception($"the server answered the metadata with {answer}")
{
    public PprofProfilingStatus Answer { get; } = answer;
}
