using Flamewright.Protocol.Common;
using Flamewright.Protocol.Management;
using Flamewright.Protocol.Pprof;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// One SkyWalking Go agent as the server sees it (docs/agent.md, docs/server.md): its own HTTP/2 connection,
/// registration, polls with <c>lastCommandTime</c>, and uploads that send the metadata, wait for the one response,
/// send the file in 1 MiB chunks, half-close and read to the end of the stream.
/// </summary>
internal sealed class SimulatedAgent(Uri server, string service, string instance) : IDisposable
{
    /// <summary>The Go agent's chunk size.</summary>
    public const int ChunkSize = 1024 * 1024;

    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(server);
    private long _lastCommandTime;

    public string Service => service;

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
        if (!await call.ResponseStream.MoveNext())
        {
            throw new InvalidOperationException($"{instance}: the server ended the upload for task {taskId} without an answer");
        }

        if (call.ResponseStream.Current.Status is var answer and not PprofProfilingStatus.PprofProfilingSuccess)
        {
            throw new UploadNotAcceptedException(answer);
        }

        try
        {
            for (int offset = 0; offset < profile.Length; offset += ChunkSize)
            {
                // Wrapped, not copied: the bytes never change, and the client shares the two cores with the server.
                ReadOnlyMemory<byte> chunk = profile.AsMemory(offset, Math.Min(ChunkSize, profile.Length - offset));
                await call.RequestStream.WriteAsync(new PprofData { Content = UnsafeByteOperations.UnsafeWrap(chunk) });
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException { StatusCode: StatusCode.Cancelled } or InvalidOperationException)
        {
            // The server ended the call first; reading the response throws the status it sent, as the Go agent's
            // next Recv would see it.
            await call.ResponseStream.MoveNext();
            throw;
        }

        if (await call.ResponseStream.MoveNext())
        {
            throw new InvalidOperationException($"{instance}: the server answered more than once");
        }
    }

    public void Dispose() => _channel.Dispose();
}

/// <summary>The server answered an upload's metadata with something other than success: it will not take the profile.</summary>
internal sealed class UploadNotAcceptedException(PprofProfilingStatus answer)
    : Exception($"the server answered the metadata with {answer}")
{
    public PprofProfilingStatus Answer => answer;
}
