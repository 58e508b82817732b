using Flamewright.Protocol.Common;
using Flamewright.Protocol.Management;
using Flamewright.Protocol.Pprof;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flamewright.Server.Tests.Support;

/// <summary>A task command as the agent parsed it.</summary>
internal sealed record ReceivedTask(string SerialNumber, string TaskId, string Events, int Duration, long CreateTime, int DumpPeriod, IReadOnlyList<string> ArgumentOrder);

/// <summary>
/// A gRPC client that behaves as the SkyWalking Go agent does (shared/docs/skywalking-wire.md §1): registers,
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

    /// <summary>The <c>CreateTime</c> of the last task taken; 0 after start, as in the Go agent.</summary>
    public long LastCommandTime { get; set; }

    public bool TokenOnPprofCalls { get; set; }

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
        Assert.True(commands.Commands_.Count <= 1, "the server must send at most one task per poll");
        if (commands.Commands_.Count == 0)
        {
            return null;
        }

        Command command = commands.Commands_[0];
        Assert.Equal("PprofTaskQuery", command.Command_);
        var args = command.Args.ToDictionary(a => a.Key, a => a.Value);
        var task = new ReceivedTask(args["SerialNumber"], args["TaskId"], args["Events"], int.Parse(args["Duration"]),
            long.Parse(args["CreateTime"]), int.Parse(args["DumpPeriod"]), [.. command.Args.Select(a => a.Key)]);
        LastCommandTime = task.CreateTime;
        return task;
    }

    /// <summary>Uploads a profile the Go agent's way; returns the server's one response.</summary>
    public Task<PprofProfilingStatus> UploadAsync(string taskId, byte[] profile) => UploadAsync(taskId, profile, profile.Length);

    /// <summary>Uploads <paramref name="profile"/> while declaring <paramref name="declaredSize"/> bytes.</summary>
    public async Task<PprofProfilingStatus> UploadAsync(string taskId, byte[] profile, int declaredSize)
    {
        using AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call = Pprof.collect(PprofHeaders(), DateTime.UtcNow.AddSeconds(60));
        await call.RequestStream.WriteAsync(new PprofData { Metadata = Metadata(taskId, PprofProfilingStatus.PprofProfilingSuccess, declaredSize) });
        Assert.True(await call.ResponseStream.MoveNext(), "the server must answer the metadata");
        PprofProfilingStatus status = call.ResponseStream.Current.Status;
        if (status != PprofProfilingStatus.PprofProfilingSuccess)
        {
            await call.RequestStream.CompleteAsync();
            return status;
        }

        for (int offset = 0; offset < profile.Length; offset += ChunkSize)
        {
            int length = Math.Min(ChunkSize, profile.Length - offset);
            await call.RequestStream.WriteAsync(new PprofData { Content = ByteString.CopyFrom(profile, offset, length) });
        }

        await call.RequestStream.CompleteAsync();
        // Read to the end: the call's final status tells whether the server stored the profile.
        while (await call.ResponseStream.MoveNext())
        {
            Assert.Fail("the server must answer exactly once per stream");
        }

        return status;
    }

    /// <summary>Reports that profiling failed, with an error text (which the Go agent 0.7 leaves out: pass null).</summary>
    public async Task<PprofProfilingStatus> ReportErrorAsync(string taskId, string? message)
    {
        using AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call = Pprof.collect(PprofHeaders(), DateTime.UtcNow.AddSeconds(60));
        var data = new PprofData { Metadata = Metadata(taskId, PprofProfilingStatus.PprofExecutionTaskError, 0) };
        if (message is not null)
        {
            data.ErrorMessage = message;
        }

        await call.RequestStream.WriteAsync(data);
        Assert.True(await call.ResponseStream.MoveNext(), "the server must answer the metadata");
        PprofProfilingStatus status = call.ResponseStream.Current.Status;
        await call.RequestStream.CompleteAsync();
        while (await call.ResponseStream.MoveNext())
        {
        }

        return status;
    }

    public PprofMetaData Metadata(string taskId, PprofProfilingStatus type, int contentSize) =>
        new() { Service = Service, ServiceInstance = Instance, TaskId = taskId, Type = type, ContentSize = contentSize };

    public Metadata ManagementHeaders() => _token is null ? [] : new Metadata { { "authentication", _token } };

    public Metadata PprofHeaders() => TokenOnPprofCalls && _token is not null ? new Metadata { { "authentication", _token } } : [];

    public void Dispose() => _channel.Dispose();
}
