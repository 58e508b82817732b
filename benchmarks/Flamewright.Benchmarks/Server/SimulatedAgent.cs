using Flamewright.Protocol.Common;
using Flamewright.Protocol.Management;
using Flamewright.Protocol.Pprof;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// One SkyWalking Go agent as the server sees it (shared/docs/skywalking-wire.md §1): its own HTTP/2 connection,
/// registration, polls with <c>lastCommandTime</c>, and uploads that send the metadata, wait for the one response,
/// send the file in 1 MiB chunks, half-close and read to the end of the stream.
/// </summary>
internal sealed class SimulatedAgent(Uri server, string service, string instance) : IDisposable
{
    /// <summary>The Go agent's chunk size.</summary>
    public const int ChunkSize = 1024 * 1024;

    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(server);
    private long _lastCommandTime;

    public string Instance => instance;

    public async Task RegisterAsync()
    {
        var properties = new InstanceProperties { Service = service, ServiceInstance = instance, Layer = "GENERAL" };
        properties.Properties.Add(new KeyStringValuePair { Key = "language", Value = "go" });
        await new ManagementService.ManagementServiceClient(_channel).reportInstancePropertiesAsync(properties);
    }

    /// <summary>One poll: the id of the task handed out, or <c>null</c>.</summary>
    public async Task<string?> PollAsync()
    {
        Commands commands = await new PprofTask.PprofTaskClient(_channel).getPprofTaskCommandsAsync(
            new PprofTaskCommandQuery { Service = service, ServiceInstance = instance, LastCommandTime = _lastCommandTime });
        if (commands.Commands_.Count == 0)
        {
            return null;
        }

        var args = commands.Commands_[0].Args.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        _lastCommandTime = long.Parse(args["CreateTime"], System.Globalization.CultureInfo.InvariantCulture);
        return args["TaskId"];
    }

    /// <summary>
    /// Uploads <paramref name="profile"/> for <paramref name="taskId"/>; throws unless the server accepted the
    /// metadata and ended the stream with OK (which the Flamewright server does only once the profile is stored).
    /// </summary>
    public async Task UploadAsync(string taskId, byte[] profile)
    {
        using AsyncDuplexStreamingCall<PprofData, PprofCollectionResponse> call =
            new PprofTask.PprofTaskClient(_channel).collect(deadline: DateTime.UtcNow.AddSeconds(60));
        await call.RequestStream.WriteAsync(new PprofData
        {
            Metadata = new PprofMetaData
            {
                Service = service, ServiceInstance = instance, TaskId = taskId,
                Type = PprofProfilingStatus.PprofProfilingSuccess, ContentSize = profile.Length,
            },
        });
        if (!await call.ResponseStream.MoveNext() || call.ResponseStream.Current.Status != PprofProfilingStatus.PprofProfilingSuccess)
        {
            throw new InvalidOperationException($"{instance}: the server did not accept the upload for task {taskId}");
        }

        for (int offset = 0; offset < profile.Length; offset += ChunkSize)
        {
            // Wrapped, not copied: the bytes never change, and the client shares the two cores with the server.
            ReadOnlyMemory<byte> chunk = profile.AsMemory(offset, Math.Min(ChunkSize, profile.Length - offset));
            await call.RequestStream.WriteAsync(new PprofData { Content = UnsafeByteOperations.UnsafeWrap(chunk) });
        }

        await call.RequestStream.CompleteAsync();
        if (await call.ResponseStream.MoveNext())
        {
            throw new InvalidOperationException($"{instance}: the server answered more than once");
        }
    }

    public void Dispose() => _channel.Dispose();
}
